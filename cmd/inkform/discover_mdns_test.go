package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
)

// inkform sim in one network namespace, each printer at its own address
// and advertising itself over mDNS; inkform discover --mdns in the other
// sweeps the addresses and browses the link: it finds every printer, by
// both ways, merged into one row each, the secured ones marked.
func TestDiscoverMDNSAcrossNamespaces(t *testing.T) {
	const n, secured = 6, 2
	p := testservers.NewNetnsPair(t)
	prefix := netip.MustParsePrefix("10.250.0.16/29") // .16–.23
	var addrs []netip.Addr
	for a := prefix.Addr(); prefix.Contains(a); a = a.Next() {
		addrs = append(addrs, a)
	}
	p.AddAddrs(t, p.B, addrs...)
	port := testservers.FreeUDPPort(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out := startSimIn(ctx, t, p, p.B, "--printers", fmt.Sprint(n), "--listen", prefix.String(), "--base-port", fmt.Sprint(port),
		"--print-rate", "0", "--mdns", "ipp,pdl-datastream", "--mdns-secured", fmt.Sprint(secured), "--mdns-interface", p.IfB)

	var stdout, stderr bytes.Buffer
	disc := p.Command(ctx, p.A, os.Args[0], "discover", "-config", t.TempDir(), prefix.String(), "--port", fmt.Sprint(port),
		"--timeout", "500ms", "--mdns", "--mdns-wait", "3s", "-json")
	disc.Env = []string{asCLIEnv + "=1", "NO_COLOR=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	disc.Stdout, disc.Stderr = &stdout, &stderr
	if err := disc.Run(); err != nil {
		t.Fatalf("discover: %v\n%s\n%s\nsim:\n%s", err, stdout.String(), stderr.String(), out.String())
	}
	d := parseDiscover(t, stdout.String())
	if len(d.Printers) != n {
		t.Fatalf("found %d printers, want %d: %+v\nsim:\n%s", len(d.Printers), n, d.Printers, out.String())
	}
	securedSeen := 0
	for _, pr := range d.Printers {
		if !slices.Equal(pr.FoundBy, []string{"mdns", "snmp"}) || pr.Model == "" || pr.Serial == "" {
			t.Errorf("%+v: want found by mdns and snmp, with its identity", pr)
		}
		if pr.Secured {
			securedSeen++
		}
	}
	if securedSeen != secured {
		t.Errorf("%d printers marked secured, want %d", securedSeen, secured)
	}
}
