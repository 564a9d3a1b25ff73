package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers/mdns"
	"github.com/inkform/inkform/simulator"
)

// mdnsBrowseEnv makes TestSimMDNSBrowseChild browse (inside a namespace)
// with these options (JSON) and print what it found.
const mdnsBrowseEnv = "INKFORM_TEST_MDNS_BROWSE"

const mdnsResultMark = "MDNS-RESULT "

// TestSimMDNSBrowseChild is what the test binary does inside namespace A
// for TestSimMDNS.
func TestSimMDNSBrowseChild(t *testing.T) {
	spec := os.Getenv(mdnsBrowseEnv)
	if spec == "" {
		t.Skip("runs only inside a test's network namespace")
	}
	var opts mdns.Options
	if err := json.Unmarshal([]byte(spec), &opts); err != nil {
		t.Fatal(err)
	}
	svcs, err := mdns.Browse(t.Context(), opts)
	if errors.Is(err, mdns.ErrTooMany) {
		fmt.Printf("\n%s%v\n", mdnsErrorMark, err)
	} else if err != nil {
		t.Fatalf("Browse: %v", err)
	}
	out, _ := json.Marshal(svcs)
	fmt.Printf("\n%s%s\n", mdnsResultMark, out)
}

const mdnsErrorMark = "MDNS-ERROR "

// browseIn runs Browse inside namespace ns and returns the services and
// the error (ErrTooMany) it gave.
func browseIn(ctx context.Context, t *testing.T, p *testservers.NetnsPair, ns string, opts mdns.Options) ([]mdns.Service, string) {
	t.Helper()
	spec, _ := json.Marshal(opts)
	var bout, berr bytes.Buffer
	browse := p.TestBinary(ctx, t, ns, "^TestSimMDNSBrowseChild$", mdnsBrowseEnv+"="+string(spec))
	browse.Stdout, browse.Stderr = &bout, &berr
	if err := browse.Run(); err != nil {
		t.Fatalf("browse: %v\n%s%s", err, bout.String(), berr.String())
	}
	var found []mdns.Service
	var errText string
	for line := range strings.Lines(bout.String()) {
		if js, ok := strings.CutPrefix(line, mdnsResultMark); ok {
			if err := json.Unmarshal([]byte(js), &found); err != nil {
				t.Fatal(err)
			}
		}
		if e, ok := strings.CutPrefix(line, mdnsErrorMark); ok {
			errText = strings.TrimSpace(e)
		}
	}
	return found, errText
}

// inkform sim --mdns in one namespace, each printer at its own address;
// the DNS-SD browser in the other finds every printer with its identity,
// and the secured ones as secured.
func TestSimMDNS(t *testing.T) {
	const n, secured = 6, 2
	p := testservers.NewNetnsPair(t)
	first := netip.MustParseAddr("10.250.0.10")
	var addrs []netip.Addr
	for a := first; len(addrs) < n; a = a.Next() {
		addrs = append(addrs, a)
	}
	p.AddAddrs(t, p.B, addrs...)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out := startSimIn(ctx, t, p, p.B, "--printers", fmt.Sprint(n), "--listen", "0.0.0.0", "--base-port", "0",
		"--services", "pjl,http,https", "--print-rate", "0",
		"--mdns", "ipp,pdl-datastream,printer", "--mdns-secured", fmt.Sprint(secured), "--mdns-addr", first.String(), "--mdns-interface", p.IfB)
	if want := fmt.Sprintf("mDNS: sim-001 at %s … sim-006 at %s (_ipp._tcp, _pdl-datastream._tcp, _printer._tcp; the last 2 IPP over TLS only)", addrs[0], addrs[n-1]); !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}

	// The browser, in namespace A.
	found, errText := browseIn(ctx, t, p, p.A, mdns.Options{Interface: p.IfA, DisableIPv6: true, Window: 3 * time.Second, Queries: 3})
	if errText != "" {
		t.Errorf("browse: %s", errText)
	}

	// The same fleet in this process, for the identities: a printer's
	// follows from its position alone.
	ref, err := simulator.Start(t.Context(), simulator.Options{Printers: n})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	if len(found) != n {
		t.Fatalf("found %d printers, want %d: %+v\nsim:\n%s", len(found), n, found, out.String())
	}
	for i, want := range ref.Printers() {
		idx := slices.IndexFunc(found, func(s mdns.Service) bool { return slices.Contains(s.Addrs, addrs[i]) })
		if idx < 0 {
			t.Errorf("%s at %s not found", want.Name(), addrs[i])
			continue
		}
		s := found[idx]
		types := []string{mdns.TypeIPP, mdns.TypePDL, mdns.TypeLPD}
		if i >= n-secured {
			types = []string{mdns.TypeIPPS, mdns.TypePDL, mdns.TypeLPD}
		}
		slices.Sort(types)
		if s.Instance != want.Model()+" "+want.Name() || s.Host != want.Name()+".local" || s.Model != want.Model() ||
			s.UUID != want.UUID() || !slices.Equal(s.Types, types) || s.Secured != (i >= n-secured) ||
			s.Ports[mdns.TypeLPD] != 515 || s.Ports[mdns.TypePDL] == 0 || s.Ports[mdns.TypePDL] == 9100 ||
			!strings.HasPrefix(s.AdminURL, "https://"+addrs[i].String()+":") || !slices.Equal(s.Addrs, addrs[i:i+1]) {
			t.Errorf("%s: found %+v", want.Name(), s)
		}
	}
}

// More printers answering than the browser keeps: it keeps its cap and
// says so.
func TestSimMDNSCap(t *testing.T) {
	const n = 8
	p := testservers.NewNetnsPair(t)
	first := netip.MustParseAddr("10.250.0.10")
	var addrs []netip.Addr
	for a := first; len(addrs) < n; a = a.Next() {
		addrs = append(addrs, a)
	}
	p.AddAddrs(t, p.B, addrs...)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	startSimIn(ctx, t, p, p.B, "--printers", fmt.Sprint(n), "--listen", "0.0.0.0", "--base-port", "0",
		"--services", "none", "--print-rate", "0", "--mdns", "all", "--mdns-addr", first.String())
	found, errText := browseIn(ctx, t, p, p.A, mdns.Options{DisableIPv6: true, Window: time.Second, Queries: 1, MaxServices: 3})
	if len(found) != 3 || !strings.Contains(errText, "more devices answered than the limit") {
		t.Errorf("found %d devices, error %q; want 3 and the limit", len(found), errText)
	}
}

// startSimIn runs inkform sim with args inside namespace ns until the
// test ends, and returns its output once it is ready.
func startSimIn(ctx context.Context, t *testing.T, p *testservers.NetnsPair, ns string, args ...string) *lockedBuffer {
	t.Helper()
	var out, errb lockedBuffer
	sim := p.Command(ctx, ns, os.Args[0], append([]string{"sim"}, args...)...)
	sim.Env = []string{asCLIEnv + "=1", "NO_COLOR=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	sim.Stdout, sim.Stderr = &out, &errb
	if err := sim.Start(); err != nil {
		t.Fatalf("start inkform sim: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sim.Wait() }()
	t.Cleanup(func() {
		// By PID: SIGTERM, which the command handles, then SIGKILL.
		_ = sim.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = sim.Process.Kill()
			<-exited
		}
	})
	if !out.waitFor("ready", time.Minute) {
		t.Fatalf("inkform sim did not get ready:\n%s%s", out.String(), errb.String())
	}
	return &out
}

func TestSimMDNSFlags(t *testing.T) {
	o, err := (&simMDNSFlags{Types: "ipp, _ipps._tcp,ipp", Secured: 1, Addr: "10.250.0.10"}).options()
	if err != nil || !slices.Equal(o.Types, []string{"_ipp._tcp", "_ipps._tcp"}) || o.Secured != 1 || o.FirstAddr != netip.MustParseAddr("10.250.0.10") {
		t.Errorf("options: %+v, %v", o, err)
	}
	if o, err := (&simMDNSFlags{Types: "all"}).options(); err != nil || !slices.Equal(o.Types, simulator.MDNSTypes()) {
		t.Errorf("all: %+v, %v", o, err)
	}
	if o, err := (&simMDNSFlags{}).options(); o != nil || err != nil {
		t.Errorf("no --mdns: %+v, %v", o, err)
	}
	for f, want := range map[simMDNSFlags]string{
		{Types: "ipp,http"}:                  `unknown service type "http"`,
		{Secured: 2}:                         "need --mdns",
		{Types: "ipp", Addr: "10.250.0.300"}: "--mdns-addr",
	} {
		if _, err := f.options(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v; want %q", f, err, want)
		}
	}
}
