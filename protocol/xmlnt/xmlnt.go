// Package xmlnt is inkform's wire format of XMLNT, the XML request and
// reply datagrams Lexmark printers answer on UDP port 6000: the messages
// of protocol/npap written as one XML document per datagram, with
// encoding/xml.
//
// Lexmark publishes no schema, so the schema here is inkform's own
// (docs/protocols/xmlnt.md); compatibility with Lexmark firmware is
// unverified. It carries the same operations as NPAP and names settings
// by the same numbers.
package xmlnt

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"unicode/utf8"

	"github.com/inkform/inkform/protocol/npap"
)

// MaxDatagram is the largest datagram XML makes or accepts: XML is wordier
// than NPAP's binary items, and the printers' XML service takes larger
// datagrams (the IP layer fragments them).
const MaxDatagram = 8192

// Version is the schema version, the root's version attribute.
const Version = "1"

// maxText bounds any text in a document, as NPAP's items are bounded.
const maxText = 1024

// XML is the XMLNT codec.
type XML struct{}

var _ npap.Codec = XML{}

// MaxDatagram returns MaxDatagram.
func (XML) MaxDatagram() int { return MaxDatagram }

type doc struct {
	XMLName  xml.Name   `xml:"xmlnt"`
	Version  string     `xml:"version,attr"`
	Op       string     `xml:"op,attr"`
	ID       uint32     `xml:"id,attr"`
	Reply    bool       `xml:"reply,attr,omitempty"`
	Error    *errorEl   `xml:"error"`
	Identity *identity  `xml:"identity"`
	Status   string     `xml:"status,omitempty"`
	Alerts   []alertEl  `xml:"alert"`
	Gets     []get      `xml:"get"`
	Values   []valueEl  `xml:"value"`
	Results  []resultEl `xml:"result"`
	Password string     `xml:"password,omitempty"`
	Register *register  `xml:"register"`
}

type errorEl struct {
	Code uint8  `xml:"code,attr"`
	Text string `xml:",chardata"`
}

type identity struct {
	Vendor   string `xml:"vendor,attr"`
	Model    string `xml:"model,attr"`
	Serial   string `xml:"serial,attr"`
	Firmware string `xml:"firmware,attr"`
	MAC      string `xml:"mac,attr"`
}

type alertEl struct {
	Kind        string `xml:"kind,attr"`
	Severity    uint8  `xml:"severity,attr"`
	Group       uint8  `xml:"group,attr"`
	Index       uint16 `xml:"index,attr"`
	Code        uint16 `xml:"code,attr"`
	Description string `xml:",chardata"`
}

type get struct {
	N uint16 `xml:"n,attr"`
}

type valueEl struct {
	N    uint16 `xml:"n,attr"`
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type resultEl struct {
	N    uint16 `xml:"n,attr"`
	Code uint8  `xml:"code,attr"`
}

type register struct {
	Port     *uint16 `xml:"port,attr"`
	Lifetime *uint32 `xml:"lifetime,attr"`
}

var kindNames = map[npap.AlertKind]string{npap.AlertRaised: "raised", npap.AlertCleared: "cleared"}

// Encode writes m as one XML document.
func (XML) Encode(m npap.Message) ([]byte, error) {
	if !m.Op.Known() {
		return nil, fmt.Errorf("xmlnt encode: unknown %s", m.Op)
	}
	if m.Error != nil && !m.Reply {
		return nil, errors.New("xmlnt encode: an error in a request")
	}
	d := doc{Version: Version, Op: m.Op.String(), ID: m.ID, Reply: m.Reply, Password: m.Password}
	var texts []string
	if m.Error != nil {
		d.Error = &errorEl{Code: uint8(m.Error.Code), Text: m.Error.Text}
		texts = append(texts, m.Error.Text)
	}
	if id := m.Identity; id != nil {
		d.Identity = &identity{Vendor: id.Vendor, Model: id.Model, Serial: id.Serial, Firmware: id.Firmware, MAC: id.MACString()}
		texts = append(texts, id.Vendor, id.Model, id.Serial, id.Firmware)
	}
	if m.Op == npap.OpStatus && m.Reply && m.Error == nil {
		d.Status = m.Status.String()
	}
	for _, a := range m.Alerts {
		k, ok := kindNames[a.Kind]
		if !ok {
			return nil, fmt.Errorf("xmlnt encode: alert kind %d", a.Kind)
		}
		d.Alerts = append(d.Alerts, alertEl{Kind: k, Severity: a.Severity, Group: a.Group, Index: a.GroupIndex, Code: a.Code, Description: a.Description})
		texts = append(texts, a.Description)
	}
	for _, n := range m.Numbers {
		d.Gets = append(d.Gets, get{N: n})
	}
	for _, v := range m.Values {
		if _, err := npap.EncodeValue(v.Type, v.Text); err != nil {
			return nil, fmt.Errorf("xmlnt encode: setting %d: %w", v.Number, err)
		}
		d.Values = append(d.Values, valueEl{N: v.Number, Type: v.Type.String(), Text: v.Text})
		texts = append(texts, v.Text)
	}
	for _, r := range m.Results {
		d.Results = append(d.Results, resultEl{N: r.Number, Code: uint8(r.Code)})
	}
	texts = append(texts, m.Password)
	if m.Op == npap.OpRegister || m.Op == npap.OpUnregister {
		r := &register{}
		if !m.Reply {
			r.Port = &m.Port
		}
		if m.Op == npap.OpRegister && (m.Lifetime != 0 || m.Reply) {
			r.Lifetime = &m.Lifetime
		}
		if r.Port != nil || r.Lifetime != nil {
			d.Register = r
		}
	}
	for _, s := range texts {
		if err := checkText(s); err != nil {
			return nil, fmt.Errorf("xmlnt encode: %w", err)
		}
	}
	b, err := xml.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("xmlnt encode: %w", err)
	}
	if len(b) > MaxDatagram {
		return nil, fmt.Errorf("xmlnt encode: %s of %d bytes exceeds the datagram limit of %d: %w", m.Op, len(b), MaxDatagram, npap.ErrTooBig)
	}
	return b, nil
}

func checkText(s string) error {
	if len(s) > maxText {
		return fmt.Errorf("text of %d bytes exceeds %d", len(s), maxText)
	}
	if !utf8.ValidString(s) {
		return errors.New("text is not valid UTF-8")
	}
	// XML 1.0 cannot carry most control characters; a value with one
	// would not read back as written.
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0xFFFE || r == 0xFFFF {
			return fmt.Errorf("text holds the control character U+%04X, which XML cannot carry", r)
		}
	}
	return nil
}

// DecodeError is a datagram Decode refuses.
type DecodeError struct{ Msg string }

func (e *DecodeError) Error() string { return "xmlnt: " + e.Msg }

// Decode reads one XML document. It refuses a datagram over MaxDatagram
// before parsing, anything after the root element, unknown operations,
// and values that do not fit their type; it never panics.
func (XML) Decode(b []byte) (npap.Message, error) {
	bad := func(format string, args ...any) (npap.Message, error) {
		return npap.Message{}, &DecodeError{Msg: fmt.Sprintf(format, args...)}
	}
	if len(b) > MaxDatagram {
		return bad("datagram of %d bytes exceeds %d", len(b), MaxDatagram)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	var d doc
	if err := dec.Decode(&d); err != nil {
		return bad("%v", err)
	}
	// Nothing but white space may follow the root element.
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) == 0 {
			continue
		}
		return bad("content after the root element")
	}
	if d.Version != Version {
		return bad("version %q, want %q", d.Version, Version)
	}
	op, ok := npap.OpByName(d.Op)
	if !ok {
		return bad("unknown op %q", d.Op)
	}
	m := npap.Message{Op: op, ID: d.ID, Reply: d.Reply}
	if d.Error != nil {
		if !m.Reply {
			return bad("error in a request")
		}
		m.Error = &npap.Error{Code: npap.Code(d.Error.Code), Text: d.Error.Text}
	}
	if id := d.Identity; id != nil {
		hw, err := net.ParseMAC(id.MAC)
		if err != nil || len(hw) != 6 {
			return bad("identity mac %q is not a 6-byte MAC address", id.MAC)
		}
		m.Identity = &npap.Identity{Vendor: id.Vendor, Model: id.Model, Serial: id.Serial, Firmware: id.Firmware}
		copy(m.Identity.MAC[:], hw)
	}
	if m.Op == npap.OpStatus && m.Reply && m.Error == nil {
		s := npap.StatusByName(d.Status)
		if s == npap.StatusUnknown && d.Status != "unknown" {
			return bad("status %q is not one of the statuses", d.Status)
		}
		m.Status = s
	}
	for _, a := range d.Alerts {
		var kind npap.AlertKind
		for k, n := range kindNames {
			if n == a.Kind {
				kind = k
			}
		}
		if kind == 0 {
			return bad("alert kind %q, want raised or cleared", a.Kind)
		}
		m.Alerts = append(m.Alerts, npap.Alert{Kind: kind, Severity: a.Severity, Group: a.Group, GroupIndex: a.Index, Code: a.Code, Description: a.Description})
	}
	for _, g := range d.Gets {
		m.Numbers = append(m.Numbers, g.N)
	}
	for _, v := range d.Values {
		t, ok := npap.TypeByName(v.Type)
		if !ok {
			return bad("setting %d: unknown type %q", v.N, v.Type)
		}
		if _, err := npap.EncodeValue(t, v.Text); err != nil {
			return bad("setting %d: %v", v.N, err)
		}
		if err := checkText(v.Text); err != nil {
			return bad("setting %d: %v", v.N, err)
		}
		m.Values = append(m.Values, npap.Value{Number: v.N, Type: t, Text: v.Text})
	}
	for _, r := range d.Results {
		m.Results = append(m.Results, npap.Result{Number: r.N, Code: npap.Code(r.Code)})
	}
	m.Password = d.Password
	if m.Op == npap.OpRegister || m.Op == npap.OpUnregister {
		if !m.Reply {
			if d.Register == nil || d.Register.Port == nil {
				return bad("%s request without its port", m.Op)
			}
			m.Port = *d.Register.Port
		}
		if m.Op == npap.OpRegister && d.Register != nil && d.Register.Lifetime != nil {
			m.Lifetime = *d.Register.Lifetime
		}
	}
	texts := []string{m.Password}
	if m.Error != nil {
		texts = append(texts, m.Error.Text)
	}
	if m.Identity != nil {
		texts = append(texts, m.Identity.Vendor, m.Identity.Model, m.Identity.Serial, m.Identity.Firmware)
	}
	for _, a := range m.Alerts {
		texts = append(texts, a.Description)
	}
	for _, s := range texts {
		if err := checkText(s); err != nil {
			return bad("%v", err)
		}
	}
	return m, nil
}
