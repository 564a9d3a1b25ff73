package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlite"
)

// Two watch processes on one SQLite state: a session one issues is good
// on the other, and a logout on either ends it on both.
func TestSessionAcrossInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := context.Background()
	open := func() state.Store {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	clock := &testClock{t: t0}
	pw := newPasswords()
	mk := func(st state.Store) *testEnv {
		s, err := New(Config{Page: alerts.StatusPage{Listen: "127.0.0.1:0"}, Store: st, Passwords: pw,
			Fleet: func() []PrinterView { return testFleet(3) }, Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return &testEnv{t: t, s: s, pw: pw, clock: clock}
	}
	a, b := mk(open()), mk(open())
	c := a.login("vera", "viewer-pw")
	for name, e := range map[string]*testEnv{"issuer": a, "other": b} {
		if w := e.do("GET", "/api/v1/whoami", nil, nil, c); w.Code != 200 || !strings.Contains(w.Body.String(), `"name": "vera"`) {
			t.Fatalf("%s: whoami with the session: %d %s", name, w.Code, w.Body)
		}
	}
	// A session from a state with another key is refused.
	other := newEnv(t, 3)
	if w := other.do("GET", "/api/v1/whoami", nil, nil, c); w.Code != 401 {
		t.Errorf("a session of another state: %d, want 401", w.Code)
	}

	body, hdr := form("csrf", b.csrfOf(c))
	w := b.do("POST", "/logout", body, hdr, c)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if cl := w.Result().Cookies(); len(cl) == 0 || cl[0].Name != sessionCookie || cl[0].MaxAge >= 0 {
		t.Errorf("logout did not clear the cookie: %+v", cl)
	}
	for name, e := range map[string]*testEnv{"issuer": a, "other": b} {
		if w := e.do("GET", "/api/v1/whoami", nil, nil, c); w.Code != 401 {
			t.Errorf("%s: the session still works after logout: %d", name, w.Code)
		}
	}
	// A new login still works, and nothing of the session is in the
	// audit log.
	c2 := a.login("vera", "viewer-pw")
	if w := b.do("GET", "/", nil, nil, c2); w.Code != 200 {
		t.Errorf("a new login: %d", w.Code)
	}
	log, err := a.s.audit.AuditLog(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
		for _, secret := range []string{c.Value, c2.Value, "viewer-pw"} {
			if strings.Contains(e.Detail+e.Target+e.User, secret) {
				t.Errorf("audit entry %+v holds a secret", e)
			}
		}
	}
	if strings.Join(actions, ",") != "login,logout,login" {
		t.Errorf("audit actions (most recent first) = %v", actions)
	}
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, 3, func(c *Config) { c.Page.SessionTTL = time.Hour })
	c := e.login("vera", "viewer-pw")
	if c.MaxAge != 3600 {
		t.Errorf("cookie MaxAge %d, want 3600", c.MaxAge)
	}
	e.clock.Add(59 * time.Minute)
	if w := e.do("GET", "/api/v1/whoami", nil, nil, c); w.Code != 200 {
		t.Fatalf("before expiry: %d", w.Code)
	}
	e.clock.Add(time.Minute)
	if w := e.do("GET", "/api/v1/whoami", nil, nil, c); w.Code != 401 {
		t.Errorf("after expiry: %d, want 401", w.Code)
	}
}

func TestTokenTampering(t *testing.T) {
	e := newEnv(t, 3)
	c := e.login("vera", "viewer-pw")
	s, err := parseToken(e.s.keys.sign, c.Value, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Raise the role in the payload, keep the signature.
	s.Role = alerts.RoleAdmin
	forged, _ := (&sessionKeys{sign: []byte("not the key")}).encode(s)
	good, _ := e.s.keys.encode(s)
	payload := strings.Split(good, ".")[1]
	sig := strings.Split(c.Value, ".")[2]
	for name, tok := range map[string]string{
		"other key":       forged,
		"swapped payload": "v1." + payload + "." + sig,
		"no signature":    "v1." + payload,
		"unknown version": "v2." + payload + "." + sig,
		"huge":            "v1." + strings.Repeat("A", 5000) + "." + sig,
		"empty":           "",
		"signature only":  "v1.." + sig,
	} {
		if _, err := parseToken(e.s.keys.sign, tok, t0); err == nil {
			t.Errorf("%s: accepted", name)
		}
		w := e.do("GET", "/api/v1/audit", nil, nil, &http.Cookie{Name: sessionCookie, Value: tok})
		if w.Code != 401 {
			t.Errorf("%s: /api/v1/audit gave %d", name, w.Code)
		}
	}
}
