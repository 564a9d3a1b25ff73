package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state/memstate"
)

func TestLoginOutcomes(t *testing.T) {
	e := newEnv(t, 3)
	for _, tc := range []struct {
		user, pw string
		down     bool
		want     int
		msg      string
	}{
		{"vera", "Tr0ub4dor-guess", false, 401, "wrong user name or password"},
		{"nobody", "x", false, 401, "wrong user name or password"},
		{"nobby", "norole-pw", false, 403, "not in any group"},
		{"vera", "viewer-pw", true, 503, "authentication service unavailable"},
	} {
		e.pw.down = tc.down
		c, w := e.tryLogin(tc.user, tc.pw)
		if c != nil || w.Code != tc.want || !strings.Contains(w.Body.String(), tc.msg) {
			t.Errorf("%s/%s: %d, cookie %v\n%s", tc.user, tc.pw, w.Code, c != nil, w.Body)
		}
		if strings.Contains(w.Body.String(), tc.pw) && tc.pw != "x" {
			t.Errorf("the page repeats the password")
		}
	}
	e.pw.down = false
	_, w := e.tryLogin("vera", "viewer-pw")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/alerts" {
		t.Errorf("login: %d to %q", w.Code, w.Header().Get("Location"))
	}
	// The same through HTTP Basic on the API.
	for _, tc := range []struct {
		user, pw string
		down     bool
		want     int
	}{{"vera", "wrong", false, 401}, {"nobby", "norole-pw", false, 403}, {"vera", "viewer-pw", true, 503}, {"vera", "viewer-pw", false, 200}} {
		e.pw.down = tc.down
		r := http.Header{"Authorization": {"Basic " + basic(tc.user, tc.pw)}}
		if w := e.do("GET", "/api/v1/printers", nil, r); w.Code != tc.want {
			t.Errorf("basic %s: %d, want %d", tc.user, w.Code, tc.want)
		}
	}
	e.pw.down = false
	// A login form without its token is refused before the password is
	// checked.
	calls := e.pw.calls
	body, hdr := form("username", "vera", "password", "viewer-pw")
	if w := e.do("POST", "/login", body, hdr); w.Code != 403 || e.pw.calls != calls {
		t.Errorf("login without the form token: %d (directory asked %d times)", w.Code, e.pw.calls-calls)
	}

	log, _ := e.store.AuditLog(context.Background(), 0)
	var fails, logins int
	for _, a := range log {
		if strings.Contains(a.Detail+a.User+a.Target, "-pw") || strings.Contains(a.Detail, "Tr0ub4dor") {
			t.Errorf("audit holds a password: %+v", a)
		}
		switch a.Action {
		case actionLoginFailed:
			fails++
			if a.Address != "192.0.2.10" || a.User == "" {
				t.Errorf("failure entry %+v", a)
			}
		case actionLogin:
			logins++
		}
	}
	if fails != 7 || logins != 1 {
		t.Errorf("audit: %d failures, %d logins; want 7 and 1:\n%+v", fails, logins, log)
	}
}

func basic(u, p string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// After MaxPerUser failures a user name is locked out, even with the
// right password, until the lockout ends; other names are not.
func TestLockout(t *testing.T) {
	e := newEnv(t, 3, func(c *Config) { c.Limits = LoginLimits{MaxPerUser: 3, MaxPerAddress: 10, Lockout: 10 * time.Minute} })
	for i := 0; i < 3; i++ {
		if c, w := e.tryLogin("sam", "guess"); c != nil || w.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	calls := e.pw.calls
	c, w := e.tryLogin("sam", "desk-pw")
	if c != nil || w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "too many failed logins") {
		t.Fatalf("right password while locked: %d\n%s", w.Code, w.Body)
	}
	if e.pw.calls != calls {
		t.Error("the directory was asked during the lockout")
	}
	// Basic is locked too.
	if w := e.do("GET", "/api/v1/printers", nil, http.Header{"Authorization": {"Basic " + basic("sam", "desk-pw")}}); w.Code != 429 {
		t.Errorf("basic while locked: %d", w.Code)
	}
	e.login("ada", "admin-pw") // another name from the same address
	e.clock.Add(10 * time.Minute)
	e.login("sam", "desk-pw")

	// Per address: many names from one address.
	for i := 0; i < 10; i++ {
		e.tryLogin(fmt.Sprintf("user%d", i), "x")
	}
	if c, w := e.tryLogin("vera", "viewer-pw"); c != nil || w.Code != 429 {
		t.Errorf("after 10 failures from one address: %d", w.Code)
	}
	log, _ := e.store.AuditLog(context.Background(), 0)
	if log[0].Action != actionLoginFailed || log[0].Detail != "locked out" {
		t.Errorf("last audit entry %+v", log[0])
	}
}

// The limiter remembers a bounded number of names and addresses.
func TestLimiterBounded(t *testing.T) {
	l := newLimiter(LoginLimits{Tracked: 100, MaxPerUser: 2})
	now := t0
	for i := 0; i < 3000; i++ {
		l.fail(fmt.Sprintf("u%d", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
		now = now.Add(time.Millisecond)
	}
	if n := l.size(); n > 100 {
		t.Errorf("limiter holds %d entries, want at most 100", n)
	}
	// The most recent are kept: the last name is one failure from a
	// lockout.
	l.fail("u2999", "192.0.2.1", now)
	if l.locked("u2999", "192.0.2.2", now) == 0 {
		t.Error("the most recent name was forgotten")
	}
}

func TestNegotiate(t *testing.T) {
	e := newEnv(t, 3, func(c *Config) {
		c.Negotiator = fakeNegotiator{}
		c.Directory = fakeDirectory{"kim": alerts.RoleServiceDesk}
	})
	neg := func(tok string) http.Header { return http.Header{"Authorization": {"Negotiate " + tok}} }
	w := e.do("GET", "/api/v1/whoami", nil, neg("ticket-for-kim"))
	var who whoamiJSON
	if json.Unmarshal(w.Body.Bytes(), &who); w.Code != 200 || who.Name != "kim" || who.Role != alerts.RoleServiceDesk || who.Method != "kerberos" || who.CSRFToken != "" {
		t.Errorf("whoami with a ticket: %d %+v", w.Code, who)
	}
	if w := e.do("GET", "/api/v1/whoami", nil, neg("ticket-for-lee")); w.Code != 403 {
		t.Errorf("a user in no group: %d, want 403", w.Code)
	}
	if w := e.do("GET", "/api/v1/whoami", nil, neg("forged")); w.Code != 401 || w.Header().Get("WWW-Authenticate") != "Negotiate" {
		t.Errorf("a bad ticket: %d %q", w.Code, w.Header().Values("WWW-Authenticate"))
	}
	// Pages take the header too (a browser with a ticket), and give a
	// session whose forms carry the CSRF token.
	w = e.do("GET", "/alerts", nil, neg("ticket-for-kim"))
	if w.Code != 200 || len(w.Result().Cookies()) != 1 || w.Result().Cookies()[0].Name != sessionCookie {
		t.Errorf("page with a ticket: %d, cookies %v", w.Code, w.Result().Cookies())
	} else if tok := e.csrfOf(w.Result().Cookies()[0]); !strings.Contains(w.Body.String(), `name="csrf" value="`+tok+`"`) {
		t.Error("the page's forms lack the new session's CSRF token")
	}
	// A form POST with only the ticket is refused: a browser sends it by
	// itself, so it proves nothing about where the form came from.
	body, hdr := form("printer", "p1", "duration", "1h", "comment", "x")
	hdr.Set("Authorization", "Negotiate ticket-for-kim")
	if w := e.do("POST", "/silences", body, hdr); w.Code != 403 {
		t.Errorf("form POST with a ticket and no session: %d, want 403", w.Code)
	}
	// The login link answers 401 Negotiate, then makes a session.
	if w := e.do("GET", "/login/negotiate", nil, nil); w.Code != 401 || w.Header().Get("WWW-Authenticate") != "Negotiate" {
		t.Errorf("/login/negotiate without a ticket: %d", w.Code)
	}
	w = e.do("GET", "/login/negotiate?next=%2Fruns", nil, neg("ticket-for-kim"))
	if w.Code != 303 || w.Header().Get("Location") != "/runs" {
		t.Fatalf("/login/negotiate with a ticket: %d %q", w.Code, w.Header().Get("Location"))
	}
	var sc *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			sc = c
		}
	}
	if w := e.do("GET", "/api/v1/whoami", nil, nil, sc); w.Code != 200 || !strings.Contains(w.Body.String(), `"csrf_token"`) {
		t.Errorf("the Kerberos session: %d %s", w.Code, w.Body)
	}

	// Without a Directory a Kerberos user is a viewer.
	e2 := newEnv(t, 3, func(c *Config) { c.Negotiator = fakeNegotiator{}; c.Passwords = nil })
	w = e2.do("GET", "/api/v1/whoami", nil, neg("ticket-for-anyone"))
	if json.Unmarshal(w.Body.Bytes(), &who); who.Role != alerts.RoleViewer {
		t.Errorf("kerberos without a directory: %+v", who)
	}
	if got := e2.do("GET", "/api/v1/whoami", nil, nil).Header().Values("WWW-Authenticate"); len(got) != 1 || got[0] != "Negotiate" {
		t.Errorf("401 without passwords offers %q", got)
	}
}

func TestLoopbackWithoutLogins(t *testing.T) {
	for _, listen := range []string{":8443", "0.0.0.0:8443", "192.0.2.1:443", "printers.example.com:443"} {
		_, err := New(Config{Page: alerts.StatusPage{Listen: listen}, Store: memstate.New()})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("listen %q without logins: %v", listen, err)
		}
	}
	for _, listen := range []string{"", "nonsense", "127.0.0.1"} {
		_, err := New(Config{Page: alerts.StatusPage{Listen: listen}, Store: memstate.New(), Passwords: newPasswords()})
		if err == nil || !strings.Contains(err.Error(), "host:port") {
			t.Errorf("listen %q: %v", listen, err)
		}
	}
	for _, listen := range []string{"127.0.0.1:0", "[::1]:8443", "localhost:8443"} {
		if _, err := New(Config{Page: alerts.StatusPage{Listen: listen}, Store: memstate.New()}); err != nil {
			t.Errorf("listen %q without logins: %v", listen, err)
		}
	}
	e := newEnv(t, 3, func(c *Config) { c.Passwords = nil })
	key := raise(t, e.store, "p00001", alerts.Jam, t0)
	w := e.do("GET", "/api/v1/whoami", nil, nil)
	var who whoamiJSON
	if json.Unmarshal(w.Body.Bytes(), &who); w.Code != 200 || who.Name != "loopback" || who.Role != alerts.RoleViewer {
		t.Errorf("whoami on loopback: %d %+v", w.Code, who)
	}
	if w := e.do("GET", "/", nil, nil); w.Code != 200 || strings.Contains(w.Body.String(), "Acknowledge") {
		t.Errorf("fleet on loopback: %d", w.Code)
	}
	body, hdr := form("key", key)
	if w := e.do("POST", "/alerts/ack", body, hdr); w.Code != 403 {
		t.Errorf("ack on loopback: %d, want 403", w.Code)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/alerts?state=all": "/alerts?state=all", "": "/", "https://evil.example/": "/", "//evil.example/": "/",
		"/\\evil.example": "/", "alerts": "/", "/login": "/", "/x\r\nSet-Cookie: a=b": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
