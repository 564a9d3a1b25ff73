package planner

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans"
)

// Two printer blocks must never manage one device: every apply would write
// it twice and fail to verify one of them, forever. The configuration
// compares addresses as written; here the planner compares them as
// resolved (localhost and 127.0.0.1 are one host), and then the serial
// numbers the devices report.

// resolveTimeout bounds the lookup of one printer's host name;
// resolveParallelism how many are looked up at once.
const (
	resolveTimeout     = 5 * time.Second
	resolveParallelism = 32
)

// ResolveHosts returns the address of each printer's host: an IP address
// as it is, a host name looked up (each distinct name once, a few at a
// time, within resolveTimeout; the lowest address when it has several).
// Hosts that do not resolve are missing. lookup nil is the system
// resolver.
func ResolveHosts(ctx context.Context, printers []fleet.Printer, lookup func(ctx context.Context, host string) ([]netip.Addr, error)) map[string]netip.Addr {
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	resolved := map[string]netip.Addr{}
	var hosts []string
	seen := map[string]bool{}
	for _, p := range printers {
		if ip, err := netip.ParseAddr(p.Host); err == nil {
			resolved[p.Host] = ip.Unmap()
		} else if p.Host != "" && !seen[p.Host] {
			seen[p.Host] = true
			hosts = append(hosts, p.Host)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, resolveParallelism)
	for _, host := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			lctx, cancel := context.WithTimeout(ctx, resolveTimeout)
			defer cancel()
			if addrs, err := lookup(lctx, host); err == nil && len(addrs) > 0 {
				mu.Lock()
				resolved[host] = sortedAddrs(addrs)[0].Unmap()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return resolved
}

// sameAddress returns, for each printer whose resolved address:port is
// shared with another printer, why it is not observed. Hosts that do not
// resolve are left to the observation, which reports them unreachable.
func sameAddress(ctx context.Context, printers []fleet.Printer, lookup func(ctx context.Context, host string) ([]netip.Addr, error)) map[int]string {
	resolved := ResolveHosts(ctx, printers, lookup)
	byAddr := map[string][]int{}
	for i, p := range printers {
		addr, ok := resolved[p.Host]
		if !ok {
			continue
		}
		key := net.JoinHostPort(addr.String(), strconv.Itoa(p.Port))
		byAddr[key] = append(byAddr[key], i)
	}
	out := map[int]string{}
	for key, idx := range byAddr {
		if len(idx) < 2 {
			continue
		}
		for _, i := range idx {
			out[i] = fmt.Sprintf("printers %s all resolve to %s: one device must be declared once", joinNames(printers, idx), key)
		}
	}
	return out
}

// sameSerial marks every ready printer whose device reports the serial of
// another ready printer, and returns the indexes it changed.
func sameSerial(results []plans.PrinterPlan) []int {
	bySerial := map[string][]int{}
	for i := range results {
		pp := &results[i]
		if pp.Status != plans.StatusReady || pp.Observed == nil || strings.TrimSpace(pp.Observed.Serial) == "" {
			continue
		}
		s := strings.ToUpper(strings.TrimSpace(pp.Observed.Serial))
		bySerial[s] = append(bySerial[s], i)
	}
	var changed []int
	for serial, idx := range bySerial {
		if len(idx) < 2 {
			continue
		}
		names := make([]string, len(idx))
		for k, i := range idx {
			names[k] = "printer." + results[i].Name
		}
		for _, i := range idx {
			results[i] = duplicateDevice(results[i], fmt.Sprintf("printers %s report the same serial number %s: one device must be declared once", strings.Join(names, ", "), serial))
			changed = append(changed, i)
		}
	}
	sort.Ints(changed)
	return changed
}

// duplicateDevice is pp refused for managing a device another printer
// manages: nothing is planned for it.
func duplicateDevice(pp plans.PrinterPlan, reason string) plans.PrinterPlan {
	return plans.PrinterPlan{Name: pp.Name, Address: pp.Address, Status: plans.StatusError, Reason: reason, Observed: pp.Observed, Transport: pp.Transport}
}

func joinNames(printers []fleet.Printer, idx []int) string {
	names := make([]string, len(idx))
	for k, i := range idx {
		names[k] = "printer." + printers[i].Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func sortedAddrs(addrs []netip.Addr) []netip.Addr {
	out := append([]netip.Addr(nil), addrs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}
