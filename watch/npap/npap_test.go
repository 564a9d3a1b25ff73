package npap_test

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	wire "github.com/inkform/inkform/protocol/npap"
	pnpap "github.com/inkform/inkform/providers/npap"
	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/watch"
	"github.com/inkform/inkform/watch/npap"
)

type running struct {
	l    *npap.Listener
	addr string
	got  chan watch.Received
}

var loopback = netip.MustParseAddr("127.0.0.1")

func allowLoopback(a netip.Addr) (string, bool) { return "sim", a == loopback }

// start runs a listener on a free loopback port until the test ends.
func start(t *testing.T, attr watch.Attributor, deliver func(watch.Received)) *running {
	t.Helper()
	l, err := npap.New(npap.Config{Listen: "127.0.0.1:0", Attributor: attr, QueueSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	r := &running{l: l, got: make(chan watch.Received, 64)}
	if deliver == nil {
		deliver = func(x watch.Received) { r.got <- x }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, deliver) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-l.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	r.addr = l.Addr()
	return r
}

func (r *running) next(t *testing.T) watch.Received {
	t.Helper()
	select {
	case x := <-r.got:
		return x
	case <-time.After(10 * time.Second):
		t.Fatalf("no alert arrived; stats %+v", r.l.Stats())
		return watch.Received{}
	}
}

// waitStats polls the counters until cond holds.
func waitStats(t *testing.T, l *npap.Listener, cond func(npap.Stats) bool) npap.Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := l.Stats()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats never matched: %+v", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A simulated printer's alerts arrive as intake events named like
// traps' and polls' (jam, door_open, cleared when the door closes), from
// its own address.
func TestSimulatorAlerts(t *testing.T) {
	r := start(t, allowLoopback, nil)
	sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 2, Services: []string{"npap"}, NPAPAlertsTo: r.addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	p := sim.Printers()[0]

	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupInput, GroupIndex: 2,
		Code: simulator.CodeJam, Description: "Paper jam in Tray 2"})
	got := r.next(t)
	want := alerts.Signal{Kind: alerts.Raised, Name: alerts.Jam, Severity: alerts.Critical, Code: 8, Index: "8.2", Description: "Paper jam in Tray 2"}
	if got.Printer != "sim" || got.From != loopback || len(got.Signals) != 1 || got.Signals[0] != want {
		t.Errorf("received %+v, want %+v from sim", got, want)
	}
	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupCover, GroupIndex: 1,
		Code: simulator.CodeDoorOpen, Description: "Front door open"})
	if got := r.next(t); len(got.Signals) != 1 || got.Signals[0].Name != alerts.DoorOpen || got.Signals[0].Kind != alerts.Raised {
		t.Errorf("received %+v, want door_open raised", got.Signals)
	}
	p.ClearAlert(simulator.CodeDoorOpen, simulator.GroupCover, 1)
	got = r.next(t)
	if len(got.Signals) != 1 || got.Signals[0].Name != alerts.DoorOpen || got.Signals[0].Kind != alerts.Cleared || got.Signals[0].Index != "6.1" {
		t.Errorf("received %+v, want door_open cleared at 6.1", got.Signals)
	}
	// Toner running low as pages print is a warning NPAP reports too.
	p.PrintPages(1_000_000)
	for {
		got := r.next(t)
		if len(got.Signals) == 1 && (got.Signals[0].Name == alerts.TonerLow || got.Signals[0].Name == alerts.TonerEmpty) {
			break
		}
	}
	if s := r.l.Stats(); s.Accepted < 4 || s.Dropped[npap.DropRefused] != 0 {
		t.Errorf("stats %+v", s)
	}
}

// watch registers with the printers whose transports include npap; the
// printers then send their alerts there, without NPAPAlertsTo.
func TestRegisterThenAlerts(t *testing.T) {
	r := start(t, allowLoopback, nil)
	sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 2, Services: []string{"npap"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	_, portStr, _ := net.SplitHostPort(r.addr)
	port, _ := strconv.Atoi(portStr)
	var printers []fleet.Printer
	for i, p := range sim.Printers() {
		fp := fleet.Printer{Name: p.Name(), Host: "127.0.0.1", Ports: map[string]int{"npap": p.Port("npap")},
			Credentials: fleet.Credentials{Admin: fleet.Admin{Password: "inkform-sim"}}}
		if i == 0 {
			fp.Transports = []string{"snmp", "npap"}
		}
		printers = append(printers, fp)
	}
	regs := npap.Register(t.Context(), pnpap.New(nil, pnpap.Options{}), printers, uint16(port), 0)
	if len(regs) != 1 || regs[0].Printer != sim.Printers()[0].Name() || regs[0].Err != nil || regs[0].Lifetime != npap.DefaultLifetime {
		t.Fatalf("registrations %+v, want one for the printer with npap", regs)
	}
	if err := npap.Failed(regs); err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Printers()[1].Registered()); n != 0 {
		t.Errorf("the printer without npap has %d registrations", n)
	}
	sim.Printers()[0].RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupMediaPath, GroupIndex: 1,
		Code: simulator.CodeJam, Description: "Paper jam in the paper path"})
	if got := r.next(t); len(got.Signals) != 1 || got.Signals[0].Name != alerts.Jam || got.Signals[0].Index != "13.1" {
		t.Errorf("received %+v", got.Signals)
	}
	npap.Unregister(t.Context(), pnpap.New(nil, pnpap.Options{}), printers, uint16(port))
	if n := len(sim.Printers()[0].Registered()); n != 0 {
		t.Errorf("%d registrations left after Unregister", n)
	}
}

func send(t *testing.T, to string, b []byte) *net.UDPConn {
	t.Helper()
	c, err := net.Dial("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	return c.(*net.UDPConn)
}

func alertBytes(t *testing.T, id uint32) []byte {
	b, err := wire.Binary{}.Encode(wire.Message{Op: wire.OpAlert, ID: id, Alerts: []wire.Alert{
		{Kind: wire.AlertRaised, Severity: 4, Group: 11, GroupIndex: 1, Code: 1104, Description: "Black toner low"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An unknown source is dropped and counted, never delivered nor
// acknowledged; malformed, oversized and non-alert datagrams from a
// printer are counted; an accepted alert is acknowledged with its ID.
func TestDrops(t *testing.T) {
	r := start(t, func(netip.Addr) (string, bool) { return "", false }, nil)
	c := send(t, r.addr, alertBytes(t, 1))
	waitStats(t, r.l, func(s npap.Stats) bool { return s.Dropped[npap.DropRefused] == 1 })
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := c.Read(make([]byte, 64)); err == nil {
		t.Errorf("a refused source got %d bytes back", n)
	}
	select {
	case x := <-r.got:
		t.Errorf("delivered %+v from a refused source", x)
	default:
	}

	r = start(t, allowLoopback, nil)
	send(t, r.addr, []byte("\xa5\x00\x01junk"))
	send(t, r.addr, make([]byte, wire.MaxDatagram+1))
	req, _ := wire.Binary{}.Encode(wire.Message{Op: wire.OpIdentify, ID: 3})
	send(t, r.addr, req)
	s := waitStats(t, r.l, func(s npap.Stats) bool {
		return s.Dropped[npap.DropUndecodable] == 1 && s.Dropped[npap.DropOversized] == 1 && s.Dropped[npap.DropNotAlert] == 1
	})
	if s.Accepted != 0 || s.Received != 3 {
		t.Errorf("stats %+v", s)
	}

	c = send(t, r.addr, alertBytes(t, 77))
	got := r.next(t)
	if len(got.Signals) != 1 || got.Signals[0].Name != alerts.TonerLow || got.Signals[0].Severity != alerts.Warning || got.Signals[0].Index != "11.1" {
		t.Errorf("received %+v", got.Signals)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no acknowledgement: %v", err)
	}
	ack, err := wire.Binary{}.Decode(buf[:n])
	if err != nil || ack.Op != wire.OpAlert || !ack.Reply || ack.ID != 77 {
		t.Errorf("acknowledgement %+v, %v", ack, err)
	}
}

// A full queue drops and counts; the reader goes on.
func TestQueueFull(t *testing.T) {
	release := make(chan struct{})
	l, err := npap.New(npap.Config{Listen: "127.0.0.1:0", Attributor: allowLoopback, QueueSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	delivered := make(chan struct{}, 16)
	go func() {
		done <- l.Run(ctx, func(watch.Received) { delivered <- struct{}{}; <-release })
	}()
	<-l.Ready()
	c := send(t, l.Addr(), alertBytes(t, 1))
	<-delivered // the consumer holds the first
	for i := range 5 {
		c.Write(alertBytes(t, uint32(i+2)))
	}
	s := waitStats(t, l, func(s npap.Stats) bool { return s.Received == 6 })
	if s.Accepted != 2 || s.Dropped[npap.DropQueueFull] != 4 {
		t.Errorf("stats %+v, want 2 accepted (one delivering, one queued), 4 dropped", s)
	}
	close(release)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// FuzzNPAPAlertDecode feeds arbitrary datagrams through the intake's
// decoding: no panic, and every signal has a known name and a bounded
// description.
func FuzzNPAPAlertDecode(f *testing.F) {
	for _, v := range wire.Vectors() {
		b, _ := wire.Binary{}.Encode(v.Msg)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.Binary{}.Decode(b)
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, n := range alerts.Names() {
			names[n] = true
		}
		for _, s := range npap.Signals(m) {
			if !names[s.Name] || len([]rune(s.Description)) > 255 || s.Description == "" {
				t.Fatalf("signal %+v", s)
			}
		}
	})
}

// Keep registers at once, and unregisters when its context ends.
func TestKeep(t *testing.T) {
	sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 1, Services: []string{"npap"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	p := sim.Printers()[0]
	fp := fleet.Printer{Name: p.Name(), Host: "127.0.0.1", Ports: map[string]int{"npap": p.Port("npap")}, Transports: []string{"npap"},
		Credentials: fleet.Credentials{Admin: fleet.Admin{Password: "inkform-sim"}}}
	ctx, cancel := context.WithCancel(t.Context())
	rounds := make(chan []npap.Registration, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		npap.Keep(ctx, pnpap.New(nil, pnpap.Options{}), func() []fleet.Printer { return []fleet.Printer{fp} }, 29187, time.Hour,
			func(r []npap.Registration) { rounds <- r })
	}()
	if r := <-rounds; len(r) != 1 || r[0].Err != nil {
		t.Fatalf("first round %+v", r)
	}
	if n := len(p.Registered()); n != 1 {
		t.Errorf("%d registrations, want 1", n)
	}
	cancel()
	<-done
	if n := len(p.Registered()); n != 0 {
		t.Errorf("%d registrations after Keep ended", n)
	}
}
