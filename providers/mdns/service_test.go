package mdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// An advertisement as a responder sends it: PTR, SRV, TXT and the host's
// address records, for one instance of one type.
type ad struct {
	instance, typ, host string
	port                uint16
	txt                 []string
	addrs               []string
}

func (a ad) records() []dns.RR {
	full := escapeLabel(a.instance) + "." + a.typ + ".local."
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 120}
	}
	rrs := []dns.RR{
		&dns.PTR{Hdr: hdr(a.typ+".local.", dns.TypePTR), Ptr: full},
		&dns.SRV{Hdr: hdr(full, dns.TypeSRV), Port: a.port, Target: a.host},
	}
	if a.txt != nil {
		rrs = append(rrs, &dns.TXT{Hdr: hdr(full, dns.TypeTXT), Txt: a.txt})
	}
	for _, s := range a.addrs {
		ip := net.ParseIP(s)
		if ip.To4() != nil {
			rrs = append(rrs, &dns.A{Hdr: hdr(a.host, dns.TypeA), A: ip.To4()})
		} else {
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(a.host, dns.TypeAAAA), AAAA: ip})
		}
	}
	return rrs
}

// escapeLabel writes a label in presentation form, as a zone file would.
func escapeLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' || c == ' ' || c == '\\' || c == '(' || c == ')':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x21 || c > 0x7e:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// response packs advertisements into one mDNS response, the answer
// section first and the host records as additional ones.
func response(t testing.TB, ads ...ad) []byte {
	t.Helper()
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}}
	for _, a := range ads {
		rrs := a.records()
		m.Answer = append(m.Answer, rrs[0])
		m.Extra = append(m.Extra, rrs[1:]...)
	}
	pkt, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	return pkt
}

func decode(t *testing.T, ads ...ad) []Service {
	t.Helper()
	got, err := Decode(response(t, ads...))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return got
}

var lexmarkTXT = []string{
	"txtvers=1", "qtotal=1", "rp=ipp/print", "ty=Lexmark CX725",
	"product=(Lexmark CX725)", "note=Büro 2F, \"Nord\"", "adminurl=https://10.250.0.2/",
	"UUID=urn:uuid:4C3E8B2A-1D6F-4E0B-9A55-7F1C2D3E4F50", "TLS=1.2",
	"usb_MFG=Lexmark", "usb_MDL=CX725", "pdl=application/pdf, image/urf,application/postscript",
	"Color=T", "Duplex", "UUID=00000000-0000-0000-0000-000000000000", "=ignored",
}

func TestDecodeFields(t *testing.T) {
	got := decode(t, ad{instance: "Lexmark CX725 HQ-2F", typ: TypeIPP, host: "ET0021B7C3D4E5.local.", port: 631,
		txt: lexmarkTXT, addrs: []string{"10.250.0.2", "fe80::1"}})
	if len(got) != 1 {
		t.Fatalf("got %d services: %+v", len(got), got)
	}
	s := got[0]
	want := Service{
		Instance: "Lexmark CX725 HQ-2F",
		Host:     "et0021b7c3d4e5.local",
		Addrs:    []netip.Addr{netip.MustParseAddr("10.250.0.2"), netip.MustParseAddr("fe80::1")},
		Port:     631,
		Ports:    map[string]int{TypeIPP: 631},
		Types:    []string{TypeIPP},
		Model:    "Lexmark CX725",
		Vendor:   "Lexmark",
		Product:  "Lexmark CX725",
		Location: `Büro 2F, "Nord"`,
		AdminURL: "https://10.250.0.2/",
		UUID:     "4c3e8b2a-1d6f-4e0b-9a55-7f1c2d3e4f50",
		PDL:      []string{"application/pdf", "image/urf", "application/postscript"},
		Queue:    "ipp/print",
		TLS:      "1.2",
	}
	want.TXT = s.TXT
	if !reflect.DeepEqual(s, want) {
		t.Errorf("service\n got %+v\nwant %+v", s, want)
	}
	for k, v := range map[string]string{"ty": "Lexmark CX725", "usb_mfg": "Lexmark", "usb_mdl": "CX725", "color": "T", "duplex": "",
		"uuid": "urn:uuid:4C3E8B2A-1D6F-4E0B-9A55-7F1C2D3E4F50", "txtvers": "1"} {
		if got, ok := s.TXT[k]; !ok || got != v {
			t.Errorf("TXT[%q] = %q, %v; want %q", k, got, ok, v)
		}
	}
	if _, ok := s.TXT[""]; ok {
		t.Errorf("a string without a key made a key: %q", s.TXT)
	}
	if s.Secured {
		t.Error("an _ipp printer with TLS=1.2 is not secured: TLS says it can upgrade, not that it must")
	}
}

func TestModelFallbacks(t *testing.T) {
	for _, c := range []struct {
		txt           []string
		model, vendor string
	}{
		{[]string{"product=(HP LaserJet M507)"}, "HP LaserJet M507", "HP"},
		{[]string{"usb_MFG=Brother", "usb_MDL=HL-L6400DW series"}, "Brother HL-L6400DW series", "Brother"},
		{[]string{"usb_MFG=RICOH", "usb_MDL=RICOH IM C3000"}, "RICOH IM C3000", "RICOH"},
		{[]string{"ty=Lexmark MS821", "usb_MFG=LEXMARK"}, "Lexmark MS821", "LEXMARK"},
		{[]string{"adminurl=javascript:alert(1)", "UUID=not-a-uuid"}, "", ""},
		{nil, "", ""},
	} {
		got := decode(t, ad{instance: "p", typ: TypePDL, host: "p.local.", port: 9100, txt: c.txt, addrs: []string{"10.0.0.9"}})
		if len(got) != 1 || got[0].Model != c.model || got[0].Vendor != c.vendor || got[0].AdminURL != "" && c.model == "" || got[0].UUID != "" && c.model == "" {
			t.Errorf("TXT %q: got %+v; want model %q vendor %q", c.txt, got, c.model, c.vendor)
		}
	}
}

func TestSecured(t *testing.T) {
	host := "prn.local."
	a := func(typ string, port uint16, txt ...string) ad {
		return ad{instance: "Printer", typ: typ, host: host, port: port, txt: txt, addrs: []string{"10.1.1.1"}}
	}
	for _, c := range []struct {
		name    string
		ads     []ad
		secured bool
		port    int
	}{
		{"ipps only", []ad{a(TypeIPPS, 443, "TLS=1.3")}, true, 443},
		{"ipps and raw printing", []ad{a(TypePDL, 9100), a(TypeIPPS, 631)}, true, 631},
		{"ipp and ipps", []ad{a(TypeIPP, 631), a(TypeIPPS, 443)}, false, 443},
		{"ipp with TLS", []ad{a(TypeIPP, 631, "TLS=1.2")}, false, 631},
		{"lpd only", []ad{a(TypeLPD, 515)}, false, 515},
		{"raw and lpd", []ad{a(TypeLPD, 515), a(TypePDL, 9100)}, false, 9100},
	} {
		got := decode(t, c.ads...)
		if len(got) != 1 {
			t.Fatalf("%s: %d services, want 1 merged: %+v", c.name, len(got), got)
		}
		if got[0].Secured != c.secured || got[0].Port != c.port {
			t.Errorf("%s: secured %v port %d; want %v %d", c.name, got[0].Secured, got[0].Port, c.secured, c.port)
		}
	}
}

func TestMerge(t *testing.T) {
	got := decode(t,
		// One printer: its types share address and host, not the name.
		ad{instance: "Lexmark CX725 (ET0021)", typ: TypeIPP, host: "et0021.local.", port: 631, txt: []string{"ty=Lexmark CX725", "rp=ipp/print"}, addrs: []string{"10.0.0.5"}},
		ad{instance: "ET0021 raw", typ: TypePDL, host: "ET0021.local.", port: 9100, txt: []string{"ty=other", "rp=raw", "pdl=application/vnd.hp-PCL"}, addrs: []string{"10.0.0.5"}},
		ad{instance: "Lexmark CX725 (ET0021)", typ: TypeLPD, host: "et0021.local.", port: 515, txt: []string{"rp=lp0"}},
		// Another printer.
		ad{instance: "HP LaserJet M507 [A1B2C3]", typ: TypeIPPS, host: "NPIA1B2C3.local.", port: 443, txt: []string{"ty=HP LaserJet M507"}, addrs: []string{"10.0.0.6"}},
		// A third with the same model but its own address and host.
		ad{instance: "Lexmark CX725 (ET0099)", typ: TypeIPP, host: "et0099.local.", port: 631, txt: []string{"ty=Lexmark CX725"}, addrs: []string{"10.0.0.7"}},
	)
	if len(got) != 3 {
		t.Fatalf("got %d devices, want 3: %+v", len(got), got)
	}
	a := got[0]
	if a.Instance != "Lexmark CX725 (ET0021)" || !slices.Equal(a.Types, []string{TypeIPP, TypePDL, TypeLPD}) ||
		a.Ports[TypePDL] != 9100 || a.Ports[TypeLPD] != 515 || a.Port != 631 {
		t.Errorf("merged device: %+v", a)
	}
	// The IPP record's values win over raw printing's and LPD's.
	if a.Model != "Lexmark CX725" || a.Queue != "ipp/print" || !slices.Equal(a.PDL, []string{"application/vnd.hp-PCL"}) {
		t.Errorf("merged TXT: model %q queue %q pdl %q", a.Model, a.Queue, a.PDL)
	}
	if got[1].Instance != "HP LaserJet M507 [A1B2C3]" || !got[1].Secured || got[2].Addrs[0] != netip.MustParseAddr("10.0.0.7") {
		t.Errorf("other devices: %+v", got[1:])
	}
}

func TestInstanceNames(t *testing.T) {
	for _, name := range []string{"Lexmark CX725 HQ-2F", "Drucker 3.OG (Büro)", `back\slash`, "日本語プリンタ"} {
		got := decode(t, ad{instance: name, typ: TypeIPP, host: "h.local.", port: 631, txt: []string{}, addrs: []string{"10.0.0.1"}})
		if len(got) != 1 || got[0].Instance != name {
			t.Errorf("instance %q: got %+v", name, got)
		}
	}
	inst, typ, ok := splitInstance(`Lexmark\ CX725\ HQ-2F._IPP._tcp.local.`)
	if !ok || inst != "Lexmark CX725 HQ-2F" || typ != TypeIPP {
		t.Errorf("splitInstance: %q %q %v", inst, typ, ok)
	}
	for _, bad := range []string{"_ipp._tcp.local.", "host.local.", "x.ipp._tcp.local.", "x._ipp._sctp.local."} {
		if _, _, ok := splitInstance(bad); ok {
			t.Errorf("splitInstance(%q) accepted", bad)
		}
	}
}

func TestTXTLimits(t *testing.T) {
	var txt []string
	for i := range 200 {
		txt = append(txt, fmt.Sprintf("k%03d=%s", i, strings.Repeat("v", 40)))
	}
	m := parseTXT(txt)
	if len(m) > maxTXTKeys || len(m) == 0 {
		t.Errorf("%d keys kept; want 1..%d", len(m), maxTXTKeys)
	}
	var big []string
	for i := range 40 {
		big = append(big, fmt.Sprintf("b%02d=%s", i, strings.Repeat("x", 250)))
	}
	n := 0
	for k, v := range parseTXT(big) {
		n += len(k) + len(v) + 2
	}
	if n > maxTXTBytes || n == 0 {
		t.Errorf("%d bytes of TXT kept; want 1..%d", n, maxTXTBytes)
	}
	// Bytes that are not UTF-8 become U+FFFD; keys must be ASCII.
	m = parseTXT([]string{`note=\255\254`, `k\200ey=1`, `Key=first`, `KEY=second`})
	if m["note"] != "\uFFFD" || len(m) != 2 || m["key"] != "first" {
		t.Errorf("parseTXT: %q", m)
	}
}

func TestCollectorCap(t *testing.T) {
	c := newCollector([]string{TypeIPP}, 3)
	for i := range 10 {
		c.add(entry{name: fmt.Sprintf("p%d._ipp._tcp.local.", i), host: fmt.Sprintf("p%d.local.", i), port: 631,
			addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})}})
	}
	// Unwanted types and answers without a port are ignored.
	c.add(entry{name: "x._printer._tcp.local.", host: "x.local.", port: 515})
	c.add(entry{name: "p0._ipp._tcp.local.", host: "p0.local.", port: 0})
	if got := c.services(); len(got) != 3 || c.dropped != 7 {
		t.Errorf("%d services, %d dropped; want 3 and 7", len(got), c.dropped)
	}
	// An answer for a known device still merges past the cap.
	c.add(entry{name: "p1 raw._pdl-datastream._tcp.local.", host: "p1.local.", port: 9100})
	if got := c.services(); len(got[1].Types) != 1 {
		t.Errorf("a type not asked for merged: %+v", got[1])
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := Decode([]byte{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "mdns: decode response") {
		t.Errorf("short packet: %v", err)
	}
	q := new(dns.Msg)
	q.SetQuestion("_ipp._tcp.local.", dns.TypePTR)
	pkt, _ := q.Pack()
	if _, err := Decode(pkt); err == nil || !strings.Contains(err.Error(), "query") {
		t.Errorf("query: %v", err)
	}
	// An SRV without address records still yields the instance.
	got := decode(t, ad{instance: "lonely", typ: TypeIPP, host: "gone.local.", port: 631})
	if len(got) != 1 || len(got[0].Addrs) != 0 || got[0].Instance != "lonely" {
		t.Errorf("no addresses: %+v", got)
	}
}

func TestOptions(t *testing.T) {
	o, err := Options{}.normalize()
	if err != nil || !slices.Equal(o.Types, DefaultTypes) || o.Window != 3*time.Second || o.Queries != 3 || o.Domain != "local" || o.MaxServices != DefaultMaxServices {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	if o, err := (Options{Types: []string{" _IPP._tcp. "}}).normalize(); err != nil || o.Types[0] != TypeIPP {
		t.Errorf("type spelling: %+v %v", o.Types, err)
	}
	for _, bad := range []Options{
		{Types: []string{"ipp"}}, {Types: []string{"_ipp._sctp"}}, {Types: []string{"_a.b._tcp"}},
		{Window: -time.Second}, {Window: time.Hour}, {Queries: 1000}, {Window: 5 * time.Millisecond},
		{DisableIPv4: true, DisableIPv6: true}, {MaxServices: -1},
		{Types: slices.Repeat([]string{TypeIPP}, 17)},
	} {
		if _, err := bad.normalize(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := Browse(t.Context(), Options{Interface: "no-such-interface0"}); err == nil || !strings.Contains(err.Error(), "no-such-interface0") {
		t.Errorf("unknown interface: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Browse(ctx, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrTooMany), ErrTooMany) {
		t.Error("ErrTooMany does not wrap")
	}
}
