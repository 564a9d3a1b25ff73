package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/providers"
	pnpap "github.com/inkform/inkform/providers/npap"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch"
	"github.com/inkform/inkform/watch/mail"
	wnpap "github.com/inkform/inkform/watch/npap"
	"github.com/inkform/inkform/watch/traps"
	"github.com/inkform/inkform/watch/web"
)

// service is inkform watch: the engine with its sources, poller, drift
// checks and report schedule, over one configuration that reloads swap.
type service struct {
	opts   *watchOptions
	log    *slog.Logger
	st     state.Store
	outbox state.Outbox
	engine *watch.Engine
	traps  *traps.Listener // nil without a traps block
	page   *web.Server     // nil without a status_page block
	views  *fleetViews     // what the page shows of each printer
	npap   *wnpap.Listener // nil without an npap block

	cfg   atomic.Pointer[hcl.Config]
	addrs atomic.Pointer[attribution]

	// driftReload and reportReload wake the drift and report loops after
	// a reload: one channel each, as a wake-up taken by one loop is not
	// seen by the other.
	driftReload, reportReload chan struct{}
	// driftNow asks the drift loop for a check now, naming who asked.
	driftNow chan string
}

func newService(opts *watchOptions, cfg *hcl.Config, st state.Store, outbox state.Outbox, log *slog.Logger, tune watch.Tuning) (*service, error) {
	s := &service{opts: opts, log: log, st: st, outbox: outbox, views: newFleetViews(), driftNow: make(chan string, 1), driftReload: make(chan struct{}, 1), reportReload: make(chan struct{}, 1)}
	s.cfg.Store(cfg)
	s.addrs.Store(attributionFor(cfg, log))
	notifier, err := notifierFor(cfg)
	if err != nil {
		return nil, err
	}
	var sources []watch.Source
	if w := watchBlock(cfg); w.Traps != nil {
		s.traps, err = traps.New(traps.Config{
			Listen:      w.Traps.Listen,
			Credentials: trapCredentials(cfg),
			Attributor:  s.attribute,
		})
		if err != nil {
			return nil, err
		}
		sources = append(sources, s.traps)
	}
	if w := watchBlock(cfg); w.NPAP != nil {
		s.npap, err = wnpap.New(wnpap.Config{Listen: w.NPAP.Listen, Attributor: s.attributeNPAP})
		if err != nil {
			return nil, err
		}
		sources = append(sources, s.npap)
	}
	s.engine, err = watch.New(engineConfig(cfg), watch.Deps{
		Outbox:   outbox,
		Notifier: notifier,
		Sources:  sources,
		Poller:   &fleetPoller{svc: s},
		Logger:   log,
		Compose:  s.composeReport,
		Tuning:   tune,
	})
	if err != nil {
		return nil, err
	}
	if sp := watchBlock(cfg).StatusPage; sp != nil {
		if s.page, err = newStatusPage(s, *sp, log); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// watchBlock is the configuration's watch block, or the defaults.
func watchBlock(cfg *hcl.Config) alerts.Watch {
	if cfg.Watch != nil {
		return *cfg.Watch
	}
	return alerts.DefaultWatch()
}

// notifierFor is the smtp block's notifier; without one, every email
// fails for good, saying why (a configuration with routes but no smtp
// block does not load).
func notifierFor(cfg *hcl.Config) (watch.Notifier, error) {
	if cfg.SMTP == nil {
		return noSMTP{}, nil
	}
	return mail.New(*cfg.SMTP)
}

type noSMTP struct{}

func (noSMTP) Send(context.Context, watch.Message) error {
	return &watch.PermanentError{Err: errors.New("no smtp block in the configuration")}
}

// engineConfig is what the engine needs of a configuration.
func engineConfig(cfg *hcl.Config) watch.Config {
	ps := make([]watch.Printer, len(cfg.Printers))
	for i, p := range cfg.Printers {
		ps[i] = watch.Printer{Name: p.Name, Keywords: p.Keywords, Serial: p.Serial}
		if d, ok := p.Setting("system.location"); ok && !d.Sensitive {
			ps[i].Location = d.Value
		}
	}
	w := watchBlock(cfg)
	return watch.Config{Routes: cfg.Routes, Printers: ps, Watch: w, StatusURL: statusURL(w.StatusPage)}
}

// trapCredentials are the SNMP credentials of every printer, each once:
// a trap is accepted with any of them.
func trapCredentials(cfg *hcl.Config) []fleet.SNMP {
	seen := map[fleet.SNMP]bool{}
	var out []fleet.SNMP
	for _, p := range cfg.Printers {
		c := p.Credentials.SNMP
		c.Timeout, c.Retries = 0, 0
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// attribution maps source addresses to printers.
type attribution struct {
	printers  map[netip.Addr]string
	allow     []netip.Prefix // traps
	npapAllow []netip.Prefix
}

// attributionFor resolves every printer's host once (a host name that
// does not resolve is logged and left out: its traps are dropped).
func attributionFor(cfg *hcl.Config, log *slog.Logger) *attribution {
	a := &attribution{printers: make(map[netip.Addr]string, len(cfg.Printers))}
	resolved := planner.ResolveHosts(context.Background(), cfg.Printers, nil)
	for _, p := range cfg.Printers {
		addr, ok := resolved[p.Host]
		if !ok {
			log.Warn("printer host does not resolve: its traps will be dropped", "printer", p.Name, "host", p.Host)
			continue
		}
		a.printers[addr] = p.Name
	}
	if w := watchBlock(cfg); w.Traps != nil {
		for _, c := range w.Traps.Allow {
			if pf, err := netip.ParsePrefix(c); err == nil {
				a.allow = append(a.allow, pf.Masked())
			}
		}
	}
	if w := watchBlock(cfg); w.NPAP != nil {
		for _, c := range w.NPAP.Allow {
			if pf, err := netip.ParsePrefix(c); err == nil {
				a.npapAllow = append(a.npapAllow, pf.Masked())
			}
		}
	}
	return a
}

// attribute is the traps' Attributor: a printer's address, or one the
// traps block allows.
func (s *service) attribute(addr netip.Addr) (string, bool) {
	a := s.addrs.Load()
	return attributeTo(a, a.allow, addr)
}

// attributeNPAP is the NPAP alerts' Attributor: a printer's address, or
// one the npap block allows.
func (s *service) attributeNPAP(addr netip.Addr) (string, bool) {
	a := s.addrs.Load()
	return attributeTo(a, a.npapAllow, addr)
}

func attributeTo(a *attribution, allow []netip.Prefix, addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	if name, ok := a.printers[addr]; ok {
		return name, true
	}
	for _, pf := range allow {
		if pf.Contains(addr) {
			return "", true
		}
	}
	return "", false
}

// fleetPoller polls printers through the observer: facts, supplies and
// the alert table, no settings.
type fleetPoller struct{ svc *service }

func (p *fleetPoller) Poll(ctx context.Context, names []string) map[string]watch.PollResult {
	cfg := p.svc.cfg.Load()
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	var printers []fleet.Printer
	for _, pr := range cfg.Printers {
		if want[pr.Name] {
			pr.Settings = nil // only facts and alerts
			printers = append(printers, pr)
		}
	}
	limits, _ := observer.NewLimits(p.svc.opts.Parallelism, len(printers))
	o := observer.Observer{Connector: p.svc.opts.Connect(catalogOf(cfg), cfg.Devices, limits.MaxInFlight), Limits: limits, Alerts: true}
	low := watchBlock(cfg).LowPercent
	out := make(map[string]watch.PollResult, len(printers))
	var mu sync.Mutex
	start := time.Now()
	o.Observe(ctx, printers, func(i int, r observer.Result) {
		if ctx.Err() == nil {
			obs := r.Observation
			p.svc.views.observed(printers[i].Name, &obs, r.Err)
		}
		var res watch.PollResult
		if r.Err != nil {
			res.Err = r.Err
			res.Unreachable = errors.Is(r.Err, providers.ErrUnreachable)
		} else {
			res.AlertsRead = r.Observation.AlertsRead
			res.Signals = watch.ActiveSignals(r.Observation, low)
		}
		mu.Lock()
		out[printers[i].Name] = res
		mu.Unlock()
	})
	if p.svc.page != nil && ctx.Err() == nil {
		p.svc.page.ObservePoll(time.Since(start))
		if err := p.svc.views.refreshRecorded(ctx, p.svc.st); err != nil {
			p.svc.log.Warn("status page: read the printers' records", "err", err)
		}
	}
	return out
}

func catalogOf(cfg *hcl.Config) *catalog.Catalog {
	if cfg.Catalog != nil {
		return cfg.Catalog
	}
	return catalog.Default()
}

// run runs the engine, the drift checks and the report schedule until
// ctx ends.
func (s *service) run(ctx context.Context, ready chan<- string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(5)
	go func() { defer wg.Done(); s.servePage(ctx, cancel) }()
	go func() { defer wg.Done(); s.driftLoop(ctx) }()
	go func() { defer wg.Done(); s.reportLoop(ctx) }()
	go func() { defer wg.Done(); s.trapStatsLoop(ctx) }()
	go func() { defer wg.Done(); s.npapRegistrations(ctx) }()
	if ready != nil {
		go func() {
			addr := ""
			if s.traps != nil {
				select {
				case <-s.traps.Ready():
					addr = s.traps.Addr()
				case <-ctx.Done():
					return
				}
			}
			ready <- addr
		}()
	}
	err := s.engine.Run(ctx)
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	cancel(nil)
	wg.Wait()
	if s.traps != nil {
		s.logTrapStats(s.traps.Stats())
	}
	if s.npap != nil {
		st := s.npap.Stats()
		s.logIntakeStats("npap alerts", st.Received, st.Accepted, st.Dropped)
	}
	return err
}

// npapRegistrations registers watch, once its NPAP listener listens, with
// every printer whose transports include npap, renews the registrations
// every half hour, and unregisters when watch stops. A printer that
// refuses or does not answer is logged; the others go on.
func (s *service) npapRegistrations(ctx context.Context) {
	if s.npap == nil {
		return
	}
	select {
	case <-s.npap.Ready():
	case <-ctx.Done():
		return
	}
	addr, err := netip.ParseAddrPort(s.npap.Addr())
	if err != nil {
		s.log.Error("npap alerts: cannot tell the port listened on; printers are not registered", "addr", s.npap.Addr())
		return
	}
	tr := pnpap.New(catalogOf(s.cfg.Load()), pnpap.Options{})
	printers := func() []fleet.Printer { return s.cfg.Load().Printers }
	wnpap.Keep(ctx, tr, printers, addr.Port(), wnpap.DefaultLifetime, func(regs []wnpap.Registration) {
		ok := 0
		for _, r := range regs {
			if r.Err != nil {
				s.log.Warn("npap alerts: registration failed", "printer", r.Printer, "err", r.Err)
				continue
			}
			ok++
		}
		if len(regs) > 0 {
			s.log.Info("npap alerts: registered", "printers", ok, "failed", len(regs)-ok, "port", addr.Port())
		}
	})
}

// trapStatsLoop logs the traps listener's counters every trapStatsEvery
// (5m) when they changed since the last time: dropped traps (refused
// sources, wrong credentials, a full queue) are otherwise invisible, as
// they are never stored. run logs them once more when the service stops.
func (s *service) trapStatsLoop(ctx context.Context) {
	if s.traps == nil {
		return
	}
	every := s.opts.trapStatsEvery
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := s.traps.Stats()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := s.traps.Stats()
		if trapStatsEqual(st, last) {
			continue
		}
		last = st
		s.logTrapStats(st)
	}
}

func trapStatsEqual(a, b traps.Stats) bool {
	if a.Received != b.Received || a.Accepted != b.Accepted || len(a.Dropped) != len(b.Dropped) {
		return false
	}
	for k, v := range a.Dropped {
		if b.Dropped[k] != v {
			return false
		}
	}
	return true
}

// logTrapStats logs the counters, each drop reason as its own attribute
// (dropped_refused_source=1), in a stable order.
func (s *service) logTrapStats(st traps.Stats) {
	s.logIntakeStats("traps", st.Received, st.Accepted, st.Dropped)
}

func (s *service) logIntakeStats(msg string, received, accepted uint64, dropped map[string]uint64) {
	attrs := []any{"received", received, "accepted", accepted}
	reasons := make([]string, 0, len(dropped))
	for k := range dropped {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		attrs = append(attrs, "dropped_"+k, dropped[k])
	}
	s.log.Info(msg, attrs...)
}

// reload reads the configuration again and swaps it in; one with errors
// is refused and the running one kept.
func (s *service) reload(ctx context.Context) {
	var errb strings.Builder
	io := s.opts.IO
	io.Err = &errb
	cfg, err := s.opts.State.load(io)
	if err != nil {
		s.log.Error("reload refused: the configuration has errors; the running one is kept", "diagnostics", errb.String())
		return
	}
	if old, nw := watchBlock(s.cfg.Load()), watchBlock(cfg); trapsListen(old) != trapsListen(nw) {
		s.log.Warn("traps listen address changed: restart watch to listen on it", "running", trapsListen(old), "configured", trapsListen(nw))
	}
	if old, nw := watchBlock(s.cfg.Load()), watchBlock(cfg); npapListen(old) != npapListen(nw) {
		s.log.Warn("npap listen address changed: restart watch to listen on it", "running", npapListen(old), "configured", npapListen(nw))
	}
	if old, nw := watchBlock(s.cfg.Load()).StatusPage, watchBlock(cfg).StatusPage; !reflect.DeepEqual(old, nw) {
		// Its listener, certificate and logins are made once.
		s.log.Warn("status_page block changed: restart watch to apply it")
	}
	if !slices.Equal(trapCredentials(s.cfg.Load()), trapCredentials(cfg)) {
		// The listener checks traps with the credentials it started with;
		// traps with only the new ones are dropped (dropped_credentials).
		s.log.Warn("printers' SNMP credentials changed: restart watch to accept traps with the new ones")
	}
	if err := s.engine.Reload(engineConfig(cfg)); err != nil {
		s.log.Error("reload refused; the running configuration is kept", "err", err)
		return
	}
	s.cfg.Store(cfg)
	s.addrs.Store(attributionFor(cfg, s.log))
	for _, c := range []chan struct{}{s.driftReload, s.reportReload} {
		select {
		case c <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	s.log.Info("configuration reloaded", "printers", len(cfg.Printers), "routes", len(cfg.Routes))
}

func npapListen(w alerts.Watch) string {
	if w.NPAP == nil {
		return ""
	}
	return w.NPAP.Listen
}

func trapsListen(w alerts.Watch) string {
	if w.Traps == nil {
		return ""
	}
	return w.Traps.Listen
}

// driftLoop plans the whole fleet every drift interval (watch.drift.every)
// under the state lock: each printer with values changed on the device
// raises a drift event, cleared once it matches again; with enforce the
// plan is applied and recorded as a run.
func (s *service) driftLoop(ctx context.Context) {
	drifted := map[string]bool{}
	if active, err := s.outbox.ActiveAlerts(ctx); err == nil {
		for _, a := range active {
			if a.Event.Name == alerts.Drift {
				drifted[a.Event.Printer] = true
			}
		}
	}
	for {
		d := watchBlock(s.cfg.Load()).Drift
		var every time.Duration
		enforce := false
		if d != nil {
			every, enforce = d.Every, d.Enforce
			if s.opts.driftEvery > 0 {
				every = s.opts.driftEvery
			}
		}
		var tick <-chan time.Time
		stop := func() bool { return false }
		if every > 0 {
			t := time.NewTimer(every)
			tick, stop = t.C, t.Stop
		}
		var asked bool
		select {
		case <-ctx.Done():
		case <-s.driftReload:
		case by := <-s.driftNow:
			// Asked for from the status page: a plan, never an apply.
			s.log.Info("drift check asked for", "by", by)
			asked, enforce = true, false
		case <-tick:
			asked = true
		}
		stop()
		if ctx.Err() != nil {
			return
		}
		if !asked {
			continue
		}
		if err := s.checkDrift(ctx, drifted, enforce); err != nil && ctx.Err() == nil {
			s.log.Warn("drift check", "err", err)
		}
	}
}

func (s *service) checkDrift(ctx context.Context, drifted map[string]bool, enforce bool) error {
	cfg := s.cfg.Load()
	lock, err := lockState(ctx, s.st, "inkform watch (drift check)", 30*time.Second)
	if err != nil {
		return fmt.Errorf("state lock: %w (the next check tries again)", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	limits, _ := observer.NewLimits(s.opts.Parallelism, len(cfg.Printers))
	cat := catalogOf(cfg)
	conn := s.opts.Connect(cat, cfg.Devices, limits.MaxInFlight)
	pl := &planner.Planner{Observer: observer.Observer{Connector: conn, Limits: limits}, State: s.st, Catalog: cat}
	started := time.Now()
	plan, err := pl.Plan(ctx, cfg.Printers, planner.PlanOptions{ConfigHash: cfg.Hash})
	if err != nil {
		return err
	}
	if s.page != nil {
		s.page.ObservePlan(time.Since(started))
	}
	now := time.Now()
	for i := range plan.Printers {
		pp := &plan.Printers[i]
		if pp.Status != plans.StatusReady {
			continue // not checked: neither drifted nor in line
		}
		var differ []string
		for _, c := range pp.Changes {
			differ = append(differ, c.Setting)
		}
		s.views.drifted(pp.Name, differ)
		desc := driftText(pp)
		switch {
		case desc != "":
			drifted[pp.Name] = true
			err = s.engine.Signal(ctx, pp.Name, alerts.SourceDrift, now, alerts.Signal{
				Kind: alerts.Raised, Name: alerts.Drift, Severity: alerts.DefaultSeverity(alerts.Drift), Description: desc})
		case drifted[pp.Name]:
			delete(drifted, pp.Name)
			err = s.engine.Signal(ctx, pp.Name, alerts.SourceDrift, now, alerts.Signal{
				Kind: alerts.Cleared, Name: alerts.Drift, Severity: alerts.DefaultSeverity(alerts.Drift), Description: "matches the configuration again"})
		}
		if err != nil {
			return err
		}
	}
	if !enforce || !plan.HasChanges() {
		return nil
	}
	info := owner("inkform watch (drift enforce)")
	ap := &apply.Applier{Connector: conn, State: s.st, Catalog: cat, Limits: limits}
	res, err := ap.Apply(ctx, plan, cfg.Printers, apply.Options{Run: state.Run{
		Command: "apply", User: info.User, Host: info.Host, ConfigHash: cfg.Hash,
	}, Lock: lock})
	if err != nil {
		return fmt.Errorf("enforce: %w", err)
	}
	s.log.Info("drift enforced", "failed", res.Failed())
	return nil
}

// driftText says which values were changed on a printer's device, or ""
// when none was. Sensitive values are never shown.
func driftText(pp *plans.PrinterPlan) string {
	var parts []string
	for _, c := range pp.Changes {
		if !c.Drift {
			continue
		}
		if c.Sensitive {
			parts = append(parts, c.Setting+" changed on the device (sensitive)")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s changed on the device: %q, declared %q", c.Setting, c.Before, c.After))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// waitTimer waits d (forever when d <= 0) and says true, or says false
// when ctx ends or wake receives first. It stops its timer either way: a
// loop running all year must not pile up timers.
func waitTimer(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	var tick <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		tick = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-wake:
		return false
	case <-tick:
		return true
	}
}
