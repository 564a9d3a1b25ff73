package catalog

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/inkform/inkform/fleet"
)

// TestTransportTable checks that the table is consistent: the rest of the
// program trusts it without checking again.
func TestTransportTable(t *testing.T) {
	// Names are bare HCL identifiers, so `ports = { pjl = 9100 }` works.
	nameRE := regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	names := map[string]bool{}
	prefs := map[int]string{}
	facts := 0
	for _, tr := range Transports {
		if !nameRE.MatchString(tr.Name) {
			t.Errorf("%q: not a lowercase identifier", tr.Name)
		}
		if names[tr.Name] {
			t.Errorf("%s: listed twice", tr.Name)
		}
		names[tr.Name] = true
		if tr.Port < 1 || tr.Port > 65535 {
			t.Errorf("%s: port %d out of range 1–65535", tr.Name, tr.Port)
		}
		if tr.Binding != "" && tr.Binding != BindingLST && !slices.Contains(BindingKinds, tr.Binding) {
			t.Errorf("%s: unknown binding kind %q; the catalog has %q", tr.Name, tr.Binding, BindingKinds)
		}
		if tr.Firmware && !tr.Files {
			t.Errorf("%s: carries firmware but not files; firmware is sent as a file", tr.Name)
		}
		if !tr.Settings() && !tr.Files && !tr.Facts {
			t.Errorf("%s: carries nothing", tr.Name)
		}
		// Only the facts transport is reached at the printer's address.
		if tr.InAddress != tr.Facts {
			t.Errorf("%s: InAddress %v but Facts %v", tr.Name, tr.InAddress, tr.Facts)
		}
		if tr.Facts {
			facts++
			if tr.Port != fleet.DefaultSNMPPort {
				t.Errorf("%s: port %d, but an address without one means %d", tr.Name, tr.Port, fleet.DefaultSNMPPort)
			}
		}
		if other, dup := prefs[tr.Preference]; dup {
			t.Errorf("%s and %s: same preference %d", other, tr.Name, tr.Preference)
		}
		prefs[tr.Preference] = tr.Name
		if got, ok := Transport(tr.Name); !ok || got != tr {
			t.Errorf("Transport(%q) = %+v, %v", tr.Name, got, ok)
		}
	}
	if facts != 1 {
		t.Errorf("%d facts transports, want 1", facts)
	}
	if _, ok := Transport("ipp"); ok {
		t.Error(`Transport("ipp") found a row`)
	}
}

// TestBindingKinds checks that every binding kind is a key of a setting's
// bindings and is carried by some transport.
func TestBindingKinds(t *testing.T) {
	for _, k := range BindingKinds {
		var b Bindings
		if err := json.Unmarshal(fmt.Appendf(nil, `{%q: {}}`, k), &b); err != nil {
			t.Fatal(err)
		}
		for _, other := range BindingKinds {
			if b.Has(other) != (other == k) {
				t.Errorf("bindings %s: Has(%s) = %v", k, other, b.Has(other))
			}
		}
		if !slices.ContainsFunc(Transports, func(tr TransportInfo) bool { return tr.Binding == k }) {
			t.Errorf("binding kind %s: no transport carries it", k)
		}
	}
}

func TestTransportLists(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"TransportNames", TransportNames(), []string{"snmp", "pjl", "ftp", "http", "https", "npap", "xmlnt", "lst"}},
		{"SettingsTransports", SettingsTransports(), []string{"snmp", "pjl", "http", "https", "npap", "xmlnt", "lst"}},
		{"FileTransports", FileTransports(), []string{"pjl", "ftp", "http", "https"}},
		{"FirmwareTransports", FirmwareTransports(), []string{"pjl", "ftp", "http", "https"}},
		{"PortTransports", PortTransports(), []string{"pjl", "ftp", "http", "https", "npap", "xmlnt", "lst"}},
		{"DefaultTransports", DefaultTransports(), []string{"snmp"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s() = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if got := FactsTransport(); got != "snmp" {
		t.Errorf("FactsTransport() = %q", got)
	}
	if got, want := FileTransportsText(), "ftp, http, https or pjl"; got != want {
		t.Errorf("FileTransportsText() = %q, want %q", got, want)
	}
}

func TestPort(t *testing.T) {
	ports := map[string]int{"pjl": 9101, "ftp": 0}
	for _, tc := range []struct {
		name string
		want int
	}{{"pjl", 9101}, {"ftp", 21}, {"https", 443}, {"ipp", 0}} {
		if got := Port(tc.name, ports); got != tc.want {
			t.Errorf("Port(%q) = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestSortByPreference(t *testing.T) {
	names := []string{"ftp", "zz", "xmlnt", "http", "snmp", "aa", "npap", "https", "pjl", "lst"}
	SortByPreference(names)
	want := []string{"snmp", "pjl", "lst", "https", "http", "ftp", "npap", "xmlnt", "aa", "zz"}
	if !slices.Equal(names, want) {
		t.Errorf("got %q, want %q", names, want)
	}
}

// TestTransportsDocumented checks that docs/language.md shows the table as
// it is.
func TestTransportsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range Transports {
		if row := docRow(tr); !strings.Contains(string(doc), "\n"+row+"\n") {
			t.Errorf("docs/language.md lacks the row\n%s", row)
		}
	}
}

// docRow renders a transport as a row of the table in docs/language.md.
func docRow(tr TransportInfo) string {
	port := fmt.Sprint(tr.Port)
	if tr.InAddress {
		port += " (in `address`)"
	}
	if tr.UDP {
		port += "/udp"
	}
	if tr.DataPort != 0 {
		port = fmt.Sprintf("%d (TCP) + %d (UDP)", tr.Port, tr.DataPort)
	}
	var carries []string
	if tr.Facts {
		carries = append(carries, "facts")
	}
	if tr.Settings() {
		carries = append(carries, fmt.Sprintf("settings (`%s` bindings)", tr.Binding))
	}
	if tr.Files {
		carries = append(carries, "files")
	}
	if tr.Firmware {
		carries = append(carries, "firmware")
	}
	tls := "no"
	if tr.Secure {
		tls = "yes"
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s |", tr.Name, port, strings.Join(carries, ", "), tls)
}

// TestNPAPNumbersUnique checks that no two settings share an NPAP setting
// number on any family: a number names one setting on the printer.
func TestNPAPNumbersUnique(t *testing.T) {
	c := Default()
	for _, fam := range append(c.familyNames(), "") {
		seen := map[int]string{}
		for _, s := range c.Settings {
			b := s.Bindings(fam).NPAP
			if b == nil {
				continue
			}
			if other, dup := seen[b.ID]; dup {
				t.Errorf("family %q: %s and %s share NPAP number %d", fam, other, s.Name, b.ID)
			}
			seen[b.ID] = s.Name
		}
	}
	if b := mustLookup(t, c, "system.contact").Bindings("lexmark").NPAP; b == nil || b.ID != 257 {
		t.Errorf("system.contact on lexmark: NPAP binding %+v, want id 257", b)
	}
	if b := mustLookup(t, c, "system.contact").Bindings("hp").NPAP; b != nil {
		t.Errorf("system.contact on hp: NPAP binding %+v, want none (NPAP is Lexmark's)", b)
	}
}

func mustLookup(t *testing.T, c *Catalog, name string) Setting {
	t.Helper()
	s, ok := c.Lookup(name)
	if !ok {
		t.Fatalf("%s: not in the catalog", name)
	}
	return s
}

func TestAuthenticated(t *testing.T) {
	for _, tc := range []struct {
		name              string
		snmpV3Auth, admin bool
		want              bool
	}{
		{"snmp", false, true, false},
		{"snmp", true, false, true},
		{"pjl", true, true, false},
		{"ftp", true, true, false},
		{"http", true, true, false},
		{"https", false, true, true},
		{"https", true, false, false},
		{"lst", false, true, true},
		{"lst", false, false, false},
		{"ipp", true, true, false},
	} {
		if got := Authenticated(tc.name, tc.snmpV3Auth, tc.admin); got != tc.want {
			t.Errorf("Authenticated(%q, v3auth=%v, admin=%v) = %v", tc.name, tc.snmpV3Auth, tc.admin, got)
		}
	}
}
