// Package mail sends watch's emails over SMTP (go-mail): plain, implicit
// TLS or STARTTLS that is required, SMTP AUTH, a private CA bundle, one
// timeout for every network wait, and errors classified so that the
// outbox retries what may succeed later and gives up on what cannot.
// docs/email.md describes the smtp block and what is retried.
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/watch"
)

// Standard ports per encryption (RFC 5321, RFC 8314, RFC 6409).
const (
	PortNone     = 25
	PortSSL      = 465
	PortSTARTTLS = 587
)

// authMechanisms are offered to the server in this order: the password goes
// over TLS (or to a loopback relay), so PLAIN and LOGIN are enough and are
// what every server speaks.
var (
	authMechanisms         = []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
	authMechanismsLoopback = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
)

// Notifier sends watch.Messages through one SMTP server. It is safe for
// concurrent use: every Send opens its own connection.
type Notifier struct {
	host       string
	port       int
	encryption string
	username   string
	password   string
	from       string
	fromDomain string
	timeout    time.Duration
	tlsConfig  *tls.Config // nil for encryption none
}

var _ watch.Notifier = (*Notifier)(nil)

// New checks the smtp block and returns its Notifier. It reads the CA
// bundle now, so that a wrong path is an error at load time, not at the
// first alert.
func New(cfg alerts.SMTP) (*Notifier, error) {
	n := &Notifier{
		host:       strings.TrimSpace(cfg.Host),
		port:       cfg.Port,
		encryption: cfg.Encryption,
		username:   cfg.Username,
		password:   cfg.Password,
		timeout:    cfg.Timeout,
	}
	if n.host == "" {
		return nil, errors.New("smtp: host is empty")
	}
	switch n.encryption {
	case alerts.EncryptionNone:
		if n.port == 0 {
			n.port = PortNone
		}
	case alerts.EncryptionSSL:
		if n.port == 0 {
			n.port = PortSSL
		}
	case alerts.EncryptionSTARTTLS:
		if n.port == 0 {
			n.port = PortSTARTTLS
		}
	default:
		return nil, fmt.Errorf("smtp: encryption %q: must be %q, %q or %q",
			cfg.Encryption, alerts.EncryptionNone, alerts.EncryptionSSL, alerts.EncryptionSTARTTLS)
	}
	if n.port < 1 || n.port > 65535 {
		return nil, fmt.Errorf("smtp: port %d is out of range", n.port)
	}
	switch {
	case n.timeout == 0:
		n.timeout = alerts.DefaultSMTPTimeout
	case n.timeout < 0:
		return nil, fmt.Errorf("smtp: timeout %s is negative", n.timeout)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from %q: %w", cfg.From, err)
	}
	n.from = from.String()
	n.fromDomain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]

	if n.password != "" && n.username == "" {
		return nil, errors.New("smtp: password is set without a username")
	}
	// A password in clear across a network can be read by anyone on the
	// path; only a relay on this very machine is spared TLS.
	if n.username != "" && n.encryption == alerts.EncryptionNone && !isLoopback(n.host) {
		return nil, fmt.Errorf("smtp: username is set with encryption %q to %s: the password would cross the network in clear; use %q or %q",
			alerts.EncryptionNone, n.host, alerts.EncryptionSTARTTLS, alerts.EncryptionSSL)
	}

	if n.encryption != alerts.EncryptionNone {
		n.tlsConfig = &tls.Config{ServerName: n.host, MinVersion: tls.VersionTLS12}
		if cfg.CACertFile != "" {
			pem, err := os.ReadFile(cfg.CACertFile)
			if err != nil {
				return nil, fmt.Errorf("smtp: ca_cert: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("smtp: ca_cert %s: no PEM certificate in it", cfg.CACertFile)
			}
			n.tlsConfig.RootCAs = pool
		}
	} else if cfg.CACertFile != "" {
		return nil, fmt.Errorf("smtp: ca_cert is set with encryption %q, which uses no TLS", alerts.EncryptionNone)
	}
	return n, nil
}

// isLoopback says whether host names this machine: "localhost" or a
// loopback address literal.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.IsLoopback()
}

// Addr is the server's host:port, for logs.
func (n *Notifier) Addr() string {
	return net.JoinHostPort(n.host, strconv.Itoa(n.port))
}

// Send delivers m. It returns nil only once the server accepted the
// message (its reply to the end of DATA was 250). A refusal of the
// message itself (a 5xx reply to MAIL FROM, RCPT TO or DATA) or a message
// that cannot be built is a *watch.PermanentError; everything else —
// 4xx replies, timeouts, refused connections, TLS and AUTH failures — is
// temporary, for the outbox to retry once the server or its configuration
// is fixed.
func (n *Notifier) Send(ctx context.Context, m watch.Message) error {
	msg, err := n.build(m)
	if err != nil {
		return n.redact(&watch.PermanentError{Err: fmt.Errorf("smtp %s: message %s: %w", n.Addr(), m.ID, err)})
	}
	client, conns, err := n.client(ctx)
	if err != nil {
		return n.redact(fmt.Errorf("smtp %s: %w", n.Addr(), err))
	}
	defer conns.closeAll()

	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return n.redact(fmt.Errorf("smtp %s: %w", n.Addr(), n.cause(ctx, explain(err))))
	}
	err = client.SendWithSMTPClient(sc, msg)
	if msg.IsDelivered() {
		// The server took responsibility for the message: a failure after
		// that (QUIT) must not make the outbox send it again.
		_ = client.CloseWithSMTPClient(sc)
		return nil
	}
	if err == nil {
		return n.redact(fmt.Errorf("smtp %s: message %s: the server did not confirm delivery", n.Addr(), m.ID))
	}
	err = fmt.Errorf("smtp %s: message %s: %w", n.Addr(), m.ID, n.cause(ctx, err))
	if permanent(err) {
		err = &watch.PermanentError{Err: err}
	}
	return n.redact(err)
}

// Check opens a session as Send does — connect, EHLO, STARTTLS or TLS,
// AUTH — and ends it with QUIT, sending nothing. `inkform alerts test`
// uses it to show that the smtp block works.
func (n *Notifier) Check(ctx context.Context) error {
	client, conns, err := n.client(ctx)
	if err != nil {
		return n.redact(fmt.Errorf("smtp %s: %w", n.Addr(), err))
	}
	defer conns.closeAll()
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return n.redact(fmt.Errorf("smtp %s: %w", n.Addr(), n.cause(ctx, explain(err))))
	}
	if err := sc.Quit(); err != nil {
		return n.redact(fmt.Errorf("smtp %s: quit: %w", n.Addr(), n.cause(ctx, err)))
	}
	return nil
}

// client makes a go-mail client for one session. The connections it dials
// are tracked so that they are closed even where go-mail leaves one open
// after a failed EHLO, STARTTLS or AUTH.
func (n *Notifier) client(ctx context.Context) (*gomail.Client, *connSet, error) {
	conns := &connSet{}
	opts := []gomail.Option{
		gomail.WithPort(n.port),
		gomail.WithTimeout(n.timeout),
		// go-mail's dial context ends with the session setup; the
		// connection lives under the caller's.
		gomail.WithDialContextFunc(func(dialCtx context.Context, network, addr string) (net.Conn, error) {
			return n.dial(dialCtx, ctx, network, addr, conns)
		}),
		// A fresh session per message: no NOOP before, no RSET after.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	switch n.encryption {
	case alerts.EncryptionNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case alerts.EncryptionSSL:
		// dial does the TLS handshake; go-mail must not try STARTTLS inside.
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS))
	case alerts.EncryptionSTARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(n.tlsConfig))
	}
	if n.username != "" {
		mechs := authMechanisms
		if n.encryption == alerts.EncryptionNone {
			// New allowed this for a loopback relay only.
			mechs = authMechanismsLoopback
		}
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(mechs...),
			gomail.WithUsername(n.username),
			gomail.WithPassword(n.password))
	}
	c, err := gomail.NewClient(n.host, opts...)
	if err != nil {
		return nil, nil, err
	}
	return c, conns, nil
}

// dial connects (with the handshake for implicit TLS) within dialCtx and
// wraps the connection so that every read and write waits at most the
// timeout, and not past ctx.
func (n *Notifier) dial(dialCtx, ctx context.Context, network, addr string, conns *connSet) (net.Conn, error) {
	d := net.Dialer{Timeout: n.timeout}
	raw, err := d.DialContext(dialCtx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	c := newDeadlineConn(ctx, raw, n.timeout)
	conns.add(c)
	if n.encryption != alerts.EncryptionSSL {
		return c, nil
	}
	tc := tls.Client(c, n.tlsConfig)
	if err := tc.HandshakeContext(dialCtx); err != nil {
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	conns.add(tc)
	return tc, nil
}

// build turns a watch.Message into a go-mail message.
func (n *Notifier) build(m watch.Message) (*gomail.Msg, error) {
	if len(m.To)+len(m.Cc) == 0 {
		return nil, errors.New("no recipients")
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	if err := msg.From(n.from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if len(m.To) > 0 {
		if err := msg.To(m.To...); err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
	}
	if len(m.Cc) > 0 {
		if err := msg.Cc(m.Cc...); err != nil {
			return nil, fmt.Errorf("cc: %w", err)
		}
	}
	id, err := n.messageID(m.ID)
	if err != nil {
		return nil, err
	}
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.Subject(m.Subject)
	// Alerts are machine-made: ask autoresponders (out of office) to stay
	// quiet (RFC 3834, and Exchange's own header).
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	for _, a := range m.Attachments {
		if a.Name == "" {
			return nil, errors.New("an attachment has no name")
		}
		ct := a.ContentType
		if ct == "" {
			ct = string(gomail.TypeAppOctetStream)
		}
		msg.AttachReadSeeker(a.Name, strings.NewReader(string(a.Data)), gomail.WithFileContentType(gomail.ContentType(ct)))
	}
	return msg, nil
}

// messageID makes the Message-ID's content from the message's ID: as is
// when it has the id@domain form, otherwise under the sender's domain.
func (n *Notifier) messageID(id string) (string, error) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	if id == "" {
		return "", errors.New("message has no ID")
	}
	for _, r := range id {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' || r == '\\' {
			return "", fmt.Errorf("message ID %q: only printable ASCII without spaces, quotes or angle brackets", id)
		}
	}
	if !strings.Contains(id, "@") {
		id += "@" + n.fromDomain
	}
	return id, nil
}

// permanent says whether err carries a 5xx reply to the message.
func permanent(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return true
		}
		c := se.ErrorCode()
		return c >= 500 && c < 600
	}
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500 && te.Code < 600
}

// explain makes go-mail's session setup errors say what went wrong in
// the smtp block's words.
func explain(err error) error {
	if strings.Contains(err.Error(), "does not support STARTTLS") {
		return fmt.Errorf("starttls: the server does not offer STARTTLS, and encryption %q never falls back to plain text", alerts.EncryptionSTARTTLS)
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) && !strings.HasPrefix(err.Error(), "tls handshake:") {
		return fmt.Errorf("starttls: %w", err)
	}
	return err
}

// cause replaces an error made by a cancelled ctx with the context's own
// reason, and says when a wait ran out of time.
func (n *Notifier) cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", err, context.Cause(ctx))
	}
	var ne net.Error
	// go-mail's SendError keeps the network error only as text.
	if errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "i/o timeout") {
		// A wait is cut at the context's deadline when that comes first,
		// maybe a moment before the context itself says so.
		if dl, ok := ctx.Deadline(); ok && !time.Now().Add(time.Millisecond).Before(dl) {
			return fmt.Errorf("%w (%v)", err, context.DeadlineExceeded)
		}
		return fmt.Errorf("%w (no answer within %s)", err, n.timeout)
	}
	return err
}

// redact removes the password, and the forms AUTH PLAIN and LOGIN send it
// in, from an error's text. A server may echo what it was sent; whatever
// it says, the password does not reach a log.
func (n *Notifier) redact(err error) error {
	if err == nil || n.password == "" {
		return err
	}
	text := err.Error()
	clean := text
	for _, secret := range []string{
		n.password,
		base64.StdEncoding.EncodeToString([]byte(n.password)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + n.username + "\x00" + n.password)),
	} {
		clean = strings.ReplaceAll(clean, secret, "(redacted)")
	}
	if clean == text {
		return err
	}
	// The wrapped errors still hold the text: keep only the class.
	var pe *watch.PermanentError
	if errors.As(err, &pe) {
		return &watch.PermanentError{Err: errors.New(clean)}
	}
	return errors.New(clean)
}

// connSet remembers the connections of one session.
type connSet struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (s *connSet) add(c net.Conn) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.conns) - 1; i >= 0; i-- {
		_ = s.conns[i].Close()
	}
	s.conns = nil
}

// deadlineConn bounds every read and write by the timeout and ends any
// wait when ctx is done. go-mail sets one deadline per stage of the
// session; this one is renewed per network wait, so a large attachment is
// not cut off while a server that stops answering still is.
type deadlineConn struct {
	net.Conn
	ctx     context.Context
	timeout time.Duration
	stop    func() bool
	once    sync.Once
}

func newDeadlineConn(ctx context.Context, c net.Conn, timeout time.Duration) *deadlineConn {
	d := &deadlineConn{Conn: c, ctx: ctx, timeout: timeout}
	// Interrupt a wait in progress when ctx ends.
	d.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return d
}

func (c *deadlineConn) deadline() time.Time {
	d := time.Now().Add(c.timeout)
	if cd, ok := c.ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(c.deadline()); err != nil {
		return 0, err
	}
	// Checked after setting the deadline: a ctx ended in between has set
	// its own past deadline, or is seen here.
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(c.deadline()); err != nil {
		return 0, err
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *deadlineConn) Close() error {
	var err error
	c.once.Do(func() {
		c.stop()
		err = c.Conn.Close()
	})
	return err
}
