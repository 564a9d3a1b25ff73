// Package traps is the SNMP trap intake of watch: a watch.Source that
// receives SNMP v1, v2c and v3 (USM) traps and informs on a UDP address,
// attributes them to a printer by their UDP source address alone, has
// gosnmp unmarshal them (authenticating and decrypting v3 with the
// configured users' keys), checks their community or user, and decodes
// Printer-MIB and Lexmark alerts into signals.
//
// Nothing in a trap's content is trusted for attribution: the v1
// agent-addr field and a v2 snmpTrapAddress varbind are ignored, since
// anyone can write them. What is dropped is counted by reason (Stats).
//
// The socket loop is this package's rather than gosnmp's TrapListener:
// TrapListener has no recover, and one crafted SNMPv3 datagram makes
// gosnmp v1.47.0 dereference nil while it looks up the user, which would
// end the process; it also unmarshals (and decrypts) before the caller
// can refuse the source, and reports its drops only in log lines. Here a
// refused source costs one lookup, a panic in the library counts as an
// undecodable datagram, and every drop is counted.
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
	"net/netip"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers/snmp"
	"github.com/inkform/inkform/watch"
)

// DefaultQueueSize is the number of accepted traps waiting for deliver
// before further ones are dropped: a few seconds of a storm.
const DefaultQueueSize = 32768

// Reasons a trap is dropped, the keys of Stats.Dropped.
const (
	// DropUndecodable: not an SNMP message gosnmp could read.
	DropUndecodable = "undecodable"
	// DropCredentials: a v1/v2c community that matches none of the
	// configured ones, or a v3 message of an unknown user or that the
	// user's keys do not authenticate or decrypt.
	DropCredentials = "credentials"
	// DropRefused: the source address is neither a printer nor allowed.
	DropRefused = "refused_source"
	// DropQueueFull: accepted, but the queue to deliver was full.
	DropQueueFull = watch.QueueFull
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

	counts *watch.SourceCounters
	in     *watch.UDPIntake
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
	l := &Listener{cfg: cfg, users: map[string]bool{},
		counts: watch.NewSourceCounters(DropUndecodable, DropCredentials, DropRefused, DropQueueFull, DropNotTrap)}
	l.in = watch.NewUDPIntake("snmp traps", cfg.Listen, cfg.QueueSize, maxDatagram, l.counts)
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
func (l *Listener) Name() string { return alerts.SourceTrap }

// Ready is closed once the socket listens.
func (l *Listener) Ready() <-chan struct{} { return l.in.Ready() }

// Addr is the UDP address listened on, once Ready is closed (the port
// chosen when Listen asked for port 0).
func (l *Listener) Addr() string { return l.in.Addr() }

// Stats returns the counters; Dropped has every reason, seen or not.
func (l *Listener) Stats() Stats {
	var s Stats
	s.Received, s.Accepted, s.Dropped = l.counts.Snapshot()
	return s
}

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// Run listens until ctx is done, calling deliver from one goroutine for
// every accepted trap; an accepted inform is answered once queued. When
// ctx ends it closes the socket, delivers the traps already queued and
// returns nil; it returns the error that kept the socket from opening. A
// Listener runs once.
func (l *Listener) Run(ctx context.Context, deliver func(watch.Received)) error {
	params := l.params()
	return l.in.Run(ctx, func(b []byte, from netip.AddrPort) (watch.Received, func() []byte, string) {
		r, p, reason := l.handle(params, b, from)
		if reason != "" {
			return r, nil, reason
		}
		if p.PDUType != gosnmp.InformRequest {
			return r, nil, ""
		}
		return r, func() []byte { return response(p) }, ""
	}, deliver)
}

// handle judges one datagram: the source first (refused sources cost no
// decoding, let alone cryptography), then gosnmp unmarshals it,
// authenticating and decrypting v3 with the configured users' keys, then
// the community or user is checked and the alerts decoded.
func (l *Listener) handle(params *gosnmp.GoSNMP, b []byte, from netip.AddrPort) (watch.Received, *gosnmp.SnmpPacket, string) {
	addr := from.Addr().Unmap()
	printer, allowed := l.cfg.Attributor(addr)
	if !allowed {
		return watch.Received{}, nil, DropRefused
	}
	p, reason := unmarshal(params, b)
	if reason != "" {
		return watch.Received{}, nil, reason
	}
	if reason := l.check(p); reason != "" {
		return watch.Received{}, nil, reason
	}
	return watch.Received{From: addr, Printer: printer, At: l.cfg.Now().UTC(), Signals: Decode(p)}, p, ""
}

// unmarshal decodes a datagram with gosnmp. gosnmp v1.47.0 panics on some
// malformed SNMPv3 headers (a nil dereference while looking up the user);
// a datagram must never stop the listener, so a panic counts as
// undecodable.
func unmarshal(params *gosnmp.GoSNMP, b []byte) (p *gosnmp.SnmpPacket, reason string) {
	defer func() {
		if recover() != nil {
			p, reason = nil, DropUndecodable
		}
	}()
	p, err := params.UnmarshalTrap(b, false)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "no security parameters found") || strings.Contains(msg, "no credentials successfully") {
			// A v3 user that is not configured, or whose keys do not
			// authenticate or decrypt the message.
			return nil, DropCredentials
		}
		return nil, DropUndecodable
	}
	if p == nil {
		return nil, DropUndecodable
	}
	return p, ""
}

// response answers an accepted inform, as RFC 3416 asks: the same
// varbinds in a Response. Only accepted informs are answered, so that a
// sender whose inform was dropped sends it again, and refused sources
// get nothing.
func response(p *gosnmp.SnmpPacket) []byte {
	p.PDUType = gosnmp.GetResponse
	p.Error, p.ErrorIndex = gosnmp.NoError, 0
	b, err := p.MarshalMsg()
	if err != nil {
		return nil
	}
	return b
}

// params is the gosnmp configuration that unmarshals, authenticates and
// decrypts traps with the configured users' keys.
func (l *Listener) params() *gosnmp.GoSNMP {
	params := &gosnmp.GoSNMP{
		Logger: gosnmp.NewLogger(discard{}),
		// A trap names its own version; gosnmp authenticates a v3 one
		// only when this is 3 too.
		Version: gosnmp.Version3,
	}
	if l.usmTable != nil {
		params.SetTrapSecurityParametersTable(l.usmTable)
	} else {
		// No v3 user: an empty table makes every v3 trap an unknown
		// user's rather than one read unchecked.
		params.SetTrapSecurityParametersTable(gosnmp.NewSnmpV3SecurityParametersTable(gosnmp.NewLogger(discard{})))
	}
	return params
}

// check says why a decoded message is no acceptable trap, "" when it is.
func (l *Listener) check(p *gosnmp.SnmpPacket) string {
	switch p.PDUType {
	case gosnmp.Trap, gosnmp.SNMPv2Trap, gosnmp.InformRequest:
	default:
		return DropNotTrap
	}
	if !l.credentialsMatch(p) {
		return DropCredentials
	}
	return ""
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

type discard struct{}

func (discard) Print(...any)          {}
func (discard) Printf(string, ...any) {}
