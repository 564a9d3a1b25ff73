package watch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// SourceCounters count what a listening source (traps, NPAP alerts)
// received, accepted and dropped, by reason: what a source drops is never
// stored, so these counters are the only trace of it. Safe for concurrent
// use.
type SourceCounters struct {
	received, accepted atomic.Uint64
	dropped            sync.Map // reason → *atomic.Uint64
}

// NewSourceCounters counts the reasons given from 0, so that each shows
// before it first happens.
func NewSourceCounters(reasons ...string) *SourceCounters {
	c := &SourceCounters{}
	for _, r := range reasons {
		c.dropped.Store(r, new(atomic.Uint64))
	}
	return c
}

// Received counts one datagram read.
func (c *SourceCounters) Received() { c.received.Add(1) }

// Accepted counts one alert handed on.
func (c *SourceCounters) Accepted() { c.accepted.Add(1) }

// Drop counts one datagram dropped for reason.
func (c *SourceCounters) Drop(reason string) {
	v, ok := c.dropped.Load(reason)
	if !ok {
		v, _ = c.dropped.LoadOrStore(reason, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// Snapshot returns the counts; dropped has every reason seen or given.
func (c *SourceCounters) Snapshot() (received, accepted uint64, dropped map[string]uint64) {
	dropped = map[string]uint64{}
	c.dropped.Range(func(k, v any) bool {
		dropped[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return c.received.Load(), c.accepted.Load(), dropped
}

// CleanText makes text a printer sent fit for an email: valid UTF-8,
// tabs and line breaks as spaces, no other control characters, trimmed,
// at most max runes.
func CleanText(s string, max int) string {
	if len(s) > 4*max {
		s = s[:4*max]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			if r == '\t' || r == '\n' {
				return ' '
			}
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

// QueueFull is the drop reason of a datagram accepted while the queue to
// the engine was full.
const QueueFull = "queue_full"

// socketBuffer is the receive buffer asked of the kernel: a larger one
// rides out a burst while the reader decodes; the system may grant less,
// which only costs more drops.
const socketBuffer = 4 << 20

// UDPIntake is the socket side of a source that printers send datagrams
// to (SNMP traps, NPAP alerts): one reader that never waits for the
// engine, a bounded queue to it, and every datagram counted.
type UDPIntake struct {
	name, listen string
	queueSize    int
	maxDatagram  int
	counts       *SourceCounters

	addr      atomic.Value // string: the address listened on
	ready     chan struct{}
	readyOnce sync.Once
	running   atomic.Bool
}

// NewUDPIntake listens on listen (host:port) once run; name starts its
// errors ("snmp traps"); datagrams longer than maxDatagram are handed
// over cut to maxDatagram+1 bytes, so that a handler can tell.
func NewUDPIntake(name, listen string, queueSize, maxDatagram int, counts *SourceCounters) *UDPIntake {
	return &UDPIntake{name: name, listen: listen, queueSize: queueSize, maxDatagram: maxDatagram, counts: counts, ready: make(chan struct{})}
}

// Ready is closed once the socket listens.
func (u *UDPIntake) Ready() <-chan struct{} { return u.ready }

// Addr is the UDP address listened on, once Ready is closed (the port
// chosen when listen asked for port 0).
func (u *UDPIntake) Addr() string {
	a, _ := u.addr.Load().(string)
	return a
}

// Judge decides on one datagram: what to deliver and, once it is
// queued, the answer to send back (nil: none); or why it is dropped.
type Judge func(b []byte, from netip.AddrPort) (r Received, answer func() []byte, drop string)

// Run listens until ctx is done, calling deliver from one goroutine for
// every datagram judge accepts. When ctx ends it closes the socket,
// delivers what is queued and returns nil; it returns the error that
// kept the socket from opening. It runs once.
func (u *UDPIntake) Run(ctx context.Context, judge Judge, deliver func(Received)) error {
	if !u.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%s: listener already ran", u.name)
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", u.listen)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", u.name, u.listen, err)
	}
	conn := pc.(*net.UDPConn)
	_ = conn.SetReadBuffer(socketBuffer)
	u.addr.Store(conn.LocalAddr().String())
	u.readyOnce.Do(func() { close(u.ready) })

	queue := make(chan Received, u.queueSize)
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ctx.Done()
		conn.Close() // ends the reader
	})
	wg.Go(func() {
		for r := range queue {
			deliver(r)
		}
	})
	u.read(conn, judge, queue)
	close(queue)
	wg.Wait()
	return nil
}

func (u *UDPIntake) read(conn *net.UDPConn, judge Judge, queue chan<- Received) {
	buf := make([]byte, u.maxDatagram+1)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. an ICMP error reported on the socket
		}
		u.counts.Received()
		r, answer, drop := judge(buf[:n], from)
		if drop != "" {
			u.counts.Drop(drop)
			continue
		}
		// The reader is the queue's only sender, so a queue with room
		// now still has room at the send, which cannot block. Dropped
		// here, the datagram is not answered: a sender that retries
		// sends it again.
		if len(queue) == cap(queue) {
			u.counts.Drop(QueueFull)
			continue
		}
		u.counts.Accepted()
		queue <- r
		if answer != nil {
			if b := answer(); b != nil {
				_, _ = conn.WriteToUDPAddrPort(b, from)
			}
		}
	}
}
