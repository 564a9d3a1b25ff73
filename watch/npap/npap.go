// Package npap is the NPAP alert intake of watch: a watch.Source that
// receives the alerts Lexmark printers send over NPAP (UDP, to port 9187
// by default), attributes them to a printer by their UDP source address
// alone, decodes them (protocol/npap) into signals named like every other
// source's (alerts.NameForCode), and acknowledges each one it accepts.
//
// It mirrors watch/traps: nothing in a datagram is trusted for
// attribution; a refused source costs one lookup and no decoding, and is
// never acknowledged or stored; what is dropped is counted by reason
// (Stats); the socket reader never waits for the consumer, and accepted
// alerts wait in a bounded queue, so a flood costs alerts, never memory.
//
// NPAP's byte layout is inkform's own (docs/protocols/npap.md):
// compatibility with Lexmark firmware is unverified.
package npap

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/inkform/inkform/alerts"
	wire "github.com/inkform/inkform/protocol/npap"
	"github.com/inkform/inkform/watch"
)

// DefaultListen is where printers send NPAP alerts.
const DefaultListen = ":9187"

// DefaultQueueSize is the number of accepted alerts waiting for deliver
// before further ones are dropped.
const DefaultQueueSize = 32768

// Reasons a datagram is dropped, the keys of Stats.Dropped.
const (
	// DropRefused: the source address is neither a printer nor allowed.
	DropRefused = "refused_source"
	// DropOversized: larger than an NPAP datagram may be.
	DropOversized = "oversized"
	// DropUndecodable: not an NPAP datagram the codec could read.
	DropUndecodable = "undecodable"
	// DropNotAlert: NPAP, but not an alert (a request, a reply).
	DropNotAlert = "not_alert"
	// DropQueueFull: accepted, but the queue to deliver was full.
	DropQueueFull = watch.QueueFull
)

// Config configures a Listener.
type Config struct {
	// Listen is the UDP address, DefaultListen when "".
	Listen string
	// Attributor names the printer of a source address and refuses the
	// others. Required.
	Attributor watch.Attributor
	// QueueSize bounds the alerts waiting for deliver; DefaultQueueSize
	// when 0.
	QueueSize int
	// Now stamps received alerts; time.Now when nil.
	Now func() time.Time
}

// Stats are a Listener's counters since it was made.
type Stats struct {
	Received uint64 // datagrams read
	Accepted uint64 // handed to deliver
	Dropped  map[string]uint64
}

// Listener is the NPAP alert Source.
type Listener struct {
	cfg Config

	counts *watch.SourceCounters
	in     *watch.UDPIntake
}

var _ watch.Source = (*Listener)(nil)

// New checks cfg and returns a Listener; it does not open the socket.
func New(cfg Config) (*Listener, error) {
	if cfg.Attributor == nil {
		return nil, errors.New("npap alerts: no attributor")
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	counts := watch.NewSourceCounters(DropRefused, DropOversized, DropUndecodable, DropNotAlert, DropQueueFull)
	in := watch.NewUDPIntake("npap alerts", cfg.Listen, cfg.QueueSize, wire.MaxDatagram, counts)
	return &Listener{cfg: cfg, counts: counts, in: in}, nil
}

// Name is "npap", the Source of the events it makes.
func (l *Listener) Name() string { return alerts.SourceNPAP }

// Ready is closed once the socket listens.
func (l *Listener) Ready() <-chan struct{} { return l.in.Ready() }

// Addr is the UDP address listened on, once Ready is closed.
func (l *Listener) Addr() string { return l.in.Addr() }

// Stats returns the counters; Dropped has every reason, seen or not.
func (l *Listener) Stats() Stats {
	var s Stats
	s.Received, s.Accepted, s.Dropped = l.counts.Snapshot()
	return s
}

// Run listens until ctx is done, calling deliver from one goroutine for
// every accepted alert, which is acknowledged once queued. When ctx ends
// it closes the socket, delivers the alerts already queued and returns
// nil; it returns the error that kept the socket from opening. A
// Listener runs once.
func (l *Listener) Run(ctx context.Context, deliver func(watch.Received)) error {
	return l.in.Run(ctx, func(b []byte, from netip.AddrPort) (watch.Received, func() []byte, string) {
		r, m, reason := l.handle(b, from)
		if reason != "" {
			return r, nil, reason
		}
		return r, func() []byte { return ack(m) }, ""
	}, deliver)
}

// handle judges one datagram: the source first, then its size, then the
// codec.
func (l *Listener) handle(b []byte, from netip.AddrPort) (watch.Received, wire.Message, string) {
	addr := from.Addr().Unmap()
	printer, allowed := l.cfg.Attributor(addr)
	if !allowed {
		return watch.Received{}, wire.Message{}, DropRefused
	}
	if len(b) > wire.MaxDatagram {
		return watch.Received{}, wire.Message{}, DropOversized
	}
	m, err := wire.Binary{}.Decode(b)
	if err != nil {
		return watch.Received{}, wire.Message{}, DropUndecodable
	}
	if m.Op != wire.OpAlert || m.Reply {
		return watch.Received{}, wire.Message{}, DropNotAlert
	}
	return watch.Received{From: addr, Printer: printer, At: l.cfg.Now().UTC(), Signals: Signals(m)}, m, ""
}

// ack is the answer to an accepted alert, a reply of its ID, so that a
// printer that retransmits unacknowledged alerts stops.
func ack(m wire.Message) []byte {
	b, err := wire.Binary{}.Encode(wire.Message{Op: wire.OpAlert, Reply: true, ID: m.ID})
	if err != nil {
		return nil
	}
	return b
}

// maxDescription bounds the description kept from an alert.
const maxDescription = 255

// Signals turns an NPAP alert into signals, one per alert it carries,
// named after the Printer-MIB alert code as traps and polls name theirs:
// a cleared alert, or a "closed" code (coverClosed, doorClosed), clears
// the alert it ends. It trusts nothing: descriptions are bounded and
// stripped of control characters.
func Signals(m wire.Message) []alerts.Signal {
	var out []alerts.Signal
	for i, a := range m.Alerts {
		if i >= 16 {
			break // an alert datagram carries one; bound the rest
		}
		code := int(a.Code)
		s := alerts.Signal{Kind: alerts.Raised, Code: code,
			Index: watch.AlertIndex(int(a.Group), int(a.GroupIndex)), Description: watch.CleanText(a.Description, maxDescription)}
		if ended, ok := alerts.ClearedBy(code); ok {
			s.Kind, s.Code = alerts.Cleared, ended
		} else if a.Kind == wire.AlertCleared {
			s.Kind = alerts.Cleared
		}
		s.Name = alerts.NameForCode(s.Code)
		s.Severity = alerts.SeverityFromMIB(int(a.Severity), s.Name)
		if s.Description == "" {
			s.Description = fmt.Sprintf("printer alert code %d", code)
		}
		out = append(out, s)
	}
	return out
}
