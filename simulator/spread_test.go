package simulator

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

// Printers spread over a prefix each take an address of it, evenly apart,
// all on the base port.
func TestSpreadOverPrefix(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.78.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	sim, err := Start(context.Background(), Options{Printers: 3, Listen: "127.78.0.0/24", BasePort: port})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var got []string
	for _, p := range sim.Printers() {
		got = append(got, p.Addr())
	}
	p := ":" + strconv.Itoa(port)
	if want := "127.78.0.1" + p + " 127.78.0.85" + p + " 127.78.0.169" + p; strings.Join(got, " ") != want {
		t.Errorf("addresses %s, want %s", strings.Join(got, " "), want)
	}
	for _, o := range []Options{
		{Printers: 3, Listen: "127.78.0.0/24"},                                            // no base port
		{Printers: 3, Listen: "127.78.0.0/31", BasePort: port},                            // too narrow
		{Printers: 5, Listen: "127.78.0.0/30", BasePort: port},                            // too many
		{Printers: 1, Listen: "127.78.0.0/24", BasePort: port, Services: []string{"pjl"}}, // SNMP only
	} {
		if s, err := Start(context.Background(), o); err == nil {
			s.Close()
			t.Errorf("%+v accepted", o)
		}
	}
}
