package lst_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/lst"
	"github.com/inkform/inkform/providers/lst/wire"
)

const (
	adminUser     = "admin"
	adminPassword = "lst-Secret-42"
	family        = "lexmark"
)

// device is an in-memory settings store that counts what it was asked.
type device struct {
	mu     sync.Mutex
	values map[string]string
	writes int
}

func newDevice() *device {
	return &device{values: map[string]string{"system.location": "Lobby", "panel.language": "en"}}
}

func (d *device) Identity() wire.IdentityReply {
	return wire.IdentityReply{Vendor: "Lexmark", Model: "Lexmark CX725", Serial: "LXK7D0001", Firmware: "CXTPC.081.234"}
}

func (d *device) Status() wire.StatusReply {
	return wire.StatusReply{Status: fleet.StatusIdle, PageCount: 1234, UptimeSeconds: 60}
}

func (d *device) ReadSettings(names []string) (map[string]string, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]string{}
	var missing []string
	for _, n := range names {
		if v, ok := d.values[n]; ok {
			out[n] = v
		} else {
			missing = append(missing, n)
		}
	}
	return out, missing
}

func (d *device) WriteSettings(values map[string]string) map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes++
	refused := map[string]string{}
	for n, v := range values {
		if _, ok := d.values[n]; !ok {
			refused[n] = wire.ReasonUnsupported
			continue
		}
		d.values[n] = v
	}
	return refused
}

func (d *device) get(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.values[name]
}

func (d *device) writeCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writes
}

func selfSigned(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "lst-test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, lst.Fingerprint(der)
}

type server struct {
	*wire.Server
	fingerprint string
	dev         *device
	ctlPort     int
}

// startServer runs an LST endpoint on 127.0.0.1 (TCP :0, UDP :0);
// announce, when not 0, is the data port it names to clients.
func startServer(t *testing.T, announce int) *server {
	t.Helper()
	cert, fp := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dev := newDevice()
	s, err := wire.NewServer(ln, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, wire.Config{
		Certificate: cert, User: adminUser, Password: adminPassword, Device: dev,
		AnnouncedPort: announce, HandshakeTimeout: 5 * time.Second, Logf: t.Logf,
	})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background()) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &server{Server: s, fingerprint: fp, dev: dev, ctlPort: ln.Addr().(*net.TCPAddr).Port}
}

func (s *server) printer(password string) fleet.Printer {
	return fleet.Printer{
		Name: "secured-1", Host: "127.0.0.1",
		Ports:          map[string]int{"lst": s.ctlPort},
		TLSFingerprint: s.fingerprint,
		Credentials:    fleet.Credentials{Admin: fleet.Admin{Username: adminUser, Password: password}},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, p fleet.Printer) *lst.Conn {
	t.Helper()
	c, err := lst.New(nil, lst.Options{Timeout: 5 * time.Second}).Dial(ctxT(t), p)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestObserveAndSetEndToEnd(t *testing.T) {
	s := startServer(t, 0)
	c := dial(t, s.printer(adminPassword))
	ctx := ctxT(t)

	id, err := c.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.Serial != "LXK7D0001" || id.Model != "Lexmark CX725" {
		t.Errorf("identity = %+v", id)
	}
	st, err := c.Status(ctx)
	if err != nil || st.PageCount != 1234 {
		t.Fatalf("status = %+v, %v", st, err)
	}

	names := []string{"system.location", "panel.language", "system.contact", "no.such_setting"}
	values, unsupported, err := c.ReadSettings(ctx, family, names)
	if err != nil {
		t.Fatal(err)
	}
	if values["system.location"] != "Lobby" || values["panel.language"] != "en" || len(values) != 2 {
		t.Errorf("values = %v", values)
	}
	// system.contact: the device lacks it; no.such_setting: the catalog does.
	if !slices.Equal(unsupported, []string{"no.such_setting", "system.contact"}) {
		t.Errorf("unsupported = %q", unsupported)
	}
	if s.dev.writeCount() != 0 {
		t.Fatal("reading wrote to the device")
	}

	want := []fleet.Desired{{Name: "system.location", Value: "HQ 2F East"}, {Name: "panel.language", Value: "de"}}
	for range 2 { // the second write is a no-op for the device: idempotent
		if err := c.WriteSettings(ctx, family, want); err != nil {
			t.Fatal(err)
		}
		values, _, err = c.ReadSettings(ctx, family, []string{"system.location", "panel.language"})
		if err != nil {
			t.Fatal(err)
		}
		if values["system.location"] != "HQ 2F East" || values["panel.language"] != "de" {
			t.Errorf("after write: %v", values)
		}
	}

	// A value the catalog refuses never leaves.
	err = c.WriteSettings(ctx, family, []fleet.Desired{{Name: "panel.language", Value: "klingon"}})
	if err == nil || !strings.Contains(err.Error(), "klingon") {
		t.Errorf("bad value: %v", err)
	}
	if got := s.dev.writeCount(); got != 2 {
		t.Errorf("device saw %d writes, want 2", got)
	}
	// A setting the device lacks is unsupported.
	err = c.WriteSettings(ctx, family, []fleet.Desired{{Name: "system.contact", Value: "x"}})
	if !errors.Is(err, providers.ErrUnsupported) {
		t.Errorf("write of a missing setting: %v", err)
	}
}

func TestPinMismatch(t *testing.T) {
	s := startServer(t, 0)
	p := s.printer(adminPassword)
	wrong := "sha256:" + strings.Repeat("ab", 32)
	p.TLSFingerprint = wrong
	_, err := lst.New(nil, lst.Options{Timeout: 5 * time.Second}).Dial(ctxT(t), p)
	if err == nil {
		t.Fatal("dial with a wrong pin succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, wrong) || !strings.Contains(msg, s.fingerprint) {
		t.Errorf("error does not name the expected %s and the presented %s:\n%s", wrong, s.fingerprint, msg)
	}
	if errors.Is(err, providers.ErrUnreachable) || errors.Is(err, providers.ErrPortClosed) {
		t.Errorf("a pin mismatch is not a network failure: %v", err)
	}
	var pe *lst.PinError
	if !errors.As(err, &pe) || pe.Got != s.fingerprint {
		t.Errorf("error %v is not a PinError presenting %s", err, s.fingerprint)
	}
}

func TestUnpinnedSelfSignedCertificateRefused(t *testing.T) {
	s := startServer(t, 0)
	p := s.printer(adminPassword)
	p.TLSFingerprint = ""
	_, err := lst.New(nil, lst.Options{Timeout: 5 * time.Second}).Dial(ctxT(t), p)
	if err == nil || !strings.Contains(err.Error(), s.fingerprint) {
		t.Fatalf("unpinned self-signed certificate: %v (want the presented fingerprint named)", err)
	}
}

func TestWrongCredentials(t *testing.T) {
	s := startServer(t, 0)
	_, err := lst.New(nil, lst.Options{Timeout: 5 * time.Second}).Dial(ctxT(t), s.printer("wrong-Password-7"))
	if !errors.Is(err, providers.ErrAuth) {
		t.Fatalf("wrong password: %v, want ErrAuth", err)
	}
	if !strings.Contains(err.Error(), `login refused for user "admin"`) {
		t.Errorf("unclear error: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-Password-7") {
		t.Error("the error shows the password")
	}
	// No credentials at all: refused before connecting.
	p := s.printer("")
	p.Credentials = fleet.Credentials{}
	if _, err := lst.New(nil, lst.Options{}).Dial(ctxT(t), p); !errors.Is(err, providers.ErrAuth) {
		t.Errorf("no credentials: %v, want ErrAuth", err)
	}
}

// TestTLS12Refused: the device refuses a TLS 1.2 client, and the client
// refuses a device that offers only TLS 1.2.
func TestTLS12Refused(t *testing.T) {
	s := startServer(t, 0)
	conf := &tls.Config{MaxVersion: tls.VersionTLS12, InsecureSkipVerify: true}
	d := tls.Dialer{Config: conf}
	c, err := d.DialContext(ctxT(t), "tcp", net.JoinHostPort("127.0.0.1", itoa(s.ctlPort)))
	if err == nil {
		c.Close()
		t.Fatal("a TLS 1.2 client completed the handshake")
	}
	if !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.2 client: %v", err)
	}

	cert, fp := selfSigned(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	p := fleet.Printer{Name: "old-tls", Host: "127.0.0.1", Ports: map[string]int{"lst": ln.Addr().(*net.TCPAddr).Port},
		TLSFingerprint: fp, Credentials: fleet.Credentials{Admin: fleet.Admin{Username: adminUser, Password: adminPassword}}}
	_, err = lst.New(nil, lst.Options{Timeout: 5 * time.Second}).Dial(ctxT(t), p)
	if err == nil || !strings.Contains(err.Error(), "does not speak TLS 1.3") {
		t.Errorf("TLS 1.2 device: %v", err)
	}
}

func TestClosedPortIsErrPortClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := fleet.Printer{Name: "gone", Host: "127.0.0.1", Ports: map[string]int{"lst": port},
		Credentials: fleet.Credentials{Admin: fleet.Admin{Username: adminUser, Password: adminPassword}}}
	_, err = lst.New(nil, lst.Options{Timeout: 2 * time.Second}).Dial(ctxT(t), p)
	if !errors.Is(err, providers.ErrPortClosed) {
		t.Errorf("closed port: %v", err)
	}
}

// TestSessionEndsWithControlChannel: closing the session makes the device
// forget its login (and so the PSK identity) at once.
func TestSessionEndsWithControlChannel(t *testing.T) {
	s := startServer(t, 0)
	c := dial(t, s.printer(adminPassword))
	if _, err := c.Identity(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := s.Sessions(); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); s.Sessions() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the device still holds the session after Close")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := c.Identity(ctxT(t)); err == nil {
		t.Error("a closed session still answers")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSessionObserveSetObserve: the Connector's session reads facts and
// settings without writing, writes idempotently, and a second Observe
// verifies the write.
func TestSessionObserveSetObserve(t *testing.T) {
	s := startServer(t, 0)
	sess, err := lst.NewConnector(nil, lst.Options{Timeout: 5 * time.Second}).Connect(ctxT(t), s.printer(adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx := ctxT(t)
	obs, err := sess.Observe(ctx, []string{"system.location", "system.contact"})
	if err != nil {
		t.Fatal(err)
	}
	if obs.Serial != "LXK7D0001" || obs.Model != "Lexmark CX725" || obs.Status != fleet.StatusIdle || obs.PageCount != 1234 || obs.Transport != "lst" {
		t.Errorf("facts: %+v", obs)
	}
	if obs.Settings["system.location"] != "Lobby" || obs.SettingTransports["system.location"] != "lst" {
		t.Errorf("settings: %v via %v", obs.Settings, obs.SettingTransports)
	}
	if !slices.Equal(obs.Unsupported, []string{"system.contact"}) || obs.UnsupportedWhy["system.contact"] == "" {
		t.Errorf("unsupported: %q %v", obs.Unsupported, obs.UnsupportedWhy)
	}
	if s.dev.writeCount() != 0 {
		t.Fatal("Observe wrote to the device")
	}
	if err := sess.Set(ctx, []fleet.Desired{{Name: "system.location", Value: "Annex"}}); err != nil {
		t.Fatal(err)
	}
	obs, err = sess.Observe(ctx, []string{"system.location"})
	if err != nil || obs.Settings["system.location"] != "Annex" {
		t.Errorf("after Set: %v, %v", obs.Settings, err)
	}
}

// TestSilentDeviceIsUnreachable: a device that completes TLS but never
// answers the login, and one whose data port stays silent, fail within
// the timeout as unreachable.
func TestSilentDeviceIsUnreachable(t *testing.T) {
	cert, fp := selfSigned(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1024)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	p := fleet.Printer{Name: "mute", Host: "127.0.0.1", Ports: map[string]int{"lst": ln.Addr().(*net.TCPAddr).Port},
		TLSFingerprint: fp, Credentials: fleet.Credentials{Admin: fleet.Admin{Username: adminUser, Password: adminPassword}}}
	start := time.Now()
	_, err = lst.New(nil, lst.Options{Timeout: 300 * time.Millisecond}).Dial(ctxT(t), p)
	if !errors.Is(err, providers.ErrUnreachable) {
		t.Errorf("silent login: %v, want ErrUnreachable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("silent login took %s", d)
	}

	// A grant naming a UDP port nobody answers on.
	mute, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	s := startServer(t, mute.LocalAddr().(*net.UDPAddr).Port)
	_, err = lst.New(nil, lst.Options{Timeout: 300 * time.Millisecond}).Dial(ctxT(t), s.printer(adminPassword))
	if !errors.Is(err, providers.ErrUnreachable) || !strings.Contains(err.Error(), "data channel") {
		t.Errorf("silent data port: %v, want ErrUnreachable naming the data channel", err)
	}
}
