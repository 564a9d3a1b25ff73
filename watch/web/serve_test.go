package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch"
)

// serve runs s until the test ends and returns its address.
func serve(t *testing.T, s *Server) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not start")
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(shutdownGrace + 2*time.Second):
			t.Fatal("Serve did not stop")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return s.Addr().String(), stop
}

func TestServeTLS(t *testing.T) {
	var logBuf bytes.Buffer
	e := newEnv(t, 3, func(c *Config) {
		c.Log = slog.New(slog.NewTextHandler(&logBuf, nil))
		c.Page.MetricsListen = "127.0.0.1:0"
	})
	addr, stop := serve(t, e.s)

	// The self-signed certificate: ECDSA, for localhost and 127.0.0.1,
	// with its fingerprint logged loudly.
	cert := e.s.tls.Certificates[0].Leaf
	if cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v", cert.PublicKeyAlgorithm)
	}
	if err := cert.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if err := cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if !strings.Contains(logBuf.String(), "SELF-SIGNED") || !strings.Contains(logBuf.String(), "fingerprint=sha256:") {
		t.Errorf("no loud warning with the fingerprint:\n%s", logBuf.String())
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	// TLS 1.2 and 1.3 work, verified against the certificate.
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: v, MaxVersion: v}}}
		resp, err := c.Get("https://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("TLS %x: %v", v, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("healthz over TLS %x: %d", v, resp.StatusCode)
		}
		c.CloseIdleConnections()
	}
	// TLS 1.1 is refused.
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11, ServerName: "localhost"})
	if err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	// Plain HTTP is refused.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && strings.Contains(string(body), "ok") {
			t.Error("the page answers plain HTTP")
		}
	}
	// /metrics is on its own address, without auth, and not on the page.
	resp, err := http.Get("http://" + e.s.MetricsAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "inkform_printers{") {
		t.Errorf("metrics listener: %d\n%.300s", resp.StatusCode, body)
	}
	if w := e.do("GET", "/metrics", nil, nil, e.login("vera", "viewer-pw")); w.Code != 404 {
		t.Errorf("/metrics on the page with a metrics listener: %d, want 404", w.Code)
	}

	start := time.Now()
	if err := stop(); err != nil {
		t.Errorf("Serve returned %v", err)
	}
	if d := time.Since(start); d > shutdownGrace {
		t.Errorf("shutdown took %v", d)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still listening after shutdown")
	}
}

func TestConfiguredCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, _, err := selfSigned("status.example.test", t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(c.Leaf.DNSNames, ","), "status.example.test") {
		t.Errorf("SANs %v lack the listen host", c.Leaf.DNSNames)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	e := newEnv(t, 1, func(cfg *Config) { cfg.Page.CertFile, cfg.Page.KeyFile = certFile, keyFile })
	if got := e.s.tls.Certificates[0].Certificate[0]; !bytes.Equal(got, c.Certificate[0]) {
		t.Error("the configured certificate is not served")
	}
	for _, p := range [][2]string{{certFile, ""}, {"", keyFile}, {filepath.Join(dir, "missing.pem"), keyFile}} {
		_, err := New(Config{Page: alerts.StatusPage{Listen: "127.0.0.1:0", CertFile: p[0], KeyFile: p[1]}, Store: e.store, Passwords: e.pw})
		if err == nil || !strings.Contains(err.Error(), "tls") {
			t.Errorf("cert %q key %q: %v", p[0], p[1], err)
		}
	}
	// openssl, when present, agrees the key and certificate pair up.
	if _, err := exec.LookPath("openssl"); err == nil {
		out, err := exec.Command("openssl", "x509", "-in", certFile, "-noout", "-ext", "subjectAltName").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "DNS:localhost") || !strings.Contains(string(out), "IP Address:127.0.0.1") {
			t.Errorf("openssl x509: %v\n%s", err, out)
		}
	}
}

// brokenStore fails every read, as a state whose server went away.
type brokenStore struct {
	state.Store
}

func (brokenStore) Runs(ctx context.Context, limit int) ([]state.Run, error) {
	return nil, io.ErrUnexpectedEOF
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, 1)
	if w := e.do("GET", "/healthz", nil, nil); w.Code != 200 || strings.TrimSpace(w.Body.String()) != "ok" {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
	s, err := New(Config{Page: alerts.StatusPage{Listen: "127.0.0.1:0"}, Store: brokenStore{e.store}})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	if w := e.do("GET", "/healthz", nil, nil); w.Code != 503 || strings.Contains(w.Body.String(), "EOF") {
		t.Errorf("healthz of a broken state: %d %q", w.Code, w.Body)
	}
}

func TestMetrics(t *testing.T) {
	stats := watch.Stats{Received: 12, EventsRecorded: 10, Sent: 4, Failed: 1, Polls: 3}
	e := newEnv(t, 30, func(c *Config) { c.Stats = func() watch.Stats { return stats } })
	raise(t, e.store, "p00001", alerts.Jam, t0)
	e.s.ObservePoll(3 * time.Second)
	e.s.ObservePlan(42 * time.Second)
	c := e.login("vera", "viewer-pw")
	w := e.do("GET", "/metrics", nil, nil, c)
	if w.Code != 200 {
		t.Fatalf("/metrics: %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`inkform_printers{status="down"} 4`,
		`inkform_printers{status="offline"} 2`,
		`inkform_printers{status="unknown"} 3`,
		`inkform_printers{status="idle"} 21`,
		`inkform_printers{status="warning"} 0`,
		`inkform_supply_level_percent{printer="p00001",supply="Black Toner"} 1`,
		`inkform_supply_level_percent{printer="p00029",supply="Black Toner"} 29`,
		`inkform_active_alerts 1`,
		`inkform_signals_received_total 12`,
		`inkform_events_recorded_total 10`,
		`inkform_deliveries_sent_total 4`,
		`inkform_deliveries_failed_total 1`,
		`inkform_polls_total 3`,
		`inkform_poll_duration_seconds_count 1`,
		`inkform_poll_duration_seconds_sum 3`,
		`inkform_plan_duration_seconds_sum 42`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// A supply whose level is not known is left out rather than shown as 0.
	if strings.Contains(body, `supply="Imaging Unit"`) {
		t.Error("a supply of unknown level is exported")
	}
	if w := e.do("GET", "/metrics", nil, nil); w.Code != 401 {
		t.Errorf("/metrics without auth: %d", w.Code)
	}
}
