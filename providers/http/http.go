// Package http reaches a printer's embedded web server (EWS) over HTTP or
// HTTPS: settings through its settings API and files through its
// multipart upload, as written down in docs/protocols/ews.md.
//
// Authentication is whatever the printer asks for in its 401 answer: HTTP
// digest (RFC 7616; SHA-256 or MD5, qop=auth, by github.com/icholy/digest)
// or basic. HTTPS is never silently insecure: the printer's certificate is
// verified against the printer's CA bundle (CACertFile), pinned by its
// SHA-256 fingerprint (TLSFingerprint), or verified against the system's
// roots; a printer with a self-signed certificate and neither setting fails
// with an error that shows the fingerprint it presented.
package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/icholy/digest"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

// DefaultTimeout bounds dialling, the TLS handshake and each wait for an
// answer.
const DefaultTimeout = 10 * time.Second

// maxReply bounds how much of a reply is read.
const maxReply = 1 << 20

// Options configure a Transport.
type Options struct {
	// Scheme is "http" or "https"; "" means "https".
	Scheme string
	// Timeout bounds the dial, the TLS handshake, each wait for a reply
	// and each stalled write; 0 means DefaultTimeout. A long upload that
	// keeps moving is not cut short.
	Timeout time.Duration
}

// Transport dials printers' embedded web servers over one scheme. It is
// safe for concurrent use.
type Transport struct {
	cat     *catalog.Catalog
	scheme  string
	timeout time.Duration
}

var (
	_ providers.SettingsTransport = (*Transport)(nil)
	_ providers.FileTransport     = (*Transport)(nil)
)

// New returns a transport over o.Scheme that maps settings with cat (nil
// means catalog.Default()). With a scheme other than "http" or "https",
// every Dial fails.
func New(cat *catalog.Catalog, o Options) *Transport {
	if cat == nil {
		cat = catalog.Default()
	}
	if o.Scheme == "" {
		o.Scheme = "https"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Transport{cat: cat, scheme: o.Scheme, timeout: o.Timeout}
}

// Name returns the scheme, as in a printer's transports list.
func (t *Transport) Name() string { return t.scheme }

// DialSettings connects and logs in; see Conn.
func (t *Transport) DialSettings(ctx context.Context, p fleet.Printer) (providers.SettingsConn, error) {
	return t.Dial(ctx, p)
}

// DialFiles connects and logs in; see Conn.
func (t *Transport) DialFiles(ctx context.Context, p fleet.Printer) (providers.FileConn, error) {
	return t.Dial(ctx, p)
}

// Dial connects to p's embedded web server (p.Ports[scheme], else the
// catalog's standard port for the scheme: 80 or 443), learns which authentication it asks for and checks p's admin
// login with one request. A refused or filtered port wraps
// providers.ErrPortClosed; a refused login wraps providers.ErrAuth.
func (t *Transport) Dial(ctx context.Context, p fleet.Printer) (*Conn, error) {
	if t.scheme != "http" && t.scheme != "https" {
		return nil, fmt.Errorf("printer %s: embedded web server: unknown scheme %q (want http or https)", p.Name, t.scheme)
	}
	port := catalog.Port(t.scheme, p.Ports)
	addr := net.JoinHostPort(p.Host, strconv.Itoa(port))
	c := &Conn{
		printer: p.Name, addr: addr, scheme: t.scheme, base: t.scheme + "://" + addr,
		cat: t.cat, timeout: t.timeout, user: p.Credentials.Admin.Username,
	}
	tlsConf, err := c.tlsConfig(p)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: t.timeout}
	c.tr = &http.Transport{
		// Printers sit on the local network: an environment proxy would
		// only get in the way.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			nc, err := dialer.DialContext(ctx, network, address)
			if err != nil {
				return nil, &connectError{err}
			}
			return &writeDeadlineConn{Conn: nc, timeout: t.timeout}, nil
		},
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   t.timeout,
		ResponseHeaderTimeout: t.timeout,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConnsPerHost:   1,
	}
	c.client = &http.Client{
		Transport: c.tr,
		// A redirect could lead the login elsewhere; printers have no
		// reason to send one for this API.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if err := c.login(ctx, p.Credentials.Admin); err != nil {
		c.tr.CloseIdleConnections()
		return nil, err
	}
	return c, nil
}

// Conn is an authenticated connection to one printer's embedded web
// server. It belongs to one goroutine at a time.
type Conn struct {
	printer, addr, scheme, base string
	cat                         *catalog.Catalog
	timeout                     time.Duration
	user                        string
	tr                          *http.Transport
	client                      *http.Client
	auth                        string // "", "basic" or "digest": what the printer asked for
}

var (
	_ providers.SettingsConn = (*Conn)(nil)
	_ providers.FileConn     = (*Conn)(nil)
)

// Auth returns the authentication scheme the printer asked for: "basic",
// "digest", or "" when it asked for none.
func (c *Conn) Auth() string { return c.auth }

// login asks for the settings without credentials to learn the scheme
// from the 401, then again with them.
func (c *Conn) login(ctx context.Context, admin fleet.Admin) error {
	res, err := c.get(ctx, "/api/settings")
	if err != nil {
		return err
	}
	drain(res)
	if res.StatusCode != http.StatusUnauthorized {
		return c.acceptProbe(res)
	}
	if admin.Username == "" {
		return &providers.ClassifiedError{Kind: providers.ErrAuth,
			Msg: fmt.Sprintf("printer %s (%s): %s: the printer asks for a login and no admin credentials are set", c.printer, c.addr, c.scheme)}
	}
	switch chal, derr := digest.FindChallenge(res.Header); {
	case derr == nil && chal != nil:
		c.auth = "digest"
		c.client.Transport = &digest.Transport{Username: admin.Username, Password: admin.Password, Transport: c.tr}
	case hasBasic(res.Header):
		c.auth = "basic"
		c.client.Transport = &basicTransport{user: admin.Username, password: admin.Password, next: c.tr}
	default:
		return fmt.Errorf("printer %s (%s): %s: the printer asks for authentication inkform does not speak (WWW-Authenticate: %q)",
			c.printer, c.addr, c.scheme, res.Header.Values("WWW-Authenticate"))
	}
	res, err = c.get(ctx, "/api/settings")
	if err != nil {
		return err
	}
	drain(res)
	if res.StatusCode == http.StatusUnauthorized {
		return &providers.ClassifiedError{Kind: providers.ErrAuth,
			Msg: fmt.Sprintf("printer %s (%s): %s: login refused for user %q (%s auth): check the admin credentials", c.printer, c.addr, c.scheme, c.user, c.auth)}
	}
	return c.acceptProbe(res)
}

func (c *Conn) acceptProbe(res *http.Response) error {
	// 404: a web server without the settings API may still take uploads.
	if res.StatusCode/100 == 2 || res.StatusCode == http.StatusNotFound {
		return nil
	}
	return fmt.Errorf("printer %s (%s): %s: GET /api/settings answered %s", c.printer, c.addr, c.scheme, res.Status)
}

func hasBasic(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		if len(v) >= 5 && strings.EqualFold(v[:5], "basic") {
			return true
		}
	}
	return false
}

// get sends a GET bounded by the timeout.
func (c *Conn) get(ctx context.Context, path string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("printer %s (%s): %s: %w", c.printer, c.addr, c.scheme, err)
	}
	res, err := c.client.Do(req)
	if err != nil {
		cancel()
		return nil, c.wrap(ctx, "GET "+path, err)
	}
	res.Body = &cancelBody{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

// ReadSettings reads every named setting that has an EWS field for family.
func (c *Conn) ReadSettings(ctx context.Context, family string, names []string) (map[string]string, []string, error) {
	values := map[string]string{}
	var unsupported []string
	fields := map[string]string{}
	for _, name := range names {
		if f, ok := c.field(family, name); ok {
			fields[name] = f
		} else {
			unsupported = append(unsupported, name)
		}
	}
	if len(fields) == 0 {
		return values, unsupported, nil
	}
	res, err := c.get(ctx, "/api/settings")
	if err != nil {
		return nil, nil, err
	}
	body, err := readReply(res)
	if err != nil {
		return nil, nil, c.wrap(ctx, "read settings", err)
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return nil, nil, c.authErr("read settings")
	case res.StatusCode == http.StatusNotFound:
		// No settings API at all: every setting is unsupported here.
		for name := range fields {
			unsupported = append(unsupported, name)
		}
		sort.Strings(unsupported)
		return values, unsupported, nil
	case res.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("printer %s (%s): %s: read settings: %s%s", c.printer, c.addr, c.scheme, res.Status, replyError(body))
	}
	got, err := DecodeSettings(body)
	if err != nil {
		return nil, nil, fmt.Errorf("printer %s (%s): %s: read settings: %w", c.printer, c.addr, c.scheme, err)
	}
	for name, f := range fields {
		if v, ok := got[f]; ok {
			values[name] = v
		} else {
			unsupported = append(unsupported, name)
		}
	}
	sort.Strings(unsupported)
	return values, unsupported, nil
}

// WriteSettings sends all values in one request; the printer applies all
// or none. Values are checked against the catalog first, so a bad value
// never reaches the printer.
func (c *Conn) WriteSettings(ctx context.Context, family string, values []fleet.Desired) error {
	if len(values) == 0 {
		return nil
	}
	form := map[string]string{}
	byField := map[string]fleet.Desired{}
	for _, d := range values {
		f, ok := c.field(family, d.Name)
		if !ok {
			return fmt.Errorf("printer %s (%s): %s: %s: no EWS field for model family %q: %w", c.printer, c.addr, c.scheme, d.Name, family, providers.ErrUnsupported)
		}
		v := d.Value
		if s, ok := c.cat.Lookup(d.Name); ok {
			cv, err := s.Validate(d.Value)
			if err != nil {
				if d.Sensitive {
					return fmt.Errorf("printer %s (%s): %s: %s: the (sensitive) value is not valid for this setting", c.printer, c.addr, c.scheme, d.Name)
				}
				return fmt.Errorf("printer %s (%s): %s: %w", c.printer, c.addr, c.scheme, err)
			}
			v = cv
		}
		form[f] = v
		byField[f] = d
	}
	body, err := json.Marshal(form)
	if err != nil {
		return fmt.Errorf("printer %s (%s): %s: write settings: %w", c.printer, c.addr, c.scheme, err)
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.base+"/api/settings", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("printer %s (%s): %s: %w", c.printer, c.addr, c.scheme, err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return c.wrap(rctx, "write settings", err)
	}
	reply, err := readReply(res)
	if err != nil {
		return c.wrap(rctx, "write settings", err)
	}
	switch res.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return nil
	case http.StatusUnauthorized:
		return c.authErr("write settings")
	case http.StatusBadRequest:
		return c.fieldErrors(reply, byField)
	}
	return fmt.Errorf("printer %s (%s): %s: write settings: %s%s", c.printer, c.addr, c.scheme, res.Status, replyError(reply))
}

// fieldErrors turns a 400 answer into an error naming settings, never
// their sensitive values. When every field is unknown to the printer the
// error wraps providers.ErrUnsupported.
func (c *Conn) fieldErrors(reply []byte, byField map[string]fleet.Desired) error {
	errs, err := DecodeFieldErrors(reply)
	if err != nil || len(errs) == 0 {
		return fmt.Errorf("printer %s (%s): %s: write settings refused%s", c.printer, c.addr, c.scheme, replyError(reply))
	}
	var parts []string
	allUnknown := true
	for _, fe := range errs {
		name := fe.Field
		d, known := byField[fe.Field]
		if known {
			name = d.Name
		}
		msg := fe.Message
		if d.Sensitive || msg == "" {
			msg = fe.Code
		}
		if fe.Code == "unknown" {
			msg = "the printer has no such field (" + fe.Field + ")"
		} else {
			allUnknown = false
		}
		parts = append(parts, name+": "+msg)
	}
	e := fmt.Errorf("printer %s (%s): %s: write settings refused: %s", c.printer, c.addr, c.scheme, strings.Join(parts, "; "))
	if allUnknown {
		return fmt.Errorf("%w: %w", e, providers.ErrUnsupported)
	}
	return e
}

func (c *Conn) field(family, name string) (string, bool) {
	s, ok := c.cat.Lookup(name)
	if !ok {
		return "", false
	}
	b := s.Bindings(family).EWS
	if b == nil || b.Field == "" {
		return "", false
	}
	return b.Field, true
}

// Upload sends f as the multipart part "file" named f.RemoteName(), and checks
// the printer's account of the size (and SHA-256 when f has one).
func (c *Conn) Upload(ctx context.Context, f fleet.File, r io.Reader, progress func(sent int64)) error {
	dest := f.RemoteName()
	if dest == "" {
		return fmt.Errorf("printer %s (%s): %s: upload: no destination name", c.printer, c.addr, c.scheme)
	}
	op := "upload " + dest
	body, err := newUploadBody(dest, r, f.Size, progress)
	if err != nil {
		return fmt.Errorf("printer %s (%s): %s: %s: %w", c.printer, c.addr, c.scheme, op, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.base+"/upload", body.reader())
	if err != nil {
		return fmt.Errorf("printer %s (%s): %s: %w", c.printer, c.addr, c.scheme, err)
	}
	req.ContentLength = body.length()
	req.GetBody = body.replay
	req.Header.Set("Content-Type", body.contentType)
	res, err := c.client.Do(req)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, providers.ErrSourceLonger) {
			return fmt.Errorf("printer %s (%s): %s: %s: the source is not the %d bytes declared (the file changed since it was checked); the upload was aborted", c.printer, c.addr, c.scheme, op, f.Size)
		}
		return c.wrap(rctx, op, err)
	}
	// The reply is small and follows at once; bound the wait for it.
	timer := time.AfterFunc(c.timeout, cancel)
	defer timer.Stop()
	reply, err := readReply(res)
	if err != nil {
		return c.wrap(rctx, op, err)
	}
	if body.counted() != f.Size {
		return fmt.Errorf("printer %s (%s): %s: %s: read %d bytes from the source, expected %d: the file changed since it was checked", c.printer, c.addr, c.scheme, op, body.counted(), f.Size)
	}
	switch res.StatusCode {
	case http.StatusOK, http.StatusCreated:
	case http.StatusUnauthorized:
		return c.authErr(op)
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return fmt.Errorf("printer %s (%s): %s: %s: the web server takes no uploads (%s): %w", c.printer, c.addr, c.scheme, op, res.Status, providers.ErrUnsupported)
	case http.StatusRequestEntityTooLarge:
		return fmt.Errorf("printer %s (%s): %s: %s: %d bytes is too large for the printer%s", c.printer, c.addr, c.scheme, op, f.Size, replyError(reply))
	default:
		return fmt.Errorf("printer %s (%s): %s: %s: the printer refused the file: %s%s", c.printer, c.addr, c.scheme, op, res.Status, replyError(reply))
	}
	var got UploadReply
	if err := json.Unmarshal(reply, &got); err != nil {
		return fmt.Errorf("printer %s (%s): %s: %s: reply is not the expected JSON: %v", c.printer, c.addr, c.scheme, op, err)
	}
	if got.Size != f.Size {
		return fmt.Errorf("printer %s (%s): %s: %s: the printer received %d bytes, sent %d", c.printer, c.addr, c.scheme, op, got.Size, f.Size)
	}
	if f.SHA256 != "" && got.SHA256 != "" && !strings.EqualFold(got.SHA256, f.SHA256) {
		return fmt.Errorf("printer %s (%s): %s: %s: the printer received a file with SHA-256 %s, sent %s", c.printer, c.addr, c.scheme, op, got.SHA256, f.SHA256)
	}
	return nil
}

// UploadReply is the printer's JSON answer to an upload.
type UploadReply struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Close releases idle connections.
func (c *Conn) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

// uploadBody is a multipart body made of a fixed prefix, the file and a
// fixed suffix, so its length is known and no goroutine is needed. It can
// be replayed (for an authentication retry) while nothing has been read
// from the file, or when the file can seek back.
type uploadBody struct {
	prefix, suffix []byte
	src            io.Reader
	start          int64 // src's offset at the start, when it seeks
	seeks          bool
	size           int64
	progress       func(int64)
	cur            *providers.UploadReader
	contentType    string
}

func newUploadBody(dest string, src io.Reader, size int64, progress func(int64)) (*uploadBody, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if _, err := mw.CreateFormFile("file", dest); err != nil {
		return nil, err
	}
	b := &uploadBody{prefix: bytes.Clone(buf.Bytes()), src: src, size: size, progress: progress, contentType: mw.FormDataContentType()}
	buf.Reset()
	if err := mw.Close(); err != nil {
		return nil, err
	}
	b.suffix = bytes.Clone(buf.Bytes())
	if s, ok := src.(io.Seeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			b.start, b.seeks = off, true
		}
	}
	return b, nil
}

func (b *uploadBody) length() int64 { return int64(len(b.prefix)) + b.size + int64(len(b.suffix)) }

func (b *uploadBody) counted() int64 {
	if b.cur == nil {
		return 0
	}
	return b.cur.Sent()
}

func (b *uploadBody) reader() io.ReadCloser {
	b.cur = providers.NewUploadReader(b.src, b.size, b.progress, nil)
	return io.NopCloser(io.MultiReader(bytes.NewReader(b.prefix), b.cur, bytes.NewReader(b.suffix)))
}

func (b *uploadBody) replay() (io.ReadCloser, error) {
	if b.cur != nil && b.cur.Sent() > 0 {
		if !b.seeks {
			return nil, errors.New("the upload cannot be repeated: the source does not seek")
		}
		if _, err := b.src.(io.Seeker).Seek(b.start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewind the source: %w", err)
		}
	}
	return b.reader(), nil
}

// basicTransport adds basic authentication to every request.
type basicTransport struct {
	user, password string
	next           http.RoundTripper
}

func (t *basicTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.SetBasicAuth(t.user, t.password)
	return t.next.RoundTrip(r)
}

// tlsConfig builds the TLS verification p asks for: its CA bundle, its
// pinned fingerprint, both, or the system roots.
func (c *Conn) tlsConfig(p fleet.Printer) (*tls.Config, error) {
	if c.scheme != "https" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if p.CACertFile != "" {
		pem, err := os.ReadFile(p.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("printer %s: https: CA bundle: %w", c.printer, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("printer %s: https: CA bundle %s holds no PEM certificate", c.printer, p.CACertFile)
		}
		conf.RootCAs = pool
	}
	if p.TLSFingerprint != "" {
		want, err := ParseFingerprint(p.TLSFingerprint)
		if err != nil {
			return nil, fmt.Errorf("printer %s: https: tls_fingerprint: %w", c.printer, err)
		}
		// The pin stands in for the chain check only when no CA bundle is
		// given; VerifyConnection runs either way.
		conf.InsecureSkipVerify = p.CACertFile == ""
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &pinError{want: Fingerprint(nil)}
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(sum[:], want) != 1 {
				return &pinError{got: Fingerprint(cs.PeerCertificates[0].Raw), want: "sha256:" + hex.EncodeToString(want)}
			}
			return nil
		}
	}
	return conf, nil
}

// Fingerprint returns "sha256:<hex>" of a DER certificate, the form
// tls_fingerprint takes.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ParseFingerprint reads "sha256:<hex>" (64 hex digits, either case, colons
// between bytes allowed) and returns the digest.
func ParseFingerprint(s string) ([]byte, error) {
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

type pinError struct{ got, want string }

func (e *pinError) Error() string {
	if e.got == "" {
		return "the server sent no certificate"
	}
	return fmt.Sprintf("certificate fingerprint %s does not match tls_fingerprint %s", e.got, e.want)
}

// wrap classifies a failed request: closed port, TLS trouble, timeout.
func (c *Conn) wrap(ctx context.Context, op string, err error) error {
	prefix := fmt.Sprintf("printer %s (%s): %s: %s", c.printer, c.addr, c.scheme, op)
	var ce *connectError
	connErr := errors.As(err, &ce)
	var pe *pinError
	var ve *tls.CertificateVerificationError
	switch {
	case connErr && errors.Is(err, syscall.ECONNREFUSED):
		return &providers.ClassifiedError{Kind: providers.ErrPortClosed, Cause: err, Msg: prefix + ": port closed (connection refused)"}
	case connErr && isTimeout(err) && ctx.Err() == nil:
		return &providers.ClassifiedError{Kind: providers.ErrPortClosed, Cause: err, Msg: fmt.Sprintf("%s: no answer within %s (port filtered or printer down)", prefix, c.timeout)}
	case connErr && (errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)):
		return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err, Msg: fmt.Sprintf("%s: %v", prefix, ce.err)}
	case errors.As(err, &pe):
		return fmt.Errorf("%s: the printer's certificate is not the pinned one: %w; if the printer's certificate was renewed on purpose, update tls_fingerprint", prefix, pe)
	case errors.As(err, &ve):
		msg := fmt.Sprintf("%s: the printer's certificate is not trusted (%v)", prefix, ve.Err)
		if len(ve.UnverifiedCertificates) > 0 {
			fp := Fingerprint(ve.UnverifiedCertificates[0].Raw)
			msg += fmt.Sprintf("; it presented %s: if that is the printer's own certificate, pin it with tls_fingerprint = %q, or set ca_cert to the CA that signed it", fp, fp)
		}
		return &providers.ClassifiedError{Cause: err, Msg: msg}
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", prefix, context.Cause(ctx))
	case isTimeout(err):
		return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err, Msg: fmt.Sprintf("%s: no answer within %s", prefix, c.timeout)}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

func (c *Conn) authErr(op string) error {
	return &providers.ClassifiedError{Kind: providers.ErrAuth,
		Msg: fmt.Sprintf("printer %s (%s): %s: %s: login refused for user %q", c.printer, c.addr, c.scheme, op, c.user)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// connectError marks a failure to open a TCP connection.
type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// writeDeadlineConn bounds each write, so a printer that stops reading
// fails an upload after the timeout. Reads are bounded by the transport's
// response timeout and the request context instead: the connection reads
// in the background while a long upload is written.
type writeDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *writeDeadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// cancelBody releases a request's timeout when its reply is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func drain(res *http.Response) {
	io.Copy(io.Discard, io.LimitReader(res.Body, maxReply))
	res.Body.Close()
}

func readReply(res *http.Response) ([]byte, error) {
	defer res.Body.Close()
	return io.ReadAll(io.LimitReader(res.Body, maxReply))
}

// replyError returns ": <message>" from a JSON {"error": …} reply, or "".
func replyError(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	msg := e.Error
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return ": " + strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, msg)
}
