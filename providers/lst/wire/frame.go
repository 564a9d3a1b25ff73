// Package wire is inkform's LST protocol as both ends speak it: the frame
// and its messages, the key schedule that turns the TLS 1.3 control
// session into the DTLS 1.2 data session's pre-shared key, and the device
// side (Serve) that the simulator runs. It imports nothing else of
// inkform, so the simulator (a printer, not a client) may use it; the
// client is providers/lst. docs/protocols/lst.md describes the protocol.
//
// Every message is one frame:
//
//	offset size  field
//	0      1     version (1)
//	1      1     type (requests 0x01…0x7e, their replies type|0x80, error 0xff)
//	2      4     request id, big-endian; a reply carries its request's
//	6      2     body length n, big-endian, at most MaxBody
//	8      n     body: one JSON object (UTF-8)
//
// Over TLS frames follow each other on the stream; over DTLS each record
// carries exactly one frame, whose length must match the record's.
package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Version is the frame version this package speaks.
const Version = 1

// HeaderLen is the length of a frame's fixed header.
const HeaderLen = 8

// MaxBody bounds a frame's body: small enough that a frame fits one DTLS
// record (2^14 bytes of plaintext) with room to spare.
const MaxBody = 8192

// Type says what a frame carries.
type Type byte

// Frame types. A reply has its request's type with ReplyBit set; any
// request may instead be answered with TypeError.
const (
	TypeLogin    Type = 0x01 // TLS control channel: credentials → PSK identity
	TypeIdentity Type = 0x02 // DTLS: vendor, model, serial, firmware
	TypeStatus   Type = 0x03 // DTLS: status, errors, page count, uptime
	TypeRead     Type = 0x04 // DTLS: read settings by name
	TypeWrite    Type = 0x05 // DTLS: write settings by name
	TypeError    Type = 0xff // reply: the request failed

	ReplyBit Type = 0x80
)

// Reply returns t's reply type.
func (t Type) Reply() Type { return t | ReplyBit }

func (t Type) String() string {
	names := map[Type]string{TypeLogin: "login", TypeIdentity: "identity", TypeStatus: "status",
		TypeRead: "read", TypeWrite: "write", TypeError: "error"}
	if n, ok := names[t]; ok {
		return n
	}
	if n, ok := names[t&^ReplyBit]; ok && t&ReplyBit != 0 {
		return n + " reply"
	}
	return fmt.Sprintf("type 0x%02x", byte(t))
}

// Frame is one message.
type Frame struct {
	Type Type
	ID   uint32
	Body []byte // a JSON object
}

// Errors of the decoder; wrapped with details.
var (
	ErrShort   = errors.New("frame shorter than its header")
	ErrVersion = errors.New("unknown frame version")
	ErrLength  = errors.New("frame length does not match its header")
	ErrBody    = errors.New("frame body is not a JSON object")
)

// Append appends f's encoding to b.
func (f Frame) Append(b []byte) ([]byte, error) {
	if len(f.Body) > MaxBody {
		return b, fmt.Errorf("lst: %s frame body of %d bytes exceeds %d", f.Type, len(f.Body), MaxBody)
	}
	b = append(b, Version, byte(f.Type))
	b = binary.BigEndian.AppendUint32(b, f.ID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(f.Body)))
	return append(b, f.Body...), nil
}

// Decode reads one frame that fills b exactly (a DTLS record's payload).
// The body is checked to be a JSON object; Body aliases b. When the header
// was readable but the rest is not, the error comes with the header's
// type and id (and no body), so the request can still be answered.
func Decode(b []byte) (Frame, error) {
	h, n, err := decodeHeader(b)
	if err != nil {
		return Frame{}, err
	}
	if len(b) != HeaderLen+n {
		return h, fmt.Errorf("lst: %w: header says %d body bytes, datagram has %d", ErrLength, n, len(b)-HeaderLen)
	}
	if err := checkBody(b[HeaderLen:]); err != nil {
		return h, err
	}
	h.Body = b[HeaderLen:]
	return h, nil
}

// ReadFrame reads one frame from a stream (the TLS control channel).
func ReadFrame(r io.Reader) (Frame, error) {
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Frame{}, err
	}
	f, n, err := decodeHeader(hdr[:])
	if err != nil {
		return Frame{}, err
	}
	f.Body = make([]byte, n)
	if _, err := io.ReadFull(r, f.Body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	if err := checkBody(f.Body); err != nil {
		return Frame{}, err
	}
	return f, nil
}

// WriteFrame writes f to a stream in one write.
func WriteFrame(w io.Writer, f Frame) error {
	b, err := f.Append(nil)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func decodeHeader(b []byte) (Frame, int, error) {
	if len(b) < HeaderLen {
		return Frame{}, 0, fmt.Errorf("lst: %w (%d bytes)", ErrShort, len(b))
	}
	if b[0] != Version {
		return Frame{}, 0, fmt.Errorf("lst: %w %d (this side speaks %d)", ErrVersion, b[0], Version)
	}
	n := int(binary.BigEndian.Uint16(b[6:8]))
	if n > MaxBody {
		return Frame{}, 0, fmt.Errorf("lst: %w: body of %d bytes exceeds %d", ErrLength, n, MaxBody)
	}
	return Frame{Type: Type(b[1]), ID: binary.BigEndian.Uint32(b[2:6])}, n, nil
}

func checkBody(body []byte) error {
	t := bytes.TrimLeft(body, " \t\r\n")
	if len(t) == 0 || t[0] != '{' || !utf8.Valid(body) || !json.Valid(body) {
		return fmt.Errorf("lst: %w", ErrBody)
	}
	return nil
}

// NewFrame encodes msg as the body of a frame of type t.
func NewFrame(t Type, id uint32, msg any) (Frame, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return Frame{}, fmt.Errorf("lst: encode %s: %w", t, err)
	}
	f := Frame{Type: t, ID: id, Body: body}
	if len(body) > MaxBody {
		return Frame{}, fmt.Errorf("lst: %s frame body of %d bytes exceeds %d", t, len(body), MaxBody)
	}
	return f, nil
}

// Unmarshal decodes f's body into msg. Unknown fields are ignored, so a
// later minor revision may add fields without a new version.
func (f Frame) Unmarshal(msg any) error {
	if err := json.Unmarshal(f.Body, msg); err != nil {
		return fmt.Errorf("lst: %s body: %w", f.Type, err)
	}
	return nil
}

// Login is the client's first frame on the TLS control channel. The
// password is secret: it travels only inside TLS 1.3 and is never logged.
type Login struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// LoginReply grants a data session: the client derives the PSK from the
// TLS session with Nonce (hex) as the exporter context, offers Identity as
// its PSK identity in the DTLS handshake, to DataPort on the same host.
type LoginReply struct {
	Identity string `json:"psk_identity"`
	Nonce    string `json:"nonce"`
	DataPort int    `json:"data_port"`
}

// IdentityReply says what the device is.
type IdentityReply struct {
	Vendor   string `json:"vendor"`
	Model    string `json:"model"`
	Serial   string `json:"serial"`
	Firmware string `json:"firmware"`
}

// StatusReply says how the device is.
type StatusReply struct {
	Status        string   `json:"status"`
	Errors        []string `json:"errors,omitempty"`
	PageCount     int64    `json:"page_count"`
	UptimeSeconds int64    `json:"uptime_s"`
}

// ReadRequest asks for settings by their catalog names.
type ReadRequest struct {
	Names []string `json:"names"`
}

// ReadReply holds the values the device has; names it does not know are
// listed in Unsupported.
type ReadReply struct {
	Values      map[string]string `json:"values"`
	Unsupported []string          `json:"unsupported,omitempty"`
}

// WriteRequest sets settings by their catalog names. Writing a value a
// setting already has changes nothing.
type WriteRequest struct {
	Values map[string]string `json:"values"`
}

// WriteReply lists the settings the device refused, with its reason
// (never the value); an empty reply means every value was applied. A
// setting the device does not have is refused with ReasonUnsupported.
type WriteReply struct {
	Refused map[string]string `json:"refused,omitempty"`
}

// ReasonUnsupported refuses a write of a setting the device lacks.
const ReasonUnsupported = "unsupported"

// Error codes of an ErrorReply.
const (
	CodeAuth       = "auth"        // login refused
	CodeBadRequest = "bad_request" // malformed or unknown request
	CodeBusy       = "busy"        // too many sessions
	CodeInternal   = "internal"
)

// ErrorReply answers a request that failed as a whole.
type ErrorReply struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// DecodeRequest decodes a DTLS request datagram: the frame and its body
// for the frame's type. It is what a device runs on every datagram, so it
// must never panic.
func DecodeRequest(b []byte) (Frame, any, error) {
	f, err := Decode(b)
	if err != nil {
		return f, nil, err
	}
	var msg any
	switch f.Type {
	case TypeIdentity, TypeStatus:
		msg = &struct{}{}
	case TypeRead:
		msg = &ReadRequest{}
	case TypeWrite:
		msg = &WriteRequest{}
	case TypeLogin:
		msg = &Login{}
	default:
		return f, nil, fmt.Errorf("lst: unknown request %s", f.Type)
	}
	if err := f.Unmarshal(msg); err != nil {
		return f, nil, err
	}
	return f, msg, nil
}
