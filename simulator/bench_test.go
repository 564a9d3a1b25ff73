package simulator

import (
	"testing"

	"github.com/gosnmp/gosnmp"
)

// BenchmarkHandleGet measures the handler alone: decode, look up six
// objects, encode.
func BenchmarkHandleGet(b *testing.B) {
	a := testAgent(0)
	req := encode(b, gosnmp.Version2c, "public", gosnmp.GetRequest,
		nulls(OIDSysDescr, OIDSysObjectID, OIDSysUpTime, OIDSysContact, OIDSysName, OIDSysLocation), 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, v := a.handle(req); v != answered {
			b.Fatal(v)
		}
	}
}

// BenchmarkHandleBulk measures a GETBULK that fills a whole datagram.
func BenchmarkHandleBulk(b *testing.B) {
	a := testAgent(0)
	req := encode(b, gosnmp.Version2c, "public", gosnmp.GetBulkRequest, nulls(".1.3"), 0, 50)
	b.ReportAllocs()
	for b.Loop() {
		if _, v := a.handle(req); v != answered {
			b.Fatal(v)
		}
	}
}

// BenchmarkUDPGet measures request/response round trips over loopback
// with a gosnmp client.
func BenchmarkUDPGet(b *testing.B) {
	s, err := Start(b.Context(), Options{Printers: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Community: "public", Version: gosnmp.Version2c, Timeout: gosnmp.Default.Timeout}
	_, port, _ := splitAddr(s.Printers()[0].Addr())
	g.Port = port
	if err := g.Connect(); err != nil {
		b.Fatal(err)
	}
	defer g.Conn.Close()
	for b.Loop() {
		if _, err := g.Get([]string{OIDSysDescr, OIDSysContact}); err != nil {
			b.Fatal(err)
		}
	}
}
