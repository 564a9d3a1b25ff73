package traps

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
)

// The recordings in testdata/traps are datagrams net-snmp's snmptrap
// sent, with these credentials.
func recordingListener(t testing.TB) *Listener {
	t.Helper()
	l, err := New(Config{
		Attributor: func(netip.Addr) (string, bool) { return "lab-1", true },
		Credentials: []fleet.SNMP{
			{Version: fleet.SNMPv2c, Community: "trap-community"},
			{Version: fleet.SNMPv3, User: "inkform", AuthProtocol: "SHA", AuthPassphrase: "auth-passphrase-1",
				PrivProtocol: "AES", PrivPassphrase: "priv-passphrase-1"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var from = netip.MustParseAddrPort("127.0.0.2:50000")

func readRecording(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "traps", name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRecordings(t *testing.T) {
	l := recordingListener(t)
	for _, tc := range []struct {
		name string
		want []alerts.Signal
	}{
		{"v2c-jam", []alerts.Signal{{Kind: alerts.Raised, Name: alerts.Jam, Severity: alerts.Critical, Code: 8, Index: "8.2",
			OID: OIDPrinterV2Alert, Description: "Paper jam in tray 2"}}},
		{"v1-door-open", []alerts.Signal{{Kind: alerts.Raised, Name: alerts.DoorOpen, Severity: alerts.Critical, Code: 501, Index: "6.1",
			OID: OIDPrinterV2Alert, Description: "Door A open"}}},
		// warningBinaryChangeEvent (5) on the closing alert.
		{"v3-authpriv-door-closed", []alerts.Signal{{Kind: alerts.Cleared, Name: alerts.DoorOpen, Severity: alerts.Warning, Code: 501, Index: "6.1",
			OID: OIDPrinterV2Alert, Description: "Door A closed"}}},
		{"v2c-lexmark", []alerts.Signal{{Kind: alerts.Raised, Name: alerts.TonerLow, Severity: alerts.Warning, Code: 1104, Index: "lexmark.3.2",
			OID: OIDLexmarkAlert, Description: "Cyan Cartridge Low"}}},
		{"v2c-other", []alerts.Signal{{Kind: alerts.Raised, Name: alerts.Other, Severity: alerts.Info,
			OID: "1.3.6.1.6.3.1.1.5.3", Description: "trap 1.3.6.1.6.3.1.1.5.3"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, reason := l.handle(l.params(), readRecording(t, tc.name), from)
			if reason != "" {
				t.Fatalf("dropped: %s", reason)
			}
			if diff := cmp.Diff(tc.want, r.Signals); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
		})
	}
}

func vb(name string, typ gosnmp.Asn1BER, v any) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: name, Type: typ, Value: v}
}

func v2(oid string, vars ...gosnmp.SnmpPDU) *gosnmp.SnmpPacket {
	return &gosnmp.SnmpPacket{Version: gosnmp.Version2c, PDUType: gosnmp.SNMPv2Trap,
		Variables: append([]gosnmp.SnmpPDU{vb(".1.3.6.1.6.3.1.1.4.1.0", gosnmp.ObjectIdentifier, oid)}, vars...)}
}

const col = ".1.3.6.1.2.1.43.18.1.1."

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *gosnmp.SnmpPacket
		want []alerts.Signal
	}{
		{"cover closed clears cover open", v2("."+OIDPrinterV2Alert,
			vb(col+"4.1.9", gosnmp.Integer, 6), vb(col+"5.1.9", gosnmp.Integer, 2), vb(col+"7.1.9", gosnmp.Integer, 4)),
			[]alerts.Signal{{Kind: alerts.Cleared, Name: alerts.CoverOpen, Severity: alerts.Critical, Code: 3, Index: "6.2",
				OID: OIDPrinterV2Alert, Description: "printer alert code 4"}}},
		{"two jams in two places", v2(OIDPrinterV2Alert,
			vb(col+"4.1.1", gosnmp.Integer, 8), vb(col+"5.1.1", gosnmp.Integer, 1), vb(col+"7.1.1", gosnmp.Integer, 8),
			vb(col+"4.1.2", gosnmp.Integer, 13), vb(col+"5.1.2", gosnmp.Integer, 1), vb(col+"7.1.2", gosnmp.Integer, 8)),
			[]alerts.Signal{
				{Kind: alerts.Raised, Name: alerts.Jam, Severity: alerts.Critical, Code: 8, Index: "8.1", OID: OIDPrinterV2Alert, Description: "printer alert code 8"},
				{Kind: alerts.Raised, Name: alerts.Jam, Severity: alerts.Critical, Code: 8, Index: "13.1", OID: OIDPrinterV2Alert, Description: "printer alert code 8"},
			}},
		{"fuser failure needs service", v2(OIDPrinterV2Alert, vb(col+"7.1.3", gosnmp.Integer, 1002), vb(col+"2.1.3", gosnmp.Integer, 1)),
			[]alerts.Signal{{Kind: alerts.Raised, Name: alerts.ServiceRequested, Severity: alerts.Critical, Code: 1002, OID: OIDPrinterV2Alert, Description: "printer alert code 1002"}}},
		{"unknown code is other, severity from the printer", v2(OIDPrinterV2Alert, vb(col+"7.1.3", gosnmp.Integer, 1301), vb(col+"2.1.3", gosnmp.Integer, 4),
			vb(col+"8.1.3", gosnmp.OctetString, []byte("Ready\x00\x00 \xff"))),
			[]alerts.Signal{{Kind: alerts.Raised, Name: alerts.Other, Severity: alerts.Warning, Code: 1301, OID: OIDPrinterV2Alert, Description: "Ready \uFFFD"}}},
		{"wrong types are ignored", v2(OIDPrinterV2Alert, vb(col+"7.1.3", gosnmp.OctetString, []byte("8")), vb(col+"4.1.3", gosnmp.OctetString, "x"),
			vb(col+"8.1.3", gosnmp.Integer, 5)),
			[]alerts.Signal{{Kind: alerts.Raised, Name: alerts.Other, Severity: alerts.Info, Code: 0, OID: OIDPrinterV2Alert, Description: "printer alert code 0"}}},
		{"printerV2Alert without a code is other", v2(OIDPrinterV2Alert, vb(col+"2.1.3", gosnmp.Integer, 3)),
			[]alerts.Signal{{Kind: alerts.Raised, Name: alerts.Other, Severity: alerts.Info, OID: OIDPrinterV2Alert, Description: "trap " + OIDPrinterV2Alert}}},
		{"lexmark without a printer-MIB code", v2(OIDLexmarkAlert,
			vb(".1.3.6.1.4.1.641.6.5.1.1.4.1.7", gosnmp.Integer, 5), vb(".1.3.6.1.4.1.641.6.5.1.1.5.1.7", gosnmp.Integer, 77),
			vb(".1.3.6.1.4.1.641.6.5.1.1.6.1.7", gosnmp.OctetString, []byte("Fuser error"))),
			[]alerts.Signal{{Kind: alerts.Raised, Name: alerts.Other, Severity: alerts.Critical, OID: OIDLexmarkAlert, Description: "Fuser error (Lexmark alert code 77)"}}},
		{"v1 generic trap", &gosnmp.SnmpPacket{Version: gosnmp.Version1, PDUType: gosnmp.Trap, SnmpTrap: gosnmp.SnmpTrap{GenericTrap: 0, Enterprise: ".1.3.6.1.4.1.641"}},
			[]alerts.Signal{{Kind: alerts.Raised, Name: alerts.Other, Severity: alerts.Info, OID: "1.3.6.1.6.3.1.1.5.1", Description: "trap 1.3.6.1.6.3.1.1.5.1"}}},
		{"no trap OID", &gosnmp.SnmpPacket{Version: gosnmp.Version2c, PDUType: gosnmp.SNMPv2Trap},
			[]alerts.Signal{{Kind: alerts.Raised, Name: alerts.Other, Severity: alerts.Info, OID: "unknown", Description: "trap unknown"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Decode(tc.p)); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
		})
	}
	long := strings.Repeat("é", 2000)
	s := Decode(v2(OIDPrinterV2Alert, vb(col+"7.1.1", gosnmp.Integer, 8), vb(col+"8.1.1", gosnmp.OctetString, []byte(long))))
	if n := utf8.RuneCountInString(s[0].Description); n != maxDescription {
		t.Errorf("description of %d runes kept, want %d", n, maxDescription)
	}
}

// FuzzDecode feeds datagrams to the path a trap takes: gosnmp's
// unmarshalling (with the v3 user's keys), the checks, attribution and
// decoding. Nothing may panic, and what comes out must be well formed.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"v2c-jam", "v1-door-open", "v3-authpriv-door-closed", "v2c-lexmark", "v2c-other"} {
		f.Add(readRecording(f, name))
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	l := recordingListener(f)
	params := l.params()
	names := map[string]bool{}
	for _, n := range alerts.Names() {
		names[n] = true
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _, reason := l.handle(params, b, from)
		if reason != "" {
			return
		}
		for _, s := range r.Signals {
			if !names[s.Name] || (s.Kind != alerts.Raised && s.Kind != alerts.Cleared) || s.OID == "" {
				t.Errorf("malformed signal %+v", s)
			}
			if !utf8.ValidString(s.Description) || utf8.RuneCountInString(s.Description) > maxDescription+64 {
				t.Errorf("description %q", s.Description)
			}
		}
	})
}
