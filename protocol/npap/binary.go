package npap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Frame layout (docs/protocols/npap.md):
//
//	0     start byte 0xA5
//	1–2   length: the bytes after this field, big-endian
//	3     flags: 0x80 reply, 0x40 error, 0x20 unsolicited; low nibble the version (1)
//	4     command
//	5     subcommand
//	6–9   request ID, big-endian
//	10…   items: tag (1 byte), length (2 bytes, big-endian), value
const (
	StartByte   = 0xA5
	Version     = 1
	HeaderLen   = 10
	MaxDatagram = 1472 // a UDP payload that fits an Ethernet frame

	FlagReply       = 0x80
	FlagError       = 0x40
	FlagUnsolicited = 0x20
	flagsReserved   = 0x10
	versionMask     = 0x0f
)

// Item tags.
const (
	tagVendor   = 0x01
	tagModel    = 0x02
	tagSerial   = 0x03
	tagFirmware = 0x04
	tagMAC      = 0x05
	tagStatus   = 0x10
	tagAlert    = 0x11
	tagNumber   = 0x20
	tagValue    = 0x21
	tagResult   = 0x22
	tagPassword = 0x30
	tagPort     = 0x31
	tagLifetime = 0x32
	tagError    = 0x3f
)

// Limits on what one datagram may say, so that a hostile one costs
// little.
const (
	maxText  = 1024 // bytes of any text item
	maxItems = 256
)

// Binary is NPAP's binary codec.
type Binary struct{}

var _ Codec = Binary{}

// MaxDatagram returns MaxDatagram.
func (Binary) MaxDatagram() int { return MaxDatagram }

// Encode writes m as one datagram. It fails when a field does not fit its
// type or the datagram would exceed MaxDatagram.
func (Binary) Encode(m Message) ([]byte, error) {
	if !m.Op.Known() {
		return nil, fmt.Errorf("npap encode: unknown %s", m.Op)
	}
	b := make([]byte, HeaderLen, 128)
	b[0] = StartByte
	flags := byte(Version)
	if m.Reply {
		flags |= FlagReply
	}
	if m.Error != nil {
		if !m.Reply {
			return nil, errors.New("npap encode: an error in a request")
		}
		flags |= FlagError
	}
	if m.Op == OpAlert && !m.Reply {
		flags |= FlagUnsolicited
	}
	b[3] = flags
	binary.BigEndian.PutUint16(b[4:], uint16(m.Op))
	binary.BigEndian.PutUint32(b[6:], m.ID)

	var err error
	item := func(tag byte, v []byte) {
		if err != nil {
			return
		}
		if len(v) > math.MaxUint16 {
			err = fmt.Errorf("npap encode: item 0x%02x of %d bytes", tag, len(v))
			return
		}
		b = append(b, tag)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	text := func(tag byte, what, s string) {
		if err == nil {
			err = checkText(what, s)
		}
		item(tag, []byte(s))
	}

	if m.Error != nil {
		if err := checkText("error text", m.Error.Text); err != nil {
			return nil, fmt.Errorf("npap encode: %w", err)
		}
		item(tagError, append([]byte{byte(m.Error.Code)}, m.Error.Text...))
	}
	if id := m.Identity; id != nil {
		text(tagVendor, "vendor", id.Vendor)
		text(tagModel, "model", id.Model)
		text(tagSerial, "serial", id.Serial)
		text(tagFirmware, "firmware", id.Firmware)
		item(tagMAC, id.MAC[:])
	}
	if m.Op == OpStatus && m.Reply && m.Error == nil {
		item(tagStatus, []byte{byte(m.Status)})
	}
	for _, a := range m.Alerts {
		if err == nil {
			err = checkText("alert description", a.Description)
		}
		v := []byte{byte(a.Kind), a.Severity, a.Group}
		v = binary.BigEndian.AppendUint16(v, a.GroupIndex)
		v = binary.BigEndian.AppendUint16(v, a.Code)
		item(tagAlert, append(v, a.Description...))
	}
	for _, n := range m.Numbers {
		item(tagNumber, binary.BigEndian.AppendUint16(nil, n))
	}
	for _, v := range m.Values {
		raw, verr := EncodeValue(v.Type, v.Text)
		if verr != nil && err == nil {
			err = fmt.Errorf("npap encode: setting %d: %w", v.Number, verr)
		}
		item(tagValue, append(binary.BigEndian.AppendUint16(nil, v.Number), append([]byte{byte(v.Type)}, raw...)...))
	}
	for _, r := range m.Results {
		item(tagResult, append(binary.BigEndian.AppendUint16(nil, r.Number), byte(r.Code)))
	}
	if m.Password != "" {
		text(tagPassword, "password", m.Password)
	}
	if m.Op == OpRegister || m.Op == OpUnregister {
		if !m.Reply {
			item(tagPort, binary.BigEndian.AppendUint16(nil, m.Port))
		}
		if m.Op == OpRegister && (m.Lifetime != 0 || m.Reply) {
			item(tagLifetime, binary.BigEndian.AppendUint32(nil, m.Lifetime))
		}
	}
	if err != nil {
		return nil, err
	}
	if len(b) > MaxDatagram {
		return nil, fmt.Errorf("npap encode: %s of %d bytes exceeds the datagram limit of %d: %w", m.Op, len(b), MaxDatagram, ErrTooBig)
	}
	binary.BigEndian.PutUint16(b[1:], uint16(len(b)-3))
	return b, nil
}

// ErrTooBig is wrapped by Encode errors of a message that does not fit
// one datagram: send fewer settings at a time.
var ErrTooBig = errors.New("message too big")

func checkText(what, s string) error {
	if len(s) > maxText {
		return fmt.Errorf("%s of %d bytes exceeds %d", what, len(s), maxText)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	return nil
}

// EncodeValue returns the wire bytes of a setting value given as
// canonical text.
func EncodeValue(t Type, text string) ([]byte, error) {
	switch t {
	case TypeString:
		if err := checkText("value", text); err != nil {
			return nil, err
		}
		return []byte(text), nil
	case TypeInteger:
		n, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a 32-bit integer", text)
		}
		return binary.BigEndian.AppendUint32(nil, uint32(int32(n))), nil
	case TypeBool:
		switch text {
		case "true":
			return []byte{1}, nil
		case "false":
			return []byte{0}, nil
		}
		return nil, fmt.Errorf("%q is not true or false", text)
	}
	return nil, fmt.Errorf("unknown value %s", t)
}

func decodeValue(t Type, raw []byte) (string, error) {
	switch t {
	case TypeString:
		s := string(raw)
		return s, checkText("value", s)
	case TypeInteger:
		if len(raw) != 4 {
			return "", fmt.Errorf("integer of %d bytes, want 4", len(raw))
		}
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(raw))), 10), nil
	case TypeBool:
		if len(raw) != 1 || raw[0] > 1 {
			return "", errors.New("bool is not one byte 0 or 1")
		}
		return strconv.FormatBool(raw[0] == 1), nil
	}
	return "", fmt.Errorf("unknown value %s", t)
}

// DecodeError is a datagram Decode refuses; Offset is where in it the
// problem is.
type DecodeError struct {
	Offset int
	Msg    string
}

func (e *DecodeError) Error() string { return fmt.Sprintf("npap: byte %d: %s", e.Offset, e.Msg) }

// Decode reads one datagram. Unknown item tags are skipped, so a later
// version may add items; everything else that does not follow the
// specification is an error, and Decode never panics.
func (Binary) Decode(b []byte) (Message, error) {
	var m Message
	bad := func(off int, format string, args ...any) (Message, error) {
		return Message{}, &DecodeError{Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if len(b) > MaxDatagram {
		return bad(MaxDatagram, "datagram of %d bytes exceeds %d", len(b), MaxDatagram)
	}
	if len(b) < HeaderLen {
		return bad(len(b), "datagram of %d bytes is shorter than the %d-byte header", len(b), HeaderLen)
	}
	if b[0] != StartByte {
		return bad(0, "start byte 0x%02x, want 0x%02x", b[0], StartByte)
	}
	if n := int(binary.BigEndian.Uint16(b[1:])); n != len(b)-3 {
		return bad(1, "length field %d, but %d bytes follow it", n, len(b)-3)
	}
	flags := b[3]
	if v := flags & versionMask; v != Version {
		return bad(3, "version %d, want %d", v, Version)
	}
	if flags&flagsReserved != 0 {
		return bad(3, "reserved flag set")
	}
	m.Reply = flags&FlagReply != 0
	m.Op = Op(binary.BigEndian.Uint16(b[4:]))
	if !m.Op.Known() {
		return bad(4, "unknown command 0x%02x subcommand 0x%02x", b[4], b[5])
	}
	if unsolicited := flags&FlagUnsolicited != 0; unsolicited != (m.Op == OpAlert && !m.Reply) {
		return bad(3, "unsolicited flag %v on %s", unsolicited, describe(m))
	}
	isErr := flags&FlagError != 0
	if isErr && !m.Reply {
		return bad(3, "error flag on a request")
	}
	m.ID = binary.BigEndian.Uint32(b[6:])

	var (
		id                    Identity
		hasIdentity, hasState bool
		hasPort               bool
		items                 int
	)
	for off := HeaderLen; off < len(b); {
		if items++; items > maxItems {
			return bad(off, "more than %d items", maxItems)
		}
		if len(b)-off < 3 {
			return bad(off, "item header cut short")
		}
		tag := b[off]
		n := int(binary.BigEndian.Uint16(b[off+1:]))
		start := off + 3
		if n > len(b)-start {
			return bad(off+1, "item 0x%02x of %d bytes, only %d left", tag, n, len(b)-start)
		}
		v := b[start : start+n]
		off = start + n
		fixed := func(want int) bool { return n == want }
		textOf := func(what string) (string, bool) {
			s := string(v)
			if checkText(what, s) != nil {
				return "", false
			}
			return s, true
		}
		switch tag {
		case tagVendor, tagModel, tagSerial, tagFirmware:
			s, ok := textOf("identity")
			if !ok {
				return bad(start, "identity item 0x%02x is not UTF-8 text of at most %d bytes", tag, maxText)
			}
			hasIdentity = true
			switch tag {
			case tagVendor:
				id.Vendor = s
			case tagModel:
				id.Model = s
			case tagSerial:
				id.Serial = s
			case tagFirmware:
				id.Firmware = s
			}
		case tagMAC:
			if !fixed(6) {
				return bad(start, "MAC of %d bytes, want 6", n)
			}
			hasIdentity = true
			copy(id.MAC[:], v)
		case tagStatus:
			if !fixed(1) {
				return bad(start, "status of %d bytes, want 1", n)
			}
			if m.Op == OpStatus && m.Reply {
				hasState = true
				m.Status = Status(v[0])
			}
		case tagAlert:
			if n < 7 {
				return bad(start, "alert of %d bytes, want at least 7", n)
			}
			a := Alert{Kind: AlertKind(v[0]), Severity: v[1], Group: v[2],
				GroupIndex: binary.BigEndian.Uint16(v[3:]), Code: binary.BigEndian.Uint16(v[5:])}
			if a.Kind != AlertRaised && a.Kind != AlertCleared {
				return bad(start, "alert kind %d, want 1 raised or 2 cleared", v[0])
			}
			d := string(v[7:])
			if checkText("alert description", d) != nil {
				return bad(start+7, "alert description is not UTF-8 text of at most %d bytes", maxText)
			}
			a.Description = d
			m.Alerts = append(m.Alerts, a)
		case tagNumber:
			if !fixed(2) {
				return bad(start, "setting number of %d bytes, want 2", n)
			}
			m.Numbers = append(m.Numbers, binary.BigEndian.Uint16(v))
		case tagValue:
			if n < 3 {
				return bad(start, "setting value of %d bytes, want at least 3", n)
			}
			val := Value{Number: binary.BigEndian.Uint16(v), Type: Type(v[2])}
			text, err := decodeValue(val.Type, v[3:])
			if err != nil {
				return bad(start+3, "setting %d: %v", val.Number, err)
			}
			val.Text = text
			m.Values = append(m.Values, val)
		case tagResult:
			if !fixed(3) {
				return bad(start, "result of %d bytes, want 3", n)
			}
			m.Results = append(m.Results, Result{Number: binary.BigEndian.Uint16(v), Code: Code(v[2])})
		case tagPassword:
			s, ok := textOf("password")
			if !ok {
				return bad(start, "password is not UTF-8 text of at most %d bytes", maxText)
			}
			m.Password = s
		case tagPort:
			if !fixed(2) {
				return bad(start, "port of %d bytes, want 2", n)
			}
			if (m.Op == OpRegister || m.Op == OpUnregister) && !m.Reply {
				hasPort = true
				m.Port = binary.BigEndian.Uint16(v)
			}
		case tagLifetime:
			if !fixed(4) {
				return bad(start, "lifetime of %d bytes, want 4", n)
			}
			if m.Op == OpRegister {
				m.Lifetime = binary.BigEndian.Uint32(v)
			}
		case tagError:
			if n < 1 {
				return bad(start, "empty error item")
			}
			s := string(v[1:])
			if checkText("error text", s) != nil {
				return bad(start+1, "error text is not UTF-8 text of at most %d bytes", maxText)
			}
			m.Error = &Error{Code: Code(v[0]), Text: s}
		default:
			// A later version's item: skipped.
		}
	}
	if isErr != (m.Error != nil) {
		return bad(3, "error flag %v, but the error item is %s", isErr, map[bool]string{true: "present", false: "missing"}[m.Error != nil])
	}
	if hasIdentity {
		m.Identity = &id
	}
	if m.Op == OpStatus && m.Reply && m.Error == nil && !hasState {
		return bad(len(b), "status reply without its status item")
	}
	if (m.Op == OpRegister || m.Op == OpUnregister) && !m.Reply && !hasPort {
		return bad(len(b), "%s request without its port item", m.Op)
	}
	return m, nil
}

func describe(m Message) string {
	if m.Reply {
		return m.Op.String() + " reply"
	}
	return m.Op.String() + " request"
}
