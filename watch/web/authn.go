package web

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/watch/web/auth"
)

// authTimeout bounds one call to the directory or the KDC.
const authTimeout = 10 * time.Second

// Kinds of route: what an unauthenticated request gets, and which
// credentials are taken.
const (
	public = iota // anyone
	page          // HTML: a session cookie (or a Kerberos header); else to /login
	api           // JSON: a session cookie, HTTP Basic or Negotiate; else 401
)

// principal is who makes a request, and how.
type principal struct {
	auth.User
	// session is set when the request came with a session cookie: its
	// POSTs then need the CSRF token.
	session *session
	csrf    string
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *principal)

// route is one entry of the router; the route table is also what the
// tests walk.
type route struct {
	method, path string
	kind         int
	role         string // the least role; "" for public routes
	h            handlerFunc
}

func (s *Server) routeTable() []route {
	viewer, desk, admin := alerts.RoleViewer, alerts.RoleServiceDesk, alerts.RoleAdmin
	rs := []route{
		{"GET", "/healthz", public, "", s.healthz},
		{"GET", "/static/", public, "", s.static},
		{"GET", "/login", public, "", s.loginPage},
		{"POST", "/login", public, "", s.loginSubmit},
		{"GET", "/login/negotiate", public, "", s.loginNegotiate},
		{"POST", "/logout", page, viewer, s.logout},

		{"GET", "/{$}", page, viewer, s.fleetPage},
		{"GET", "/printers/{name}", page, viewer, s.printerPage},
		{"GET", "/alerts", page, viewer, s.alertsPage},
		{"POST", "/alerts/ack", page, desk, s.ackForm},
		{"POST", "/silences", page, desk, s.silenceForm},
		{"POST", "/silences/{id}/expire", page, desk, s.expireForm},
		{"GET", "/runs", page, viewer, s.runsPage},
		{"GET", "/runs/{id}", page, viewer, s.runPage},
		{"GET", "/audit", page, admin, s.auditPage},

		{"GET", "/api/v1/whoami", api, viewer, s.apiWhoami},
		{"GET", "/api/v1/printers", api, viewer, s.apiPrinters},
		{"GET", "/api/v1/printers/{name}", api, viewer, s.apiPrinter},
		{"GET", "/api/v1/alerts", api, viewer, s.apiAlerts},
		{"POST", "/api/v1/alerts/ack", api, desk, s.apiAck},
		{"GET", "/api/v1/silences", api, viewer, s.apiSilences},
		{"POST", "/api/v1/silences", api, desk, s.apiSilence},
		{"POST", "/api/v1/silences/{id}/expire", api, desk, s.apiExpire},
		{"GET", "/api/v1/runs", api, viewer, s.apiRuns},
		{"GET", "/api/v1/runs/{id}", api, viewer, s.apiRun},
		{"GET", "/api/v1/audit", api, admin, s.apiAudit},
	}
	if s.cfg.PlanNow != nil {
		rs = append(rs,
			route{"POST", "/runs/plan", page, desk, s.planNowForm},
			route{"POST", "/api/v1/plan", api, desk, s.apiPlanNow})
	}
	if s.cfg.Page.MetricsListen == "" {
		rs = append(rs, route{"GET", "/metrics", api, viewer, func(w http.ResponseWriter, r *http.Request, _ *principal) {
			s.metrics.handler().ServeHTTP(w, r)
		}})
	}
	return rs
}

func (s *Server) router() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.method+" "+rt.path, s.guard(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.apiError(w, http.StatusNotFound, "no such route")
			return
		}
		http.NotFound(w, r)
	})
	return securityHeaders(mux)
}

// guard authenticates and authorises a request before its handler runs.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if rt.kind == public {
			rt.h(w, r, nil)
			return
		}
		p, status, err := s.authenticate(r, rt.kind == api)
		if err != nil {
			s.refuse(w, r, rt.kind, status, err)
			return
		}
		if rt.kind == page && r.Method == http.MethodGet && p.session == nil && p.Method == "kerberos" {
			// A browser that sent its ticket to a page gets a session, so
			// that its forms carry a CSRF token and the ticket need not be
			// checked again on every page.
			if sess, err := s.setSession(w, p.User); err == nil {
				p.session, p.csrf = &sess, s.keys.csrfToken(sess)
				s.record(r.Context(), r, p.Name, actionLogin, "", p.Method+" as "+p.Role)
			}
		}
		if !auth.RoleAtLeast(p.Role, rt.role) {
			s.refuse(w, r, rt.kind, http.StatusForbidden, fmt.Errorf("%s needs the %s role; %s has %s", rt.path, rt.role, p.Name, p.Role))
			return
		}
		if r.Method == http.MethodPost {
			if err := s.checkPost(r, p); err != nil {
				s.refuse(w, r, rt.kind, http.StatusForbidden, err)
				return
			}
		}
		rt.h(w, r, p)
	})
}

// checkPost refuses a POST that a page of another site could have made:
// with a session cookie it must carry the session's CSRF token; with
// credentials in a header (which a browser may send by itself) it must
// be JSON, which no cross-site form can send.
func (s *Server) checkPost(r *http.Request, p *principal) error {
	if p.session != nil {
		tok := r.Header.Get("X-CSRF-Token")
		if tok == "" {
			if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
				tok = r.PostFormValue("csrf")
			}
		}
		if !s.keys.csrfOK(*p.session, tok) {
			return errors.New("the request's CSRF token is missing or wrong; reload the page and try again")
		}
		return nil
	}
	if p.Method == "loopback" {
		return nil // viewers only: every POST needs a higher role
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return errors.New("a POST with credentials in its header must be application/json")
	}
	return nil
}

// errNoCredentials: the request carries none.
var errNoCredentials = errors.New("log in first")

// authenticate finds who makes r; the status says how to refuse when it
// fails.
func (s *Server) authenticate(r *http.Request, isAPI bool) (*principal, int, error) {
	if s.noAuth {
		return &principal{User: auth.User{Name: "loopback", Role: alerts.RoleViewer, Method: "loopback"}}, 0, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), authTimeout)
	defer cancel()
	if sess, ok, err := s.keys.fromRequest(ctx, r, s.now()); err != nil {
		s.log.Error("status page: look up a session", "err", err)
		return nil, http.StatusServiceUnavailable, errors.New("the state cannot be read to check the session")
	} else if ok {
		return &principal{User: sess.user(), session: &sess, csrf: s.keys.csrfToken(sess)}, 0, nil
	}
	h := r.Header.Get("Authorization")
	scheme, _, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Negotiate") && s.cfg.Negotiator != nil:
		u, err := s.negotiate(ctx, r)
		if err != nil {
			return nil, statusOf(err), err
		}
		return &principal{User: u}, 0, nil
	case strings.EqualFold(scheme, "Basic") && isAPI && s.cfg.Passwords != nil:
		name, pw, ok := r.BasicAuth()
		if !ok {
			return nil, http.StatusUnauthorized, errors.New("malformed Basic credentials")
		}
		u, err := s.checkPassword(ctx, r, name, pw, "basic")
		if err != nil {
			return nil, statusOf(err), err
		}
		return &principal{User: u}, 0, nil
	}
	return nil, http.StatusUnauthorized, errNoCredentials
}

// errLocked: too many failed logins.
type errLocked struct{ wait time.Duration }

func (e errLocked) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %s", e.wait.Round(time.Second))
}

// checkPassword checks a user name and password through Passwords,
// counting failures and keeping locked-out names and addresses out. It
// audits the outcome (never the password).
func (s *Server) checkPassword(ctx context.Context, r *http.Request, name, password, method string) (auth.User, error) {
	addr := clientAddr(r)
	now := s.now()
	if wait := s.limits.locked(name, addr, now); wait > 0 {
		s.record(ctx, r, name, actionLoginFailed, "", "locked out")
		return auth.User{}, errLocked{wait}
	}
	u, err := s.cfg.Passwords.Authenticate(ctx, name, password)
	if err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			s.limits.fail(name, addr, now)
		}
		if errors.Is(err, auth.ErrUnavailable) {
			s.log.Error("status page: login", "user", name, "err", err)
		}
		s.record(ctx, r, name, actionLoginFailed, "", reasonOf(err))
		return auth.User{}, err
	}
	s.limits.succeed(name)
	if method != "" {
		u.Method = method
	}
	if u.Name == "" {
		u.Name = name
	}
	return u, nil
}

// negotiate checks an "Authorization: Negotiate" header and finds the
// user's role: through Directory when there is one; a Kerberos user is a
// viewer otherwise.
func (s *Server) negotiate(ctx context.Context, r *http.Request) (auth.User, error) {
	name, ok, err := s.cfg.Negotiator.Negotiate(r)
	if err == nil && !ok {
		err = errNoCredentials
	}
	if err != nil {
		if errors.Is(err, auth.ErrUnavailable) {
			s.log.Error("status page: kerberos", "err", err)
		}
		if !errors.Is(err, errNoCredentials) {
			s.record(ctx, r, name, actionLoginFailed, "", "kerberos: "+reasonOf(err))
		}
		return auth.User{}, err
	}
	u := auth.User{Name: name, Role: alerts.RoleViewer}
	if s.cfg.Directory != nil {
		u, err = s.cfg.Directory.Lookup(ctx, name)
		if err != nil {
			if errors.Is(err, auth.ErrUnavailable) {
				s.log.Error("status page: directory", "user", name, "err", err)
			}
			s.record(ctx, r, name, actionLoginFailed, "", "kerberos: "+reasonOf(err))
			return auth.User{}, err
		}
	}
	u.Method = "kerberos"
	if u.Name == "" {
		u.Name = name
	}
	return u, nil
}

// statusOf maps an authentication error to its HTTP status.
func statusOf(err error) int {
	var l errLocked
	switch {
	case errors.As(err, &l):
		return http.StatusTooManyRequests
	case errors.Is(err, auth.ErrNoRole):
		return http.StatusForbidden
	case errors.Is(err, auth.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// reasonOf says why a login failed in words fit for a page and the audit
// log: the contract's messages, never what a directory said.
func reasonOf(err error) string {
	var l errLocked
	switch {
	case errors.As(err, &l):
		return l.Error()
	case errors.Is(err, auth.ErrNoRole):
		return auth.ErrNoRole.Error()
	case errors.Is(err, auth.ErrUnavailable):
		return auth.ErrUnavailable.Error()
	case errors.Is(err, errNoCredentials):
		return errNoCredentials.Error()
	}
	return auth.ErrBadCredentials.Error()
}

// refuse answers a request that may not go on: a page without a login is
// sent to the login form; everything else gets its status, an API route
// with the schemes it takes.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, kind, status int, err error) {
	if kind == page && status == http.StatusUnauthorized && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if status == http.StatusUnauthorized {
		if s.cfg.Negotiator != nil {
			w.Header().Add("WWW-Authenticate", "Negotiate")
		}
		if s.cfg.Passwords != nil && kind == api {
			w.Header().Add("WWW-Authenticate", `Basic realm="inkform", charset="UTF-8"`)
		}
	}
	msg := reasonOf(err)
	if status == http.StatusForbidden && !errors.Is(err, auth.ErrNoRole) {
		msg = err.Error()
	}
	if kind == api {
		s.apiError(w, status, msg)
		return
	}
	s.errorPage(w, r, nil, status, msg)
}

// clientAddr is the address the request came from; proxies' headers are
// not trusted.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// CSRF is the token the page's forms carry ("" without a session).
func (p *principal) CSRF() string { return p.csrf }

// HasSession reports whether p logged in with a session, which a logout
// ends.
func (p *principal) HasSession() bool { return p.session != nil }
