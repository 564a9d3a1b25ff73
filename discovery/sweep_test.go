package discovery

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/simulator"
)

func startSim(t *testing.T, n int) *simulator.Sim {
	t.Helper()
	sim, err := simulator.Start(context.Background(), simulator.Options{Printers: n})
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func community(name, c string) Profile {
	return Profile{Name: name, SNMP: fleet.SNMP{Version: fleet.SNMPv2c, Community: c}}
}

func sweep(t *testing.T, addrs []netip.AddrPort, o Options) ([]Result, Stats) {
	t.Helper()
	var got []Result
	st, err := Sweep(context.Background(), addrs, o, func(r Result) { got = append(got, r) })
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	slices.SortFunc(got, func(a, b Result) int { return a.Address.Compare(b.Address) })
	return got, st
}

// The simulated printers answer the second profile; their identity is
// what the identity rules read from them, as the simulator declares it.
func TestSweepIdentifiesSimulatedPrinters(t *testing.T) {
	sim := startSim(t, 5)
	var addrs []netip.AddrPort
	want := map[netip.AddrPort]*simulator.Printer{}
	for _, p := range sim.Printers() {
		a := netip.MustParseAddrPort(p.Addr())
		addrs = append(addrs, a)
		want[a] = p
	}
	got, st := sweep(t, addrs, Options{
		Profiles: []Profile{community("wrong", "not-this-one"), community("public", "public")},
		Timeout:  200 * time.Millisecond, Retries: -1,
	})
	if len(got) != 5 || st.Answered != 5 || st.Addresses != 5 {
		t.Fatalf("found %d (stats %+v), want 5", len(got), st)
	}
	for _, r := range got {
		p := want[r.Address]
		// The simulator names its families in lower case.
		have := [4]string{strings.ToLower(r.Vendor), r.Model, r.Serial, r.Firmware}
		if exp := [4]string{p.Vendor(), p.Model(), p.Serial(), p.Firmware()}; have != exp {
			t.Errorf("%s: read %q, want %q", r.Address, have, exp)
		}
		if r.Profile != "public" || r.ProfileIndex != 1 || !r.Printer {
			t.Errorf("%s: profile %q (%d), printer %v", r.Address, r.Profile, r.ProfileIndex, r.Printer)
		}
	}
	// Each printer ignored the wrong community once (no retries), then
	// answered one or two requests.
	if st.Packets < 10 || st.Packets > 15 {
		t.Errorf("%d packets sent, want 10 to 15", st.Packets)
	}
}

// counter is a set of silent agents: UDP sockets on n loopback addresses
// (127.0.0.1 … 127.0.0.n, one port) that count what they receive, when,
// and never answer.
type counter struct {
	mu    sync.Mutex
	times []time.Time
	by    map[netip.AddrPort]int
	addrs []netip.AddrPort
}

func silentAgents(t *testing.T, n int) *counter {
	t.Helper()
	c := &counter{by: map[netip.AddrPort]int{}}
	var conns []*net.UDPConn
	for attempt := 0; ; attempt++ {
		port := testservers.FreeUDPPort(t)
		conns = conns[:0]
		ok := true
		for i := 1; i <= n; i++ {
			a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, byte(i / 250), byte(1 + i%250)}), uint16(port))
			conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(a))
			if err != nil {
				ok = false
				break
			}
			conns = append(conns, conn)
		}
		if ok {
			break
		}
		for _, conn := range conns {
			conn.Close()
		}
		if attempt == 5 {
			t.Fatalf("no port free on %d loopback addresses", n)
		}
	}
	var wg sync.WaitGroup
	for _, conn := range conns {
		a := conn.LocalAddr().(*net.UDPAddr).AddrPort()
		c.addrs = append(c.addrs, a)
		wg.Go(func() {
			buf := make([]byte, 2048)
			for {
				if _, _, err := conn.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
				now := time.Now()
				c.mu.Lock()
				c.times = append(c.times, now)
				c.by[a]++
				c.mu.Unlock()
			}
		})
	}
	t.Cleanup(func() {
		for _, conn := range conns {
			conn.Close()
		}
		wg.Wait()
	})
	slices.SortFunc(c.addrs, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return c
}

// An address that does not answer costs Retries+1 requests per profile,
// and nothing else.
func TestSilentAddressCostsRetriesPerProfile(t *testing.T) {
	c := silentAgents(t, 8)
	_, st := sweep(t, c.addrs, Options{
		Profiles: []Profile{community("a", "one"), community("b", "two")},
		Timeout:  30 * time.Millisecond, Retries: 2,
	})
	if st.Answered != 0 || st.Packets != 8*2*3 {
		t.Errorf("stats %+v: want 48 packets, none answered", st)
	}
	// Each address waited out every timeout, side by side with the others.
	if st.Elapsed < 2*3*30*time.Millisecond {
		t.Errorf("done in %s, before the timeouts ran out", st.Elapsed)
	}
	received := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.times)
	}
	for deadline := time.Now().Add(5 * time.Second); received() < 48 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // the agents' readers catching up
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.addrs {
		if c.by[a] != 6 {
			t.Errorf("%s received %d requests, want 6", a, c.by[a])
		}
	}
}

// The rate limit holds over the whole sweep, retries included. A token
// bucket lets at most burst + rate×w packets out within any time w after
// a moment on the sender's clock; the agents see each packet at or after
// it was sent, so counting what they received by each arrival since the
// sweep began can only undercount: any excess is the limiter's.
func TestRateLimitHolds(t *testing.T) {
	c := silentAgents(t, 100)
	const rate = 400.0
	start := time.Now()
	_, st := sweep(t, c.addrs, Options{
		Profiles: []Profile{community("a", "one")},
		Timeout:  20 * time.Millisecond, Retries: 3, Rate: rate,
	})
	if st.Packets != 400 {
		t.Fatalf("%d packets sent, want 400", st.Packets)
	}
	// The agents' readers may still be catching up with the last packets.
	var times []time.Time
	for deadline := time.Now().Add(5 * time.Second); ; {
		c.mu.Lock()
		times = slices.Clone(c.times)
		c.mu.Unlock()
		if len(times) >= 400 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(times) != 400 {
		t.Fatalf("agents received %d packets, want 400", len(times))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	burst := defaultBurst(rate)
	for i, at := range times {
		if allowed := burst + int(rate*at.Sub(start).Seconds()); i+1 > allowed {
			t.Fatalf("%d packets received %s after the sweep began; the rate allows %d", i+1, at.Sub(start), allowed)
		}
	}
	if span := times[len(times)-1].Sub(start); span < time.Duration(float64(len(times)-burst)/rate*float64(time.Second)) {
		t.Errorf("400 packets in %s: faster than %g/s", span, rate)
	}
}

func TestSweepRefusesBadProfiles(t *testing.T) {
	a := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:161")}
	for _, p := range []Profile{
		{Name: "none"},
		{Name: "v3", SNMP: fleet.SNMP{Version: fleet.SNMPv3}},
		{Name: "v9", SNMP: fleet.SNMP{Version: "9", Community: "x"}},
	} {
		if _, err := Sweep(context.Background(), a, Options{Profiles: []Profile{p}}, nil); err == nil {
			t.Errorf("profile %+v accepted", p.Name)
		}
	}
	if _, err := Sweep(context.Background(), a, Options{}, nil); err == nil {
		t.Error("a sweep without profiles was accepted")
	}
}

// A v3 profile is found by net-snmp's agent after a community it refuses.
func TestSweepFindsV3Profile(t *testing.T) {
	const user, authPass, privPass = "sweeper", "auth-s3cret-pass", "priv-s3cret-pass"
	agent := testservers.StartSnmpd(t, testservers.SnmpdOptions{
		V3Users: []testservers.V3User{{Name: user, AuthProtocol: "SHA", AuthPass: authPass, PrivProtocol: "AES", PrivPass: privPass}},
	})
	a := netip.AddrPortFrom(netip.MustParseAddr(agent.Host), uint16(agent.Port))
	v3 := Profile{Name: "credentials.secure", SNMP: fleet.SNMP{Version: fleet.SNMPv3, User: user,
		AuthProtocol: "SHA", AuthPassphrase: authPass, PrivProtocol: "AES", PrivPassphrase: privPass}}
	wrongV3 := v3
	wrongV3.Name, wrongV3.SNMP.AuthPassphrase = "credentials.old", "another-passphrase"
	got, st := sweep(t, []netip.AddrPort{a}, Options{
		Profiles: []Profile{community("public", "public"), wrongV3, v3},
		Timeout:  300 * time.Millisecond, Retries: -1,
	})
	if len(got) != 1 {
		t.Fatalf("found %d devices (stats %+v), want the agent", len(got), st)
	}
	if got[0].Profile != "credentials.secure" || got[0].ProfileIndex != 2 || got[0].SysDescr == "" {
		t.Errorf("found %+v", got[0])
	}
}

// A closed port says so with ICMP (Linux reads it): one request, and no
// other profile is tried.
func TestClosedPortCostsOneRequest(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ICMP errors of unconnected sockets are read on Linux only")
	}
	var addrs []netip.AddrPort
	for i := 1; i <= 8; i++ {
		// Nothing listens on this port of these loopback addresses.
		addrs = append(addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 3, byte(i)}), uint16(testservers.FreeUDPPort(t))))
	}
	_, st := sweep(t, addrs, Options{
		Profiles: []Profile{community("a", "one"), community("b", "two")},
		Timeout:  2 * time.Second, Retries: 3,
	})
	if st.Refused != 8 || st.Packets != 8 || st.Elapsed > 1500*time.Millisecond {
		t.Errorf("stats %+v: want 8 packets, 8 refused, no timeouts", st)
	}
}
