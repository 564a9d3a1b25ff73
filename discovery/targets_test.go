package discovery

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

func expand(t *testing.T, include, exclude []string, r Resolver) []string {
	t.Helper()
	tg, err := ParseTargets(include, exclude)
	if err != nil {
		t.Fatalf("ParseTargets: %v", err)
	}
	addrs, err := tg.Expand(context.Background(), r)
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestExpandTargets(t *testing.T) {
	res := fakeResolver{"printer-7.example.com": {netip.MustParseAddr("2001:db8::7"), netip.MustParseAddr("10.9.9.9")}}
	for _, tc := range []struct {
		name             string
		include, exclude []string
		want             string
	}{
		{"a /30 without its network and broadcast addresses", []string{"10.0.0.0/30"}, nil, "10.0.0.1:161 10.0.0.2:161"},
		{"a /31 keeps both", []string{"10.0.0.4/31"}, nil, "10.0.0.4:161 10.0.0.5:161"},
		{"a /32", []string{"10.0.0.9/32"}, nil, "10.0.0.9:161"},
		{"an unmasked prefix is masked", []string{"10.0.0.6/30"}, nil, "10.0.0.5:161 10.0.0.6:161"},
		{"a range", []string{"10.0.0.5-10.0.0.7"}, nil, "10.0.0.5:161 10.0.0.6:161 10.0.0.7:161"},
		{"a range across octets", []string{"10.0.0.255-10.0.1.1"}, nil, "10.0.0.255:161 10.0.1.0:161 10.0.1.1:161"},
		{"a range of the last octet", []string{"10.0.0.5-6"}, nil, "10.0.0.5:161 10.0.0.6:161"},
		{"addresses with ports, IPv6, duplicates", []string{"10.0.0.1:1161", "::1", "[::1]:1161", "10.0.0.1:1161"}, nil,
			"10.0.0.1:1161 [::1]:161 [::1]:1161"},
		{"excluded addresses and ranges", []string{"10.0.0.0/29"}, []string{"10.0.0.2", "10.0.0.4-10.0.0.5"}, "10.0.0.1:161 10.0.0.3:161 10.0.0.6:161"},
		{"an exclusion with a port spares other ports", []string{"10.0.0.1", "10.0.0.1:1161"}, []string{"10.0.0.1:1161"}, "10.0.0.1:161"},
		{"a host name, IPv4 preferred", []string{"printer-7.example.com"}, nil, "10.9.9.9:161"},
		{"an excluded host name", []string{"10.9.9.8-10.9.9.9"}, []string{"printer-7.example.com"}, "10.9.9.8:161"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(expand(t, tc.include, tc.exclude, res), " "); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTargetErrors(t *testing.T) {
	for _, s := range []string{"", "10.0.0.0/33", "2001:db8::/64", "10.0.0.9-10.0.0.1", "10.0.0.1-300",
		"10.0.0.1-::1", "10.0.0.1:0", "host name", "bad_host!", "-lead.example"} {
		if sp, err := ParseTarget(s); err == nil {
			t.Errorf("ParseTarget(%q) = %+v, want an error", s, sp)
		}
	}
	tg, err := ParseTargets([]string{"10.0.0.0/15"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Expand(context.Background(), fakeResolver{}); err == nil || !strings.Contains(err.Error(), "131070 addresses, more than the limit of 65536") {
		t.Errorf("a /15: %v", err)
	}
	tg.MaxAddresses = 1 << 17
	if addrs, err := tg.Expand(context.Background(), fakeResolver{}); err != nil || len(addrs) != 131070 {
		t.Errorf("a /15 with a raised limit: %d addresses, %v", len(addrs), err)
	}
	tg, _ = ParseTargets([]string{"nowhere.example.com"}, nil)
	if _, err := tg.Expand(context.Background(), fakeResolver{}); err == nil || !strings.Contains(err.Error(), `"nowhere.example.com"`) {
		t.Errorf("an unknown name: %v", err)
	}
}

func TestReadCSV(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a header, a BOM, more columns", "\xEF\xBB\xBFaddress,name\n10.0.0.1,a\n10.0.0.2-3,b\n", "10.0.0.1 10.0.0.2-3"},
		{"no header, blanks and comments", "10.0.0.1\n\n# office\n 10.0.0.0/30 \r\n", "10.0.0.1 10.0.0.0/30"},
		{"a quoted cell", "\"10.0.0.7\",x\n", "10.0.0.7"},
	} {
		got, err := ReadCSV(strings.NewReader(tc.in), "p.csv")
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %q, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	_, err := ReadCSV(strings.NewReader("address\n10.0.0.1\nnot an address\n"), "p.csv")
	if err == nil || !strings.Contains(err.Error(), "p.csv:3:") {
		t.Errorf("a bad row: %v", err)
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"10.20.0.0/22", "10.0.0.5-10.0.0.40", "10.0.0.5-40", "::1", "[::1]:161",
		"printer.example.com:1161", "0.0.0.0/0", "255.255.255.255/31", "a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseTarget(s)
		if err != nil {
			return
		}
		if sp.Host == "" && (sp.To.Less(sp.From) || !sp.From.IsValid()) {
			t.Fatalf("%q: span %+v", s, sp)
		}
		if sp.Size().Sign() <= 0 {
			t.Fatalf("%q: size %s", s, sp.Size())
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add("\xEF\xBB\xBFaddress\n10.0.0.1\n")
	f.Add("\"10.0.0.1\n")
	f.Add("10.0.0.1,\"x\"y\n")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ReadCSV(strings.NewReader(s), "f.csv")
		if err != nil {
			return
		}
		for _, g := range got {
			if _, err := ParseTarget(g); err != nil {
				t.Fatalf("ReadCSV kept %q: %v", g, err)
			}
		}
	})
}

// FuzzDecodeResponse feeds the sweep's decoder arbitrary datagrams: an
// error or a response, never a panic.
func FuzzDecodeResponse(f *testing.F) {
	resp := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: 7,
		Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: []byte("Lexmark CX725")}}}
	b, err := resp.MarshalMsg()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	req := *resp
	req.PDUType = gosnmp.GetRequest
	b2, _ := req.MarshalMsg()
	f.Add(b2)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		pkt, err := DecodeResponse(&gosnmp.GoSNMP{Version: gosnmp.Version2c}, b)
		if err == nil && pkt.PDUType != gosnmp.GetResponse {
			t.Fatalf("accepted a %v", pkt.PDUType)
		}
	})
}
