package mdns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers/mdns"
)

// browseEnv carries Browse's options, as JSON, to the test binary re-run
// inside a namespace; TestBrowseChild runs there and prints the result.
const browseEnv = "INKFORM_MDNS_BROWSE"

// resultMark starts the line TestBrowseChild prints its services on.
const resultMark = "MDNS-RESULT "

// TestBrowseChild is not a test of its own: it is what the test binary
// does inside namespace A for the tests below.
func TestBrowseChild(t *testing.T) {
	spec := os.Getenv(browseEnv)
	if spec == "" {
		t.Skip("runs only inside a test's network namespace")
	}
	var opts mdns.Options
	if err := json.Unmarshal([]byte(spec), &opts); err != nil {
		t.Fatalf("options: %v", err)
	}
	opts.Logf = t.Logf
	svcs, err := mdns.Browse(t.Context(), opts)
	if err != nil {
		t.Fatalf("Browse: %v", err)
	}
	out, err := json.Marshal(svcs)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n%s%s\n", resultMark, out)
}

// browseIn runs Browse inside namespace ns of the pair.
func browseIn(t *testing.T, p *testservers.NetnsPair, ns string, opts mdns.Options) []mdns.Service {
	t.Helper()
	spec, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := p.TestBinary(ctx, t, ns, "^TestBrowseChild$", browseEnv+"="+string(spec))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("browse in %s: %v\n%s%s", ns, err, stdout.String(), stderr.String())
	}
	for line := range strings.Lines(stdout.String()) {
		if js, ok := strings.CutPrefix(line, resultMark); ok {
			var svcs []mdns.Service
			if err := json.Unmarshal([]byte(js), &svcs); err != nil {
				t.Fatalf("result: %v", err)
			}
			return svcs
		}
	}
	t.Fatalf("no result from the browse in %s:\n%s%s", ns, stdout.String(), stderr.String())
	return nil
}

func byInstance(svcs []mdns.Service, name string) (mdns.Service, bool) {
	for _, s := range svcs {
		if s.Instance == name {
			return s, true
		}
	}
	return mdns.Service{}, false
}

// Browse in one namespace finds what a real responder, avahi-daemon,
// announces in the other: addresses, ports, TXT fields, names with spaces
// unescaped, and the secured rule.
func TestBrowseAvahi(t *testing.T) {
	p := testservers.NewNetnsPair(t)
	av := testservers.StartAvahi(t, p, p.B,
		testservers.AvahiService{Name: "Lexmark CX725 HQ-2F", Type: "_ipp._tcp", Port: 631, TXT: []string{
			"txtvers=1", "ty=Lexmark CX725", "product=(Lexmark CX725)", "note=Büro 2F", "rp=ipp/print",
			"adminurl=http://10.250.0.2/", "UUID=4c3e8b2a-1d6f-4e0b-9a55-7f1c2d3e4f50", "TLS=1.2",
			"pdl=application/pdf,image/urf"}},
		testservers.AvahiService{Name: "Lexmark CX725 HQ-2F", Type: "_pdl-datastream._tcp", Port: 9100, TXT: []string{"ty=Lexmark CX725"}},
		testservers.AvahiService{Name: "Secure Printer (3rd floor)", Type: "_ipps._tcp", Port: 443, TXT: []string{
			"ty=HP LaserJet M507", "usb_MFG=HP", "usb_MDL=LaserJet M507", "TLS=1.3", "note=Floor 3"}},
		// Not a printer type: left out.
		testservers.AvahiService{Name: "Files", Type: "_sftp-ssh._tcp", Port: 22},
	)
	svcs := browseIn(t, p, p.A, mdns.Options{Interface: p.IfA, DisableIPv6: true, Window: 3 * time.Second, Queries: 3})

	// avahi announces every service under its one host: one device.
	if len(svcs) != 1 {
		t.Fatalf("got %d devices, want 1 (one host): %+v", len(svcs), svcs)
	}
	s := svcs[0]
	if !onlyAddr(s.Addrs, p.AddrB, p.IfA) || s.Host != strings.ToLower(av.HostName)+".local" {
		t.Errorf("address %v host %q; want %v %s.local", s.Addrs, s.Host, p.AddrB, av.HostName)
	}
	if !slices.Equal(s.Types, []string{mdns.TypeIPP, mdns.TypeIPPS, mdns.TypePDL}) ||
		s.Ports[mdns.TypeIPP] != 631 || s.Ports[mdns.TypeIPPS] != 443 || s.Ports[mdns.TypePDL] != 9100 {
		t.Errorf("types %v ports %v", s.Types, s.Ports)
	}
	if s.Secured {
		t.Error("a host offering _ipp and _ipps is not secured")
	}

	// One host per printer is how printers appear; so is each alone.
	p2 := testservers.NewNetnsPair(t)
	testservers.StartAvahi(t, p2, p2.B,
		testservers.AvahiService{Name: "Secure Printer (3rd floor)", Type: "_ipps._tcp", Port: 443, TXT: []string{
			"ty=HP LaserJet M507", "usb_MFG=HP", "usb_MDL=LaserJet M507", "TLS=1.3", "note=Floor 3", "rp=ipp/print"}})
	p3 := testservers.NewNetnsPair(t)
	testservers.StartAvahi(t, p3, p3.B,
		testservers.AvahiService{Name: "Lexmark CX725 HQ-2F", Type: "_ipp._tcp", Port: 631, TXT: []string{
			"ty=Lexmark CX725", "product=(Lexmark CX725)", "note=Büro 2F", "rp=ipp/print",
			"adminurl=http://10.250.0.2/", "UUID=4C3E8B2A-1D6F-4E0B-9A55-7F1C2D3E4F50", "TLS=1.2", "pdl=application/pdf,image/urf"}})

	sec := browseIn(t, p2, p2.A, mdns.Options{Types: []string{mdns.TypeIPP, mdns.TypeIPPS}, DisableIPv6: true, Window: 2 * time.Second, Queries: 2})
	if len(sec) != 1 {
		t.Fatalf("secured printer: %+v", sec)
	}
	want := mdns.Service{
		Instance: "Secure Printer (3rd floor)", Host: sec[0].Host, Addrs: []netip.Addr{p2.AddrB},
		Port: 443, Ports: map[string]int{mdns.TypeIPPS: 443}, Types: []string{mdns.TypeIPPS}, TXT: sec[0].TXT,
		Model: "HP LaserJet M507", Vendor: "HP", Location: "Floor 3", Queue: "ipp/print", TLS: "1.3", Secured: true,
	}
	if !onlyAddr(sec[0].Addrs, p2.AddrB, "") {
		t.Errorf("secured printer's addresses: %v", sec[0].Addrs)
	}
	want.Addrs = sec[0].Addrs
	if !equalJSON(sec[0], want) {
		t.Errorf("secured printer\n got %+v\nwant %+v", sec[0], want)
	}

	lex := browseIn(t, p3, p3.A, mdns.Options{DisableIPv6: true, Window: 2 * time.Second, Queries: 2})
	s, ok := byInstance(lex, "Lexmark CX725 HQ-2F")
	if !ok || len(lex) != 1 {
		t.Fatalf("Lexmark: %+v", lex)
	}
	want = mdns.Service{
		Instance: "Lexmark CX725 HQ-2F", Host: s.Host, Addrs: []netip.Addr{p3.AddrB},
		Port: 631, Ports: map[string]int{mdns.TypeIPP: 631}, Types: []string{mdns.TypeIPP}, TXT: s.TXT,
		Model: "Lexmark CX725", Vendor: "Lexmark", Product: "Lexmark CX725", Location: "Büro 2F",
		AdminURL: "http://10.250.0.2/", UUID: "4c3e8b2a-1d6f-4e0b-9a55-7f1c2d3e4f50",
		PDL: []string{"application/pdf", "image/urf"}, Queue: "ipp/print", TLS: "1.2",
	}
	if !onlyAddr(s.Addrs, p3.AddrB, "") {
		t.Errorf("Lexmark's addresses: %v", s.Addrs)
	}
	want.Addrs = s.Addrs
	if !equalJSON(s, want) {
		t.Errorf("Lexmark\n got %+v\nwant %+v", s, want)
	}
	if s.TXT["uuid"] != "4C3E8B2A-1D6F-4E0B-9A55-7F1C2D3E4F50" || s.TXT["product"] != "(Lexmark CX725)" {
		t.Errorf("TXT: %q", s.TXT)
	}
}

// Nothing on the link: Browse returns no services, no error, and within
// its window.
func TestBrowseEmptyLink(t *testing.T) {
	p := testservers.NewNetnsPair(t)
	start := time.Now()
	svcs := browseIn(t, p, p.A, mdns.Options{DisableIPv6: true, Window: 500 * time.Millisecond, Queries: 2})
	if len(svcs) != 0 {
		t.Errorf("found %+v on an empty link", svcs)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s", d)
	}
}

// onlyAddr says addrs are v4 and maybe the IPv6 link-local address avahi
// publishes for its interface even when it answers over IPv4 only, which
// carries the zone of the interface queried on when one was named.
func onlyAddr(addrs []netip.Addr, v4 netip.Addr, zone string) bool {
	if len(addrs) == 0 || addrs[0] != v4 {
		return false
	}
	for _, a := range addrs[1:] {
		if !a.Is6() || !a.IsLinkLocalUnicast() || a.Zone() != zone {
			return false
		}
	}
	return len(addrs) <= 2
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
