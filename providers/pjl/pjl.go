// Package pjl reads and writes printer settings with PJL over the RAW
// print port (TCP 9100) and streams files to that port.
//
// A request is one job: UEL, "@PJL", the commands, an "@PJL ECHO <token>",
// UEL. The printer answers INFO, DINQUIRE and ECHO commands in order, each
// answer ending with a form feed; the reply is complete when the echo of
// the job's own token arrives, so answers to an earlier, abandoned job are
// never taken for this one's. docs/protocols/pjl.md has the wire subset.
package pjl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

// Defaults for Options' zero values.
const (
	DefaultTimeout = 5 * time.Second
	DefaultRetries = 1
)

// maxReply caps the bytes read for one job's answer: an INFO VARIABLES
// reply of a large printer is a few tens of KiB.
const maxReply = 1 << 20

// Options tune a Transport.
type Options struct {
	// Timeout bounds connecting and each job's wait for its echo (and,
	// when streaming, each chunk written). Zero means DefaultTimeout.
	Timeout time.Duration
	// Retries is how many more times a timed-out connect or settings job
	// is tried. Zero means DefaultRetries; negative means no retry.
	// Uploads are never repeated: a stream is not resumable.
	Retries int
}

// Transport is the "pjl" settings and file transport. It is safe for
// concurrent use; each Conn it dials belongs to one printer.
type Transport struct {
	cat  *catalog.Catalog
	opts Options
	seq  atomic.Uint64
}

var (
	_ providers.SettingsTransport = (*Transport)(nil)
	_ providers.FileTransport     = (*Transport)(nil)
	_ providers.SettingsConn      = (*Conn)(nil)
	_ providers.FileConn          = (*Conn)(nil)
)

// New returns a transport that maps settings to PJL variables with cat
// (catalog.Default() when nil).
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
	return &Transport{cat: cat, opts: o}
}

// Name returns "pjl".
func (t *Transport) Name() string { return "pjl" }

// DialSettings connects to the printer's PJL port.
func (t *Transport) DialSettings(ctx context.Context, p fleet.Printer) (providers.SettingsConn, error) {
	return t.Dial(ctx, p)
}

// DialFiles connects to the printer's PJL port for streaming files.
func (t *Transport) DialFiles(ctx context.Context, p fleet.Printer) (providers.FileConn, error) {
	return t.Dial(ctx, p)
}

// Dial connects to host:Ports["pjl"], by default the catalog's standard
// port (the RAW print port, 9100). A refused connection
// wraps providers.ErrPortClosed; no answer within the timeout (after the
// retries) wraps providers.ErrUnreachable.
func (t *Transport) Dial(ctx context.Context, p fleet.Printer) (*Conn, error) {
	port := catalog.Port(t.Name(), p.Ports)
	c := &Conn{t: t, printer: p.Name, addr: net.JoinHostPort(p.Host, strconv.Itoa(port))}
	if c.printer == "" {
		c.printer = c.addr
	}
	nc, err := t.dial(ctx, c.printer, c.addr)
	if err != nil {
		return nil, err
	}
	c.nc = nc
	return c, nil
}

func (t *Transport) dial(ctx context.Context, printer, addr string) (net.Conn, error) {
	for attempt := 0; ; attempt++ {
		d := net.Dialer{Timeout: t.opts.Timeout}
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return nc, nil
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("printer %s: pjl: connect %s: %w (%w)", printer, addr, providers.ErrPortClosed, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("printer %s: pjl: connect %s: %w", printer, addr, ctx.Err())
		}
		if attempt >= t.opts.Retries {
			return nil, fmt.Errorf("printer %s: pjl: connect %s: %w (%w)", printer, addr, providers.ErrUnreachable, err)
		}
	}
}

// token returns an echo token no other job of this process uses.
func (t *Transport) token() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "INKFORM-" + strconv.FormatUint(t.seq.Add(1), 10) + "-" + hex.EncodeToString(b[:])
}

// Conn is one connection to one printer's PJL port. A printer runs one
// PJL job at a time, so a Conn serialises its calls; it is safe for
// concurrent use, but calls wait for each other. After a failed job it
// reconnects on the next call.
type Conn struct {
	t       *Transport
	printer string
	addr    string

	mu sync.Mutex
	nc net.Conn // nil after a failure, until the next call reconnects
}

// Close closes the connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc == nil {
		return nil
	}
	err := c.nc.Close()
	c.nc = nil
	return err
}

// Do sends the commands (PJL lines starting with "@PJL") as one job with an
// ECHO after them and returns the printer's reply blocks up to, not
// including, that echo. A job that times out is tried again on a new
// connection up to Options.Retries times, so commands must be idempotent
// (INFO, DINQUIRE, DEFAULT are).
func (c *Conn) Do(ctx context.Context, commands ...string) ([]Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for attempt := 0; ; attempt++ {
		var replies []Reply
		replies, err = c.jobLocked(ctx, commands)
		if err == nil {
			return replies, nil
		}
		c.dropLocked()
		if ctx.Err() != nil || errors.Is(err, errProtocol) || attempt >= c.t.opts.Retries {
			return nil, err
		}
	}
}

func (c *Conn) dropLocked() {
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
}

func (c *Conn) connectLocked(ctx context.Context) error {
	if c.nc != nil {
		return nil
	}
	nc, err := c.t.dial(ctx, c.printer, c.addr)
	if err != nil {
		return err
	}
	c.nc = nc
	return nil
}

// errProtocol marks failures a retry cannot fix.
var errProtocol = errors.New("pjl protocol error")

func (c *Conn) jobLocked(ctx context.Context, commands []string) ([]Reply, error) {
	if err := c.connectLocked(ctx); err != nil {
		return nil, err
	}
	token := c.t.token()
	echo, err := Echo(token)
	if err != nil {
		return nil, fmt.Errorf("printer %s: pjl: %w", c.printer, err)
	}
	for _, cmd := range commands {
		if len(cmd) > maxCommandLen || strings.ContainsAny(cmd, "\r\n\f\x1b") {
			return nil, fmt.Errorf("printer %s: pjl: command of %d bytes is too long or spans lines: %w", c.printer, len(cmd), errProtocol)
		}
	}
	nc := c.nc
	stop := c.deadline(ctx, nc)
	defer stop()
	if _, err := nc.Write(Job(append(slices.Clone(commands), echo)...)); err != nil {
		return nil, c.ioError(ctx, "send job", err)
	}
	replies, err := c.awaitEcho(ctx, nc, token)
	if err != nil {
		return nil, err
	}
	return replies, nil
}

// deadline bounds the exchange by the timeout and the context; the
// returned func lifts the context's hold.
func (c *Conn) deadline(ctx context.Context, nc net.Conn) func() bool {
	d := time.Now().Add(c.t.opts.Timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	nc.SetDeadline(d)
	// A cancelled context interrupts a blocked read or write at once.
	return context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
}

// awaitEcho reads until the echo of token; it returns the blocks before
// the echo that came after the previous echo of any other token.
func (c *Conn) awaitEcho(ctx context.Context, nc net.Conn, token string) ([]Reply, error) {
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 4096)
	for {
		n, err := nc.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if n > 0 {
			if replies, ok := echoed(buf, token); ok {
				return replies, nil
			}
		}
		if len(buf) > maxReply {
			return nil, fmt.Errorf("printer %s: pjl: reply exceeds %d bytes without the echo: %w", c.printer, maxReply, errProtocol)
		}
		if err != nil {
			return nil, c.ioError(ctx, "await echo", err)
		}
	}
}

// echoed reports whether buf holds the echo of token, and returns the
// reply blocks of this job: those after the last foreign echo (answers to
// an abandoned earlier job) and before the echo of token.
func echoed(buf []byte, token string) ([]Reply, bool) {
	all := ParseReply(buf)
	start := 0
	for i, r := range all {
		if !strings.HasPrefix(strings.ToUpper(r.Command), "ECHO") {
			continue
		}
		if !r.Is("ECHO", token) {
			start = i + 1
			continue
		}
		// A last block without its form feed counts once its header line
		// has ended: some printers send the form feed late or not at all.
		if !r.Complete && !endsLine(buf) {
			return nil, false
		}
		return all[start:i], true
	}
	return nil, false
}

func endsLine(b []byte) bool {
	return len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r')
}

func (c *Conn) ioError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("printer %s: pjl: %s: %w", c.printer, what, ctx.Err())
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("printer %s: pjl: %s: no answer within %s: %w", c.printer, what, c.t.opts.Timeout, providers.ErrUnreachable)
	}
	return fmt.Errorf("printer %s: pjl: %s: %w (%w)", c.printer, what, providers.ErrUnreachable, err)
}

// Identify returns the model from INFO ID.
func (c *Conn) Identify(ctx context.Context) (string, error) {
	replies, err := c.Do(ctx, Info("ID"))
	if err != nil {
		return "", err
	}
	for _, r := range replies {
		if r.Is("INFO", "ID") {
			if m, ok := ModelOf(r); ok {
				return m, nil
			}
		}
	}
	return "", fmt.Errorf("printer %s: pjl: INFO ID: %w", c.printer, providers.ErrUnsupported)
}

// Variables returns the entries of INFO VARIABLES: every PJL variable the
// printer has, its default and its allowed values.
func (c *Conn) Variables(ctx context.Context) ([]Entry, error) { return c.info(ctx, "VARIABLES") }

// Config returns the entries of INFO CONFIG: trays, languages, memory.
func (c *Conn) Config(ctx context.Context) ([]Entry, error) { return c.info(ctx, "CONFIG") }

func (c *Conn) info(ctx context.Context, category string) ([]Entry, error) {
	replies, err := c.Do(ctx, Info(category))
	if err != nil {
		return nil, err
	}
	for _, r := range replies {
		if r.Is("INFO", category) {
			if len(r.Lines) == 1 && Unquote(r.Lines[0]) == "?" {
				return nil, fmt.Errorf("printer %s: pjl: INFO %s: %w", c.printer, category, providers.ErrUnsupported)
			}
			return ParseEntries(r.Lines), nil
		}
	}
	return nil, fmt.Errorf("printer %s: pjl: INFO %s: %w", c.printer, category, providers.ErrUnsupported)
}

// binding is one setting reached through a PJL variable.
type binding struct {
	name    string
	setting catalog.Setting
	pjl     *catalog.PJL
}

func (c *Conn) bindingOf(family, name string) (binding, bool) {
	s, ok := c.t.cat.Lookup(name)
	if !ok {
		return binding{}, false
	}
	b := s.Bindings(family).PJL
	if b == nil || checkVariable(b.Variable) != nil {
		return binding{}, false
	}
	return binding{name: name, setting: s, pjl: b}, true
}

// ReadSettings reads the named settings with one job of DINQUIREs. Names
// without a PJL binding for the family, and variables the printer answers
// with "?" (or not at all), come back in unsupported.
func (c *Conn) ReadSettings(ctx context.Context, family string, names []string) (map[string]string, []string, error) {
	values := map[string]string{}
	var unsupported []string
	var bound []binding
	var commands []string
	asked := map[string]bool{}
	for _, name := range names {
		b, ok := c.bindingOf(family, name)
		if !ok {
			unsupported = append(unsupported, name)
			continue
		}
		bound = append(bound, b)
		key := strings.ToUpper(b.pjl.Variable)
		if !asked[key] {
			asked[key] = true
			cmd, _ := DInquire(b.pjl.Variable) // checked by bindingOf
			commands = append(commands, cmd)
		}
	}
	if len(commands) == 0 {
		return values, unsupported, nil
	}
	replies, err := c.Do(ctx, commands...)
	if err != nil {
		return nil, nil, err
	}
	for _, b := range bound {
		v, ok := answer(replies, "DINQUIRE", b.pjl.Variable)
		if !ok {
			unsupported = append(unsupported, b.name)
			continue
		}
		values[b.name] = fromPJL(b, v)
	}
	return values, unsupported, nil
}

func answer(replies []Reply, command, variable string) (string, bool) {
	for _, r := range replies {
		if r.Is(command, variable) {
			return r.Value()
		}
	}
	return "", false
}

// fromPJL maps a PJL value back to the catalog's form: through the
// binding's value map (exact, then ignoring case), then to the enum value
// that matches ignoring case; otherwise unchanged.
func fromPJL(b binding, v string) string {
	keys := make([]string, 0, len(b.pjl.Values))
	for k := range b.pjl.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if b.pjl.Values[k] == v {
			return k
		}
	}
	for _, k := range keys {
		if strings.EqualFold(b.pjl.Values[k], v) {
			return k
		}
	}
	if b.setting.Type == catalog.TypeEnum {
		for _, e := range b.setting.Enum {
			if strings.EqualFold(e, v) {
				return e
			}
		}
	}
	return v
}

// toPJL maps a catalog value to the PJL value.
func toPJL(b binding, v string) string {
	if pv, ok := b.pjl.Values[v]; ok {
		return pv
	}
	return v
}

// WriteSettings writes the values with one job of DEFAULT commands and an
// ECHO that confirms the printer read them. A printer ignores a value it
// does not accept; callers verify by reading again. A setting without a
// PJL binding for the family is an error wrapping providers.ErrUnsupported.
func (c *Conn) WriteSettings(ctx context.Context, family string, values []fleet.Desired) error {
	var commands []string
	for _, d := range values {
		b, ok := c.bindingOf(family, d.Name)
		if !ok {
			return fmt.Errorf("printer %s: pjl: setting %s: no PJL variable for model family %q: %w", c.printer, d.Name, family, providers.ErrUnsupported)
		}
		v, err := b.setting.Validate(d.Value)
		if err != nil {
			if d.Sensitive {
				return fmt.Errorf("printer %s: pjl: setting %s: the (sensitive) value is not valid", c.printer, d.Name)
			}
			return fmt.Errorf("printer %s: pjl: %w", c.printer, err)
		}
		cmd, err := Default(b.pjl.Variable, toPJL(b, v))
		if err != nil {
			return fmt.Errorf("printer %s: pjl: setting %s: %w", c.printer, d.Name, err)
		}
		commands = append(commands, cmd)
	}
	if len(commands) == 0 {
		return nil
	}
	_, err := c.Do(ctx, commands...)
	return err
}
