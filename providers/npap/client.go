// Package npap reads and writes printer settings over NPAP, Lexmark's
// UDP management protocol (IEEE 1284.1), on UDP port 9300, and registers
// a server for the printer's NPAP alerts. The wire format is inkform's own
// (protocol/npap, docs/protocols/npap.md): compatibility with Lexmark
// firmware is unverified, and inkform's simulator is the only peer it has
// been tested against.
//
// The client is datagram request and reply: each request gets a new ID
// and is sent again, with the same ID, after a timeout that doubles each
// time; a reply counts only when it comes from the printer's address and
// port, decodes, and carries the request's operation and ID. Everything
// else is dropped and counted (Stats).
//
// The same client speaks XMLNT with protocol/xmlnt's codec
// (providers/xmlnt): Options.Codec and Options.Name choose the protocol.
package npap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	wire "github.com/inkform/inkform/protocol/npap"
	"github.com/inkform/inkform/providers"
)

// Defaults for Options' zero values.
const (
	DefaultTimeout = time.Second
	DefaultRetries = 2
	// Name is the transport's name in the catalog's transport table.
	Name = "npap"
)

// Reasons a datagram that reached the client is dropped, the keys of
// Stats.Dropped.
const (
	DropWrongSource = "wrong_source" // not from the printer's address and port
	DropOversized   = "oversized"    // larger than the codec's datagram limit
	DropMalformed   = "malformed"    // did not decode
	DropUnexpected  = "unexpected"   // decoded, but not a reply to the request waited for
)

// Options tune a Transport.
type Options struct {
	// Timeout is how long the first attempt waits for its reply; each
	// retransmission waits twice as long as the one before. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Retries is how many times a request is sent again. Zero means
	// DefaultRetries; negative means none.
	Retries int
	// Codec is the wire format; wire.Binary (NPAP) when nil.
	Codec wire.Codec
	// Name is the transport's name in the catalog's transport table;
	// "npap" when "". Its row gives the standard port.
	Name string
}

// Stats count what a Transport's connections dropped.
type Stats struct {
	Sent        uint64 // datagrams sent, retransmissions included
	Retransmits uint64
	Replies     uint64 // replies accepted
	Dropped     map[string]uint64
}

// Transport is the "npap" settings transport and a providers.Connector.
// It is safe for concurrent use.
type Transport struct {
	cat  *catalog.Catalog
	opts Options

	sent, retransmits, replies atomic.Uint64
	dropped                    sync.Map // reason → *atomic.Uint64
}

var (
	_ providers.SettingsTransport = (*Transport)(nil)
	_ providers.Connector         = (*Transport)(nil)
	_ providers.SettingsConn      = (*Conn)(nil)
)

// New returns a transport that maps settings to NPAP setting numbers with
// cat (catalog.Default() when nil).
func New(cat *catalog.Catalog, o Options) *Transport {
	if cat == nil {
		cat = catalog.Default()
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Codec == nil {
		o.Codec = wire.Binary{}
	}
	if o.Name == "" {
		o.Name = Name
	}
	t := &Transport{cat: cat, opts: o}
	for _, r := range []string{DropWrongSource, DropOversized, DropMalformed, DropUnexpected} {
		t.dropped.Store(r, new(atomic.Uint64))
	}
	return t
}

// Name returns the transport's name ("npap", or Options.Name).
func (t *Transport) Name() string { return t.opts.Name }

// Stats returns the counters of every connection the transport dialled.
func (t *Transport) Stats() Stats {
	s := Stats{Sent: t.sent.Load(), Retransmits: t.retransmits.Load(), Replies: t.replies.Load(), Dropped: map[string]uint64{}}
	t.dropped.Range(func(k, v any) bool {
		s.Dropped[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return s
}

func (t *Transport) drop(reason string) {
	v, _ := t.dropped.Load(reason)
	v.(*atomic.Uint64).Add(1)
}

// Dial resolves the printer's address and opens a UDP socket for it. It
// sends nothing.
func (t *Transport) Dial(ctx context.Context, p fleet.Printer) (*Conn, error) {
	port := catalog.Port(t.opts.Name, p.Ports)
	printer := p.Name
	if printer == "" {
		printer = net.JoinHostPort(p.Host, strconv.Itoa(port))
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", p.Host)
	if err != nil || len(ips) == 0 {
		return nil, &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
			Msg: fmt.Sprintf("printer %s: %s: resolve %s: %v", printer, t.opts.Name, p.Host, err)}
	}
	addr := netip.AddrPortFrom(ips[0].Unmap(), uint16(port))
	network := "udp4"
	if addr.Addr().Is6() {
		network = "udp6"
	}
	// Unconnected, so that replies from any other address reach the
	// client to be counted and ignored.
	uc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("printer %s: %s: open socket: %w", printer, t.opts.Name, err)
	}
	return &Conn{t: t, printer: printer, addr: addr, uc: uc, password: p.Credentials.Admin.Password,
		buf: make([]byte, t.opts.Codec.MaxDatagram()+1), nextID: idSeed()}, nil
}

// idSeed starts a connection's request IDs somewhere unpredictable, so
// that a late reply to another connection's request rarely matches.
func idSeed() uint32 {
	return uint32(time.Now().UnixNano()) * 2654435761
}

// DialSettings dials the printer and asks it who it is: a printer that
// does not answer within the retries is reported as a closed port (UDP
// cannot tell closed from filtered or disabled), so the router falls back
// to the printer's next transport.
func (t *Transport) DialSettings(ctx context.Context, p fleet.Printer) (providers.SettingsConn, error) {
	c, err := t.Dial(ctx, p)
	if err != nil {
		return nil, err
	}
	if _, err := c.Identify(ctx); err != nil {
		c.Close()
		if errors.Is(err, providers.ErrUnreachable) && ctx.Err() == nil {
			return nil, &providers.ClassifiedError{Kind: providers.ErrPortClosed, Cause: err,
				Msg: fmt.Sprintf("no answer on UDP port %d (closed, filtered, or %s disabled): %v", c.addr.Port(), t.opts.Name, err)}
		}
		return nil, err
	}
	return c, nil
}

// Conn is one printer over NPAP. A Conn has one request outstanding at a
// time: it is safe for concurrent use, but calls wait for each other.
type Conn struct {
	t        *Transport
	printer  string
	addr     netip.AddrPort
	password string // secret

	mu     sync.Mutex
	uc     *net.UDPConn
	buf    []byte
	nextID uint32
}

// Addr is the printer's address and port.
func (c *Conn) Addr() netip.AddrPort { return c.addr }

// Close closes the socket.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uc == nil {
		return nil
	}
	err := c.uc.Close()
	c.uc = nil
	return err
}

// LocalAddr is the socket's own address.
func (c *Conn) LocalAddr() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uc == nil {
		return netip.AddrPort{}
	}
	return c.uc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Do sends req (its ID set to a new one) and returns the reply: a reply
// whose Error is set is returned as an error (*wire.Error inside).
// Without a reply after the retries it returns an error wrapping
// providers.ErrUnreachable.
func (c *Conn) Do(ctx context.Context, req wire.Message) (wire.Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uc == nil {
		return wire.Message{}, fmt.Errorf("printer %s: %s: connection closed", c.printer, c.t.opts.Name)
	}
	c.nextID++
	if c.nextID == 0 {
		c.nextID++
	}
	req.ID, req.Reply = c.nextID, false
	b, err := c.t.opts.Codec.Encode(req)
	if err != nil {
		return wire.Message{}, fmt.Errorf("printer %s: %s: %w", c.printer, c.t.opts.Name, err)
	}
	stop := context.AfterFunc(ctx, func() { c.uc.SetReadDeadline(time.Now()) })
	defer stop()
	wait := c.t.opts.Timeout
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return wire.Message{}, fmt.Errorf("printer %s: %s: %s: %w", c.printer, c.t.opts.Name, req.Op, err)
		}
		if attempt > 0 {
			c.t.retransmits.Add(1)
		}
		if _, err := c.uc.WriteToUDPAddrPort(b, c.addr); err != nil {
			return wire.Message{}, &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
				Msg: fmt.Sprintf("printer %s: %s: send %s to %s: %v", c.printer, c.t.opts.Name, req.Op, c.addr, err)}
		}
		c.t.sent.Add(1)
		deadline := time.Now().Add(wait)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		reply, ok, err := c.await(ctx, req, deadline)
		if err != nil {
			return wire.Message{}, err
		}
		if ok {
			c.t.replies.Add(1)
			if reply.Error != nil {
				return reply, c.replyError(req.Op, reply.Error)
			}
			return reply, nil
		}
		if attempt >= c.t.opts.Retries {
			total := c.t.opts.Timeout * (1<<(attempt+1) - 1)
			return wire.Message{}, &providers.ClassifiedError{Kind: providers.ErrUnreachable,
				Msg: fmt.Sprintf("printer %s: %s: %s: no answer from %s within %s (%d attempts)", c.printer, c.t.opts.Name, req.Op, c.addr, total, attempt+1)}
		}
		wait *= 2
	}
}

// await reads until the reply to req arrives (ok), the deadline passes
// (not ok), or ctx ends (error).
func (c *Conn) await(ctx context.Context, req wire.Message, deadline time.Time) (wire.Message, bool, error) {
	c.uc.SetReadDeadline(deadline)
	if ctx.Err() != nil {
		// The AfterFunc may have run before this deadline replaced its.
		return wire.Message{}, false, fmt.Errorf("printer %s: %s: %s: %w", c.printer, c.t.opts.Name, req.Op, ctx.Err())
	}
	for {
		n, from, err := c.uc.ReadFromUDPAddrPort(c.buf)
		if err != nil {
			if ctx.Err() != nil {
				return wire.Message{}, false, fmt.Errorf("printer %s: %s: %s: %w", c.printer, c.t.opts.Name, req.Op, ctx.Err())
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return wire.Message{}, false, nil
			}
			// An ICMP error surfaced on the socket: keep waiting.
			if time.Now().Before(deadline) {
				continue
			}
			return wire.Message{}, false, nil
		}
		if from.Addr().Unmap() != c.addr.Addr() || from.Port() != c.addr.Port() {
			c.t.drop(DropWrongSource)
			continue
		}
		if n > c.t.opts.Codec.MaxDatagram() {
			c.t.drop(DropOversized)
			continue
		}
		m, err := c.t.opts.Codec.Decode(c.buf[:n])
		if err != nil {
			c.t.drop(DropMalformed)
			continue
		}
		if !m.Reply || m.Op != req.Op || m.ID != req.ID {
			c.t.drop(DropUnexpected) // e.g. a late reply to an earlier request
			continue
		}
		return m, true, nil
	}
}

// replyError turns a reply's error into a Go error: an unauthorized
// request wraps providers.ErrAuth.
func (c *Conn) replyError(op wire.Op, e *wire.Error) error {
	msg := fmt.Sprintf("printer %s: %s: %s: the printer answered %s", c.printer, c.t.opts.Name, op, e.Error())
	switch e.Code {
	case wire.CodeUnauthorized:
		return &providers.ClassifiedError{Kind: providers.ErrAuth, Cause: e,
			Msg: fmt.Sprintf("printer %s: %s: %s: the printer refused the administrator password", c.printer, c.t.opts.Name, op)}
	case wire.CodeUnknownOp:
		return &providers.ClassifiedError{Kind: providers.ErrUnsupported, Cause: e, Msg: msg}
	}
	return &providers.ClassifiedError{Cause: e, Msg: msg}
}

// Identify asks the printer who it is.
func (c *Conn) Identify(ctx context.Context) (wire.Identity, error) {
	r, err := c.Do(ctx, wire.Message{Op: wire.OpIdentify})
	if err != nil {
		return wire.Identity{}, err
	}
	if r.Identity == nil {
		return wire.Identity{}, fmt.Errorf("printer %s: %s: identify: the reply has no identity", c.printer, c.t.opts.Name)
	}
	return *r.Identity, nil
}

// Status asks for the printer's status and its active alerts.
func (c *Conn) Status(ctx context.Context) (wire.Status, []wire.Alert, error) {
	r, err := c.Do(ctx, wire.Message{Op: wire.OpStatus})
	if err != nil {
		return 0, nil, err
	}
	return r.Status, r.Alerts, nil
}

// Register asks the printer to send its alerts to port on this host's
// address as the printer sees it, for lifetime (0: the printer's
// default); it returns the lifetime granted. Registering again renews.
func (c *Conn) Register(ctx context.Context, port uint16, lifetime time.Duration) (time.Duration, error) {
	r, err := c.Do(ctx, wire.Message{Op: wire.OpRegister, Port: port, Lifetime: uint32(lifetime / time.Second), Password: c.password})
	if err != nil {
		return 0, err
	}
	return time.Duration(r.Lifetime) * time.Second, nil
}

// Unregister asks the printer to stop sending alerts to port.
func (c *Conn) Unregister(ctx context.Context, port uint16) error {
	_, err := c.Do(ctx, wire.Message{Op: wire.OpUnregister, Port: port, Password: c.password})
	return err
}
