package discovery

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/inkform/inkform/catalog"
)

func TestMergeByAddress(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.5:161")
	b := netip.MustParseAddrPort("10.0.0.5:1161") // another agent on the same host
	snmp := []Found{
		{Address: a, Model: "Lexmark CX725", Serial: "S1", Profile: "credentials.fleet", FoundBy: []string{BySNMP}},
		{Address: b, Model: "HP LaserJet M507", FoundBy: []string{BySNMP}},
	}
	mdns := []Found{
		{Address: netip.AddrPortFrom(a.Addr(), 0), Model: "CX725 series", Secured: true, FoundBy: []string{ByMDNS},
			MDNS: &MDNS{Instance: "Lexmark CX725 (office)", AdminURL: "https://10.0.0.5/", UUID: "u-1"}},
		{Address: netip.MustParseAddrPort("10.0.0.9:0"), FoundBy: []string{ByMDNS}, MDNS: &MDNS{Model: "Brother HL-L6400DW"}},
	}
	got := Merge(snmp, mdns)
	if len(got) != 3 {
		t.Fatalf("merged %d devices: %+v", len(got), got)
	}
	first := got[0]
	if first.Address != a || first.Model != "Lexmark CX725" || !first.Secured || !slices.Equal(first.FoundBy, []string{ByMDNS, BySNMP}) ||
		first.MDNS == nil || first.MDNS.AdminURL != "https://10.0.0.5/" || first.Profile != "credentials.fleet" {
		t.Errorf("merged %+v", first)
	}
	if got[1].Address != b || got[1].Secured || !slices.Equal(got[1].FoundBy, []string{BySNMP}) {
		t.Errorf("the second agent: %+v", got[1])
	}
	if got[2].Model != "Brother HL-L6400DW" || got[2].Profile != "" {
		t.Errorf("mDNS only: %+v", got[2])
	}
}

func TestPrinterNames(t *testing.T) {
	taken := map[string]bool{"lexmark-cx725-lxk7d0001": true}
	for _, tc := range []struct {
		model, serial, addr, want string
	}{
		{"Lexmark CX725", "LXK7D0001", "10.0.0.1:161", "lexmark-cx725-lxk7d0001-2"},
		{"HP LaserJet M507", "", "10.20.1.21:161", "hp-laserjet-m507-10-20-1-21"},
		{"", "", "10.20.1.21:1161", "printer-10-20-1-21-1161"},
		{"3D Printer", "", "[::1]:161", "printer-3d-printer-1"},
		{"HP LaserJet M507", "", "10.20.1.21:161", "hp-laserjet-m507-10-20-1-21-2"},
	} {
		got := PrinterName(tc.model, tc.serial, netip.MustParseAddrPort(tc.addr), taken)
		if got != tc.want || !hclsyntax.ValidIdentifier(got) {
			t.Errorf("PrinterName(%q, %q, %s) = %q, want %q", tc.model, tc.serial, tc.addr, got, tc.want)
		}
	}
}

func TestRenderTypesSettings(t *testing.T) {
	f := File{
		Header:      []string{"found"},
		Variables:   []Variable{{Name: "discovered_community"}},
		Credentials: []CredentialsBlock{{Name: "discovered", Version: "2c", Community: "discovered_community"}},
		Printers: []PrinterBlock{{Name: "p", Address: netip.MustParseAddrPort("10.0.0.1:161"), Serial: "S\"1",
			Credentials: "discovered", Settings: map[string]string{
				"system.contact": "Desk \"x\" ${not}", "console.disable": "3", "system.location": "",
			}}},
	}
	src, err := f.Render(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`community = var.discovered_community`, `address     = "10.0.0.1"`, `serial      = "S\"1"`,
		`contact     = "Desk \"x\" $${not}"`, `"console.disable" = 3`, `credentials = credentials.discovered`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("rendered file lacks %s:\n%s", want, src)
		}
	}
	if _, diags := hclsyntax.ParseConfig(src, "f.hcl", hcl.InitialPos); diags.HasErrors() {
		t.Errorf("rendered file does not parse: %v\n%s", diags, src)
	}
	f.Printers[0].Settings = map[string]string{"no.such.setting": "1"}
	if _, err := f.Render(catalog.Default()); err == nil {
		t.Error("an unknown setting was rendered")
	}
}
