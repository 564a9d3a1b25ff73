// Package web is watch's HTTPS status page and its JSON API: the fleet,
// one printer, the alerts (acknowledge, silence), the runs of plan and
// apply, the audit log, /healthz and /metrics. Pages are rendered on the
// server from embedded templates; logins come through the interfaces of
// package auth (a password directory, Kerberos), sessions are signed with
// a key derived from the state's own key, so that several watch
// processes on one state share them (docs/status-page.md, docs/api.md).
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch"
	"github.com/inkform/inkform/watch/web/auth"
)

// DefaultSessionTTL is how long a login lasts when the configuration does
// not say.
const DefaultSessionTTL = 8 * time.Hour

// shutdownGrace bounds how long Serve waits for requests in flight once
// its context is done.
const shutdownGrace = 5 * time.Second

// Config is what a Server shows and whom it lets in.
type Config struct {
	Page alerts.StatusPage
	// Fleet returns the current view of every declared printer. It is
	// called on every request for the fleet and must be cheap: the watch
	// process keeps the views of its latest poll.
	Fleet func() []PrinterView
	// Store is the state: runs with their outcomes (when it is a
	// state.HistoryReader), the audit log (state.Audit) and ended
	// sessions (state.Sessions), and its key signs the sessions.
	Store state.Store
	// Outbox holds the alerts; nil takes Store's when it has one.
	Outbox state.Outbox
	// Passwords, Directory and Negotiator may each be nil. With neither
	// Passwords nor Negotiator the page has no logins: it then starts only
	// on a loopback address, and everyone who reaches it is a viewer.
	Passwords  auth.Passwords
	Directory  auth.Directory
	Negotiator auth.Negotiator
	// Registry gets the page's collectors; nil makes one of its own, with
	// the Go and process collectors.
	Registry *prometheus.Registry
	// Stats gives the alert engine's counters for /metrics; nil leaves
	// them out.
	Stats func() watch.Stats
	Log   *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Limits bound failed logins; zero fields take the defaults.
	Limits LoginLimits
	// PlanNow starts a plan of the whole fleet (watch's drift check) in
	// the background, for the person named by; nil when the process
	// offers none, and the page then has no such button or route.
	PlanNow func(ctx context.Context, by string) error
}

// PrinterView is what the watch process knows of one declared printer.
type PrinterView struct {
	Printer fleet.Printer
	// Observation is the latest; nil when the printer was never observed.
	Observation *fleet.Observation
	// Recorded is the printer's record in state; nil when it has none.
	Recorded *state.Printer
	// Err says why the latest observation failed ("" when it did not).
	Err string
	// Drift names the settings whose observed value differs from the
	// desired one.
	Drift []string
}

// Server is the status page. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	ttl     time.Duration
	noAuth  bool // no logins: loopback only, everyone a viewer
	outbox  state.Outbox
	audit   state.Audit
	history state.HistoryReader
	keys    *sessionKeys // nil when noAuth
	limits  *limiter
	tls     *tls.Config
	metrics *metrics
	handler http.Handler
	routes  []route
	alertC  alertCounts
	fleetC  fleetCache

	mu      sync.Mutex
	serving bool
	addr    net.Addr
	maddr   net.Addr
	ready   chan struct{}
}

// New checks cfg and makes a Server; it neither listens nor serves.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("status page: no state")
	}
	if _, _, err := net.SplitHostPort(cfg.Page.Listen); err != nil {
		return nil, fmt.Errorf("status page: listen %q: want host:port, e.g. 127.0.0.1:8443 or :443", cfg.Page.Listen)
	}
	if cfg.Fleet == nil {
		cfg.Fleet = func() []PrinterView { return nil }
	}
	s := &Server{cfg: cfg, log: cfg.Log, now: cfg.Now, ttl: cfg.Page.SessionTTL, ready: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = DefaultSessionTTL
	}
	s.outbox = cfg.Outbox
	if s.outbox == nil {
		s.outbox, _ = cfg.Store.(state.Outbox)
	}
	s.audit, _ = cfg.Store.(state.Audit)
	s.history, _ = cfg.Store.(state.HistoryReader)
	s.noAuth = cfg.Passwords == nil && cfg.Negotiator == nil
	if s.noAuth {
		if !isLoopback(cfg.Page.Listen) {
			return nil, fmt.Errorf("status page: listen %q: no login is configured (ldap or kerberos), so the page may only listen on a loopback address such as 127.0.0.1:8443; configure a login or listen on loopback", cfg.Page.Listen)
		}
	} else {
		sess, ok := cfg.Store.(state.Sessions)
		if !ok {
			return nil, fmt.Errorf("status page: the state (%T) cannot record ended sessions, so a logout could not end a session on every watch process", cfg.Store)
		}
		key, err := cfg.Store.ValueKey()
		if err != nil {
			return nil, fmt.Errorf("status page: sessions are signed with a key derived from the state's key: %w", err)
		}
		s.keys = newSessionKeys(key, sess)
	}
	s.limits = newLimiter(cfg.Limits)
	tc, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	s.tls = tc
	s.metrics = newMetrics(s)
	if err := s.metrics.register(cfg.Registry); err != nil {
		return nil, fmt.Errorf("status page: metrics: %w", err)
	}
	s.routes = s.routeTable()
	s.handler = s.router()
	return s, nil
}

// Handler is the page's whole HTTP handler, for tests and for serving it
// some other way; Serve serves it over TLS.
func (s *Server) Handler() http.Handler { return s.handler }

// Ready is closed once Serve listens.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the address Serve listens on, nil before it does.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// MetricsAddr is the address of the separate /metrics listener, nil
// when there is none (or before Serve listens).
func (s *Server) MetricsAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maddr
}

// Serve serves the page over TLS (and /metrics on MetricsListen when set)
// until ctx is done, then shuts down gracefully within a few seconds.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	again := s.serving
	s.serving = true
	s.mu.Unlock()
	if again {
		return errors.New("status page: Serve called twice")
	}
	ln, err := net.Listen("tcp", s.cfg.Page.Listen)
	if err != nil {
		return fmt.Errorf("status page: listen on %s: %w", s.cfg.Page.Listen, err)
	}
	var mln net.Listener
	if s.cfg.Page.MetricsListen != "" {
		mln, err = net.Listen("tcp", s.cfg.Page.MetricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("status page: metrics: listen on %s: %w", s.cfg.Page.MetricsListen, err)
		}
	}
	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	srv := &http.Server{Handler: s.handler, TLSConfig: s.tls, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	servers := []*http.Server{srv}
	s.mu.Lock()
	s.addr = ln.Addr()
	if mln != nil {
		s.maddr = mln.Addr()
	}
	s.mu.Unlock()

	errs := make(chan error, 2)
	go func() { errs <- srv.ServeTLS(ln, "", "") }()
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metrics.handler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
		servers = append(servers, msrv)
		go func() { errs <- msrv.Serve(mln) }()
	}
	s.log.Info("status page listening", "address", ln.Addr().String(), "metrics", s.cfg.Page.MetricsListen)
	close(s.ready)

	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, sv := range servers {
		if err := sv.Shutdown(sctx); err != nil {
			sv.Close()
		}
	}
	if first != nil && !errors.Is(first, http.ErrServerClosed) {
		return fmt.Errorf("status page: %w", first)
	}
	return nil
}

// isLoopback reports whether a listen address binds loopback only.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
