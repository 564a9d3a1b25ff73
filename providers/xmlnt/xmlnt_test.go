package xmlnt_test

import (
	"net"
	"testing"
	"time"

	"github.com/inkform/inkform/fleet"
	wire "github.com/inkform/inkform/protocol/npap"
	xmlwire "github.com/inkform/inkform/protocol/xmlnt"
	"github.com/inkform/inkform/providers/npap"
	"github.com/inkform/inkform/providers/xmlnt"
)

// The XMLNT client drops malformed and oversized XML replies, counts
// them, and takes the well-formed reply after them.
func TestMalformedAndOversizedReplies(t *testing.T) {
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	tr := xmlnt.New(nil, xmlnt.Options{Timeout: 5 * time.Second, Retries: -1})
	if tr.Name() != "xmlnt" {
		t.Errorf("Name() = %q", tr.Name())
	}
	c, err := tr.Dial(t.Context(), fleet.Printer{Name: "x", Host: "127.0.0.1", Ports: map[string]int{"xmlnt": peer.LocalAddr().(*net.UDPAddr).Port}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type res struct {
		id  wire.Identity
		err error
	}
	done := make(chan res, 1)
	go func() { id, err := c.Identify(t.Context()); done <- res{id, err} }()

	buf := make([]byte, 9000)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	req, err := xmlwire.XML{}.Decode(buf[:n])
	if err != nil || req.Op != wire.OpIdentify {
		t.Fatalf("request %+v, %v", req, err)
	}
	peer.WriteToUDPAddrPort([]byte("<xmlnt version=\"1\" op=\"identify\""), from)
	big := make([]byte, xmlwire.MaxDatagram+1)
	for i := range big {
		big[i] = ' '
	}
	peer.WriteToUDPAddrPort(big, from)
	reply, _ := xmlwire.XML{}.Encode(wire.Message{Op: wire.OpIdentify, Reply: true, ID: req.ID, Identity: &wire.Identity{Model: "Lexmark MS821"}})
	peer.WriteToUDPAddrPort(reply, from)
	r := <-done
	if r.err != nil || r.id.Model != "Lexmark MS821" {
		t.Fatalf("Identify = %+v, %v", r.id, r.err)
	}
	st := tr.Stats()
	if st.Dropped[npap.DropMalformed] != 1 || st.Dropped[npap.DropOversized] != 1 {
		t.Errorf("dropped %v, want 1 malformed and 1 oversized", st.Dropped)
	}
}
