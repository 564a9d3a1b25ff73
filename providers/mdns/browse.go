package mdns

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/mdns"
)

// Options configure Browse. The zero value browses the default types on
// the system's default multicast interface for three seconds.
type Options struct {
	// Types are the service types asked for ("_ipp._tcp"); empty means
	// DefaultTypes. At most 16.
	Types []string
	// Domain is the DNS-SD domain; default "local".
	Domain string
	// Window is how long Browse listens in all; default 3 s.
	Window time.Duration
	// Queries is how many times each type is asked for within the window,
	// Window/Queries apart, since a multicast query or answer can be
	// lost; default 3.
	Queries int
	// Interface names the network interface to query on ("eth0"); empty
	// means the system's default multicast route.
	Interface string
	// DisableIPv4 and DisableIPv6 leave that protocol out of the queries
	// (not out of the addresses found). Set DisableIPv6 where the host
	// has no IPv6.
	DisableIPv4, DisableIPv6 bool
	// MaxServices caps the devices kept; default DefaultMaxServices.
	// More devices answering gives ErrTooMany with the services kept.
	MaxServices int
	// Logf, when set, receives the query library's messages.
	Logf func(format string, args ...any) `json:"-"`
}

// maxWindow keeps a typo from browsing for hours.
const maxWindow = 10 * time.Minute

// Browse asks the local link for the printer services of opts and
// returns the devices that answered, merged per device (see Service), in
// the order first seen.
//
// Each type is asked for opts.Queries times; each query listens for
// Window/Queries. The query library keeps each query's answers only for
// that query, and Browse keeps at most MaxServices devices with bounded
// TXT data each, so a flood of answers costs bounded memory. Cancelling
// ctx ends Browse within one query's listening time.
func Browse(ctx context.Context, opts Options) ([]Service, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	var iface *net.Interface
	if o.Interface != "" {
		if iface, err = net.InterfaceByName(o.Interface); err != nil {
			return nil, fmt.Errorf("mdns: interface %q: %w", o.Interface, err)
		}
	}
	logger := log.New(io.Discard, "", 0)
	if o.Logf != nil {
		logger = log.New(logfWriter(o.Logf), "", 0)
	}
	per := o.Window / time.Duration(o.Queries)
	c := newCollector(o.Types, o.MaxServices)
	for range o.Queries {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("mdns: browse: %w", err)
		}
		results := make([][]*mdns.ServiceEntry, len(o.Types))
		errs := make([]error, len(o.Types))
		var wg sync.WaitGroup
		for i, typ := range o.Types {
			wg.Go(func() {
				results[i], errs[i] = query(ctx, &mdns.QueryParam{
					Service:     typ,
					Domain:      o.Domain,
					Timeout:     per,
					Interface:   iface,
					DisableIPv4: o.DisableIPv4,
					DisableIPv6: o.DisableIPv6,
					Logger:      logger,
				}, o.MaxServices)
			})
		}
		wg.Wait()
		for i, typ := range o.Types {
			if errs[i] != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("mdns: browse: %w", ctx.Err())
				}
				return nil, fmt.Errorf("mdns: browse %s: %w", typ, errs[i])
			}
			for _, e := range results[i] {
				c.add(entryOf(e, o.Interface))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mdns: browse: %w", err)
	}
	out := c.services()
	if c.dropped > 0 {
		return out, fmt.Errorf("mdns: browse: %w: kept %d devices, ignored %d answers", ErrTooMany, len(out), c.dropped)
	}
	return out, nil
}

// query runs one query and returns its complete answers. The library
// fills in an answer's fields from later packets of the same query, in
// the goroutine that runs the query, so the answers are read only once
// the query has returned. At most max+1 are kept (the library drops what
// the channel cannot take): one more than the cap, so that going over it
// shows.
func query(ctx context.Context, p *mdns.QueryParam, max int) ([]*mdns.ServiceEntry, error) {
	ch := make(chan *mdns.ServiceEntry, max+1)
	p.Entries = ch
	err := mdns.QueryContext(ctx, p)
	close(ch)
	var out []*mdns.ServiceEntry
	for e := range ch {
		out = append(out, e)
	}
	return out, err
}

// entryOf converts the library's answer. An IPv6 link-local address is
// reachable only with its zone: the library takes it from the packet's
// source, which has none when the answer came over IPv4; then it is the
// interface queried on, when one was named.
func entryOf(e *mdns.ServiceEntry, iface string) entry {
	out := entry{name: e.Name, host: e.Host, port: e.Port, txt: e.InfoFields}
	if a, ok := netip.AddrFromSlice(e.AddrV4); ok {
		out.addrs = append(out.addrs, a.Unmap())
	}
	if e.AddrV6IPAddr != nil {
		if a, ok := netip.AddrFromSlice(e.AddrV6IPAddr.IP); ok {
			zone := e.AddrV6IPAddr.Zone
			if zone == "" && a.IsLinkLocalUnicast() {
				zone = iface
			}
			if !a.IsLinkLocalUnicast() {
				zone = ""
			}
			out.addrs = append(out.addrs, a.WithZone(zone))
		}
	}
	return out
}

func (o Options) normalize() (Options, error) {
	if len(o.Types) == 0 {
		o.Types = DefaultTypes
	}
	if len(o.Types) > maxTypes {
		return o, fmt.Errorf("mdns: %d service types; at most %d", len(o.Types), maxTypes)
	}
	types := make([]string, 0, len(o.Types))
	for _, t := range o.Types {
		t = strings.ToLower(strings.Trim(strings.TrimSpace(t), "."))
		svc, proto, ok := strings.Cut(t, ".")
		if !ok || len(svc) < 2 || len(svc) > maxLabels || svc[0] != '_' || strings.Contains(svc, ".") || proto != "_tcp" && proto != "_udp" {
			return o, fmt.Errorf("mdns: service type %q is not of the form _name._tcp or _name._udp", t)
		}
		types = append(types, t)
	}
	o.Types = types
	if o.Domain == "" {
		o.Domain = "local"
	}
	if o.Window == 0 {
		o.Window = 3 * time.Second
	}
	if o.Queries == 0 {
		o.Queries = 3
	}
	switch {
	case o.Window < 0 || o.Window > maxWindow:
		return o, fmt.Errorf("mdns: window %s is not between 0 and %s", o.Window, maxWindow)
	case o.Queries < 0 || o.Queries > 100 || o.Window/time.Duration(o.Queries) < 10*time.Millisecond:
		return o, fmt.Errorf("mdns: %d queries in %s: each needs at least 10ms to listen", o.Queries, o.Window)
	case o.DisableIPv4 && o.DisableIPv6:
		return o, fmt.Errorf("mdns: both IPv4 and IPv6 disabled")
	case o.MaxServices < 0:
		return o, fmt.Errorf("mdns: negative MaxServices %d", o.MaxServices)
	}
	if o.MaxServices == 0 {
		o.MaxServices = DefaultMaxServices
	}
	return o, nil
}

// logfWriter hands the library's log lines to a Logf.
type logfWriter func(format string, args ...any)

func (w logfWriter) Write(p []byte) (int, error) {
	w("mdns: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
