// Package ftp deploys files to printers over FTP: certificates, settings
// bundles and firmware images, which most printers accept by a plain STOR
// to their FTP server.
//
// The client is github.com/jlaffaye/ftp in passive mode (EPSV, falling back
// to PASV). Every reply must arrive whole within Options.Timeout of the
// client starting to wait for it, and every write must go through within
// it, so a printer that stops answering, or trickles a reply that never
// ends, fails the upload instead of hanging; cancelling the context
// closes the connections at once.
package ftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

// DefaultTimeout bounds dialling and each idle wait on a connection.
const DefaultTimeout = 10 * time.Second

// Options configure a Transport. The zero value uses the defaults.
type Options struct {
	// Timeout bounds the dial, each reply (from the moment the client
	// waits for it to its last line) and each write; 0 means
	// DefaultTimeout. It does not bound a whole transfer, so large
	// firmware images are not cut short: the caller's context does.
	Timeout time.Duration
}

// Transport dials printers' FTP servers. It is safe for concurrent use.
type Transport struct {
	timeout time.Duration
}

var _ providers.FileTransport = (*Transport)(nil)

// New returns an FTP transport.
func New(o Options) *Transport {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Transport{timeout: o.Timeout}
}

// Name returns "ftp", as in a printer's transports list.
func (t *Transport) Name() string { return "ftp" }

// DialFiles connects to p's FTP server (p.Ports["ftp"], else the catalog's
// standard port, 21) and
// logs in with p's admin credentials. A refused or filtered port wraps
// providers.ErrPortClosed; refused credentials wrap providers.ErrAuth.
func (t *Transport) DialFiles(ctx context.Context, p fleet.Printer) (providers.FileConn, error) {
	port := catalog.Port(t.Name(), p.Ports)
	addr := net.JoinHostPort(p.Host, strconv.Itoa(port))
	c := &Conn{printer: p.Name, addr: addr, timeout: t.timeout}
	stop := c.begin(ctx)
	defer stop()

	sc, err := ftp.Dial(addr,
		ftp.DialWithDialFunc(c.dial),
		// Printers' FTP servers rarely implement MLSD correctly; LIST is the
		// fallback the size check uses anyway.
		ftp.DialWithDisabledMLSD(true),
		// The reply to a STOR comes after the transfer: a fresh wait,
		// which the client starts by setting the control connection's
		// deadline (see deadlineConn.SetDeadline).
		ftp.DialWithShutTimeout(c.timeout),
	)
	if err != nil {
		c.abort()
		return nil, c.wrapDial(ctx, err)
	}
	c.sc = sc
	user := p.Credentials.Admin.Username
	if err := sc.Login(user, p.Credentials.Admin.Password); err != nil {
		c.abort()
		if code := replyCode(err); code == ftp.StatusNotLoggedIn || code == ftp.StatusInvalidCredentials {
			return nil, &providers.ClassifiedError{Kind: providers.ErrAuth, Cause: err,
				Msg: fmt.Sprintf("printer %s (%s): ftp: login refused for user %q: check the admin credentials", p.Name, addr, user)}
		}
		return nil, c.wrap(ctx, "login", err)
	}
	return c, nil
}

// Conn is a logged-in FTP session to one printer. It belongs to one
// goroutine at a time.
type Conn struct {
	printer string
	addr    string
	timeout time.Duration
	sc      *ftp.ServerConn

	mu    sync.Mutex
	ctx   context.Context // of the operation in progress; bounds dials
	conns []net.Conn      // control and data connections, closed by abort
	last  net.Conn        // the newest: during a transfer, its data connection
}

// resetData makes closing the current data connection send a reset.
func (c *Conn) resetData() {
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if dc, ok := last.(*deadlineConn); ok {
		if tc, ok := dc.Conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	}
}

// begin makes ctx bound the operation that starts: its dials, and its
// cancellation closes the connections. The returned func ends it.
func (c *Conn) begin(ctx context.Context) (end func()) {
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()
	stop := context.AfterFunc(ctx, c.abort)
	return func() { stop() }
}

var _ providers.FileConn = (*Conn)(nil)

// Upload stores r as f.Dest (default: the base name of f.Source), then
// checks that the server holds exactly f.Size bytes under that name.
func (c *Conn) Upload(ctx context.Context, f fleet.File, r io.Reader, progress func(sent int64)) error {
	dest := f.RemoteName()
	if dest == "" || strings.ContainsAny(dest, "\r\n") {
		return fmt.Errorf("printer %s (%s): ftp: invalid destination name %q", c.printer, c.addr, dest)
	}
	end := c.begin(ctx)
	defer end()

	// A source that is not f.Size bytes resets the data connection, so the
	// server sees a failed transfer rather than an end of file.
	src := providers.NewUploadReader(r, f.Size, progress, c.resetData)
	if err := c.sc.Stor(dest, src); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, providers.ErrSourceLonger) {
			// Servers may keep what arrived; remove it, best effort.
			_ = c.sc.Delete(dest)
			return fmt.Errorf("printer %s (%s): ftp: upload %s: the source is not the %d bytes declared (the file changed since it was checked); the upload was aborted", c.printer, c.addr, dest, f.Size)
		}
		return c.wrap(ctx, "upload "+dest, err)
	}
	got, err := c.remoteSize(dest)
	if err != nil {
		return c.wrap(ctx, "size of "+dest, err)
	}
	if got != f.Size {
		return fmt.Errorf("printer %s (%s): ftp: upload %s: the printer holds %d bytes, sent %d", c.printer, c.addr, dest, got, f.Size)
	}
	return nil
}

// remoteSize asks SIZE and falls back to a LIST of the file's folder when
// the server does not implement SIZE.
func (c *Conn) remoteSize(name string) (int64, error) {
	n, err := c.sc.FileSize(name)
	if err == nil {
		return n, nil
	}
	code := replyCode(err)
	if code != ftp.StatusNotImplemented && code != ftp.StatusCommandNotImplemented && code != ftp.StatusBadCommand && code != ftp.StatusBadArguments {
		return 0, err
	}
	dir, base := path.Split(name)
	entries, lerr := c.sc.List(dir)
	if lerr != nil {
		return 0, fmt.Errorf("SIZE not supported (%v) and LIST failed: %w", err, lerr)
	}
	for _, e := range entries {
		if e.Name == base && e.Type == ftp.EntryTypeFile {
			return int64(e.Size), nil
		}
	}
	return 0, fmt.Errorf("SIZE not supported and %s is not in the folder listing", name)
}

// Close logs out and closes the connections.
func (c *Conn) Close() error {
	if c.sc == nil {
		return nil
	}
	err := c.sc.Quit()
	c.abort()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("printer %s (%s): ftp: quit: %w", c.printer, c.addr, err)
	}
	return nil
}

// dial opens the control and data connections, bounded by the timeout and
// the current operation's context, each with idle deadlines.
func (c *Conn) dial(network, address string) (net.Conn, error) {
	c.mu.Lock()
	ctx := c.ctx
	c.mu.Unlock()
	d := net.Dialer{Timeout: c.timeout}
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, &connectError{err}
	}
	dc := &deadlineConn{Conn: nc, timeout: c.timeout}
	c.mu.Lock()
	c.conns = append(c.conns, dc)
	c.last = dc
	c.mu.Unlock()
	return dc, nil
}

// abort closes every connection, unblocking any read or write.
func (c *Conn) abort() {
	c.mu.Lock()
	conns := c.conns
	c.conns = nil
	c.mu.Unlock()
	for _, nc := range conns {
		nc.Close()
	}
}

func (c *Conn) wrapDial(ctx context.Context, err error) error {
	var ce *connectError
	if !errors.As(err, &ce) {
		// Connected, but the greeting did not come.
		return c.wrap(ctx, "greeting", err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("printer %s (%s): ftp: connect: %w", c.printer, c.addr, ctx.Err())
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &providers.ClassifiedError{Kind: providers.ErrPortClosed, Cause: err,
			Msg: fmt.Sprintf("printer %s (%s): ftp: port closed (connection refused)", c.printer, c.addr)}
	case isTimeout(err):
		return &providers.ClassifiedError{Kind: providers.ErrPortClosed, Cause: err,
			Msg: fmt.Sprintf("printer %s (%s): ftp: no answer within %s (port filtered or printer down)", c.printer, c.addr, c.timeout)}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
			Msg: fmt.Sprintf("printer %s (%s): ftp: %v", c.printer, c.addr, err)}
	}
	return fmt.Errorf("printer %s (%s): ftp: connect: %w", c.printer, c.addr, err)
}

func (c *Conn) wrap(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("printer %s (%s): ftp: %s: %w", c.printer, c.addr, op, ctx.Err())
	}
	if isTimeout(err) {
		return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
			Msg: fmt.Sprintf("printer %s (%s): ftp: %s: no answer within %s", c.printer, c.addr, op, c.timeout)}
	}
	return fmt.Errorf("printer %s (%s): ftp: %s: %w", c.printer, c.addr, op, err)
}

// connectError marks a failure to open a TCP connection, as opposed to a
// failure on one that was opened.
type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// replyCode returns the FTP reply code carried by err, or 0.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// deadlineConn bounds each wait for the peer. A write must go through
// within the timeout. A read deadline is set when the client starts
// waiting (its first read after a write, or after the client set a
// deadline itself) and reads do not move it: a peer that trickles a reply
// a line at a time, or a greeting that never ends, cannot hold the client
// past the timeout. The FTP client reads only when it expects a reply, so
// the deadline never fires on a connection that is merely quiet.
type deadlineConn struct {
	net.Conn
	timeout time.Duration

	mu      sync.Mutex
	waiting bool // a read deadline is set for the reply being read
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if !c.waiting {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
			c.mu.Unlock()
			return 0, err
		}
		c.waiting = true
	}
	c.mu.Unlock()
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	c.newWait()
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// SetDeadline is how the client starts waiting for the reply that ends a
// transfer; the next read starts a fresh wait.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.newWait()
	return c.Conn.SetDeadline(t)
}

// newWait makes the next read start a new wait: a command was sent, so a
// new reply is due.
func (c *deadlineConn) newWait() {
	c.mu.Lock()
	c.waiting = false
	c.mu.Unlock()
}
