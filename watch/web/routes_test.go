package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/inkform/inkform/alerts"
)

// concrete turns a route pattern into a path to request.
func concrete(pattern string) string {
	p := strings.ReplaceAll(pattern, "{$}", "")
	p = strings.ReplaceAll(p, "{name}", "p00001")
	p = strings.ReplaceAll(p, "{id}", "1")
	if p == "/static/" {
		p = "/static/style.css"
	}
	return p
}

// Every route but the public ones refuses a request without credentials,
// and with bad ones.
func TestRoutesRefuseUnauthenticated(t *testing.T) {
	e := newEnv(t, 3, func(c *Config) {
		c.Negotiator = fakeNegotiator{}
		c.Limits = LoginLimits{MaxPerUser: 1000, MaxPerAddress: 1000}
		c.PlanNow = func(context.Context, string) error { t.Error("a plan started without a login"); return nil }
	})
	publicOK := map[string]bool{"GET /healthz": true, "GET /static/": true, "GET /login": true, "POST /login": true, "GET /login/negotiate": true}
	seen := 0
	for _, rt := range e.s.routes {
		id := rt.method + " " + rt.path
		if rt.kind == public {
			if !publicOK[id] {
				t.Errorf("%s is public, and should not be", id)
			}
			continue
		}
		seen++
		for _, cred := range []struct {
			name string
			hdr  http.Header
		}{
			{"none", nil},
			{"forged cookie", http.Header{"Cookie": {sessionCookie + "=v1.e30.AAAA"}}},
			{"wrong basic", http.Header{"Authorization": {"Basic dmVyYTp3cm9uZw=="}}}, // vera:wrong
			{"bad ticket", http.Header{"Authorization": {"Negotiate garbage"}}},
		} {
			t.Run(id+"/"+cred.name, func(t *testing.T) {
				w := e.do(rt.method, concrete(rt.path), nil, cred.hdr)
				switch {
				case rt.kind == page && rt.method == "GET" && w.Code == http.StatusSeeOther:
					if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
						t.Errorf("redirected to %q, want the login form", loc)
					}
				case w.Code == http.StatusUnauthorized:
					if rt.kind == api {
						got := w.Header().Values("WWW-Authenticate")
						if len(got) != 2 || got[0] != "Negotiate" || !strings.HasPrefix(got[1], `Basic realm="inkform"`) {
							t.Errorf("WWW-Authenticate = %q, want Negotiate and Basic", got)
						}
						var body apiErrorBody
						if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Status != 401 || body.FormatVersion != apiVersion {
							t.Errorf("401 body = %s (%v)", w.Body, err)
						}
					}
				default:
					t.Errorf("status %d, want a refusal\n%s", w.Code, w.Body)
				}
			})
		}
	}
	if seen < 20 {
		t.Errorf("walked %d protected routes; the table seems short", seen)
	}
	// The public ones answer without credentials.
	for _, p := range []string{"/healthz", "/static/style.css", "/static/app.js", "/login"} {
		if w := e.do("GET", p, nil, nil); w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	// Basic is for the API: a page does not take it (a browser would
	// otherwise send cached credentials to forms).
	if w := e.do("GET", "/", nil, http.Header{"Authorization": {"Basic dmVyYTp2aWV3ZXItcHc="}}); w.Code != http.StatusSeeOther {
		t.Errorf("page with Basic: %d, want a redirect to the login", w.Code)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, 3)
	key := raise(t, e.store, "p00001", alerts.Jam, t0)
	c := e.login("sam", "desk-pw")
	tok := e.csrfOf(c)
	for _, tc := range []struct {
		name string
		kv   []string
	}{
		{"no token", []string{"key", key}},
		{"wrong token", []string{"key", key, "csrf", "AAAA" + tok[4:]}},
		{"another session's token", []string{"key", key, "csrf", e.csrfOf(e.login("ada", "admin-pw"))}},
	} {
		body, hdr := form(tc.kv...)
		if w := e.do("POST", "/alerts/ack", body, hdr, c); w.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, w.Code)
		}
	}
	as, _ := e.store.ActiveAlerts(t.Context())
	if len(as) != 1 || as[0].AckedBy != "" {
		t.Fatalf("an ack without a valid token went through: %+v", as)
	}
	// The API with the cookie needs the header.
	js := http.Header{"Content-Type": {"application/json"}}
	if w := e.do("POST", "/api/v1/alerts/ack", strings.NewReader(`{"key":"`+key+`"}`), js, c); w.Code != http.StatusForbidden {
		t.Errorf("API POST with a cookie and no X-CSRF-Token: %d, want 403", w.Code)
	}
	// Logout needs it too.
	if w := e.do("POST", "/logout", nil, nil, c); w.Code != http.StatusForbidden {
		t.Errorf("logout without a token: %d, want 403", w.Code)
	}
	// With Basic, JSON needs no token; a form body is refused.
	basic := http.Header{"Authorization": {"Basic c2FtOmRlc2stcHc="}} // sam:desk-pw
	hf := basic.Clone()
	hf.Set("Content-Type", "application/x-www-form-urlencoded")
	if w := e.do("POST", "/api/v1/alerts/ack", strings.NewReader("key="+key), hf); w.Code != http.StatusForbidden {
		t.Errorf("API POST with Basic and a form body: %d, want 403", w.Code)
	}
	hj := basic.Clone()
	hj.Set("Content-Type", "application/json")
	if w := e.do("POST", "/api/v1/alerts/ack", strings.NewReader(`{"key":"`+key+`","comment":"on it"}`), hj); w.Code != http.StatusOK {
		t.Errorf("API POST with Basic and JSON: %d\n%s", w.Code, w.Body)
	}
	// And the right token works.
	key2 := raise(t, e.store, "p00002", alerts.Jam, t0)
	body, hdr := form("key", key2, "csrf", tok, "back", "/alerts")
	if w := e.do("POST", "/alerts/ack", body, hdr, c); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/alerts" {
		t.Errorf("ack with the token: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	as, _ = e.store.ActiveAlerts(t.Context())
	for _, a := range as {
		if a.AckedBy != "sam" {
			t.Errorf("alert %s acked by %q, want sam", a.Event.Key, a.AckedBy)
		}
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t, 3)
	key := raise(t, e.store, "p00001", alerts.Jam, t0)
	vera, sam, ada := e.login("vera", "viewer-pw"), e.login("sam", "desk-pw"), e.login("ada", "admin-pw")
	for _, tc := range []struct {
		c      *http.Cookie
		method string
		path   string
		kv     []string
		want   int
	}{
		{vera, "GET", "/", nil, 200},
		{vera, "GET", "/printers/p00001", nil, 200},
		{vera, "GET", "/alerts", nil, 200},
		{vera, "GET", "/runs", nil, 200},
		{vera, "POST", "/alerts/ack", []string{"key", key}, 403},
		{vera, "POST", "/silences", []string{"printer", "p00001", "duration", "1h", "comment", "x"}, 403},
		{vera, "GET", "/audit", nil, 403},
		{vera, "GET", "/api/v1/audit", nil, 403},
		{sam, "GET", "/audit", nil, 403},
		{sam, "POST", "/silences", []string{"printer", "p00001", "duration", "1h", "comment", "toner on order", "back", "/alerts"}, 303},
		{ada, "GET", "/audit", nil, 200},
		{ada, "GET", "/api/v1/audit", nil, 200},
	} {
		var w interface{ Result() *http.Response }
		if tc.method == "POST" {
			kv := append(tc.kv, "csrf", e.csrfOf(tc.c))
			body, hdr := form(kv...)
			w = e.do("POST", tc.path, body, hdr, tc.c)
		} else {
			w = e.do("GET", tc.path, nil, nil, tc.c)
		}
		if got := w.Result().StatusCode; got != tc.want {
			t.Errorf("%s %s as %s: %d, want %d", tc.method, tc.path, tc.c.Value[:8], got, tc.want)
		}
	}
	as, _ := e.store.ActiveAlerts(t.Context())
	if as[0].AckedBy != "" {
		t.Errorf("a viewer acknowledged: %+v", as[0])
	}
	sils, _ := e.store.Silences(t.Context(), e.clock.Now())
	if len(sils) != 1 || sils[0].By != "sam" || sils[0].Printer != "p00001" {
		t.Errorf("silences = %+v", sils)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, 3)
	c := e.login("vera", "viewer-pw")
	for _, tc := range []struct {
		path string
		c    []*http.Cookie
	}{{"/login", nil}, {"/", []*http.Cookie{c}}, {"/api/v1/printers", []*http.Cookie{c}}, {"/healthz", nil}, {"/nothing", nil}, {"/api/v1/nothing", nil}} {
		w := e.do("GET", tc.path, nil, nil, tc.c...)
		h := w.Header()
		for k, want := range map[string]string{
			"Content-Security-Policy":   contentSecurityPolicy,
			"Strict-Transport-Security": "max-age=31536000",
			"X-Frame-Options":           "DENY",
			"X-Content-Type-Options":    "nosniff",
			"Referrer-Policy":           "no-referrer",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.path, k, got, want)
			}
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
			t.Errorf("CSP allows inline script: %s", h.Get("Content-Security-Policy"))
		}
	}
	// The session cookie is Secure, HttpOnly, SameSite=Strict, expiring.
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge != int(DefaultSessionTTL.Seconds()) {
		t.Errorf("session cookie %+v", c)
	}
	// No page carries an inline script.
	w := e.do("GET", "/", nil, nil, c)
	if strings.Contains(w.Body.String(), "<script>") || strings.Contains(w.Body.String(), " style=") {
		t.Error("the fleet page has an inline script or style, which the CSP blocks")
	}
}
