package catalog

import (
	"cmp"
	"slices"
	"strings"
)

// BindingKind names one kind of setting binding. Its value is the binding's
// key in catalog.json and the sub-block of an HCL `setting` block.
type BindingKind string

// Binding kinds, one per field of Bindings.
const (
	BindingSNMP BindingKind = "snmp"
	BindingPJL  BindingKind = "pjl"
	BindingEWS  BindingKind = "ews"
	// BindingNPAP is a numbered setting of Lexmark's own management
	// protocols: NPAP and XMLNT reach the same setting by the same number
	// (docs/protocols/npap.md).
	BindingNPAP BindingKind = "npap"
)

// BindingKinds lists every binding kind, in the order Bindings holds them.
var BindingKinds = []BindingKind{BindingSNMP, BindingPJL, BindingEWS, BindingNPAP}

// BindingLST is the kind of the "lst" transport, which names settings as
// the catalog does: every setting a model family supports (any binding)
// has it, without data of its own, and the device answers the names it
// does not know as unsupported. It is not in BindingKinds: a setting block
// has no sub-block for it.
const BindingLST BindingKind = "lst"

// Has reports whether b holds a binding of kind k.
func (b Bindings) Has(k BindingKind) bool {
	switch k {
	case BindingSNMP:
		return b.SNMP != nil
	case BindingPJL:
		return b.PJL != nil
	case BindingEWS:
		return b.EWS != nil
	case BindingNPAP:
		return b.NPAP != nil
	case BindingLST:
		return b.Any()
	}
	return false
}

// TransportInfo is one row of the transport table: what the rest of the
// program knows about a transport without talking to its provider.
type TransportInfo struct {
	// Name is how configurations write the transport (in `transports`,
	// `ports` and a file's or firmware's `via`) and what its provider's
	// Name returns.
	Name string
	// Port is the standard port. When InAddress is set it is the default
	// port of the printer's address; otherwise a port that `ports` may
	// move (TCP, or UDP when UDP is set).
	Port      int
	InAddress bool
	// UDP marks a transport of datagrams rather than a TCP stream.
	UDP bool
	// DataPort is the standard UDP port of a transport that moves its
	// data over UDP after a TCP handshake (lst); 0 for the others. The
	// device names the one it uses in the handshake, so `ports` has no
	// entry for it.
	DataPort int
	// Facts marks the transport that reads facts (model, serial,
	// supplies): every session opens it, and it alone is the preference of
	// a printer without `transports`.
	Facts bool
	// Binding is the kind of catalog binding that carries settings over
	// the transport; "" when it carries none.
	Binding BindingKind
	// Files and Firmware say whether the transport sends files and
	// firmware images.
	Files    bool
	Firmware bool
	// Secure is set when the transport runs over TLS, so tls_fingerprint
	// and ca_cert apply to it. With admin credentials such a transport
	// is authenticated: a secured printer's settings may use it.
	Secure bool
	// Preference orders transports when a printer serves several and a
	// configuration is generated for it, lower first: SNMP, then PJL
	// (it carries most settings), LST (a secured printer's channel),
	// HTTPS before plain HTTP, FTP (files only), then Lexmark's own NPAP
	// and XMLNT (compatibility with the firmware is unverified, so they
	// come after every standard protocol). Gaps leave room for new rows.
	Preference int
}

// Authenticated reports whether transport name proves who is asking, and
// so may reach a secured printer: SNMP only as version 3 with an auth
// protocol (snmpV3Auth), a TLS transport (https, lst) when the admin login
// is set (adminLogin), nothing else.
func Authenticated(name string, snmpV3Auth, adminLogin bool) bool {
	t, ok := Transport(name)
	switch {
	case !ok:
		return false
	case t.Facts:
		return snmpV3Auth
	}
	return t.Secure && adminLogin
}

// Settings reports whether the transport carries settings.
func (t TransportInfo) Settings() bool { return t.Binding != "" }

// Transports is the transport table, in the order documentation and
// messages list the names.
var Transports = []TransportInfo{
	{Name: "snmp", Port: 161, InAddress: true, Facts: true, Binding: BindingSNMP, Preference: 0},
	{Name: "pjl", Port: 9100, Binding: BindingPJL, Files: true, Firmware: true, Preference: 10},
	{Name: "ftp", Port: 21, Files: true, Firmware: true, Preference: 40},
	{Name: "http", Port: 80, Binding: BindingEWS, Files: true, Firmware: true, Preference: 30},
	{Name: "https", Port: 443, Binding: BindingEWS, Files: true, Firmware: true, Secure: true, Preference: 20},
	{Name: "npap", Port: 9300, UDP: true, Binding: BindingNPAP, Preference: 50},
	{Name: "xmlnt", Port: 6000, UDP: true, Binding: BindingNPAP, Preference: 55},
	{Name: "lst", Port: 6110, DataPort: 6100, Binding: BindingLST, Secure: true, Preference: 15},
}

// Transport returns the table's row for name. The router asks once per
// setting and transport, so rows are not copied while searching.
func Transport(name string) (TransportInfo, bool) {
	for i := range Transports {
		if Transports[i].Name == name {
			return Transports[i], true
		}
	}
	return TransportInfo{}, false
}

// transportNames returns the names of the rows keep accepts, in table
// order.
func transportNames(keep func(TransportInfo) bool) []string {
	var out []string
	for _, t := range Transports {
		if keep(t) {
			out = append(out, t.Name)
		}
	}
	return out
}

// TransportNames returns every transport name, in table order.
func TransportNames() []string {
	return transportNames(func(TransportInfo) bool { return true })
}

// SettingsTransports returns the transports that carry settings.
func SettingsTransports() []string { return transportNames(TransportInfo.Settings) }

// FileTransports returns the transports that send files.
func FileTransports() []string {
	return transportNames(func(t TransportInfo) bool { return t.Files })
}

// FirmwareTransports returns the transports that send firmware images.
func FirmwareTransports() []string {
	return transportNames(func(t TransportInfo) bool { return t.Firmware })
}

// PortTransports returns the transports whose port `ports` may move.
func PortTransports() []string {
	return transportNames(func(t TransportInfo) bool { return !t.InAddress })
}

// DefaultTransports returns the preference of a printer without
// `transports`: the facts transport.
func DefaultTransports() []string {
	return transportNames(func(t TransportInfo) bool { return t.Facts })
}

// FactsTransport returns the name of the transport that reads facts.
func FactsTransport() string { return DefaultTransports()[0] }

// Port returns the port transport name uses on a printer whose `ports`
// are ports: the printer's own when set, else the standard one (0 for a
// name the table lacks).
func Port(name string, ports map[string]int) int {
	if n := ports[name]; n > 0 {
		return n
	}
	t, _ := Transport(name)
	return t.Port
}

// SortByPreference sorts names by the table's Preference; names the table
// lacks follow, sorted by name.
func SortByPreference(names []string) {
	rank := func(name string) (int, bool) {
		t, ok := Transport(name)
		return t.Preference, ok
	}
	slices.SortFunc(names, func(a, b string) int {
		ra, okA := rank(a)
		rb, okB := rank(b)
		switch {
		case okA && okB:
			return cmp.Or(cmp.Compare(ra, rb), strings.Compare(a, b))
		case okA:
			return -1
		case okB:
			return 1
		}
		return strings.Compare(a, b)
	})
}

// FileTransportsText lists the file transports for a message, sorted:
// "ftp, http, https or pjl".
func FileTransportsText() string {
	names := slices.Sorted(slices.Values(FileTransports()))
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
