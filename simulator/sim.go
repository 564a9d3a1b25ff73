package simulator

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options configure a simulated fleet. The zero value (plus Printers) is a
// quiet fleet on loopback ephemeral ports that never prints on its own.
type Options struct {
	Printers int
	// Listen is the IP address to bind; default "127.0.0.1". An IPv4
	// prefix (127.77.0.0/16) spreads the printers evenly over its
	// addresses instead, each on BasePort (which must be set), SNMP
	// only: a subnet to sweep. Linux routes all of 127.0.0.0/8 to the
	// loopback interface.
	Listen string
	// BasePort: printer i listens on BasePort+i; 0 gives each printer an
	// ephemeral port.
	BasePort int
	// ReadCommunity may GET, WriteCommunity may GET and SET; defaults
	// "public" and "private".
	ReadCommunity, WriteCommunity string
	// Latency is added before each response.
	Latency time.Duration
	// Loss is the fraction of requests dropped, decided by a PRNG seeded
	// from Seed and the printer index, so runs repeat.
	Loss float64
	// Offline makes the first Offline printers (by index) not answer.
	Offline int
	// Slow printers, the Slow printers after the offline ones, add
	// SlowLatency before each response (on top of Latency): a fleet with
	// a few congested or sleepy devices.
	Slow        int
	SlowLatency time.Duration
	// StateFile, when set, keeps changed values (SETs, front-panel Sets,
	// printed pages) across restarts: loaded by Start, saved shortly after
	// each change and on Close, atomically (temporary file and rename).
	StateFile string
	Seed      int64
	// PrintRate: every PrintRate each online printer prints one page;
	// 0 = no background printing.
	PrintRate time.Duration
	// Services lists the services each printer serves besides SNMP (see
	// Services()): TCP ones, and NPAP and XMLNT over UDP; nil serves SNMP
	// only.
	Services []string
	// Secured makes the first Secured printers secured: they also serve
	// LST (lst.go) and generated configurations mark them secured.
	Secured int
	// FirmwareFail makes the FirmwareFail printers after the offline and
	// slow ones reject firmware images (see firmware.go).
	FirmwareFail int
	// Recording, when set, makes every printer answer like the recorded
	// device (see Recording) instead of cycling through the built-in
	// models.
	Recording *Recording
	// RebootDelay is how long a printer stays offline after installing
	// firmware; 0 reboots at once.
	RebootDelay time.Duration
	// Logf, when set, receives service errors worth a human's attention.
	Logf func(format string, args ...any)
	// AdminUser and AdminPassword are every printer's administrator login
	// for FTP and the embedded web server; defaults "admin" and
	// "inkform-sim".
	AdminUser, AdminPassword string
	// AuthScheme is how the embedded web server asks for the login:
	// "basic" or "digest" (RFC 7616, SHA-256 and MD5); default "digest".
	AuthScheme string
	// AlertsTo (IP:PORT), when set, receives a printerV2Alert trap
	// (SNMPv2c, community AlertCommunity, default ReadCommunity) from a
	// printer's own address each time one of its critical alerts is
	// raised, or a door or cover closes.
	AlertsTo       string
	AlertCommunity string
	// NPAPAlertsTo (IP:PORT), when set, receives an NPAP alert from the
	// NPAP port of each printer that serves "npap" whenever one of its
	// alerts is raised or cleared, as do the servers that registered
	// with the printer over NPAP or XMLNT (npap.go).
	NPAPAlertsTo string
	// AlertRate is how many alerts a second the fleet raises or clears
	// (jams, doors), on printers chosen by a PRNG seeded with Seed; 0 =
	// none. Toner alerts follow from printing whatever the rate.
	AlertRate float64
	// MDNS, when set, makes every printer advertise itself over mDNS /
	// DNS-SD (mdns.go).
	MDNS *MDNSOptions
}

// Sim is a running fleet. Its methods are safe for concurrent use.
type Sim struct {
	opts     Options
	printers []*Printer

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	// stopWatch stops the AfterFunc that closes the simulator with its
	// context; atomic, since that AfterFunc may run Close before Start
	// has stored it.
	stopWatch atomic.Pointer[func() bool]

	dirty    atomic.Bool
	saveKick chan struct{}
	saveMu   sync.Mutex // one save at a time

	stopServices context.CancelFunc
	listeners    []net.Listener

	alertsTo  netip.AddrPort
	alerter   alertMaker
	trapID    atomic.Int32
	trapsSent atomic.Uint64

	mdns mdnsState
}

// Stats counts requests over the whole fleet.
type Stats struct {
	Answered  uint64 // responses sent
	Malformed uint64 // undecodable or non-request messages, dropped
	Refused   uint64 // unknown community, dropped silently
	Lost      uint64 // dropped on purpose by Options.Loss
	Ignored   uint64 // received while the printer was offline
}

// saveDelay coalesces bursts of changes (an apply to a whole fleet) into
// one write of the state file.
const saveDelay = 100 * time.Millisecond

// Start binds one UDP socket per printer and serves them until Close or
// until ctx is done (which closes the simulator too). It returns once every
// socket is bound, so clients may send at once.
func Start(ctx context.Context, o Options) (*Sim, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	ip, spread, err := o.listen()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	alertsTo, err := parseAlertsTo(o.AlertsTo)
	if err != nil {
		return nil, err
	}
	s := &Sim{opts: o, done: make(chan struct{}), saveKick: make(chan struct{}, 1), alertsTo: alertsTo}
	s.alerter.rng = rand.New(rand.NewSource(o.Seed))
	width := max(3, len(fmt.Sprint(o.Printers)))
	now := time.Now()
	s.printers = make([]*Printer, o.Printers)
	for i := range s.printers {
		p := newPrinter(i, width, now, o.Recording)
		p.sim = s
		p.offline.Store(i < o.Offline)
		p.latency = o.Latency
		if i >= o.Offline && i < o.Offline+o.Slow {
			p.latency += o.SlowLatency
		}
		s.printers[i] = p
	}
	if o.StateFile != "" {
		if err := s.load(o.StateFile); err != nil {
			return nil, err
		}
	}
	s.setupFirmware()
	for i, p := range s.printers {
		port := 0
		if o.BasePort != 0 {
			port = o.BasePort + i
		}
		if spread.IsValid() {
			ip, port = spreadAddr(spread, i, o.Printers), o.BasePort
		}
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			for _, q := range s.printers[:i] {
				q.conn.Close()
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				return nil, fmt.Errorf("simulator: printer %s: out of file descriptors after %d sockets; raise the open-files limit (ulimit -n) or simulate fewer printers: %w", p.name, i, err)
			}
			return nil, fmt.Errorf("simulator: printer %s: listen on %s: %w", p.name, netip.AddrPortFrom(ip, uint16(port)), err)
		}
		p.conn = conn
		p.addr = conn.LocalAddr().String()
	}
	err = s.startServices(ctx, ip)
	if err == nil {
		err = s.startMDNS()
	}
	if err != nil {
		s.closeMDNS()
		s.closeServices()
		for _, p := range s.printers {
			p.conn.Close()
		}
		s.wg.Wait()
		return nil, err
	}
	for _, p := range s.printers {
		// Alerts of the initial or loaded state are no news.
		p.mu.Lock()
		p.pendingTraps = nil
		p.mu.Unlock()
		a := newAgent(p, o.ReadCommunity, o.WriteCommunity, o.Seed)
		s.wg.Go(func() { s.serve(a) })
	}
	if o.PrintRate > 0 {
		s.wg.Go(s.printLoop)
	}
	if o.AlertRate > 0 {
		s.wg.Go(s.alertLoop)
	}
	if o.StateFile != "" {
		s.wg.Go(s.saveLoop)
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	s.stopWatch.Store(&stop)
	return s, nil
}

// listen reads Listen: an address, or a prefix to spread printers over
// (then the address returned is the prefix's first, for the services).
func (o *Options) listen() (netip.Addr, netip.Prefix, error) {
	if strings.Contains(o.Listen, "/") {
		p, err := netip.ParsePrefix(o.Listen)
		if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
			return netip.Addr{}, netip.Prefix{}, fmt.Errorf("simulator: listen prefix %q: want an IPv4 prefix of /30 or wider", o.Listen)
		}
		p = p.Masked()
		return p.Addr().Next(), p, nil
	}
	ip, err := netip.ParseAddr(o.Listen)
	if err != nil {
		return netip.Addr{}, netip.Prefix{}, fmt.Errorf("simulator: listen address %q: %w", o.Listen, err)
	}
	return ip, netip.Prefix{}, nil
}

// spreadAddr is printer i's address of n spread evenly over the host
// addresses of p.
func spreadAddr(p netip.Prefix, i, n int) netip.Addr {
	hosts := uint32(1)<<(32-p.Bits()) - 2
	stride := max(1, hosts/uint32(n))
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += 1 + uint32(i)*stride
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (o *Options) normalize() error {
	if o.Printers < 1 {
		return fmt.Errorf("simulator: need at least one printer, got %d", o.Printers)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1"
	}
	if o.ReadCommunity == "" {
		o.ReadCommunity = "public"
	}
	if o.WriteCommunity == "" {
		o.WriteCommunity = "private"
	}
	if o.AdminUser == "" {
		o.AdminUser = "admin"
	}
	if o.AdminPassword == "" {
		o.AdminPassword = "inkform-sim"
	}
	switch o.AuthScheme {
	case "":
		o.AuthScheme = "digest"
	case "basic", "digest":
	default:
		return fmt.Errorf("simulator: auth scheme %q is not \"basic\" or \"digest\"", o.AuthScheme)
	}
	if _, spread, err := o.listen(); err != nil {
		return err
	} else if spread.IsValid() {
		if o.BasePort < 1 || o.BasePort > 65535 {
			return fmt.Errorf("simulator: printers spread over %s need a base port, the one port they all use", spread)
		}
		if len(o.Services) > 0 {
			return fmt.Errorf("simulator: printers spread over %s serve SNMP only", spread)
		}
		if hosts := 1<<(32-spread.Bits()) - 2; o.Printers > hosts {
			return fmt.Errorf("simulator: %d printers do not fit the %d addresses of %s", o.Printers, hosts, spread)
		}
	} else if o.BasePort < 0 || o.BasePort > 0 && o.BasePort+o.Printers-1 > 65535 {
		return fmt.Errorf("simulator: base port %d leaves no room for %d printers (ports end at 65535)", o.BasePort, o.Printers)
	}
	if o.Loss < 0 || o.Loss > 1 || o.Loss != o.Loss {
		return fmt.Errorf("simulator: loss %v is not a fraction between 0 and 1", o.Loss)
	}
	if o.Offline < 0 || o.Offline > o.Printers {
		return fmt.Errorf("simulator: %d offline printers out of %d", o.Offline, o.Printers)
	}
	if o.Slow < 0 || o.Offline+o.Slow > o.Printers {
		return fmt.Errorf("simulator: %d slow and %d offline printers out of %d", o.Slow, o.Offline, o.Printers)
	}
	if o.FirmwareFail < 0 || o.Offline+o.Slow+o.FirmwareFail > o.Printers {
		return fmt.Errorf("simulator: %d printers rejecting firmware after %d offline and %d slow ones, out of %d", o.FirmwareFail, o.Offline, o.Slow, o.Printers)
	}
	if _, err := parseAlertsTo(o.NPAPAlertsTo); err != nil {
		return errors.New("simulator: npap-alerts-to: want IP:PORT")
	}
	if o.Secured < 0 || o.Secured > o.Printers {
		return fmt.Errorf("simulator: %d secured printers out of %d", o.Secured, o.Printers)
	}
	if o.AlertCommunity == "" {
		o.AlertCommunity = o.ReadCommunity
	}
	if o.AlertRate < 0 || o.AlertRate > 1e6 || o.AlertRate != o.AlertRate {
		return errors.New("simulator: alert rate must be between 0 and 1,000,000 a second")
	}
	if o.Latency < 0 || o.SlowLatency < 0 || o.PrintRate < 0 || o.RebootDelay < 0 {
		return errors.New("simulator: latency and print rate cannot be negative")
	}
	return nil
}

// serve is one printer's socket loop. It ends when the socket is closed.
func (s *Sim) serve(a *agent) {
	p := a.p
	buf := make([]byte, MaxRequestSize)
	var timer *time.Timer
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.done:
				return
			default:
				continue // e.g. an ICMP error surfaced on the socket
			}
		}
		if p.offline.Load() {
			p.stats.ignored.Add(1)
			continue
		}
		if s.opts.Loss > 0 && a.rng.Float64() < s.opts.Loss {
			p.stats.lost.Add(1)
			continue
		}
		resp, v := s.handleSafely(a, buf[:n])
		switch v {
		case malformed:
			p.stats.malformed.Add(1)
			continue
		case refused:
			p.stats.refused.Add(1)
			continue
		}
		if p.latency > 0 {
			if timer == nil {
				timer = time.NewTimer(p.latency)
			} else {
				timer.Reset(p.latency)
			}
			select {
			case <-timer.C:
			case <-s.done:
				timer.Stop()
				return
			}
		}
		if _, err := p.conn.WriteToUDPAddrPort(resp, from); err == nil {
			p.stats.answered.Add(1)
		}
	}
}

// handleSafely keeps one bad packet from taking the fleet down should the
// decoder fault on it; FuzzHandleRequest exercises handle without this net.
func (s *Sim) handleSafely(a *agent, req []byte) (resp []byte, v verdict) {
	defer func() {
		if r := recover(); r != nil {
			resp, v = nil, malformed
		}
	}()
	return a.handle(req)
}

// printLoop prints one page on each online printer every PrintRate.
func (s *Sim) printLoop() {
	t := time.NewTicker(s.opts.PrintRate)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			for _, p := range s.printers {
				if !p.offline.Load() {
					p.PrintPages(1)
				}
			}
		}
	}
}

// Printers returns the fleet, by index.
func (s *Sim) Printers() []*Printer { return s.printers }

// Options returns the options in effect, defaults filled in.
func (s *Sim) Options() Options { return s.opts }

// Requests returns how many requests were answered.
func (s *Sim) Requests() uint64 {
	var n uint64
	for _, p := range s.printers {
		n += p.stats.answered.Load()
	}
	return n
}

// Stats returns request counters summed over the fleet.
func (s *Sim) Stats() Stats {
	var st Stats
	for _, p := range s.printers {
		st.Answered += p.stats.answered.Load()
		st.Malformed += p.stats.malformed.Load()
		st.Refused += p.stats.refused.Load()
		st.Lost += p.stats.lost.Load()
		st.Ignored += p.stats.ignored.Load()
	}
	return st
}

// Close stops every socket and goroutine and saves the state file. It is
// idempotent; later calls return the first call's result.
func (s *Sim) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		if stop := s.stopWatch.Load(); stop != nil {
			(*stop)()
		}
		s.closeMDNS()
		s.closeServices()
		for _, p := range s.printers {
			if p.conn != nil {
				p.conn.Close()
			}
		}
		s.wg.Wait()
		if s.opts.StateFile != "" {
			s.closeErr = s.save()
		}
	})
	return s.closeErr
}

func (s *Sim) markDirty() {
	if s.opts.StateFile == "" {
		return
	}
	s.dirty.Store(true)
	select {
	case s.saveKick <- struct{}{}:
	default:
	}
}

// saveLoop writes the state file saveDelay after a change.
func (s *Sim) saveLoop() {
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-s.saveKick:
		}
		t.Reset(saveDelay)
		select {
		case <-s.done:
			t.Stop()
			return
		case <-t.C:
		}
		// Errors surface again from the save in Close.
		if s.dirty.Load() {
			_ = s.save()
		}
	}
}
