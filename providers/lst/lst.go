// Package lst reaches secured printers over LST, Lexmark's channel for them
// (a TCP 6110 handshake, then UDP 6100 data), as inkform builds it from
// standard parts only, since Lexmark does not publish its layout:
//
//  1. TLS 1.3 on TCP (crypto/tls): the printer's certificate is pinned by
//     SHA-256 (tls_fingerprint), verified against a CA (ca_cert) or
//     against the system's roots; then the admin login is checked inside
//     that channel, which stays open for the session's life.
//  2. DTLS 1.2 on UDP (pion/dtls) with a pre-shared key exported from the
//     TLS session (RFC 5705 keying material, label wire.ExporterLabel,
//     the login's nonce as context) under a PSK identity the printer
//     handed out in the TLS channel.
//  3. Small versioned frames inside DTLS: identity, status, read and
//     write settings by catalog name (package wire).
//
// Compatibility with Lexmark firmware is unverified: this is inkform's own
// protocol on LST's ports (docs/protocols/lst.md).
package lst

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/lst/wire"
)

// Name is the transport's name in the catalog's table and in HCL.
const Name = "lst"

// DefaultTimeout bounds connecting, each handshake and each request.
const DefaultTimeout = 5 * time.Second

// firstResend is how long a request waits for its reply before it is sent
// again; each wait doubles, within the request's timeout. UDP loses
// datagrams; every request is safe to repeat (reads change nothing, writes
// are idempotent).
const firstResend = 250 * time.Millisecond

// batch bounds the names or values in one request, so that a frame stays
// well within wire.MaxBody.
const batch = 32

// Options tune a Transport.
type Options struct {
	// Timeout bounds the TCP connect, the TLS handshake with the login,
	// the DTLS handshake and each request's wait for its reply. Zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Transport is the "lst" settings transport. Safe for concurrent use.
type Transport struct {
	cat  *catalog.Catalog
	opts Options
}

var (
	_ providers.SettingsTransport = (*Transport)(nil)
	_ providers.SettingsConn      = (*Conn)(nil)
)

// New returns a transport that checks values against cat
// (catalog.Default() when nil).
func New(cat *catalog.Catalog, o Options) *Transport {
	if cat == nil {
		cat = catalog.Default()
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Transport{cat: cat, opts: o}
}

// Name returns "lst".
func (t *Transport) Name() string { return Name }

// DialSettings opens a session; see Dial.
func (t *Transport) DialSettings(ctx context.Context, p fleet.Printer) (providers.SettingsConn, error) {
	return t.Dial(ctx, p)
}

// Conn is one LST session with one printer: the TLS control channel and
// the DTLS data channel. Calls are serialised; it is safe for concurrent
// use.
type Conn struct {
	printer, addr string
	user          string
	cat           *catalog.Catalog
	timeout       time.Duration

	mu   sync.Mutex
	ctl  *tls.Conn
	data *dtls.Conn
	seq  uint32
	buf  []byte
}

// Dial connects to p.Host:Ports["lst"] (default 6110), checks the
// printer's certificate and logs in with p's admin credentials, then opens
// the DTLS data channel to the port the printer names. A refused or
// filtered TCP port wraps providers.ErrPortClosed; a refused login wraps
// providers.ErrAuth.
func (t *Transport) Dial(ctx context.Context, p fleet.Printer) (*Conn, error) {
	port := catalog.Port(Name, p.Ports)
	c := &Conn{
		printer: p.Name, addr: net.JoinHostPort(p.Host, strconv.Itoa(port)),
		user: p.Credentials.Admin.Username, cat: t.cat, timeout: t.opts.Timeout,
	}
	if c.printer == "" {
		c.printer = c.addr
	}
	conf, err := c.tlsConfig(p)
	if err != nil {
		return nil, err
	}
	if p.Credentials.Admin.Username == "" {
		return nil, &providers.ClassifiedError{Kind: providers.ErrAuth,
			Msg: fmt.Sprintf("printer %s (%s): lst: the session needs the admin login and no admin credentials are set", c.printer, c.addr)}
	}
	// Each stage has its own timeout: connect with the TLS handshake, the
	// login, the DTLS handshake.
	stage := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, c.timeout) }
	sctx, cancel := stage()
	defer cancel()
	d := net.Dialer{Timeout: c.timeout}
	nc, err := d.DialContext(sctx, "tcp", c.addr)
	if err != nil {
		return nil, c.connectError(ctx, err)
	}
	tc := tls.Client(nc, conf)
	if err := tc.HandshakeContext(sctx); err != nil {
		nc.Close()
		return nil, c.handshakeError(ctx, err)
	}
	c.ctl = tc
	lctx, cancel := stage()
	defer cancel()
	grant, err := c.login(lctx, p.Credentials.Admin)
	if err != nil {
		tc.Close()
		return nil, err
	}
	dctx, cancel := stage()
	defer cancel()
	if err := c.openData(dctx, nc.RemoteAddr(), grant); err != nil {
		tc.Close()
		return nil, err
	}
	return c, nil
}

// login sends the admin credentials inside TLS and returns the grant.
func (c *Conn) login(ctx context.Context, admin fleet.Admin) (wire.LoginReply, error) {
	stop := deadline(ctx, c.ctl)
	defer stop()
	c.seq++
	f, err := wire.NewFrame(wire.TypeLogin, c.seq, wire.Login{User: admin.Username, Password: admin.Password})
	if err != nil {
		return wire.LoginReply{}, c.errorf("login: %w", err)
	}
	if err := wire.WriteFrame(c.ctl, f); err != nil {
		return wire.LoginReply{}, c.ioError(ctx, "send login", err)
	}
	r, err := wire.ReadFrame(c.ctl)
	if err != nil {
		if errors.Is(err, wire.ErrVersion) || errors.Is(err, wire.ErrBody) || errors.Is(err, wire.ErrLength) {
			return wire.LoginReply{}, c.errorf("login reply: %w", err)
		}
		return wire.LoginReply{}, c.ioError(ctx, "read login reply", err)
	}
	if r.ID != f.ID {
		return wire.LoginReply{}, c.errorf("login reply answers request %d, not %d", r.ID, f.ID)
	}
	if r.Type == wire.TypeError {
		var e wire.ErrorReply
		_ = r.Unmarshal(&e)
		if e.Code == wire.CodeAuth {
			return wire.LoginReply{}, &providers.ClassifiedError{Kind: providers.ErrAuth,
				Msg: fmt.Sprintf("printer %s (%s): lst: login refused for user %q: check the admin credentials", c.printer, c.addr, c.user)}
		}
		return wire.LoginReply{}, c.errorf("login: the printer answered %s: %s", e.Code, clean(e.Message))
	}
	if r.Type != wire.TypeLogin.Reply() {
		return wire.LoginReply{}, c.errorf("login: unexpected %s", r.Type)
	}
	var g wire.LoginReply
	if err := r.Unmarshal(&g); err != nil {
		return wire.LoginReply{}, c.errorf("login reply: %w", err)
	}
	if g.Identity == "" || len(g.Identity) > 128 || g.DataPort < 1 || g.DataPort > 65535 {
		return wire.LoginReply{}, c.errorf("login reply: no usable PSK identity or data port")
	}
	return g, nil
}

// openData runs the DTLS handshake with the exported PSK to the data port
// on the host the control channel reached (never another host).
func (c *Conn) openData(ctx context.Context, ctlAddr net.Addr, g wire.LoginReply) error {
	psk, err := wire.DerivePSK(c.ctl.ConnectionState(), g.Nonce)
	if err != nil {
		return c.errorf("%w", err)
	}
	ip := ctlAddr.(*net.TCPAddr).IP
	raddr := &net.UDPAddr{IP: ip, Port: g.DataPort}
	dc, err := dtls.DialWithOptions("udp", raddr,
		dtls.WithPSK(func([]byte) ([]byte, error) { return psk, nil }),
		dtls.WithPSKIdentityHint([]byte(g.Identity)),
		dtls.WithCipherSuites(wire.CipherSuites...),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(wire.QuietLogs),
	)
	if err != nil {
		return c.errorf("data channel %s: %w", raddr, err)
	}
	if err := dc.HandshakeContext(ctx); err != nil {
		dc.Close()
		if ctx.Err() != nil {
			return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
				Msg: fmt.Sprintf("printer %s (%s): lst: data channel udp %s: no DTLS handshake within %s", c.printer, c.addr, raddr, c.timeout)}
		}
		return c.errorf("data channel udp %s: dtls handshake: %w", raddr, err)
	}
	c.data = dc
	c.buf = make([]byte, wire.HeaderLen+wire.MaxBody+1)
	return nil
}

// request sends one request over DTLS and decodes its reply into out,
// sending it again while no reply comes, within the timeout.
func (c *Conn) request(ctx context.Context, t wire.Type, msg, out any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		return c.errorf("session closed")
	}
	c.seq++
	f, err := wire.NewFrame(t, c.seq, msg)
	if err != nil {
		return c.errorf("%w", err)
	}
	b, err := f.Append(nil)
	if err != nil {
		return c.errorf("%w", err)
	}
	end := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	stop := context.AfterFunc(ctx, func() { c.data.SetDeadline(time.Now()) })
	defer stop()
	wait := firstResend
	for {
		c.data.SetWriteDeadline(end)
		if _, err := c.data.Write(b); err != nil {
			return c.ioError(ctx, t.String(), err)
		}
		resend := time.Now().Add(wait)
		wait *= 2
		for {
			rd := resend
			if resend.After(end) {
				rd = end
			}
			c.data.SetReadDeadline(rd)
			n, err := c.data.Read(c.buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil && time.Now().Before(end) {
					break // send again
				}
				return c.ioError(ctx, t.String(), err)
			}
			r, err := wire.Decode(c.buf[:n])
			if err != nil {
				return c.errorf("%s reply: %w", t, err)
			}
			if r.ID != f.ID {
				continue // the answer to an earlier copy of another request
			}
			switch r.Type {
			case t.Reply():
				if err := r.Unmarshal(out); err != nil {
					return c.errorf("%s reply: %w", t, err)
				}
				return nil
			case wire.TypeError:
				var e wire.ErrorReply
				_ = r.Unmarshal(&e)
				return c.errorf("%s: the printer answered %s: %s", t, e.Code, clean(e.Message))
			default:
				return c.errorf("%s: unexpected %s", t, r.Type)
			}
		}
	}
}

// Identity reads what the printer is.
func (c *Conn) Identity(ctx context.Context) (wire.IdentityReply, error) {
	var r wire.IdentityReply
	err := c.request(ctx, wire.TypeIdentity, struct{}{}, &r)
	return r, err
}

// Status reads how the printer is.
func (c *Conn) Status(ctx context.Context) (wire.StatusReply, error) {
	var r wire.StatusReply
	err := c.request(ctx, wire.TypeStatus, struct{}{}, &r)
	return r, err
}

// carries reports whether LST carries the setting on family: the catalog
// setting exists there.
func (c *Conn) carries(family, name string) (catalog.Setting, bool) {
	s, ok := c.cat.Lookup(name)
	return s, ok && s.Bindings(family).Has(catalog.BindingLST)
}

// ReadSettings reads the named settings. Names the catalog does not have
// on family, and names the printer does not know, come back unsupported.
func (c *Conn) ReadSettings(ctx context.Context, family string, names []string) (map[string]string, []string, error) {
	values := map[string]string{}
	var unsupported, ask []string
	for _, n := range names {
		if _, ok := c.carries(family, n); ok {
			ask = append(ask, n)
		} else {
			unsupported = append(unsupported, n)
		}
	}
	for chunk := range slices.Chunk(ask, batch) {
		var r wire.ReadReply
		if err := c.request(ctx, wire.TypeRead, wire.ReadRequest{Names: chunk}, &r); err != nil {
			return nil, nil, err
		}
		for _, n := range chunk {
			if v, ok := r.Values[n]; ok && !slices.Contains(r.Unsupported, n) {
				values[n] = v
			} else {
				unsupported = append(unsupported, n)
			}
		}
	}
	slices.Sort(unsupported)
	return values, unsupported, nil
}

// WriteSettings writes the values, checked against the catalog first so a
// bad value never leaves; the printer applies what it accepts and says
// why it refused the rest. Callers verify by reading again.
func (c *Conn) WriteSettings(ctx context.Context, family string, values []fleet.Desired) error {
	out := make(map[string]string, len(values))
	sensitive := map[string]bool{}
	var order []string
	for _, d := range values {
		s, ok := c.carries(family, d.Name)
		if !ok {
			return c.errorf("setting %s: not in the catalog for model family %q: %w", d.Name, family, providers.ErrUnsupported)
		}
		v, err := s.Validate(d.Value)
		if err != nil {
			if d.Sensitive {
				return c.errorf("setting %s: the (sensitive) value is not valid", d.Name)
			}
			return c.errorf("%w", err)
		}
		out[d.Name] = v
		sensitive[d.Name] = d.Sensitive
		order = append(order, d.Name)
	}
	var refused []string
	allUnsupported := true
	for chunk := range slices.Chunk(order, batch) {
		req := wire.WriteRequest{Values: make(map[string]string, len(chunk))}
		for _, n := range chunk {
			req.Values[n] = out[n]
		}
		var r wire.WriteReply
		if err := c.request(ctx, wire.TypeWrite, req, &r); err != nil {
			return err
		}
		for _, n := range chunk {
			why, ok := r.Refused[n]
			if !ok {
				continue
			}
			if why != wire.ReasonUnsupported {
				allUnsupported = false
			}
			refused = append(refused, n+": "+clean(why))
		}
	}
	if len(refused) == 0 {
		return nil
	}
	err := c.errorf("write settings refused: %s", strings.Join(refused, "; "))
	if allUnsupported {
		return fmt.Errorf("%w: %w", err, providers.ErrUnsupported)
	}
	return err
}

// Close ends the session: DTLS close_notify, then the control channel,
// which tells the printer to forget the PSK.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	if c.data != nil {
		errs = append(errs, c.data.Close())
		c.data = nil
	}
	if c.ctl != nil {
		c.ctl.SetDeadline(time.Now().Add(c.timeout))
		errs = append(errs, c.ctl.Close())
		c.ctl = nil
	}
	return errors.Join(errs...)
}

// tlsConfig is TLS 1.3 only, with the trust p asks for: its pinned
// fingerprint, its CA bundle, or the system's roots.
func (c *Conn) tlsConfig(p fleet.Printer) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: p.Host}
	if p.CACertFile != "" {
		pem, err := os.ReadFile(p.CACertFile)
		if err != nil {
			return nil, c.errorf("CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, c.errorf("CA bundle %s holds no PEM certificate", p.CACertFile)
		}
		conf.RootCAs = pool
	}
	if p.TLSFingerprint != "" {
		want, err := parseFingerprint(p.TLSFingerprint)
		if err != nil {
			return nil, c.errorf("tls_fingerprint: %w", err)
		}
		// The pin stands in for the chain check when no CA is given.
		conf.InsecureSkipVerify = p.CACertFile == ""
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &PinError{Want: "sha256:" + hex.EncodeToString(want)}
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(sum[:], want) != 1 {
				return &PinError{Want: "sha256:" + hex.EncodeToString(want), Got: Fingerprint(cs.PeerCertificates[0].Raw)}
			}
			return nil
		}
	}
	return conf, nil
}

// PinError is a printer certificate that is not the pinned one.
type PinError struct{ Want, Got string }

func (e *PinError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("the printer sent no certificate; tls_fingerprint expects %s", e.Want)
	}
	return fmt.Sprintf("the printer presented a certificate with fingerprint %s; tls_fingerprint expects %s", e.Got, e.Want)
}

// Fingerprint returns "sha256:<hex>" of a DER certificate.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func parseFingerprint(s string) ([]byte, error) {
	alg, h, ok := strings.Cut(s, ":")
	if !ok || !strings.EqualFold(alg, "sha256") {
		return nil, fmt.Errorf("%q is not of the form sha256:<hex>", s)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(h, ":", ""))
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("%q: want sha256:<64 hex digits>", s)
	}
	return b, nil
}

func (c *Conn) errorf(format string, args ...any) error {
	return fmt.Errorf("printer %s (%s): lst: "+format, append([]any{c.printer, c.addr}, args...)...)
}

func (c *Conn) connectError(ctx context.Context, err error) error {
	prefix := fmt.Sprintf("printer %s (%s): lst", c.printer, c.addr)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &providers.ClassifiedError{Kind: providers.ErrPortClosed, Cause: err, Msg: prefix + ": port closed (connection refused)"}
	case ctx.Err() != nil:
		return fmt.Errorf("%s: connect: %w", prefix, context.Cause(ctx))
	case isTimeout(err):
		return &providers.ClassifiedError{Kind: providers.ErrPortClosed, Cause: err, Msg: fmt.Sprintf("%s: no answer within %s (port filtered or printer down)", prefix, c.timeout)}
	}
	return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err, Msg: fmt.Sprintf("%s: connect: %v", prefix, err)}
}

// handshakeError explains a failed TLS handshake: the pin, the chain, the
// TLS version, or the network.
func (c *Conn) handshakeError(ctx context.Context, err error) error {
	prefix := fmt.Sprintf("printer %s (%s): lst: tls handshake", c.printer, c.addr)
	var pe *PinError
	var ve *tls.CertificateVerificationError
	var ae tls.AlertError
	switch {
	case errors.As(err, &pe):
		return &providers.ClassifiedError{Cause: err, Msg: fmt.Sprintf("%s: the printer's certificate is not the pinned one: %v; if it was renewed on purpose, update tls_fingerprint", prefix, pe)}
	case errors.As(err, &ve):
		msg := fmt.Sprintf("%s: the printer's certificate is not trusted (%v)", prefix, ve.Err)
		if len(ve.UnverifiedCertificates) > 0 {
			fp := Fingerprint(ve.UnverifiedCertificates[0].Raw)
			msg += fmt.Sprintf("; it presented %s: if that is the printer's own certificate, pin it with tls_fingerprint = %q, or set ca_cert to the CA that signed it", fp, fp)
		}
		return &providers.ClassifiedError{Cause: err, Msg: msg}
	case errors.As(err, &ae) && (ae == 70 || ae == 71): // protocol_version, insufficient_security
		return &providers.ClassifiedError{Cause: err, Msg: fmt.Sprintf("%s: the printer does not speak TLS 1.3, which LST requires (%v)", prefix, err)}
	case strings.Contains(err.Error(), "protocol version"):
		return &providers.ClassifiedError{Cause: err, Msg: fmt.Sprintf("%s: the printer does not speak TLS 1.3, which LST requires (%v)", prefix, err)}
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", prefix, context.Cause(ctx))
	case isTimeout(err):
		return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err, Msg: fmt.Sprintf("%s: no answer within %s", prefix, c.timeout)}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

func (c *Conn) ioError(ctx context.Context, what string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("printer %s (%s): lst: %s: %w", c.printer, c.addr, what, context.Cause(ctx))
	}
	if ctx.Err() != nil || isTimeout(err) {
		return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
			Msg: fmt.Sprintf("printer %s (%s): lst: %s: no answer within %s", c.printer, c.addr, what, c.timeout)}
	}
	return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
		Msg: fmt.Sprintf("printer %s (%s): lst: %s: %v", c.printer, c.addr, what, err)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// deadline bounds a control-channel exchange by ctx; the returned func
// lifts the hold.
func deadline(ctx context.Context, nc net.Conn) func() bool {
	if d, ok := ctx.Deadline(); ok {
		nc.SetDeadline(d)
	}
	return context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
}

// clean bounds and de-controls a message from the printer.
func clean(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
