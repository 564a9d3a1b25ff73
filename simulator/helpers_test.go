package simulator

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// startSim starts a simulator on loopback ephemeral ports and closes it
// when the test ends.
func startSim(t *testing.T, o Options) *Sim {
	t.Helper()
	s, err := Start(t.Context(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// client is a gosnmp client for one simulated printer.
func client(t *testing.T, p *Printer, community string, version gosnmp.SnmpVersion, timeout time.Duration) *gosnmp.GoSNMP {
	t.Helper()
	host, port, err := net.SplitHostPort(p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	g := &gosnmp.GoSNMP{
		Target:         host,
		Port:           uint16(n),
		Community:      community,
		Version:        version,
		Timeout:        timeout,
		Retries:        0,
		MaxRepetitions: 20,
	}
	if err := g.Connect(); err != nil {
		t.Fatalf("connect %s: %v", p.Addr(), err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

func str(t *testing.T, v any) string {
	t.Helper()
	b, ok := v.([]byte)
	if !ok {
		t.Fatalf("value %v (%T) is not an octet string", v, v)
	}
	return string(b)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// encode builds a request datagram the way a client would send it.
func encode(t testing.TB, version gosnmp.SnmpVersion, community string, typ gosnmp.PDUType, vbs []gosnmp.SnmpPDU, nonRep uint8, maxRep uint32) []byte {
	t.Helper()
	pkt := &gosnmp.SnmpPacket{
		Version: version, Community: community, PDUType: typ, RequestID: 4242,
		NonRepeaters: nonRep, MaxRepetitions: maxRep, Variables: vbs,
	}
	b, err := pkt.MarshalMsg()
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b
}

func nulls(oids ...string) []gosnmp.SnmpPDU {
	out := make([]gosnmp.SnmpPDU, len(oids))
	for i, o := range oids {
		out[i] = gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null}
	}
	return out
}

func decode(t testing.TB, b []byte) *gosnmp.SnmpPacket {
	t.Helper()
	var g gosnmp.GoSNMP
	pkt, err := g.SnmpDecodePacket(b)
	if err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return pkt
}

// testAgent is an agent for printer i without a socket.
func testAgent(i int) *agent {
	return newAgent(newPrinter(i, 3, time.Now(), nil), "public", "private", 1)
}

func splitAddr(addr string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	return host, uint16(n), err
}
