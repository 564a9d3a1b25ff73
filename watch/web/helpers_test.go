package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
	"github.com/inkform/inkform/watch/web/auth"
)

// fakePasswords is an in-process directory: user → password and role.
type fakePasswords struct {
	mu    sync.Mutex
	users map[string][2]string
	down  bool
	calls int
}

func newPasswords() *fakePasswords {
	return &fakePasswords{users: map[string][2]string{
		"vera":  {"viewer-pw", alerts.RoleViewer},
		"sam":   {"desk-pw", alerts.RoleServiceDesk},
		"ada":   {"admin-pw", alerts.RoleAdmin},
		"nobby": {"norole-pw", ""},
	}}
}

func (f *fakePasswords) Authenticate(ctx context.Context, name, pw string) (auth.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return auth.User{}, fmt.Errorf("ldap: dial: %w", auth.ErrUnavailable)
	}
	u, ok := f.users[name]
	if !ok || u[0] != pw {
		return auth.User{}, auth.ErrBadCredentials
	}
	if u[1] == "" {
		return auth.User{}, auth.ErrNoRole
	}
	return auth.User{Name: name, Role: u[1], Method: "ldap"}, nil
}

// fakeNegotiator takes "Negotiate ticket-for-<user>".
type fakeNegotiator struct{}

func (fakeNegotiator) Negotiate(r *http.Request) (string, bool, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Negotiate ")
	if !ok {
		return "", false, nil
	}
	name, ok := strings.CutPrefix(tok, "ticket-for-")
	if !ok {
		return "", true, fmt.Errorf("spnego: %w", auth.ErrBadCredentials)
	}
	return name, true, nil
}

// fakeDirectory maps a Kerberos user to a role.
type fakeDirectory map[string]string

func (d fakeDirectory) Lookup(ctx context.Context, name string) (auth.User, error) {
	role, ok := d[name]
	if !ok {
		return auth.User{}, auth.ErrNoRole
	}
	return auth.User{Name: name, Role: role}, nil
}

// testClock is a clock tests move.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// testFleet makes n printers: every 7th is down with a jam, every 11th
// unreachable, every 13th never observed, every 5th drifted.
func testFleet(n int) []PrinterView {
	out := make([]PrinterView, n)
	models := []string{"HP LaserJet M507", "Lexmark MS823", "Dell S5830dn"}
	for i := range out {
		name := fmt.Sprintf("p%05d", i)
		p := fleet.Printer{Name: name, Host: fmt.Sprintf("10.%d.%d.%d", i/65536, (i/256)%256, i%256), Port: 161,
			Keywords: []string{[]string{"hq", "lab", "warehouse"}[i%3]},
			Settings: []fleet.Desired{{Name: "system.contact", Value: "IT x4000"}, {Name: "security.admin_pin", Value: "4321", Sensitive: true}}}
		v := PrinterView{Printer: p}
		switch {
		case i%13 == 0:
		case i%11 == 0:
			v.Err = "snmp: request timeout"
		default:
			st := fleet.StatusIdle
			if i%7 == 0 {
				st = fleet.StatusDown
			}
			v.Observation = &fleet.Observation{Model: models[i%3], Firmware: fmt.Sprintf("1.%d", i%4), Serial: "SN" + name, Status: st,
				PageCount: int64(i * 10), ObservedAt: t0.Add(-time.Duration(i) * time.Second),
				Supplies: []fleet.Supply{
					{Description: "Black Toner", Kind: fleet.SupplyKindToner, Color: "black", Level: i % 101, Max: 100},
					{Description: "Imaging Unit", Kind: fleet.SupplyKindDrum, Level: -3, Max: -2},
				},
				Settings: map[string]string{"system.contact": "IT x4000", "security.admin_pin": "4321"}}
		}
		if i%5 == 0 {
			v.Drift = []string{"system.contact"}
		}
		out[i] = v
	}
	return out
}

type testEnv struct {
	t     testing.TB
	s     *Server
	store *memstate.Store
	pw    *fakePasswords
	clock *testClock
	views []PrinterView
}

type envOpt func(*Config)

func newEnv(t testing.TB, n int, opts ...envOpt) *testEnv {
	t.Helper()
	e := &testEnv{t: t, store: memstate.New(), pw: newPasswords(), clock: &testClock{t: t0}, views: testFleet(n)}
	cfg := Config{
		Page:      alerts.StatusPage{Listen: "127.0.0.1:0"},
		Fleet:     func() []PrinterView { return e.views },
		Store:     e.store,
		Passwords: e.pw,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:       e.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.s = s
	return e
}

// do sends a request to the handler.
func (e *testEnv) do(method, target string, body io.Reader, hdr http.Header, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(method, "https://inkform.test"+target, body)
	r.RemoteAddr = "192.0.2.10:40000"
	for k, vs := range hdr {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.s.Handler().ServeHTTP(w, r)
	return w
}

// login logs in through the form and returns the session cookie.
func (e *testEnv) login(user, pw string) *http.Cookie {
	e.t.Helper()
	c, w := e.tryLogin(user, pw)
	if c == nil {
		e.t.Fatalf("login of %s: status %d\n%s", user, w.Code, w.Body)
	}
	return c
}

func (e *testEnv) tryLogin(user, pw string) (*http.Cookie, *httptest.ResponseRecorder) {
	e.t.Helper()
	get := e.do("GET", "/login", nil, nil)
	var lc *http.Cookie
	for _, c := range get.Result().Cookies() {
		if c.Name == loginCookie {
			lc = c
		}
	}
	if lc == nil {
		e.t.Fatal("the login page set no login cookie")
	}
	form := url.Values{"username": {user}, "password": {pw}, "csrf": {lc.Value}, "next": {"/alerts"}}
	w := e.do("POST", "/login", strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, lc)
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return c, w
		}
	}
	return nil, w
}

// csrfOf returns the CSRF token of a session cookie, as whoami says it.
func (e *testEnv) csrfOf(c *http.Cookie) string {
	e.t.Helper()
	s, err := parseToken(e.s.keys.sign, c.Value, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return e.s.keys.csrfToken(s)
}

func form(kv ...string) (io.Reader, http.Header) {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return strings.NewReader(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

// raise records a raised alert on printer.
func raise(t *testing.T, o state.Outbox, printer, name string, at time.Time) string {
	t.Helper()
	key := alerts.KeyFor(printer, name, "")
	_, err := o.AppendEvents(context.Background(), []alerts.Event{{Printer: printer, Key: key, Kind: alerts.Raised, Name: name,
		Severity: alerts.DefaultSeverity(name), Source: alerts.SourcePoll, Description: "Paper jam in tray 2", At: at}})
	if err != nil {
		t.Fatal(err)
	}
	return key
}
