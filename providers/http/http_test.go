package http_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers"
	ewshttp "github.com/inkform/inkform/providers/http"
	"github.com/inkform/inkform/simulator"
)

const adminPassword = "ews-Secret-42"

func startSim(t *testing.T, o simulator.Options) *simulator.Printer {
	t.Helper()
	o.Printers = 1
	o.AdminPassword = adminPassword
	if o.Services == nil {
		o.Services = []string{"http", "https"}
	}
	s, err := simulator.Start(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Printers()[0]
}

func printerFor(sp *simulator.Printer, password string) fleet.Printer {
	return fleet.Printer{
		Name:        sp.Name(),
		Host:        "127.0.0.1",
		Ports:       sp.Ports(),
		Credentials: fleet.Credentials{Admin: fleet.Admin{Username: "admin", Password: password}},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, scheme string, p fleet.Printer) *ewshttp.Conn {
	t.Helper()
	c, err := ewshttp.New(nil, ewshttp.Options{Scheme: scheme, Timeout: 5 * time.Second}).Dial(ctxT(t), p)
	if err != nil {
		t.Fatalf("dial %s: %v", scheme, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// settingsUnderTest are catalog settings with an EWS field on the
// simulator's first model: one kept in the SNMP MIB, one integer and one
// enum kept by name.
var settingsUnderTest = map[string][2]string{
	"system.location":      {"HQ 2F East", "Annex, room 12"},
	"print.default_copies": {"3", "7"},
	"paper.default_size":   {"A4", "Letter"},
}

func requireEWS(t *testing.T, family string) {
	t.Helper()
	for name := range settingsUnderTest {
		s, ok := catalog.Default().Lookup(name)
		if !ok || s.Bindings(family).EWS == nil {
			t.Fatalf("the catalog has no EWS field for %s on family %q; the test needs one", name, family)
		}
	}
}

func roundTrip(t *testing.T, c *ewshttp.Conn, sp *simulator.Printer) {
	t.Helper()
	ctx := ctxT(t)
	fam := sp.Family()
	requireEWS(t, fam)
	names := []string{"no.such.setting"}
	for n := range settingsUnderTest {
		names = append(names, n)
	}
	for round := 0; round < 2; round++ {
		var want []fleet.Desired
		for n, v := range settingsUnderTest {
			want = append(want, fleet.Desired{Name: n, Value: v[round]})
		}
		if err := c.WriteSettings(ctx, fam, want); err != nil {
			t.Fatalf("write: %v", err)
		}
		got, unsupported, err := c.ReadSettings(ctx, fam, names)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(unsupported) != 1 || unsupported[0] != "no.such.setting" {
			t.Errorf("unsupported = %q, want [no.such.setting]", unsupported)
		}
		for _, d := range want {
			if got[d.Name] != d.Value {
				t.Errorf("round %d: %s reads %q over EWS, want %q", round, d.Name, got[d.Name], d.Value)
			}
			// One store per printer: the printer itself agrees.
			if v, _ := sp.Setting(d.Name); v != d.Value {
				t.Errorf("round %d: %s is %q on the printer, want %q", round, d.Name, v, d.Value)
			}
		}
	}
}

func TestSettingsRoundTripDigest(t *testing.T) {
	sp := startSim(t, simulator.Options{})
	c := dial(t, "http", printerFor(sp, adminPassword))
	if c.Auth() != "digest" {
		t.Fatalf("auth = %q, want digest", c.Auth())
	}
	roundTrip(t, c, sp)
}

func TestSettingsRoundTripBasic(t *testing.T) {
	sp := startSim(t, simulator.Options{AuthScheme: "basic"})
	c := dial(t, "http", printerFor(sp, adminPassword))
	if c.Auth() != "basic" {
		t.Fatalf("auth = %q, want basic", c.Auth())
	}
	roundTrip(t, c, sp)
}

// A server that offers only MD5 gets MD5 answers. A proxy in front of the
// simulator drops its SHA-256 challenge and records what the client sends.
func TestDigestMD5(t *testing.T) {
	sp := startSim(t, simulator.Options{Services: []string{"http"}})
	target, _ := url.Parse("http://127.0.0.1:" + strconv.Itoa(sp.Port("http")))
	var mu sync.Mutex
	var auths []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *nethttp.Response) error {
		var keep []string
		for _, v := range r.Header.Values("WWW-Authenticate") {
			if strings.Contains(v, "algorithm=MD5") {
				keep = append(keep, v)
			}
		}
		r.Header["Www-Authenticate"] = keep
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &nethttp.Server{Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	p := printerFor(sp, adminPassword)
	p.Ports = map[string]int{"http": ln.Addr().(*net.TCPAddr).Port}
	c := dial(t, "http", p)
	roundTrip(t, c, sp)
	mu.Lock()
	defer mu.Unlock()
	md5 := 0
	for _, a := range auths {
		if strings.Contains(a, "SHA-256") {
			t.Fatalf("client answered with SHA-256 though only MD5 was offered: %s", a)
		}
		if strings.Contains(a, "algorithm=MD5") {
			md5++
		}
	}
	if md5 == 0 {
		t.Fatalf("no MD5 digest answer seen in %q", auths)
	}
}

func TestWrongPasswordIsErrAuth(t *testing.T) {
	for _, scheme := range []string{"basic", "digest"} {
		t.Run(scheme, func(t *testing.T) {
			sp := startSim(t, simulator.Options{AuthScheme: scheme, Services: []string{"http"}})
			const wrong = "wrong-Pass-9"
			_, err := ewshttp.New(nil, ewshttp.Options{Scheme: "http"}).Dial(ctxT(t), printerFor(sp, wrong))
			if !errors.Is(err, providers.ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
			if msg := err.Error(); strings.Contains(msg, wrong) || !strings.Contains(msg, "login refused") || !strings.Contains(msg, sp.Name()) {
				t.Fatalf("error %q: want the printer and the refusal, never the password", msg)
			}
		})
	}
}

// extendedCatalog is the built-in catalog with a field the simulator does
// not have and a looser range than the simulator enforces.
func extendedCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	data, err := json.Marshal(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	settings := raw["settings"].([]any)
	for _, s := range settings {
		m := s.(map[string]any)
		if m["name"] == "print.default_copies" {
			m["max"] = 5000
		}
	}
	raw["settings"] = append(settings, map[string]any{
		"name": "acme.tray_lock", "type": "integer", "description": "test", "ews": map[string]any{"field": "acme_tray_lock"},
	})
	data, _ = json.Marshal(raw)
	c, err := catalog.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFieldsThePrinterRefuses(t *testing.T) {
	sp := startSim(t, simulator.Options{Services: []string{"http"}})
	ctx := ctxT(t)
	c, err := ewshttp.New(extendedCatalog(t), ewshttp.Options{Scheme: "http"}).Dial(ctx, printerFor(sp, adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fam := sp.Family()
	requireEWS(t, fam)

	_, unsupported, err := c.ReadSettings(ctx, fam, []string{"acme.tray_lock", "system.location"})
	if err != nil || len(unsupported) != 1 || unsupported[0] != "acme.tray_lock" {
		t.Fatalf("read: unsupported %q, %v; want [acme.tray_lock]", unsupported, err)
	}

	err = c.WriteSettings(ctx, fam, []fleet.Desired{{Name: "acme.tray_lock", Value: "1"}})
	if !errors.Is(err, providers.ErrUnsupported) || !strings.Contains(err.Error(), "acme.tray_lock") {
		t.Fatalf("write of a field the printer lacks: %v, want ErrUnsupported naming the setting", err)
	}

	// All or nothing: a value the printer refuses keeps the valid one out.
	before, _ := sp.Setting("system.location")
	err = c.WriteSettings(ctx, fam, []fleet.Desired{{Name: "print.default_copies", Value: "2000"}, {Name: "system.location", Value: "elsewhere"}})
	if err == nil || errors.Is(err, providers.ErrUnsupported) || !strings.Contains(err.Error(), "print.default_copies") {
		t.Fatalf("write of an out-of-range value: %v, want an error naming print.default_copies", err)
	}
	if after, _ := sp.Setting("system.location"); after != before {
		t.Fatalf("system.location changed to %q by a refused request", after)
	}

	// A sensitive value never appears in the error.
	err = c.WriteSettings(ctx, fam, []fleet.Desired{{Name: "print.default_copies", Value: "4321", Sensitive: true}})
	if err == nil || strings.Contains(err.Error(), "4321") {
		t.Fatalf("sensitive refusal: %v", err)
	}
}

func TestClientRejectsBadValueBeforeSending(t *testing.T) {
	sp := startSim(t, simulator.Options{Services: []string{"http"}})
	c := dial(t, "http", printerFor(sp, adminPassword))
	requireEWS(t, sp.Family())
	err := c.WriteSettings(ctxT(t), sp.Family(), []fleet.Desired{{Name: "paper.default_size", Value: "A0-secret", Sensitive: true}})
	if err == nil || strings.Contains(err.Error(), "A0-secret") || !strings.Contains(err.Error(), "paper.default_size") {
		t.Fatalf("err = %v", err)
	}
}

// peerCertPEM fetches the certificate a TLS server presents, as a person
// would with openssl s_client, and writes it to a file.
func peerCertPEM(t *testing.T, port int) string {
	t.Helper()
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	der := conn.ConnectionState().PeerCertificates[0].Raw
	path := filepath.Join(t.TempDir(), "printer-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHTTPSVerification(t *testing.T) {
	sp := startSim(t, simulator.Options{Services: []string{"https"}})
	fp := sp.TLSFingerprint()
	if !strings.HasPrefix(fp, "sha256:") || len(fp) != len("sha256:")+64 {
		t.Fatalf("fingerprint %q", fp)
	}
	https := ewshttp.New(nil, ewshttp.Options{Scheme: "https", Timeout: 5 * time.Second})

	t.Run("pinned", func(t *testing.T) {
		p := printerFor(sp, adminPassword)
		p.TLSFingerprint = strings.ToUpper(fp[:7]) + strings.ToUpper(fp[7:])
		c, err := https.Dial(ctxT(t), p)
		if err != nil {
			t.Fatalf("pinned dial: %v", err)
		}
		c.Close()
	})
	t.Run("wrong pin", func(t *testing.T) {
		p := printerFor(sp, adminPassword)
		p.TLSFingerprint = "sha256:" + strings.Repeat("ab", 32)
		_, err := https.Dial(ctxT(t), p)
		if err == nil || !strings.Contains(err.Error(), "not the pinned one") || !strings.Contains(err.Error(), fp) {
			t.Fatalf("wrong pin: %v", err)
		}
	})
	t.Run("no pin", func(t *testing.T) {
		_, err := https.Dial(ctxT(t), printerFor(sp, adminPassword))
		if err == nil {
			t.Fatal("a self-signed printer was trusted without a pin or CA")
		}
		for _, want := range []string{"not trusted", "tls_fingerprint", fp} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		if errors.Is(err, providers.ErrPortClosed) || errors.Is(err, providers.ErrAuth) {
			t.Errorf("a TLS failure is no closed port or login refusal: %v", err)
		}
	})
	t.Run("CA file", func(t *testing.T) {
		p := printerFor(sp, adminPassword)
		p.CACertFile = peerCertPEM(t, sp.Port("https"))
		c, err := https.Dial(ctxT(t), p)
		if err != nil {
			t.Fatalf("dial with CA file: %v", err)
		}
		c.Close()
		// CA and a wrong pin: both must hold.
		p.TLSFingerprint = "sha256:" + strings.Repeat("00", 32)
		if _, err := https.Dial(ctxT(t), p); err == nil {
			t.Fatal("a wrong pin was ignored when a CA file was set")
		}
	})
	t.Run("bad pin syntax", func(t *testing.T) {
		p := printerFor(sp, adminPassword)
		p.TLSFingerprint = "md5:abcd"
		if _, err := https.Dial(ctxT(t), p); err == nil || !strings.Contains(err.Error(), "tls_fingerprint") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestUploadArrivesIdentical(t *testing.T) {
	sp := startSim(t, simulator.Options{})
	for i, scheme := range []string{"http", "https"} {
		p := printerFor(sp, adminPassword)
		p.TLSFingerprint = sp.TLSFingerprint()
		c := dial(t, scheme, p)
		data := make([]byte, 700_000+i)
		rand.Read(data)
		sum := sha256.Sum256(data)
		f := fleet.File{Source: filepath.Join("bundles", "settings.ucf"), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
		if i == 1 {
			f.Dest = "certs/ca.pem"
		}
		var last int64
		if err := c.Upload(ctxT(t), f, bytes.NewReader(data), func(n int64) { last = n }); err != nil {
			t.Fatalf("%s upload: %v", scheme, err)
		}
		if last != f.Size {
			t.Errorf("%s: last progress %d, want %d", scheme, last, f.Size)
		}
		files := sp.Files()
		got := files[len(files)-1]
		wantName := f.RemoteName()
		if got.Name != wantName || got.Via != scheme || got.Size != f.Size || got.SHA256 != f.SHA256 {
			t.Fatalf("%s: printer received %+v, want %s of %d bytes", scheme, got, wantName, f.Size)
		}
	}

	// A source shorter than declared fails rather than sending a torn file.
	c := dial(t, "http", printerFor(sp, adminPassword))
	n := len(sp.Files())
	for _, size := range []int{60, 140} {
		err := c.Upload(ctxT(t), fleet.File{Source: "x.bin", Size: 100}, bytes.NewReader(make([]byte, size)), nil)
		if err == nil || !strings.Contains(err.Error(), "aborted") {
			t.Fatalf("source of %d bytes declared as 100: %v", size, err)
		}
		if len(sp.Files()) != n {
			t.Fatalf("source of %d bytes declared as 100: a torn file reached the printer", size)
		}
	}
}

// The upload body replays after a 401 (a digest nonce gone stale) when the
// source can seek back.
func TestUploadReplaysOnChallenge(t *testing.T) {
	var mu sync.Mutex
	var calls int
	var got []byte
	srv := &nethttp.Server{ReadHeaderTimeout: 5 * time.Second, Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		defer mu.Unlock()
		user, pass, ok := r.BasicAuth()
		if !ok || user != "admin" || pass != adminPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="t"`)
			w.WriteHeader(nethttp.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/upload" {
			w.Write([]byte("{}"))
			return
		}
		calls++
		if calls == 1 {
			// Refuse the first upload once, as a printer that lost its
			// session would.
			w.Header().Set("WWW-Authenticate", `Basic realm="t"`)
			w.WriteHeader(nethttp.StatusUnauthorized)
			return
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			w.WriteHeader(400)
			return
		}
		got, _ = io.ReadAll(f)
		sum := sha256.Sum256(got)
		json.NewEncoder(w).Encode(ewshttp.UploadReply{Name: "x", Size: int64(len(got)), SHA256: hex.EncodeToString(sum[:])})
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p := fleet.Printer{Name: "replay", Host: "127.0.0.1", Ports: map[string]int{"http": ln.Addr().(*net.TCPAddr).Port},
		Credentials: fleet.Credentials{Admin: fleet.Admin{Username: "admin", Password: adminPassword}}}
	c := dial(t, "http", p)
	data := bytes.Repeat([]byte("0123456789"), 5000)
	// With basic auth a 401 comes back to the caller as a refusal; the
	// replay matters for digest, whose transport retries once.
	err = c.Upload(ctxT(t), fleet.File{Source: "x", Size: int64(len(data))}, bytes.NewReader(data), nil)
	if !errors.Is(err, providers.ErrAuth) {
		t.Fatalf("first upload: %v, want ErrAuth", err)
	}
	if err := c.Upload(ctxT(t), fleet.File{Source: "x", Size: int64(len(data))}, bytes.NewReader(data), nil); err != nil {
		t.Fatalf("second upload: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(got, data) {
		t.Fatalf("server got %d bytes, want %d", len(got), len(data))
	}
}

func TestClosedPortIsErrPortClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for _, scheme := range []string{"http", "https"} {
		p := fleet.Printer{Name: "closed", Host: "127.0.0.1", Ports: map[string]int{scheme: port}}
		_, err := ewshttp.New(nil, ewshttp.Options{Scheme: scheme}).Dial(ctxT(t), p)
		if !errors.Is(err, providers.ErrPortClosed) {
			t.Fatalf("%s: err = %v, want ErrPortClosed", scheme, err)
		}
	}
}

func TestParseFingerprint(t *testing.T) {
	hexes := strings.Repeat("0a", 32)
	for _, ok := range []string{"sha256:" + hexes, "SHA256:" + strings.ToUpper(hexes), "sha256:" + strings.TrimSuffix(strings.Repeat("0a:", 32), ":")} {
		if _, err := ewshttp.ParseFingerprint(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", hexes, "sha1:" + hexes, "sha256:" + hexes[:62], "sha256:" + hexes + "00", "sha256:zz" + hexes[2:]} {
		if _, err := ewshttp.ParseFingerprint(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A server that trickles its headers, or a body, a line at a time cannot
// hold a request past its timeout: the deadline is the request's, not
// each read's.
func TestTricklingServerTimesOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    testservers.TrickleOptions
	}{
		{"headers", testservers.TrickleOptions{Answer: true, Greet: "HTTP/1.1 200 OK\r\n", Send: "X-Still: coming\r\n"}},
		{"body", testservers.TrickleOptions{Answer: true, Greet: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{", Send: "\"x\": 1,\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := testservers.StartTrickler(t, tc.o)
			p := fleet.Printer{Name: "slow", Host: "127.0.0.1", Ports: map[string]int{"http": tr.Port}}
			errc := make(chan error, 1)
			go func() {
				// No deadline of its own: only the request timeouts may end it.
				c, err := ewshttp.New(nil, ewshttp.Options{Scheme: "http", Timeout: 300 * time.Millisecond}).Dial(context.Background(), p)
				if err == nil {
					_, _, err = c.ReadSettings(context.Background(), "lexmark", []string{"system.contact"})
					c.Close()
				}
				errc <- err
			}()
			select {
			case err := <-errc:
				if !errors.Is(err, providers.ErrUnreachable) || !strings.Contains(err.Error(), "slow") || !strings.Contains(err.Error(), "http") {
					t.Fatalf("err = %v, want ErrUnreachable naming the printer and http", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("still waiting after 30s: each trickled line extends the deadline")
			}
		})
	}
}
