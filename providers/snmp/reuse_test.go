package snmp

import (
	"context"
	"net"
	"runtime"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/fleet"
)

// withContact returns printerData with another sysContact.
func withContact(contact string) []gosnmp.SnmpPDU {
	data := printerData()
	for i := range data {
		if data[i].Name == ".1.3.6.1.2.1.1.4.0" {
			data[i].Value = []byte(contact)
		}
	}
	return data
}

func observeContact(t *testing.T, s *Session) string {
	t.Helper()
	obs, err := s.Observe(context.Background(), []string{"system.contact"})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return obs.Settings["system.contact"]
}

func TestClosedSessionLendsItsClientToTheNext(t *testing.T) {
	a := startFakeAgent(t, gosnmp.Version2c, 0, withContact("agent A"))
	b := startFakeAgent(t, gosnmp.Version2c, 0, withContact("agent B"))
	c := New(nil, Options{})
	t.Cleanup(func() { c.Close() })
	cred := fleet.SNMP{Community: "public"}

	s1 := connect(t, c, printerAt("127.0.0.1", a.addr.Port, cred)).(*Session)
	if got := observeContact(t, s1); got != "agent A" {
		t.Fatalf("first session read %q", got)
	}
	client := s1.g
	local := client.Conn.LocalAddr().(*net.UDPAddr)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.idle) != 1 {
		t.Fatalf("%d idle clients after Close, want 1", len(c.idle))
	}
	if client.Community != "" || client.Context != nil {
		t.Error("an idle client keeps the community or the context")
	}

	// A late answer from A, queued on the socket before it is reused. Its
	// request id 0 is one gosnmp accepts for any request, so only
	// dropping it keeps B's session from reading A's data.
	stale := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse,
		Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.4.0", Type: gosnmp.OctetString, Value: []byte("stale")}}}
	msg, err := stale.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.conn.WriteToUDP(msg, local); err != nil {
		t.Fatal(err)
	}

	s2 := connect(t, c, printerAt("127.0.0.1", b.addr.Port, cred)).(*Session)
	if got := observeContact(t, s2); got != "agent B" {
		t.Fatalf("second session read %q, want agent B's value", got)
	}
	if s2.g != client {
		t.Error("the second session did not take over the idle client")
	}
	if runtime.GOOS == "linux" {
		if got := s2.g.Conn.LocalAddr().String(); got != local.String() {
			t.Errorf("socket not reused: %s, then %s", local, got)
		}
	}
	if got := len(b.log()); got == 0 {
		t.Error("agent B was not asked")
	}
}

func TestV3SessionsAreNotReused(t *testing.T) {
	c := New(nil, Options{})
	s := connect(t, c, printerAt("127.0.0.1", 161, fleet.SNMP{Version: fleet.SNMPv3, User: "u"})).(*Session)
	if s.idle != nil {
		t.Error("a v3 session would hand its client to others")
	}
}

func TestConnectorCloseClosesIdleSockets(t *testing.T) {
	a := startFakeAgent(t, gosnmp.Version2c, 0, printerData())
	c := New(nil, Options{})
	s := connect(t, c, printerAt("127.0.0.1", a.addr.Port, fleet.SNMP{Community: "public"})).(*Session)
	observeContact(t, s)
	conn := s.g.Conn
	s.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.idle) != 0 {
		t.Errorf("%d idle clients after Close", len(c.idle))
	}
	if _, err := conn.Write([]byte{0}); err == nil {
		t.Error("idle socket still open after Connector.Close")
	}
}

func TestIdleClientsAreBounded(t *testing.T) {
	a := startFakeAgent(t, gosnmp.Version2c, 0, printerData())
	c := New(nil, Options{})
	t.Cleanup(func() { c.Close() })
	p := printerAt("127.0.0.1", a.addr.Port, fleet.SNMP{Community: "public"})
	var open []*Session
	for range DefaultMaxIdleClients + 3 {
		s := connect(t, c, p).(*Session)
		observeContact(t, s)
		open = append(open, s)
	}
	var closedConns []net.Conn
	for _, s := range open {
		closedConns = append(closedConns, s.g.Conn)
		s.Close()
	}
	if len(c.idle) != DefaultMaxIdleClients {
		t.Fatalf("%d idle clients, want %d", len(c.idle), DefaultMaxIdleClients)
	}
	// The ones beyond the bound were closed.
	for _, conn := range closedConns[DefaultMaxIdleClients:] {
		if _, err := conn.Write([]byte{0}); err == nil {
			t.Error("a client beyond the idle bound kept its socket")
		}
	}
}
