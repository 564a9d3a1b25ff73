package testservers

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// NetnsPair is two network namespaces joined by a veth pair: a private
// link for multicast tests (mDNS), whose addresses are the test's own
// hosts. Loopback is no place for them: it carries no multicast in
// general, and every test on the machine shares it.
type NetnsPair struct {
	A, B         string     // namespace names
	IfA, IfB     string     // the veth ends, one in each
	AddrA, AddrB netip.Addr // 10.250.0.1 and 10.250.0.2, both /24
}

var netnsSeq atomic.Int32

// NewNetnsPair makes the two namespaces, named after the test process so
// that tests running at once never share one, and deletes them when the
// test ends. Each end is up with multicast on and a route for
// 224.0.0.0/4, and lo is up. It skips the test when not root or when
// `ip netns` is missing or refused (fails under
// INKFORM_REQUIRE_INTEGRATION=1).
func NewNetnsPair(t testing.TB) *NetnsPair {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "network namespaces need root")
	}
	lookPath(t, "ip")
	n := netnsSeq.Add(1)
	id := fmt.Sprintf("%d%c%d", os.Getpid(), 'n', n)
	p := &NetnsPair{
		A: "inkform-" + id + "-a", B: "inkform-" + id + "-b",
		// Interface names have at most 15 bytes.
		IfA: "ik" + id + "a", IfB: "ik" + id + "b",
		AddrA: netip.MustParseAddr("10.250.0.1"), AddrB: netip.MustParseAddr("10.250.0.2"),
	}
	if err := ip("netns", "add", p.A); err != nil {
		Skip(t, "ip netns unavailable: %v", err)
	}
	t.Cleanup(func() { _ = ip("netns", "del", p.A) })
	if err := ip("netns", "add", p.B); err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { _ = ip("netns", "del", p.B) })
	steps := [][]string{
		// Made in this namespace, then each end moves to its own; deleting
		// a namespace deletes its end, and so the pair.
		{"link", "add", p.IfA, "type", "veth", "peer", "name", p.IfB},
		{"link", "set", p.IfA, "netns", p.A},
		{"link", "set", p.IfB, "netns", p.B},
		{"-n", p.A, "addr", "add", p.AddrA.String() + "/24", "dev", p.IfA},
		{"-n", p.B, "addr", "add", p.AddrB.String() + "/24", "dev", p.IfB},
		{"-n", p.A, "link", "set", p.IfA, "up", "multicast", "on"},
		{"-n", p.B, "link", "set", p.IfB, "up", "multicast", "on"},
		{"-n", p.A, "link", "set", "lo", "up"},
		{"-n", p.B, "link", "set", "lo", "up"},
		{"-n", p.A, "route", "add", "224.0.0.0/4", "dev", p.IfA},
		{"-n", p.B, "route", "add", "224.0.0.0/4", "dev", p.IfB},
	}
	for i, s := range steps {
		if err := ip(s...); err != nil {
			t.Fatalf("%v", err)
		}
		if i == 0 {
			// The pair stays here only if moving it fails; otherwise
			// this finds nothing to delete.
			t.Cleanup(func() { _ = ip("link", "del", p.IfA) })
		}
	}
	return p
}

// AddAddrs gives the veth end in namespace ns more addresses (each /24,
// in 10.250.0.0/24), e.g. one per simulated printer.
func (p *NetnsPair) AddAddrs(t testing.TB, ns string, addrs ...netip.Addr) {
	t.Helper()
	dev := p.IfA
	if ns == p.B {
		dev = p.IfB
	}
	for _, a := range addrs {
		if err := ip("-n", ns, "addr", "add", a.String()+"/24", "dev", dev); err != nil {
			t.Fatalf("%v", err)
		}
	}
}

// Command runs name with args inside namespace ns (`ip netns exec`). The
// command also gets a mount namespace of its own there, so it may mount
// over folders without the host seeing it.
func (p *NetnsPair) Command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// TestBinary re-runs the running test binary inside namespace ns, running
// only the tests matching run, with env added to the environment: the
// child test reads env to know what to do there.
func (p *NetnsPair) TestBinary(ctx context.Context, t testing.TB, ns, run string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("test binary: %v", err)
	}
	cmd := p.Command(ctx, ns, exe, "-test.run="+run, "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
