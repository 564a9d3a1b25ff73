package npap_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/inkform/inkform/fleet"
	wire "github.com/inkform/inkform/protocol/npap"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/npap"
	"github.com/inkform/inkform/providers/xmlnt"
	"github.com/inkform/inkform/simulator"
)

const oidSysContact = ".1.3.6.1.2.1.1.4.0"

func startSim(t *testing.T, services ...string) *simulator.Sim {
	t.Helper()
	sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 3, Services: services})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func printerOf(p *simulator.Printer, transport string) fleet.Printer {
	return fleet.Printer{Name: p.Name(), Host: "127.0.0.1", Ports: map[string]int{transport: p.Port(transport)},
		Credentials: fleet.Credentials{Admin: fleet.Admin{Username: "admin", Password: "inkform-sim"}}}
}

// Observe, Set, verify by observing again, and a second Set of the same
// values, over each protocol against a simulated Lexmark printer; the
// write is seen over SNMP too.
func TestSimulator(t *testing.T) {
	for _, tc := range []struct {
		name string
		tr   *npap.Transport
	}{
		{"npap", npap.New(nil, npap.Options{})},
		{"xmlnt", xmlnt.New(nil, xmlnt.Options{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, tc.name)
			p := sim.Printers()[0]
			if p.Family() != "lexmark" {
				t.Fatalf("printer 0 is %s, want a Lexmark", p.Model())
			}
			ctx := t.Context()
			s, err := tc.tr.Connect(ctx, printerOf(p, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Transport() != tc.name {
				t.Errorf("Transport() = %q", s.Transport())
			}
			names := []string{"system.contact", "power.sleep_timeout_min", "power.energy_saver", "panel.language", "printer.name"}
			obs, err := s.Observe(ctx, names)
			if err != nil {
				t.Fatal(err)
			}
			if obs.Model != p.Model() || obs.Serial != p.Serial() || obs.Firmware != p.Firmware() || obs.Vendor != "Lexmark" || obs.Status != fleet.StatusIdle {
				t.Errorf("identity %q %q %q %q %q, want %q %q %q Lexmark idle", obs.Vendor, obs.Model, obs.Serial, obs.Firmware, obs.Status, p.Model(), p.Serial(), p.Firmware())
			}
			for _, n := range names[:4] {
				want, _ := p.Setting(n)
				if got, ok := obs.Settings[n]; !ok || got != want {
					t.Errorf("%s = %q (%v), want %q", n, got, ok, want)
				}
				if obs.SettingTransports[n] != tc.name {
					t.Errorf("%s read over %q", n, obs.SettingTransports[n])
				}
			}
			if !slices.Equal(obs.Unsupported, []string{"printer.name"}) {
				t.Errorf("unsupported %q, want printer.name (no NPAP number)", obs.Unsupported)
			}

			set := []fleet.Desired{{Name: "system.contact", Value: "Desk " + tc.name}, {Name: "power.sleep_timeout_min", Value: "42"},
				{Name: "power.energy_saver", Value: "false"}, {Name: "panel.language", Value: "de"}}
			if err := s.Set(ctx, set); err != nil {
				t.Fatal(err)
			}
			obs, err = s.Observe(ctx, names[:4])
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range set {
				if obs.Settings[d.Name] != d.Value {
					t.Errorf("after Set, %s = %q, want %q", d.Name, obs.Settings[d.Name], d.Value)
				}
			}
			if pdu, ok := p.Get(oidSysContact); !ok || string(pdu.Value.([]byte)) != "Desk "+tc.name {
				t.Errorf("sysContact over SNMP = %v, want the value written over %s", pdu.Value, tc.name)
			}
			// Idempotent: the same values again change nothing.
			if err := s.Set(ctx, set); err != nil {
				t.Fatalf("second Set: %v", err)
			}
			again, err := s.Observe(ctx, names[:4])
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range set {
				if again.Settings[d.Name] != d.Value {
					t.Errorf("after the second Set, %s = %q", d.Name, again.Settings[d.Name])
				}
			}
			// A value the catalog refuses never leaves.
			if err := s.Set(ctx, []fleet.Desired{{Name: "power.sleep_timeout_min", Value: "-5"}}); err == nil {
				t.Error("an out-of-range value was written")
			}
		})
	}
}

// A wrong administrator password is an authentication failure, and the
// printer keeps its value.
func TestSimulatorWrongPassword(t *testing.T) {
	sim := startSim(t, "npap")
	p := sim.Printers()[0]
	fp := printerOf(p, "npap")
	fp.Credentials.Admin.Password = "guess"
	s, err := npap.New(nil, npap.Options{}).Connect(t.Context(), fp)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, _ := p.Setting("system.location")
	err = s.Set(t.Context(), []fleet.Desired{{Name: "system.location", Value: "Roof"}})
	if !errors.Is(err, providers.ErrAuth) {
		t.Errorf("Set = %v, want ErrAuth", err)
	}
	if after, _ := p.Setting("system.location"); after != before {
		t.Errorf("location changed to %q", after)
	}
}

// The router's DialSettings probes the printer: a port nobody answers
// reads as closed, so the router falls back.
func TestDialSettingsNoAnswer(t *testing.T) {
	peer := newPeer(t)
	tr := npap.New(nil, npap.Options{Timeout: 10 * time.Millisecond, Retries: 1})
	_, err := tr.DialSettings(t.Context(), peer.printer())
	if !errors.Is(err, providers.ErrPortClosed) || !errors.Is(err, providers.ErrUnreachable) {
		t.Errorf("DialSettings = %v, want ErrPortClosed (and ErrUnreachable inside)", err)
	}
	sim := startSim(t, "npap")
	c, err := tr.DialSettings(t.Context(), printerOf(sim.Printers()[0], "npap"))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// peer is an in-process NPAP peer under the test's control.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newPeer(t *testing.T) *peer {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &peer{t: t, conn: conn}
}

func (p *peer) printer() fleet.Printer {
	return fleet.Printer{Name: "fake", Host: "127.0.0.1", Ports: map[string]int{"npap": p.conn.LocalAddr().(*net.UDPAddr).Port}}
}

// recv returns the next request and where it came from.
func (p *peer) recv() (wire.Message, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 2048)
	p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("peer: %v", err)
	}
	m, err := wire.Binary{}.Decode(buf[:n])
	if err != nil {
		p.t.Fatalf("peer: %v", err)
	}
	return m, from
}

func encode(t *testing.T, m wire.Message) []byte {
	t.Helper()
	b, err := wire.Binary{}.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func identityReply(id uint32, model string) wire.Message {
	return wire.Message{Op: wire.OpIdentify, Reply: true, ID: id, Identity: &wire.Identity{Model: model}}
}

// A silent peer gets the request 1+Retries times with one ID, and the
// call fails as unreachable after the backoff.
func TestSilentPeer(t *testing.T) {
	peer := newPeer(t)
	tr := npap.New(nil, npap.Options{Timeout: 20 * time.Millisecond, Retries: 2})
	c, err := tr.Dial(t.Context(), peer.printer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	start := time.Now()
	go func() { _, err := c.Identify(t.Context()); done <- err }()
	var ids []uint32
	for range 3 {
		m, _ := peer.recv()
		ids = append(ids, m.ID)
	}
	err = <-done
	if !errors.Is(err, providers.ErrUnreachable) {
		t.Errorf("Identify = %v, want ErrUnreachable", err)
	}
	// 20 + 40 + 80 ms of waiting at least.
	if el := time.Since(start); el < 140*time.Millisecond {
		t.Errorf("gave up after %s; the backoff waits at least 140ms", el)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("retransmissions carry IDs %v, want one ID", ids)
	}
	if st := tr.Stats(); st.Sent != 3 || st.Retransmits != 2 {
		t.Errorf("stats %+v, want 3 sent, 2 retransmitted", st)
	}
}

// A peer that drops the first request is reached by the retransmission.
func TestDroppingPeer(t *testing.T) {
	peer := newPeer(t)
	tr := npap.New(nil, npap.Options{Timeout: 30 * time.Millisecond, Retries: 3})
	c, err := tr.Dial(t.Context(), peer.printer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type result struct {
		id  wire.Identity
		err error
	}
	done := make(chan result, 1)
	go func() { id, err := c.Identify(t.Context()); done <- result{id, err} }()
	peer.recv() // dropped
	m, from := peer.recv()
	peer.conn.WriteToUDPAddrPort(encode(t, identityReply(m.ID, "Lexmark MS821")), from)
	r := <-done
	if r.err != nil || r.id.Model != "Lexmark MS821" {
		t.Errorf("Identify = %+v, %v", r.id, r.err)
	}
	if st := tr.Stats(); st.Retransmits != 1 || st.Replies != 1 {
		t.Errorf("stats %+v, want 1 retransmission, 1 reply", st)
	}
}

// Replies from another address or port, undecodable or oversized
// datagrams, and replies to another request are ignored and counted; the
// right reply after them is taken.
func TestIgnoredReplies(t *testing.T) {
	peer := newPeer(t)
	other := newPeer(t)
	tr := npap.New(nil, npap.Options{Timeout: 5 * time.Second, Retries: -1})
	c, err := tr.Dial(t.Context(), peer.printer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan wire.Identity, 1)
	errc := make(chan error, 1)
	go func() {
		id, err := c.Identify(t.Context())
		errc <- err
		done <- id
	}()
	m, from := peer.recv()
	other.conn.WriteToUDPAddrPort(encode(t, identityReply(m.ID, "forged")), from)
	peer.conn.WriteToUDPAddrPort([]byte("\xa5garbage"), from)
	peer.conn.WriteToUDPAddrPort(make([]byte, wire.MaxDatagram+1), from)
	peer.conn.WriteToUDPAddrPort(encode(t, identityReply(m.ID-1, "stale")), from)
	peer.conn.WriteToUDPAddrPort(encode(t, wire.Message{Op: wire.OpStatus, Reply: true, ID: m.ID}), from)
	peer.conn.WriteToUDPAddrPort(encode(t, identityReply(m.ID, "Lexmark CX725")), from)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if id := <-done; id.Model != "Lexmark CX725" {
		t.Errorf("took the reply of model %q", id.Model)
	}
	st := tr.Stats()
	for reason, want := range map[string]uint64{npap.DropWrongSource: 1, npap.DropMalformed: 1, npap.DropOversized: 1, npap.DropUnexpected: 2} {
		if st.Dropped[reason] != want {
			t.Errorf("dropped %s = %d, want %d (all: %v)", reason, st.Dropped[reason], want, st.Dropped)
		}
	}
}

// A cancelled context ends a wait at once, whatever the timeout.
func TestCancel(t *testing.T) {
	peer := newPeer(t)
	tr := npap.New(nil, npap.Options{Timeout: time.Minute})
	c, err := tr.Dial(t.Context(), peer.printer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := c.Identify(ctx); done <- err }()
	peer.recv()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Identify = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Identify did not return after cancel")
	}
}

// Register and Unregister reach the printer's registration table with
// this host's address as the printer saw it.
func TestRegister(t *testing.T) {
	sim := startSim(t, "npap")
	p := sim.Printers()[1]
	c, err := npap.New(nil, npap.Options{}).Dial(t.Context(), printerOf(p, "npap"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	life, err := c.Register(t.Context(), 19187, 10*time.Minute)
	if err != nil || life != 10*time.Minute {
		t.Fatalf("Register = %s, %v", life, err)
	}
	want := netip.MustParseAddrPort("127.0.0.1:" + strconv.Itoa(19187))
	if got := p.Registered(); !slices.Equal(got, []netip.AddrPort{want}) {
		t.Errorf("registered %v, want %v", got, want)
	}
	if err := c.Unregister(t.Context(), 19187); err != nil {
		t.Fatal(err)
	}
	if got := p.Registered(); len(got) != 0 {
		t.Errorf("registered %v after Unregister", got)
	}
}
