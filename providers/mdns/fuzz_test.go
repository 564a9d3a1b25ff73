package mdns

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseTXT: TXT strings (one per line, in miekg/dns's escaped form)
// never panic the parser, and what it keeps stays within its limits.
func FuzzParseTXT(f *testing.F) {
	f.Add(strings.Join(lexmarkTXT, "\n"))
	f.Add(`note=B\195\188ro` + "\n" + `k\"ey=\\x` + "\nproduct=((x)\nUUID=urn:uuid:\n=\nDuplex")
	f.Add(`adminurl=http://[::1` + "\n" + `\999=\0` + "\n" + `a=\`)
	f.Fuzz(func(t *testing.T, in string) {
		m := parseTXT(strings.Split(in, "\n"))
		if len(m) > maxTXTKeys {
			t.Fatalf("%d keys", len(m))
		}
		for k, v := range m {
			if k == "" || k != strings.ToLower(k) || !printableASCII(k) || !utf8.ValidString(v) {
				t.Fatalf("key %q value %q", k, v)
			}
		}
		s := Service{TXT: m}
		s.fields()
		if s.AdminURL != "" && !strings.HasPrefix(s.AdminURL, "http") {
			t.Fatalf("admin URL %q", s.AdminURL)
		}
	})
}

// FuzzDecode: any bytes give services or an error, never a panic, and
// every service is whole: a type, a port, an instance name.
func FuzzDecode(f *testing.F) {
	f.Add(response(f, ad{instance: "Lexmark CX725 HQ-2F", typ: TypeIPP, host: "ET0021B7C3D4E5.local.", port: 631,
		txt: lexmarkTXT, addrs: []string{"10.250.0.2", "fe80::1"}}))
	f.Add(response(f,
		ad{instance: "A (1)", typ: TypeIPPS, host: "a.local.", port: 443, txt: []string{"TLS=1.3"}, addrs: []string{"10.0.0.1"}},
		ad{instance: "A (1)", typ: TypePDL, host: "a.local.", port: 9100, addrs: []string{"10.0.0.1"}},
		ad{instance: "B.dot", typ: TypeLPD, host: "b.local.", port: 515, txt: []string{"rp=lp"}}))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xc0, 0x0c}, 64))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		svcs, err := Decode(pkt)
		if err != nil {
			return
		}
		if len(svcs) > DefaultMaxServices {
			t.Fatalf("%d services", len(svcs))
		}
		for _, s := range svcs {
			if s.Instance == "" || len(s.Types) == 0 || s.Port <= 0 || len(s.Addrs) > maxAddrs || len(s.TXT) > maxTXTKeys ||
				!utf8.ValidString(s.Instance) {
				t.Fatalf("service %+v", s)
			}
		}
	})
}
