package simulator

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/inkform/inkform/providers/mdns"
)

// answer asks a printer's zone a PTR question for typ, as a browser
// does, and reads the answer with the DNS-SD browser's decoder.
func answer(t *testing.T, z *printerZone, typ string) []mdns.Service {
	t.Helper()
	q := dns.Question{Name: typ + ".local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Answer: z.Records(q)}
	pkt, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	svcs, err := mdns.Decode(pkt)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return svcs
}

// The records a printer's responder gives: its identity in TXT, the ports
// of the services it serves, the location as it is now, IPP over TLS only
// on secured printers, and silence while offline.
func TestMDNSRecords(t *testing.T) {
	s := startSim(t, Options{Printers: 3, Services: []string{"pjl", "http", "https"}})
	o := &MDNSOptions{Types: MDNSTypes(), Secured: 1}
	p := s.Printers()[0]
	addr := netip.MustParseAddr("10.250.0.10")
	z := &printerZone{p: p, addr: addr, types: p.mdnsTypes(o)}

	got := answer(t, z, "_ipp._tcp")
	if len(got) != 1 {
		t.Fatalf("answer: %+v", got)
	}
	svc := got[0]
	want := mdns.Service{
		Instance: "Lexmark CX725 sim-001", Host: "sim-001.local", Addrs: []netip.Addr{addr},
		Port: p.Port("http"), Ports: map[string]int{"_ipp._tcp": p.Port("http")}, Types: []string{"_ipp._tcp"},
		Model: "Lexmark CX725", Vendor: "Lexmark", Product: "Lexmark CX725", UUID: p.UUID(),
		AdminURL: "https://10.250.0.10:" + strconv.Itoa(p.Port("https")) + "/", Queue: "ipp/print", TLS: "1.3",
		PDL: []string{"application/pdf", "image/urf", "application/postscript"},
	}
	want.TXT = svc.TXT
	if !equalService(svc, want) {
		t.Errorf("service\n got %+v\nwant %+v", svc, want)
	}
	if p.UUID() != s.Printers()[0].UUID() || p.UUID() == s.Printers()[1].UUID() || len(p.UUID()) != 36 {
		t.Errorf("UUIDs: %s %s", p.UUID(), s.Printers()[1].UUID())
	}
	if got := answer(t, z, "_pdl-datastream._tcp"); len(got) != 1 || got[0].Port != p.Port("pjl") {
		t.Errorf("raw printing: %+v", got)
	}
	if got := answer(t, z, "_printer._tcp"); len(got) != 1 || got[0].Port != 515 {
		t.Errorf("LPD: %+v", got)
	}

	if err := p.Set(OIDSysLocation, []byte(`Büro 2F \ Nord`)); err != nil {
		t.Fatal(err)
	}
	if got := answer(t, z, "_ipps._tcp"); len(got) != 1 || got[0].Location != `Büro 2F \ Nord` || got[0].Port != p.Port("https") {
		t.Errorf("after the location changed: %+v", got)
	}

	p.SetOffline(true)
	if rrs := z.Records(dns.Question{Name: "_ipp._tcp.local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}); len(rrs) != 0 {
		t.Errorf("an offline printer answered: %v", rrs)
	}
	p.SetOffline(false)

	last := s.Printers()[2]
	zs := &printerZone{p: last, addr: addr.Next(), types: last.mdnsTypes(o)}
	if got := answer(t, zs, "_ipp._tcp"); len(got) != 0 {
		t.Errorf("a secured printer offered plain IPP: %+v", got)
	}
	if got := answer(t, zs, "_ipps._tcp"); len(got) != 1 || !got[0].Secured || got[0].Instance != "HP LaserJet M507 sim-003" {
		t.Errorf("secured printer: %+v", got)
	}
	if !slices.Equal(zs.types, []string{"_ipps._tcp", "_pdl-datastream._tcp", "_printer._tcp"}) {
		t.Errorf("secured printer's types: %v", zs.types)
	}
}

// Options that cannot work are refused before any responder starts.
func TestMDNSOptionErrors(t *testing.T) {
	first := netip.MustParseAddr("10.250.0.10")
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Printers: 2, MDNS: &MDNSOptions{Types: []string{"_http._tcp"}, FirstAddr: first}, Listen: "0.0.0.0"}, "unknown service type"},
		{Options{Printers: 2, MDNS: &MDNSOptions{FirstAddr: first}, Listen: "0.0.0.0"}, "no service types"},
		{Options{Printers: 2, MDNS: &MDNSOptions{Types: MDNSTypes(), Secured: 3, FirstAddr: first}, Listen: "0.0.0.0"}, "3 secured printers out of 2"},
		{Options{Printers: 2, MDNS: &MDNSOptions{Types: MDNSTypes(), FirstAddr: first}}, "listens on 127.0.0.1"},
		{Options{Printers: 2, MDNS: &MDNSOptions{Types: MDNSTypes()}}, "share the address 127.0.0.1"},
		{Options{Printers: 1, MDNS: &MDNSOptions{Types: MDNSTypes()}, Listen: "0.0.0.0"}, "listens on every address"},
		{Options{Printers: 2, MDNS: &MDNSOptions{Types: MDNSTypes(), FirstAddr: netip.MustParseAddr("255.255.255.255")}, Listen: "0.0.0.0"}, "no address for printer sim-002"},
		{Options{Printers: mdnsMaxPrinters + 1, MDNS: &MDNSOptions{Types: MDNSTypes(), FirstAddr: first}, Listen: "0.0.0.0"}, "at most 256"},
	} {
		s, err := Start(t.Context(), c.o)
		if err == nil {
			s.Close()
			t.Errorf("%+v: started", c.o.MDNS)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.o.MDNS, err, c.want)
		}
	}
}

func equalService(a, b mdns.Service) bool {
	return a.Instance == b.Instance && a.Host == b.Host && slices.Equal(a.Addrs, b.Addrs) && a.Port == b.Port &&
		maps.Equal(a.Ports, b.Ports) && slices.Equal(a.Types, b.Types) && a.Model == b.Model && a.Vendor == b.Vendor &&
		a.Product == b.Product && a.Location == b.Location && a.AdminURL == b.AdminURL && a.UUID == b.UUID &&
		slices.Equal(a.PDL, b.PDL) && a.Queue == b.Queue && a.TLS == b.TLS && a.Secured == b.Secured
}
