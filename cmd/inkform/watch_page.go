package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch"
	"github.com/inkform/inkform/watch/web"
	"github.com/inkform/inkform/watch/web/auth/kerberos"
	"github.com/inkform/inkform/watch/web/auth/ldap"
)

// fleetViews keeps what watch last saw of each printer (its poll, its
// drift check, its record in state) for the status page, which asks on
// every request: the views are built once per change, not per request.
type fleetViews struct {
	mu       sync.Mutex
	seen     map[string]seenPrinter
	recorded map[string]*state.Printer
	built    []web.PrinterView
	builtFor *hcl.Config // the configuration built is of
}

type seenPrinter struct {
	obs   *fleet.Observation
	err   string
	drift []string
}

func newFleetViews() *fleetViews {
	return &fleetViews{seen: map[string]seenPrinter{}, recorded: map[string]*state.Printer{}}
}

// observed records a poll's outcome for a printer: its observation, or
// why there is none (the last observation stays, marked with the error).
func (v *fleetViews) observed(name string, obs *fleet.Observation, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	sp := v.seen[name]
	if err != nil {
		sp.err = err.Error()
	} else {
		sp.obs, sp.err = obs, ""
	}
	v.seen[name] = sp
	v.built = nil
}

// drifted records the settings a drift check found changed on a printer.
func (v *fleetViews) drifted(name string, settings []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	sp := v.seen[name]
	sp.drift = settings
	v.seen[name] = sp
	v.built = nil
}

// refreshRecorded reads the printers' records from state.
func (v *fleetViews) refreshRecorded(ctx context.Context, st state.Store) error {
	ps, err := st.Printers(ctx)
	if err != nil {
		return err
	}
	rec := make(map[string]*state.Printer, len(ps))
	for i := range ps {
		rec[ps[i].Name] = &ps[i]
	}
	v.mu.Lock()
	v.recorded, v.built = rec, nil
	v.mu.Unlock()
	return nil
}

// views returns a view of every printer cfg declares; callers only read
// it.
func (v *fleetViews) views(cfg *hcl.Config) []web.PrinterView {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.built != nil && v.builtFor == cfg {
		return v.built
	}
	out := make([]web.PrinterView, len(cfg.Printers))
	for i, p := range cfg.Printers {
		sp := v.seen[p.Name]
		out[i] = web.PrinterView{Printer: p, Observation: sp.obs, Recorded: v.recorded[p.Name], Err: sp.err, Drift: sp.drift}
	}
	v.built, v.builtFor = out, cfg
	return out
}

// newStatusPage makes the status_page block's page, with its logins.
func newStatusPage(s *service, sp alerts.StatusPage, log *slog.Logger) (*web.Server, error) {
	cfg := web.Config{
		Page: sp, Store: s.st, Outbox: s.outbox, Log: log,
		Fleet: func() []web.PrinterView { return s.views.views(s.cfg.Load()) },
		Stats: func() watch.Stats { return s.engine.Stats() },
		PlanNow: func(ctx context.Context, by string) error {
			select {
			case s.driftNow <- by:
			default: // one is asked for already; it will see the same fleet
			}
			return nil
		},
	}
	if sp.LDAP != nil {
		d, err := ldap.New(*sp.LDAP)
		if err != nil {
			return nil, fmt.Errorf("status page: %w", err)
		}
		cfg.Passwords, cfg.Directory = d, d
	}
	if sp.Kerberos != nil {
		k, err := kerberos.New(*sp.Kerberos)
		if err != nil {
			return nil, fmt.Errorf("status page: %w", err)
		}
		cfg.Negotiator = k
	}
	return web.New(cfg)
}

// statusURL is the page's base address for emails' links.
func statusURL(sp *alerts.StatusPage) string {
	if sp == nil {
		return ""
	}
	if sp.URL != "" {
		return sp.URL
	}
	host, port, err := net.SplitHostPort(sp.Listen)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if host, err = os.Hostname(); err != nil {
			return ""
		}
	}
	return "https://" + net.JoinHostPort(host, port)
}

// servePage runs the page until ctx ends; a page that cannot start (its
// address taken, its certificate unreadable) stops watch through fail.
func (s *service) servePage(ctx context.Context, fail func(error)) {
	if s.page == nil {
		return
	}
	if err := s.page.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		fail(err)
	}
}
