// Package traps is the SNMP trap intake of watch: a watch.Source that
// listens with gosnmp's TrapListener for SNMP v1, v2c and v3 (USM)
// traps, checks their community or user against the configured
// credentials, attributes them to a printer by their UDP source address
// alone, and decodes Printer-MIB and Lexmark alerts into signals.
//
// Nothing in a trap's content is trusted for attribution: the v1
// agent-addr field and a v2 snmpTrapAddress varbind are ignored, since
// anyone can write them. What is dropped is counted by reason (Stats).
//
// Memory stays bounded under a flood: the socket reader never waits for
// the consumer. Accepted traps go through a queue of QueueSize entries to
// a single goroutine that calls deliver; when the queue is full the trap
// is dropped and counted (DropQueueFull), so a slow consumer costs
// alerts, never memory, and the reader keeps draining the socket.
package traps

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers/snmp"
	"github.com/inkform/inkform/watch"
)

// DefaultQueueSize is the number of accepted traps waiting for deliver
// before further ones are dropped: a few seconds of a storm.
const DefaultQueueSize = 4096

// Reasons a trap is dropped, the keys of Stats.Dropped.
const (
	// DropUndecodable: not an SNMP message gosnmp could read, or an
	// SNMPv3 message that failed authentication or decryption, or whose
	// user is unknown.
	DropUndecodable = "undecodable"
	// DropCredentials: a v1/v2c community, or a v3 user, that matches
	// none of the configured credentials.
	DropCredentials = "credentials"
	// DropRefused: the source address is neither a printer nor allowed.
	DropRefused = "refused_source"
	// DropQueueFull: accepted, but the queue to deliver was full.
	DropQueueFull = "queue_full"
	// DropNotTrap: an SNMP message that is not a trap or inform.
	DropNotTrap = "not_trap"
)

// Config configures a Listener.
type Config struct {
	// Listen is the UDP address, alerts.DefaultTrapListen when "".
	Listen string
	// Credentials accepted: communities (version "1", "2c" or "") accept
	// v1 and v2c traps, users (version "3") v3 traps with their USM
	// authentication and privacy. Secret: never logged.
	Credentials []fleet.SNMP
	// Attributor names the printer of a source address and refuses the
	// others. Required.
	Attributor watch.Attributor
	// QueueSize bounds the traps waiting for deliver; DefaultQueueSize
	// when 0.
	QueueSize int
	// Now stamps received traps; time.Now when nil.
	Now func() time.Time
}

// Stats are a Listener's counters since it was made.
type Stats struct {
	Received uint64 // datagrams read, decodable or not
	Accepted uint64 // handed to deliver
	// Dropped counts the rest by reason (the Drop* constants).
	Dropped map[string]uint64
}

// Listener is the SNMP trap Source.
type Listener struct {
	cfg         Config
	communities [][]byte
	users       map[string]bool
	usmTable    *gosnmp.SnmpV3SecurityParametersTable

	received, accepted atomic.Uint64
	dropped            sync.Map // reason → *atomic.Uint64

	ready     chan struct{}
	readyOnce sync.Once
	running   atomic.Bool
}

var _ watch.Source = (*Listener)(nil)

// New checks cfg and returns a Listener; it does not open the socket.
func New(cfg Config) (*Listener, error) {
	if cfg.Attributor == nil {
		return nil, errors.New("snmp traps: no attributor")
	}
	if cfg.Listen == "" {
		cfg.Listen = alerts.DefaultTrapListen
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Listener{cfg: cfg, users: map[string]bool{}, ready: make(chan struct{})}
	for i, c := range cfg.Credentials {
		switch c.Version {
		case "", fleet.SNMPv1, fleet.SNMPv2c:
			if c.Community == "" {
				return nil, fmt.Errorf("snmp traps: credentials %d: no community", i+1)
			}
			l.communities = append(l.communities, []byte(c.Community))
		case fleet.SNMPv3:
			usm, _, err := snmp.USM(c)
			if err != nil {
				return nil, fmt.Errorf("snmp traps: credentials %d: %w", i+1, err)
			}
			if l.usmTable == nil {
				l.usmTable = gosnmp.NewSnmpV3SecurityParametersTable(gosnmp.NewLogger(discard{}))
			}
			if err := l.usmTable.Add(c.User, usm); err != nil {
				return nil, fmt.Errorf("snmp traps: credentials %d: user %s: %w", i+1, c.User, err)
			}
			l.users[c.User] = true
		default:
			return nil, fmt.Errorf("snmp traps: credentials %d: unknown SNMP version %q (want 1, 2c or 3)", i+1, c.Version)
		}
	}
	return l, nil
}

// Name is "snmp-traps".
func (l *Listener) Name() string { return "snmp-traps" }

// Ready is closed once the socket listens.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Stats returns the counters.
func (l *Listener) Stats() Stats {
	s := Stats{Received: l.received.Load(), Accepted: l.accepted.Load(), Dropped: map[string]uint64{}}
	l.dropped.Range(func(k, v any) bool {
		s.Dropped[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return s
}

func (l *Listener) drop(reason string) {
	v, ok := l.dropped.Load(reason)
	if !ok {
		v, _ = l.dropped.LoadOrStore(reason, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// Run listens until ctx is done, calling deliver from one goroutine for
// every accepted trap. It returns nil when ctx ends, or the error that
// kept the socket from opening. A Listener runs once.
func (l *Listener) Run(ctx context.Context, deliver func(watch.Received)) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("snmp traps: listener already ran")
	}
	queue := make(chan watch.Received, l.cfg.QueueSize)
	tl := gosnmp.NewTrapListener()
	// Rather a whole jumbo datagram than a truncated (undecodable) trap.
	tl.WithBufferSize(65535)
	tl.CloseTimeout = 2 * time.Second
	params := &gosnmp.GoSNMP{
		Logger: gosnmp.NewLogger(&countingLogger{l: l}),
		// A trap names its own version; gosnmp authenticates a v3 one
		// only when the listener's is 3 too.
		Version: gosnmp.Version3,
	}
	if l.usmTable != nil {
		params.SetTrapSecurityParametersTable(l.usmTable)
	} else {
		// No v3 user: an empty table makes every v3 trap fail to
		// authenticate (an unknown user) rather than pass unchecked.
		params.SetTrapSecurityParametersTable(gosnmp.NewSnmpV3SecurityParametersTable(gosnmp.NewLogger(discard{})))
	}
	tl.Params = params
	tl.OnNewTrap = func(p *gosnmp.SnmpPacket, from *net.UDPAddr) {
		l.received.Add(1)
		r, reason := l.accept(p, from)
		if reason != "" {
			l.drop(reason)
			return
		}
		select {
		case queue <- r:
			l.accepted.Add(1)
		default:
			l.drop(DropQueueFull)
		}
	}

	listenErr := make(chan error, 1)
	go func() { listenErr <- tl.Listen(l.cfg.Listen) }()
	select {
	case <-tl.Listening():
	case err := <-listenErr:
		return fmt.Errorf("snmp traps: listen on %s: %w", l.cfg.Listen, err)
	}
	l.readyOnce.Do(func() { close(l.ready) })

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case r := <-queue:
				deliver(r)
			case <-done:
				return
			}
		}
	}()

	var err error
	select {
	case <-ctx.Done():
	case err = <-listenErr:
		if err != nil {
			err = fmt.Errorf("snmp traps: listen on %s: %w", l.cfg.Listen, err)
		}
	}
	tl.Close()
	close(done)
	wg.Wait()
	return err
}

// accept checks, attributes and decodes one trap; reason is "" when it
// is accepted.
func (l *Listener) accept(p *gosnmp.SnmpPacket, from *net.UDPAddr) (watch.Received, string) {
	if p == nil || from == nil {
		return watch.Received{}, DropUndecodable
	}
	switch p.PDUType {
	case gosnmp.Trap, gosnmp.SNMPv2Trap, gosnmp.InformRequest:
	default:
		return watch.Received{}, DropNotTrap
	}
	if !l.credentialsMatch(p) {
		return watch.Received{}, DropCredentials
	}
	addr, ok := netip.AddrFromSlice(from.IP)
	if !ok {
		return watch.Received{}, DropRefused
	}
	addr = addr.Unmap()
	printer, allowed := l.cfg.Attributor(addr)
	if !allowed {
		return watch.Received{}, DropRefused
	}
	return watch.Received{From: addr, Printer: printer, At: l.cfg.Now().UTC(), Signals: Decode(p)}, ""
}

// credentialsMatch checks a v1/v2c community against the configured ones
// (in constant time) and a v3 user against the configured users; gosnmp
// has already authenticated and decrypted a v3 message with that user's
// keys.
func (l *Listener) credentialsMatch(p *gosnmp.SnmpPacket) bool {
	switch p.Version {
	case gosnmp.Version1, gosnmp.Version2c:
		got := []byte(p.Community)
		ok := false
		for _, c := range l.communities {
			if subtle.ConstantTimeCompare(got, c) == 1 {
				ok = true
			}
		}
		return ok
	case gosnmp.Version3:
		usm, isUSM := p.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		return isUSM && p.SecurityModel == gosnmp.UserSecurityModel && l.users[usm.UserName]
	}
	return false
}

// countingLogger receives gosnmp's log lines, only to count the
// datagrams the TrapListener drops before handing them over: gosnmp
// reports those in no other way. Nothing is printed (a line could carry
// a user name or packet contents).
type countingLogger struct{ l *Listener }

func (c *countingLogger) Print(v ...any) {}

func (c *countingLogger) Printf(format string, v ...any) {
	// gosnmp v1.47.0 logs one such line per datagram it could not
	// unmarshal, authenticate or decrypt; the test with a wrong v3
	// passphrase keeps this in step with the library.
	if strings.HasPrefix(format, "TrapListener: error in UnmarshalTrap") ||
		strings.HasPrefix(format, "TrapListener: invalid authoritative engine ID") ||
		strings.HasPrefix(format, "TrapListener: dropping engine discovery") {
		c.l.received.Add(1)
		msg := fmt.Sprint(v...)
		if strings.Contains(msg, "no security parameters found") || strings.Contains(msg, "no credentials successfully") ||
			strings.Contains(msg, "unknown user name") {
			// A v3 user that is not configured, or whose keys do not
			// authenticate or decrypt the message.
			c.l.drop(DropCredentials)
			return
		}
		c.l.drop(DropUndecodable)
	}
}

type discard struct{}

func (discard) Print(...any)          {}
func (discard) Printf(string, ...any) {}
