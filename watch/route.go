package watch

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"text/template"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
)

// compiled is a checked Config, ready to use.
type compiled struct {
	routes       []*route
	byName       map[string]*route
	printers     map[string]Printer
	names        []string // printers, in configuration order
	poll         time.Duration
	trapTTL      time.Duration
	offlineAfter int
	retention    time.Duration
	statusURL    string
	domain       string
	defaults     *route // templates and timing of deliveries whose route is gone
}

type route struct {
	alerts.Route
	subject, body *template.Template
}

func compile(cfg Config) (*compiled, error) {
	c := &compiled{
		byName: map[string]*route{}, printers: map[string]Printer{},
		poll: cfg.Watch.Poll, trapTTL: cfg.Watch.TrapTTL, offlineAfter: cfg.Watch.OfflineAfter,
		retention: cfg.Watch.Retention, statusURL: cfg.StatusURL, domain: cfg.MessageDomain,
	}
	if c.poll <= 0 {
		c.poll = alerts.DefaultPoll
	}
	if c.trapTTL <= 0 {
		c.trapTTL = alerts.DefaultTrapTTL
	}
	if c.offlineAfter <= 0 {
		c.offlineAfter = alerts.DefaultOfflineAfter
	}
	if c.retention <= 0 {
		c.retention = alerts.DefaultRetention
	}
	if c.domain == "" {
		c.domain = "inkform.invalid"
	}
	known := map[string]bool{}
	for _, n := range alerts.Names() {
		known[n] = true
	}
	var errs []error
	for _, r := range cfg.Routes {
		where := fmt.Sprintf("alert_route %q", r.Name)
		if r.Name == "" {
			errs = append(errs, errors.New("alert_route: empty name"))
			continue
		}
		if c.byName[r.Name] != nil {
			errs = append(errs, fmt.Errorf("%s: declared twice", where))
			continue
		}
		for _, ev := range r.Match.Events {
			if !known[ev] {
				errs = append(errs, fmt.Errorf("%s: match.events: unknown event %q", where, ev))
			}
		}
		for _, s := range r.Match.Severity {
			if s != alerts.Critical && s != alerts.Warning && s != alerts.Info {
				errs = append(errs, fmt.Errorf("%s: match.severity: unknown severity %q", where, s))
			}
		}
		for _, p := range r.Match.Printers {
			if _, err := path.Match(p, ""); err != nil {
				errs = append(errs, fmt.Errorf("%s: match.printers: pattern %q: %w", where, p, err))
			}
		}
		if len(r.Email.To)+len(r.Email.Cc) == 0 {
			errs = append(errs, fmt.Errorf("%s: email: no recipients", where))
		}
		for _, d := range []struct {
			name string
			v    time.Duration
		}{{"grace", r.Grace}, {"repeat", r.Repeat}, {"group_wait", r.GroupWait}, {"group_interval", r.GroupInterval}} {
			if d.v < 0 {
				errs = append(errs, fmt.Errorf("%s: %s %v is negative", where, d.name, d.v))
			}
		}
		rt, err := newRoute(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		c.routes = append(c.routes, rt)
		c.byName[r.Name] = rt
	}
	for _, p := range cfg.Printers {
		if _, dup := c.printers[p.Name]; dup {
			errs = append(errs, fmt.Errorf("printer %q: declared twice", p.Name))
			continue
		}
		c.printers[p.Name] = p
		c.names = append(c.names, p.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("watch configuration: %w", err)
	}
	c.defaults, _ = newRoute(alerts.Route{GroupInterval: alerts.DefaultGroupInterval})
	return c, nil
}

// newRoute parses the route's templates. A route's GroupInterval of 0 is
// taken as given (send as often as due); GroupWait 0 likewise.
func newRoute(r alerts.Route) (*route, error) {
	rt := &route{Route: r}
	var err error
	subj, body := r.Subject, r.Body
	if subj == "" {
		subj = DefaultSubject
	}
	if body == "" {
		body = DefaultBody
	}
	if rt.subject, err = alerts.ParseTemplate("subject", subj); err != nil {
		return nil, fmt.Errorf("subject template: %w", err)
	}
	if rt.body, err = alerts.ParseTemplate("body", body); err != nil {
		return nil, fmt.Errorf("body template: %w", err)
	}
	return rt, nil
}

// matches says whether the route takes ev from printer p.
func (r *route) matches(ev alerts.Event, p Printer) bool {
	m := r.Match
	if len(m.Events) > 0 && !slices.Contains(m.Events, ev.Name) {
		return false
	}
	if len(m.Severity) > 0 && !slices.Contains(m.Severity, ev.Severity) {
		return false
	}
	if len(m.Printers) > 0 && !slices.ContainsFunc(m.Printers, func(g string) bool {
		return alerts.PrinterMatches(g, ev.Printer)
	}) {
		return false
	}
	if len(m.Keywords) > 0 && !slices.ContainsFunc(m.Keywords, func(k string) bool { return slices.Contains(p.Keywords, k) }) {
		return false
	}
	return true
}

func (c *compiled) printer(name string) Printer {
	if p, ok := c.printers[name]; ok {
		return p
	}
	return Printer{Name: name}
}

// routeLoop turns recorded events into deliveries, and adds repeats.
func (e *Engine) routeLoop(ctx context.Context) {
	var nextRepeat time.Time
	for {
		now := e.clock.Now()
		if err := e.routeOnce(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("watch: routing", "err", err)
		}
		if !now.Before(nextRepeat) {
			if err := e.repeatOnce(ctx, now); err != nil && ctx.Err() == nil {
				e.log.Error("watch: repeats", "err", err)
			}
			nextRepeat = now.Add(e.tune.Tick)
		}
		// From the pass's start: what came due while it ran is seen next.
		if !e.sleep(ctx, now.Add(e.tune.Tick), e.routeKick) {
			return
		}
	}
}

const routeBatch = 256

// intakeBusy says whether more than a batch of events waits to be
// recorded.
func (e *Engine) intakeBusy() bool { return len(e.queue) > e.tune.BatchSize }

// routeOnce routes every unrouted event. RouteEvent makes it safe with
// several engines on one state: each event is routed once.
func (e *Engine) routeOnce(ctx context.Context) error {
	for {
		if e.intakeBusy() {
			// Recording comes first: under a storm routing waits for the
			// queue to drain (each commit kicks it again), so that the
			// single-writer state spends itself on keeping what arrives.
			return nil
		}
		evs, err := e.out.UnroutedEvents(ctx, routeBatch)
		if err != nil {
			return fmt.Errorf("unrouted events: %w", err)
		}
		c := e.cfg.Load()
		now := e.clock.Now()
		for _, ev := range evs {
			var ds []state.Delivery
			// An event no route takes is routed to nobody either way:
			// it needs no look at the events before it (a storm of
			// alerts nobody is told of costs a transaction each, not
			// a query more).
			if c.routed(ev) {
				again, err := e.repeatsPrevious(ctx, ev)
				if err != nil {
					return err
				}
				if !again {
					ds = e.deliveriesFor(c, ev, now)
				}
			}
			ok, err := e.out.RouteEvent(ctx, ev.ID, ds)
			if err != nil {
				return fmt.Errorf("route event %d (%s): %w", ev.ID, ev.Key, err)
			}
			if ok {
				e.n.routed.Add(1)
				e.n.deliveries.Add(int64(len(ds)))
				for _, d := range ds {
					e.wakeSender(d.DueAt)
				}
			}
		}
		if len(evs) < routeBatch {
			return nil
		}
	}
}

// repeatsPrevious says whether ev only repeats the event before it of
// the same alert (a raise after a raise, a clear after a clear): another
// engine on the same state recorded the same signal. Such an event is
// routed to nobody, so that it makes no second email, whichever engine
// routes it.
func (e *Engine) repeatsPrevious(ctx context.Context, ev alerts.Event) (bool, error) {
	evs, err := e.out.Events(ctx, state.EventFilter{Key: ev.Key})
	if err != nil {
		return false, fmt.Errorf("events of %s: %w", ev.Key, err)
	}
	var prev *alerts.Event
	for i := range evs {
		if p := &evs[i]; p.Key == ev.Key && p.ID < ev.ID && (prev == nil || p.ID > prev.ID) {
			prev = p
		}
	}
	return prev != nil && prev.Kind == ev.Kind, nil
}

// routed says whether a route takes ev (what deliveriesFor would give
// it deliveries for).
func (c *compiled) routed(ev alerts.Event) bool {
	p := c.printer(ev.Printer)
	for _, r := range c.routes {
		if (ev.Kind != alerts.Cleared || r.AlsoOnClear) && r.matches(ev, p) {
			return true
		}
	}
	return false
}

// deliveriesFor returns the deliveries ev makes: one per matching route;
// a clear only for routes that say also_on_clear. A raise waits grace,
// so that it can be suppressed with its clear. Events of one route join
// its open group (the first's group_wait), as Alertmanager groups them.
func (e *Engine) deliveriesFor(c *compiled, ev alerts.Event, now time.Time) []state.Delivery {
	p := c.printer(ev.Printer)
	var ds []state.Delivery
	for _, r := range c.routes {
		if ev.Kind == alerts.Cleared && !r.AlsoOnClear {
			continue
		}
		if !r.matches(ev, p) {
			continue
		}
		floor := ev.At
		if ev.Kind == alerts.Raised {
			floor = ev.At.Add(r.Grace)
		}
		due := ev.At.Add(r.GroupWait)
		e.groupMu.Lock()
		if open, ok := e.groupDue[r.Name]; ok && open.After(now) && open.Before(due) {
			due = open
		} else if due.After(now) {
			e.groupDue[r.Name] = due
		}
		e.groupMu.Unlock()
		if due.Before(floor) {
			due = floor
		}
		ds = append(ds, state.Delivery{
			Route: r.Name, Kind: state.DeliveryNotify, Dedupe: fmt.Sprintf("event:%d", ev.ID),
			To: slices.Clone(r.Email.To), Cc: slices.Clone(r.Email.Cc), DueAt: due,
		})
	}
	return ds
}

// repeatOnce adds a repeat delivery for every active, unacknowledged
// alert whose route's repeat interval came round again. The Dedupe
// "repeat:<key>:<raise event id>.<n>" makes it once across restarts and
// engines; only the latest round is added after a long stop.
func (e *Engine) repeatOnce(ctx context.Context, now time.Time) error {
	c := e.cfg.Load()
	var repeating []*route
	for _, r := range c.routes {
		if r.Repeat > 0 {
			repeating = append(repeating, r)
		}
	}
	if len(repeating) == 0 {
		return nil
	}
	act, err := e.out.ActiveAlerts(ctx)
	if err != nil {
		return fmt.Errorf("active alerts: %w", err)
	}
	var ds []state.Delivery
	for _, a := range act {
		if a.AckedBy != "" {
			continue
		}
		ev := a.Event
		for _, r := range repeating {
			n := int64(now.Sub(ev.At) / r.Repeat)
			if n < 1 || !r.matches(ev, c.printer(ev.Printer)) {
				continue
			}
			ds = append(ds, state.Delivery{
				EventID: ev.ID, Route: r.Name, Kind: state.DeliveryRepeat,
				Dedupe: fmt.Sprintf("repeat:%s:%d.%d", ev.Key, ev.ID, n),
				To:     slices.Clone(r.Email.To), Cc: slices.Clone(r.Email.Cc),
				DueAt: ev.At.Add(time.Duration(n) * r.Repeat),
			})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	added, err := e.out.AddDeliveries(ctx, ds)
	if err != nil {
		return fmt.Errorf("add repeats: %w", err)
	}
	if added > 0 {
		e.n.deliveries.Add(int64(added))
		e.wakeSender(now)
	}
	return nil
}
