package simulator

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

func ewsURL(p *Printer, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(p.Port("http")) + path
}

func TestEWSChallenges(t *testing.T) {
	for _, scheme := range []string{"digest", "basic"} {
		s := startSim(t, Options{Printers: 1, Services: []string{"http"}, AuthScheme: scheme})
		res, err := http.Get(ewsURL(s.Printers()[0], "/api/settings"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header.Values("WWW-Authenticate")
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: status %s without credentials", scheme, res.Status)
		}
		switch scheme {
		case "digest":
			if len(h) != 2 || !strings.Contains(h[0], "algorithm=SHA-256") || !strings.Contains(h[1], "algorithm=MD5") || !strings.Contains(h[0], `qop="auth"`) {
				t.Fatalf("digest challenges %q", h)
			}
		case "basic":
			if len(h) != 1 || !strings.HasPrefix(h[0], "Basic ") {
				t.Fatalf("basic challenge %q", h)
			}
		}
	}
}

// digestRequest answers a challenge by hand, so the test controls the
// nonce.
func digestRequest(t *testing.T, h *ewsHandler, method, uri, nonce, password string) *http.Request {
	t.Helper()
	cred, err := digest.Digest(&digest.Challenge{Realm: h.realm, Nonce: nonce, Algorithm: "SHA-256", QOP: []string{"auth"}},
		digest.Options{Method: method, URI: uri, Username: h.user, Password: password, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(method, "http://printer"+uri, nil)
	r.Header.Set("Authorization", cred.String())
	return r
}

func TestEWSDigestNonces(t *testing.T) {
	p := newPrinter(0, 3, time.Now(), nil)
	h, err := newEWSHandler(p, "http")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	fresh := h.newNonce(now)
	if ok, _ := h.authorized(digestRequest(t, h, "GET", "/api/settings", fresh, "inkform-sim")); !ok {
		t.Fatal("a right answer to a fresh nonce was refused")
	}
	if ok, _ := h.authorized(digestRequest(t, h, "GET", "/api/settings", fresh, "wrong")); ok {
		t.Fatal("a wrong password was accepted")
	}
	// The answer is bound to the URI it was made for.
	r := digestRequest(t, h, "GET", "/api/settings", fresh, "inkform-sim")
	r.URL.Path = "/upload"
	if ok, _ := h.authorized(r); ok {
		t.Fatal("an answer for another URI was accepted")
	}
	if ok, stale := h.authorized(digestRequest(t, h, "GET", "/api/settings", h.newNonce(now.Add(-ewsNonceLife-time.Minute)), "inkform-sim")); ok || !stale {
		t.Fatalf("expired nonce: ok=%v stale=%v, want refused as stale", ok, stale)
	}
	forged := []byte(fresh)
	forged[0] ^= 1
	if ok, stale := h.authorized(digestRequest(t, h, "GET", "/api/settings", string(forged), "inkform-sim")); ok || stale {
		t.Fatal("a forged nonce was accepted or called stale")
	}
	other, _ := newEWSHandler(p, "http")
	if ok, _ := h.authorized(digestRequest(t, h, "GET", "/api/settings", other.newNonce(now), "inkform-sim")); ok {
		t.Fatal("a nonce from another server was accepted")
	}
}

func basicReq(t *testing.T, p *Printer, method, path, ctype string, body io.Reader) *http.Response {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), method, ewsURL(p, path), body)
	if err != nil {
		t.Fatal(err)
	}
	r.SetBasicAuth("admin", "inkform-sim")
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// ewsField returns a setting of p's family kept by name (not in the MIB)
// with an integer range, and its field.
func ewsIntField(t *testing.T, h *ewsHandler) (string, string) {
	t.Helper()
	for f, s := range h.ewsFields() {
		if s.Type == "integer" && s.Max != nil && s.Bindings(h.p.Family()).SNMP == nil {
			return f, s.Name
		}
	}
	t.Fatal("the catalog has no integer EWS setting without SNMP binding")
	return "", ""
}

func TestEWSSettingsAllOrNothing(t *testing.T) {
	s := startSim(t, Options{Printers: 1, Services: []string{"http"}, AuthScheme: "basic"})
	p := s.Printers()[0]
	h, _ := newEWSHandler(p, "http")
	field, name := ewsIntField(t, h)
	before, _ := p.Setting(name)

	res := basicReq(t, p, "POST", "/api/settings", "application/json", strings.NewReader(`{"`+field+`": 5, "no_such_field": "x", "system_contact": "x"}`))
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %s, want 400", res.Status)
	}
	var reply struct{ Errors []ewsFieldError }
	if err := json.NewDecoder(res.Body).Decode(&reply); err != nil || len(reply.Errors) == 0 || reply.Errors[0].Field != "no_such_field" || reply.Errors[0].Code != "unknown" {
		t.Fatalf("errors %+v (%v)", reply.Errors, err)
	}
	if after, _ := p.Setting(name); after != before {
		t.Fatalf("%s changed from %s to %s by a refused request", name, before, after)
	}

	res = basicReq(t, p, "POST", "/api/settings", "application/x-www-form-urlencoded", strings.NewReader(field+"=5"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("form post: %s", res.Status)
	}
	if v, _ := p.Setting(name); v != "5" {
		t.Fatalf("%s = %s after the form set 5", name, v)
	}
	res = basicReq(t, p, "POST", "/api/settings", "text/plain", strings.NewReader("x"))
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("text/plain: %s", res.Status)
	}
}

func multipartBody(t *testing.T, filename string, data []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func TestEWSUpload(t *testing.T) {
	s := startSim(t, Options{Printers: 1, Services: []string{"http"}, AuthScheme: "basic"})
	p := s.Printers()[0]
	data := []byte("-----BEGIN CERTIFICATE-----\n")
	ct, body := multipartBody(t, "certs/ca.pem", data)
	res := basicReq(t, p, "POST", "/upload", ct, body)
	var got struct {
		Name   string
		Size   int
		SHA256 string
	}
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != 200 {
		t.Fatalf("upload: %s, %v", res.Status, err)
	}
	sum := sha256.Sum256(data)
	if got.Name != "certs/ca.pem" || got.Size != len(data) || got.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("reply %+v", got)
	}
	if f := p.Files(); len(f) != 1 || f[0].Via != "http" || f[0].Name != "certs/ca.pem" {
		t.Fatalf("files %+v", f)
	}

	for _, bad := range []string{"../etc/passwd", "/abs", "a/../../b"} {
		ct, body := multipartBody(t, bad, data)
		if res := basicReq(t, p, "POST", "/upload", ct, body); res.StatusCode != http.StatusBadRequest {
			t.Errorf("filename %q: %s, want 400", bad, res.Status)
		}
	}

	p.svcMu.Lock()
	p.onFile = func(*Printer, ReceivedFile, []byte) error { return errors.New("firmware rejected") }
	p.svcMu.Unlock()
	ct, body = multipartBody(t, "fw.fls", data)
	res = basicReq(t, p, "POST", "/upload", ct, body)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("rejected file: %s, want 422", res.Status)
	}
	msg, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(msg), "firmware rejected") {
		t.Fatalf("reply %s does not say why", msg)
	}
}

func TestEWSCertificateMatchesFingerprint(t *testing.T) {
	s := startSim(t, Options{Printers: 2, Services: []string{"https"}})
	seen := map[string]bool{}
	for _, p := range s.Printers() {
		conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p.Port("https")), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		leaf := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		sum := sha256.Sum256(leaf.Raw)
		if fp := "sha256:" + hex.EncodeToString(sum[:]); fp != p.TLSFingerprint() {
			t.Fatalf("%s serves %s, TLSFingerprint says %s", p.Name(), fp, p.TLSFingerprint())
		}
		if leaf.Subject.CommonName != p.Name() {
			t.Errorf("CN %q, want %q", leaf.Subject.CommonName, p.Name())
		}
		seen[p.TLSFingerprint()] = true
	}
	if len(seen) != 2 {
		t.Fatal("printers share a certificate")
	}
}

func FuzzEWSFileName(f *testing.F) {
	for _, s := range []string{`form-data; name="file"; filename="a.pem"`, `form-data; filename="../x"`, `form-data; filename="a/b/../c"`, `attachment`, `form-data; filename*=UTF-8''%2e%2e%2fx`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, d string) {
		name, ok := ewsFileName(d)
		if !ok {
			return
		}
		if name == "" || strings.HasPrefix(name, "/") || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") {
			t.Fatalf("%q gave unsafe name %q", d, name)
		}
	})
}

func FuzzEWSReadForm(f *testing.F) {
	for _, s := range []string{`{"a":"b","n":5,"t":true}`, `{"a":null}`, `[]`, `{"a":{"b":1}}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, _ := http.NewRequest("POST", "http://printer/api/settings", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		_, _ = ewsReadForm(r)
	})
}

func TestServicesSilentWhileOffline(t *testing.T) {
	s := startSim(t, Options{Printers: 2, Offline: 1, Services: []string{"http", "ftp"}})
	off := s.Printers()[0]
	for _, svc := range []string{"http", "ftp"} {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(off.Port(svc)), 5*time.Second)
		if err != nil {
			continue // refused is fine too
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(make([]byte, 64))
		conn.Close()
		if n > 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s of an offline printer: read %d bytes, %v; want the connection closed", svc, n, err)
		}
	}
	res, err := http.Get(ewsURL(s.Printers()[1], "/api/settings"))
	if err != nil {
		t.Fatalf("online printer: %v", err)
	}
	res.Body.Close()
}
