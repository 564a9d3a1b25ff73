package testservers

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MailpitTLS says how a Mailpit's SMTP port speaks TLS.
type MailpitTLS int

// Mailpit's TLS modes.
const (
	// MailpitPlain offers no TLS at all.
	MailpitPlain MailpitTLS = iota
	// MailpitSTARTTLS offers STARTTLS and refuses mail before it (530).
	MailpitSTARTTLS
	// MailpitImplicitTLS speaks TLS from the first byte (the port 465 style).
	MailpitImplicitTLS
)

// MailpitOptions configure StartMailpit.
type MailpitOptions struct {
	TLS MailpitTLS
	// Users, when not empty, are the only SMTP AUTH logins accepted
	// (user → password); empty accepts any login, and none.
	Users map[string]string
	// Chaos enables the chaos API (SetChaos).
	Chaos bool
}

// Mailpit is a running Mailpit (github.com/axllent/mailpit): a real SMTP
// server that stores what it receives in SQLite and shows it over an HTTP
// API.
type Mailpit struct {
	Host     string // 127.0.0.1
	SMTPPort int
	HTTPPort int
	// CACertFile is the PEM of the server's self-signed certificate (CN
	// localhost, SANs localhost and 127.0.0.1), for clients to trust;
	// "" in MailpitPlain mode.
	CACertFile string

	t    testing.TB
	bin  string
	args []string
	mu   sync.Mutex
	d    *daemon // nil while stopped
	tls  MailpitTLS
}

// SMTPAddr is host:port of the SMTP server.
func (m *Mailpit) SMTPAddr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.SMTPPort)) }

func (m *Mailpit) api() string { return "http://" + net.JoinHostPort(m.Host, strconv.Itoa(m.HTTPPort)) }

// mailpitBinary finds mailpit on PATH or in $(go env GOPATH)/bin, where
// `go install github.com/axllent/mailpit@v1.33.1` puts it.
func mailpitBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "mailpit")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Skip(t, "mailpit is not installed (go install github.com/axllent/mailpit@v1.33.1)")
	return ""
}

// StartMailpit runs Mailpit on free loopback ports with a private database,
// waits until both its SMTP and HTTP ports answer, and stops it by PID
// when the test ends. It skips the test when mailpit is not installed.
func StartMailpit(t testing.TB, opts MailpitOptions) *Mailpit {
	t.Helper()
	bin := mailpitBinary(t)
	dir := t.TempDir()
	m := &Mailpit{Host: "127.0.0.1", t: t, bin: bin, tls: opts.TLS}

	base := []string{
		"--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check",
		"--smtp-disable-rdns",
		"--max", "0", // keep every message: burst tests count them all
	}
	if len(opts.Users) > 0 {
		names := make([]string, 0, len(opts.Users))
		for u := range opts.Users {
			names = append(names, u)
		}
		sort.Strings(names)
		var b strings.Builder
		for _, u := range names {
			fmt.Fprintf(&b, "%s:%s\n", u, opts.Users[u])
		}
		f := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
			t.Fatalf("mailpit: %v", err)
		}
		base = append(base, "--smtp-auth-file", f)
	} else {
		base = append(base, "--smtp-auth-accept-any")
	}
	switch opts.TLS {
	case MailpitPlain:
		// Mailpit offers AUTH over plain connections only when told to.
		base = append(base, "--smtp-auth-allow-insecure")
	case MailpitSTARTTLS, MailpitImplicitTLS:
		cert, key := SelfSignedCert(t, dir, "mailpit")
		m.CACertFile = cert
		base = append(base, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
		if opts.TLS == MailpitSTARTTLS {
			base = append(base, "--smtp-require-starttls")
		} else {
			base = append(base, "--smtp-require-tls")
		}
	default:
		t.Fatalf("mailpit: unknown TLS mode %d", opts.TLS)
	}
	if opts.Chaos {
		base = append(base, "--enable-chaos")
	}

	for attempt := 0; attempt < 3; attempt++ {
		smtpPort, httpPort := FreeTCPPort(t), FreeTCPPort(t)
		if smtpPort == httpPort {
			continue
		}
		m.SMTPPort, m.HTTPPort = smtpPort, httpPort
		m.args = append(append([]string{}, base...),
			"--smtp", m.SMTPAddr(),
			"--listen", net.JoinHostPort(m.Host, strconv.Itoa(httpPort)))
		err := m.start()
		if err == nil {
			t.Cleanup(m.stop)
			return m
		}
		if errors.Is(err, errBindFailed) {
			continue
		}
		t.Fatalf("%v", err)
	}
	t.Fatalf("mailpit: %v three times", errBindFailed)
	return nil
}

// start runs the process with m.args and waits until it is ready.
func (m *Mailpit) start() error {
	d, err := startDaemon("mailpit", exec.Command(m.bin, m.args...))
	if err != nil {
		return err
	}
	if err := d.waitReady(m.ready); err != nil {
		d.stop()
		if d.bindFailed() || strings.Contains(d.out.String(), "address already in use") {
			return errBindFailed
		}
		return err
	}
	m.mu.Lock()
	m.d = d
	m.mu.Unlock()
	return nil
}

func (m *Mailpit) stop() {
	m.mu.Lock()
	d := m.d
	m.d = nil
	m.mu.Unlock()
	if d != nil {
		d.stop()
	}
}

// ready answers nil once the HTTP API answers and the SMTP port greets
// with 220 (over TLS in implicit TLS mode).
func (m *Mailpit) ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.api()+"/api/v1/info", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("api: %s", resp.Status)
	}
	if m.tls != MailpitImplicitTLS {
		return readBanner(ctx, m.SMTPAddr())
	}
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} // readiness only; tests verify the certificate
	c, err := d.DialContext(ctx, "tcp", m.SMTPAddr())
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(c, buf); err != nil {
		return fmt.Errorf("read banner: %w", err)
	}
	if string(buf) != "220" {
		return fmt.Errorf("unexpected banner %q", buf)
	}
	return nil
}

// Stop ends Mailpit by its PID, as an outage would: its ports refuse
// connections until Restart.
func (m *Mailpit) Stop() {
	m.t.Helper()
	m.stop()
}

// Restart starts Mailpit again on the same ports with the same database
// and waits until it is ready.
func (m *Mailpit) Restart() {
	m.t.Helper()
	m.stop()
	// The ports were ours a moment ago; another process could take one
	// meanwhile, which makes this fail loudly rather than move ports.
	if err := m.start(); err != nil {
		m.t.Fatalf("mailpit restart: %v", err)
	}
}

// MailpitAddress is an address as Mailpit's API shows it.
type MailpitAddress struct {
	Name    string
	Address string
}

// MailpitSummary is one message in Mailpit's list.
type MailpitSummary struct {
	ID          string
	MessageID   string
	From        MailpitAddress
	To, Cc      []MailpitAddress
	Subject     string
	Attachments int
}

// MailpitAttachment is an attachment of a stored message.
type MailpitAttachment struct {
	PartID      string
	FileName    string
	ContentType string
	Size        int
}

// MailpitMessage is one stored message in full.
type MailpitMessage struct {
	ID          string
	MessageID   string
	From        MailpitAddress
	To, Cc      []MailpitAddress
	Subject     string
	Text        string
	Attachments []MailpitAttachment
}

// Messages returns the stored messages, newest first.
func (m *Mailpit) Messages() []MailpitSummary {
	m.t.Helper()
	var out struct {
		Total    int
		Messages []MailpitSummary
	}
	m.getJSON("/api/v1/messages?limit=1000", &out)
	return out.Messages
}

// AllMessages returns every stored message, newest first, page by page.
func (m *Mailpit) AllMessages() []MailpitSummary {
	m.t.Helper()
	var all []MailpitSummary
	for {
		var out struct {
			Total    int
			Messages []MailpitSummary
		}
		m.getJSON(fmt.Sprintf("/api/v1/messages?start=%d&limit=1000", len(all)), &out)
		all = append(all, out.Messages...)
		if len(out.Messages) == 0 || len(all) >= out.Total {
			return all
		}
	}
}

// Count returns how many messages are stored.
func (m *Mailpit) Count() int {
	m.t.Helper()
	var out struct{ Total int }
	m.getJSON("/api/v1/messages?limit=1", &out)
	return out.Total
}

// WaitMessages polls until at least n messages are stored or the timeout
// passes, and returns them, newest first.
func (m *Mailpit) WaitMessages(n int, timeout time.Duration) []MailpitSummary {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := m.Messages()
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not synchronisation
	}
}

// Message returns one stored message by its Mailpit ID.
func (m *Mailpit) Message(id string) MailpitMessage {
	m.t.Helper()
	var out MailpitMessage
	m.getJSON("/api/v1/message/"+id, &out)
	return out
}

// Attachment returns the content of one part of a stored message.
func (m *Mailpit) Attachment(id, partID string) []byte {
	m.t.Helper()
	return m.get("/api/v1/message/" + id + "/part/" + partID)
}

// Raw returns a stored message as it arrived (headers and body).
func (m *Mailpit) Raw(id string) []byte {
	m.t.Helper()
	return m.get("/api/v1/message/" + id + "/raw")
}

// SetChaos makes Mailpit answer MAIL FROM with code in probability percent
// of cases (0 heals). Mailpit must run with MailpitOptions.Chaos.
func (m *Mailpit) SetChaos(code, probability int) {
	m.t.Helper()
	body, _ := json.Marshal(map[string]any{"Sender": map[string]int{"ErrorCode": code, "Probability": probability}})
	m.do(http.MethodPut, "/api/v1/chaos", body)
}

func (m *Mailpit) getJSON(path string, v any) {
	m.t.Helper()
	if err := json.Unmarshal(m.get(path), v); err != nil {
		m.t.Fatalf("mailpit %s: %v", path, err)
	}
}

func (m *Mailpit) get(path string) []byte {
	m.t.Helper()
	return m.do(http.MethodGet, path, nil)
}

func (m *Mailpit) do(method, path string, body []byte) []byte {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, m.api()+path, bytes.NewReader(body))
	if err != nil {
		m.t.Fatalf("mailpit %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatalf("mailpit %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		m.t.Fatalf("mailpit %s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		m.t.Fatalf("mailpit %s %s: %s: %s", method, path, resp.Status, out)
	}
	return out
}

// SelfSignedCert writes a fresh self-signed certificate for CN localhost
// with SANs localhost and 127.0.0.1, and its key, as NAME.pem and
// NAME-key.pem in dir, and returns their paths. The certificate is its own
// CA: a client trusts the server by trusting this file.
func SelfSignedCert(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("certificate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("certificate serial: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"inkform tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("certificate key: %v", err)
	}
	certFile = filepath.Join(dir, name+".pem")
	keyFile = filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatalf("certificate: %v", err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatalf("certificate key: %v", err)
	}
	return certFile, keyFile
}
