// Package npap is inkform's wire format of NPAP, the Network Printing
// Alliance Protocol (IEEE 1284.1, TIP/SI) as Lexmark printers serve it
// over UDP: the messages (Message) both sides exchange, and their binary
// encoding (Binary). It does no I/O: providers/npap is the client,
// watch/npap the alert intake, and the simulator the printer side.
//
// Lexmark publishes no byte layout, and no open implementation or
// dissector exists, so the layout here is inkform's own: it follows the
// public outline of IEEE 1284.1 (a packet with a start byte, a length, a
// flag byte, a command and subcommand, then data) and matches requests
// and replies by a request ID. Compatibility with Lexmark firmware is
// unverified. docs/protocols/npap.md is the specification.
//
// The same messages travel as XML in protocol/xmlnt: Message is the model
// both codecs share.
package npap

import (
	"fmt"
	"strconv"
)

// Op names a request: its command (high byte) and subcommand (low byte).
type Op uint16

// Operations.
const (
	OpIdentify   Op = 0x0101 // identity: model, serial, firmware, MAC
	OpStatus     Op = 0x0102 // status and active alerts
	OpRead       Op = 0x0201 // read settings by number
	OpWrite      Op = 0x0202 // write settings
	OpRegister   Op = 0x0301 // send my alerts to this address and port
	OpUnregister Op = 0x0302 // stop sending alerts to this address and port
	OpAlert      Op = 0x0303 // an alert, printer → server; the reply acknowledges it
)

var opNames = map[Op]string{
	OpIdentify: "identify", OpStatus: "status", OpRead: "read", OpWrite: "write",
	OpRegister: "register", OpUnregister: "unregister", OpAlert: "alert",
}

// Ops lists every operation, in numeric order.
func Ops() []Op {
	return []Op{OpIdentify, OpStatus, OpRead, OpWrite, OpRegister, OpUnregister, OpAlert}
}

func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("op 0x%04x", uint16(o))
}

// Known reports whether o is one of the operations above.
func (o Op) Known() bool { _, ok := opNames[o]; return ok }

// OpByName returns the operation named n ("identify", …).
func OpByName(n string) (Op, bool) {
	for o, name := range opNames {
		if name == n {
			return o, true
		}
	}
	return 0, false
}

// Message is one datagram: a request, its reply, or an alert. Which
// fields mean something depends on Op and Reply (docs/protocols/npap.md
// has the table); the others stay empty.
type Message struct {
	Op    Op
	Reply bool
	// ID matches a reply to its request. A sender picks a new ID for
	// each request and keeps it for the request's retransmissions.
	ID uint32
	// Error, on a reply, says why the request failed as a whole.
	Error *Error

	Identity *Identity // identify reply
	Status   Status    // status reply
	Alerts   []Alert   // status reply; alert request (usually one)

	Numbers []uint16 // read request: setting numbers
	Values  []Value  // read reply; write request
	Results []Result // write reply: one per value written

	// Password is the administrator password of a write or register
	// request. Secret: never logged or shown.
	Password string
	// Port is where alerts go, on the requester's own address (register,
	// unregister); Lifetime is how long a registration lasts, in
	// seconds (register; 0 means the printer's default).
	Port     uint16
	Lifetime uint32
}

// Identity is what a printer says it is.
type Identity struct {
	Vendor   string
	Model    string
	Serial   string
	Firmware string
	MAC      [6]byte
}

// MACString formats the MAC address as 00:21:b7:01:02:03.
func (i Identity) MACString() string {
	m := i.MAC
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Status is the printer's state, one byte on the wire.
type Status uint8

// Statuses; they map one to one to fleet's status vocabulary.
const (
	StatusUnknown  Status = 0
	StatusIdle     Status = 1
	StatusPrinting Status = 2
	StatusWarmup   Status = 3
	StatusWarning  Status = 4
	StatusDown     Status = 5
	StatusOffline  Status = 6
)

var statusNames = []string{"unknown", "idle", "printing", "warmup", "warning", "down", "offline"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// StatusByName returns the status named n ("idle", …), StatusUnknown for
// any other name.
func StatusByName(n string) Status {
	for i, name := range statusNames {
		if name == n {
			return Status(i)
		}
	}
	return StatusUnknown
}

// AlertKind says whether an alert starts or ends.
type AlertKind uint8

// Alert kinds.
const (
	AlertRaised  AlertKind = 1
	AlertCleared AlertKind = 2
)

// Alert is one printer alert, in Printer-MIB terms (RFC 3805): its
// prtAlertCode, prtAlertSeverityLevel, the subunit group and index it is
// about, and the printer's words.
type Alert struct {
	Kind        AlertKind
	Severity    uint8  // 1 other, 3 critical, 4 warning, 5 warningBinaryChangeEvent
	Group       uint8  // prtAlertGroup
	GroupIndex  uint16 // prtAlertGroupIndex
	Code        uint16 // prtAlertCode
	Description string
}

// Type is how a setting's value travels.
type Type uint8

// Value types.
const (
	TypeString  Type = 1 // UTF-8 text; enums travel as their catalog value
	TypeInteger Type = 2 // a signed 32-bit integer
	TypeBool    Type = 3 // one byte, 0 or 1
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInteger:
		return "integer"
	case TypeBool:
		return "bool"
	}
	return "type " + strconv.Itoa(int(t))
}

// TypeByName returns the type named n ("string", "integer", "bool").
func TypeByName(n string) (Type, bool) {
	for _, t := range []Type{TypeString, TypeInteger, TypeBool} {
		if t.String() == n {
			return t, true
		}
	}
	return 0, false
}

// Value is one setting's value, as text in the catalog's canonical form:
// "42", "true", "HQ 2F". The codecs check that the text fits the type.
type Value struct {
	Number uint16
	Type   Type
	Text   string
}

// Result says how the write of one setting went.
type Result struct {
	Number uint16
	Code   Code
}

// Code is a status code: of a whole request (Error) or of one setting's
// write (Result).
type Code uint8

// Codes.
const (
	CodeOK             Code = 0
	CodeMalformed      Code = 1 // the request did not decode
	CodeUnknownOp      Code = 2 // the printer has no such command
	CodeUnknownSetting Code = 3 // no setting of that number on this printer
	CodeBadValue       Code = 4 // wrong type, out of range, not allowed
	CodeReadOnly       Code = 5 // the setting cannot be written
	CodeUnauthorized   Code = 6 // wrong or missing administrator password
	CodeTooBig         Code = 7 // the reply would not fit one datagram: ask for fewer
	CodeBusy           Code = 8 // try again later (too many registrations, …)
)

var codeNames = []string{"ok", "malformed", "unknown operation", "unknown setting", "bad value",
	"read-only", "unauthorized", "too big", "busy"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "code " + strconv.Itoa(int(c))
}

// Error is a reply's failure.
type Error struct {
	Code Code
	Text string
}

func (e *Error) Error() string {
	if e.Text == "" {
		return e.Code.String()
	}
	return e.Code.String() + ": " + e.Text
}

// Codec encodes and decodes Messages: Binary for NPAP, protocol/xmlnt's
// for XMLNT. Decode never panics on any input and returns an error that
// says what in the datagram is wrong.
type Codec interface {
	Encode(m Message) ([]byte, error)
	Decode(b []byte) (Message, error)
	// MaxDatagram is the largest datagram the codec makes or accepts.
	MaxDatagram() int
}
