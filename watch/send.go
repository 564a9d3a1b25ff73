package watch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
)

// wakeSender asks the sender to look at state at t (or now, if sooner
// than it would anyway).
func (e *Engine) wakeSender(t time.Time) {
	e.wakeMu.Lock()
	if e.wakeAt.IsZero() || t.Before(e.wakeAt) {
		e.wakeAt = t
	}
	e.wakeMu.Unlock()
	kick(e.sendKick) // it sends what is due, or sets its alarm for t
}

// sendLoop claims due deliveries and sends them. State writes and sends
// use stopCtx, which outlives ctx by StopTimeout, so that a send in
// flight when ctx ends is finished or given back.
func (e *Engine) sendLoop(ctx, stopCtx context.Context) {
	for {
		now := e.clock.Now()
		e.wakeMu.Lock()
		if !e.wakeAt.After(now) {
			e.wakeAt = time.Time{} // this pass sends it
		}
		e.wakeMu.Unlock()
		if err := e.sendOnce(ctx, stopCtx); err != nil && ctx.Err() == nil {
			e.log.Error("watch: sending", "err", err)
		}
		// From the pass's start: what came due while it ran is seen next.
		next := now.Add(e.tune.Tick)
		e.wakeMu.Lock()
		if !e.wakeAt.IsZero() && e.wakeAt.Before(next) {
			next = e.wakeAt
		}
		e.wakeMu.Unlock()
		if !e.sleep(ctx, next, e.sendKick) {
			return
		}
	}
}

// sendOnce sends everything due, ClaimLimit deliveries at a time.
func (e *Engine) sendOnce(ctx, stopCtx context.Context) error {
	for ctx.Err() == nil {
		n, err := e.sendBatch(ctx, stopCtx)
		if err != nil || n < e.tune.ClaimLimit {
			return err
		}
	}
	return nil
}

// sendCycle holds what one batch of claims is checked against.
type sendCycle struct {
	now      time.Time
	cfg      *compiled
	events   map[int64]alerts.Event
	active   map[string]state.ActiveAlert
	silences []state.Silence
}

// sendBatch claims due deliveries, finishes those suppressed, and sends
// the rest as one email per route (a digest when several are due).
func (e *Engine) sendBatch(ctx, stopCtx context.Context) (int, error) {
	sc := &sendCycle{now: e.clock.Now(), cfg: e.cfg.Load()}
	ds, err := e.out.ClaimDeliveries(ctx, e.owner, sc.now, e.tune.Lease, e.tune.ClaimLimit)
	if err != nil || len(ds) == 0 {
		if err != nil {
			err = fmt.Errorf("claim deliveries: %w", err)
		}
		return 0, err
	}
	// From here on, every claim is finished or given back.
	if err := sc.load(stopCtx, e.out, ds); err != nil {
		e.release(stopCtx, ds, sc.now, false, "")
		return len(ds), err
	}
	type group struct {
		route *route
		name  string
		ds    []state.Delivery
	}
	var groups []*group
	byKey := map[string]*group{}
	suppressed := map[string][]int64{}
	var suppressOrder []string
	failed := map[string][]int64{}
	var failOrder []string
	for _, d := range ds {
		var why, fail string
		switch d.Kind {
		case state.DeliveryNotify, state.DeliveryRepeat:
			ev, ok := sc.events[d.EventID]
			if !ok {
				fail = fmt.Sprintf("event %d not found", d.EventID)
				break
			}
			why, err = e.suppression(stopCtx, sc, d, ev)
			if err != nil {
				e.release(stopCtx, ds, sc.now, false, "")
				return len(ds), err
			}
		}
		switch {
		case fail != "":
			if failed[fail] == nil {
				failOrder = append(failOrder, fail)
			}
			failed[fail] = append(failed[fail], d.ID)
		case why != "":
			if suppressed[why] == nil {
				suppressOrder = append(suppressOrder, why)
			}
			suppressed[why] = append(suppressed[why], d.ID)
		default:
			key := d.Route + "\x00" + strings.Join(d.To, ",") + "\x00" + strings.Join(d.Cc, ",")
			switch {
			case d.MessageID != "":
				// Handed to a server before, and maybe taken: it goes
				// again with the same companions, under the same ID.
				key = "\x00id\x00" + d.MessageID
			case d.Kind != state.DeliveryNotify && d.Kind != state.DeliveryRepeat:
				key = fmt.Sprintf("%s\x00#%d", d.Route, d.ID) // reports and tests go alone
			}
			g := byKey[key]
			if g == nil {
				r := sc.cfg.byName[d.Route]
				if r == nil {
					r = sc.cfg.defaults
				}
				g = &group{route: r, name: d.Route}
				byKey[key] = g
				groups = append(groups, g)
			}
			g.ds = append(g.ds, d)
		}
	}
	for _, why := range suppressOrder {
		e.finish(stopCtx, suppressed[why], state.DeliverySuppressed, sc.now, why)
	}
	for _, why := range failOrder {
		e.finish(stopCtx, failed[why], state.DeliveryFailed, sc.now, why)
	}
	// A group whose send could outlast the claims is given back rather
	// than sent: past its lease another engine may send it too.
	deadline := sc.now.Add(e.tune.Lease - e.tune.SendTimeout)
	for i, g := range groups {
		if ctx.Err() != nil || e.clock.Now().After(deadline) {
			for _, g := range groups[i:] {
				e.release(stopCtx, g.ds, e.clock.Now(), false, "")
			}
			break
		}
		e.sendGroup(stopCtx, sc, g.route, g.name, g.ds)
	}
	return len(ds), nil
}

// load reads the events, active alerts and silences a batch is checked
// against.
func (sc *sendCycle) load(ctx context.Context, out state.Outbox, ds []state.Delivery) error {
	var ids []int64
	want := map[int64]bool{}
	for _, d := range ds {
		if d.EventID != 0 && !want[d.EventID] {
			want[d.EventID] = true
			ids = append(ids, d.EventID)
		}
	}
	sc.events = map[int64]alerts.Event{}
	if len(ids) > 0 {
		evs, err := out.Events(ctx, state.EventFilter{IDs: ids})
		if err != nil {
			return fmt.Errorf("events of deliveries: %w", err)
		}
		for _, ev := range evs {
			if want[ev.ID] {
				sc.events[ev.ID] = ev
			}
		}
	}
	var act []state.ActiveAlert
	var err error
	if by, ok := out.(state.ActiveAlertsByKey); ok {
		// Only the alerts the deliveries' checks look at: their own and
		// their printers' offline alerts.
		var keys []string
		for _, ev := range sc.events {
			keys = append(keys, ev.Key, alerts.KeyFor(ev.Printer, alerts.Offline, ""))
		}
		act, err = by.ActiveAlertsOf(ctx, keys)
	} else {
		act, err = out.ActiveAlerts(ctx)
	}
	if err != nil {
		return fmt.Errorf("active alerts: %w", err)
	}
	sc.active = make(map[string]state.ActiveAlert, len(act))
	for _, a := range act {
		sc.active[a.Event.Key] = a
	}
	if sc.silences, err = out.Silences(ctx, sc.now); err != nil {
		return fmt.Errorf("silences: %w", err)
	}
	return nil
}

// suppression says why d is not to be sent, or "" when it is.
func (e *Engine) suppression(ctx context.Context, sc *sendCycle, d state.Delivery, ev alerts.Event) (string, error) {
	var grace time.Duration
	if r := sc.cfg.byName[d.Route]; r != nil {
		grace = r.Grace
	}
	a, active := sc.active[ev.Key]
	stillActive := active && a.Event.ID == ev.ID
	switch {
	case d.Kind == state.DeliveryRepeat:
		if !stillActive {
			return "no longer active", nil
		}
	case ev.Kind == alerts.Raised && grace > 0 && !stillActive:
		clr, err := e.clearOf(ctx, ev)
		if err != nil {
			return "", err
		}
		if clr != nil && clr.At.Sub(ev.At) <= grace {
			return fmt.Sprintf("cleared within grace (%v)", grace), nil
		}
	case ev.Kind == alerts.Cleared:
		raise, err := e.raiseOf(ctx, ev)
		if err != nil {
			return "", err
		}
		if raise != nil {
			if grace > 0 && ev.At.Sub(raise.At) <= grace {
				return fmt.Sprintf("cleared within grace (%v)", grace), nil
			}
			// A clear follows its raise: when the raise was not sent on
			// this route (silenced, inhibited, failed), neither is it.
			rds, err := e.out.Deliveries(ctx, state.DeliveryFilter{EventID: raise.ID, Route: d.Route})
			if err != nil {
				return "", fmt.Errorf("deliveries of event %d: %w", raise.ID, err)
			}
			sent, final := false, len(rds) > 0
			for _, rd := range rds {
				sent = sent || rd.Status == state.DeliverySent
				final = final && rd.Status != state.DeliveryPending
			}
			if !sent && final {
				return "its raise was not sent on this route", nil
			}
		}
	}
	for _, s := range sc.silences {
		if s.Event != "" && s.Event != ev.Name {
			continue
		}
		if s.Printer != "" {
			if ok, _ := path.Match(s.Printer, ev.Printer); !ok {
				continue
			}
		}
		why := fmt.Sprintf("silenced (silence %d", s.ID)
		if s.Comment != "" {
			why += ": " + s.Comment
		}
		return why + ")", nil
	}
	if ev.Name != alerts.Offline {
		if _, off := sc.active[alerts.KeyFor(ev.Printer, alerts.Offline, "")]; off {
			return fmt.Sprintf("inhibited: %s is offline", ev.Printer), nil
		}
	}
	return "", nil
}

// clearOf returns the event that cleared the alert raise raised, or nil.
func (e *Engine) clearOf(ctx context.Context, raise alerts.Event) (*alerts.Event, error) {
	evs, err := e.out.Events(ctx, state.EventFilter{Key: raise.Key, Since: raise.At})
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", raise.Key, err)
	}
	var clr *alerts.Event
	for i := range evs {
		ev := &evs[i]
		if ev.ID > raise.ID && ev.Kind == alerts.Cleared && (clr == nil || ev.ID < clr.ID) {
			clr = ev
		}
	}
	return clr, nil
}

// raiseOf returns the event that raised the alert clear ended, or nil.
func (e *Engine) raiseOf(ctx context.Context, clr alerts.Event) (*alerts.Event, error) {
	evs, err := e.out.Events(ctx, state.EventFilter{Key: clr.Key})
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", clr.Key, err)
	}
	var raise *alerts.Event
	for i := range evs {
		ev := &evs[i]
		if ev.ID < clr.ID && ev.Kind == alerts.Raised && (raise == nil || ev.ID > raise.ID) {
			raise = ev
		}
	}
	return raise, nil
}

// sendGroup sends one route's due deliveries as one email, unless the
// route sent less than group_interval ago.
func (e *Engine) sendGroup(ctx context.Context, sc *sendCycle, r *route, name string, ds []state.Delivery) {
	digest := ds[0].Kind == state.DeliveryNotify || ds[0].Kind == state.DeliveryRepeat
	if digest && r.GroupInterval > 0 {
		last, err := e.out.LastSent(ctx, name)
		if err != nil {
			e.log.Error("watch: last sent", "route", name, "err", err)
			e.release(ctx, ds, sc.now.Add(e.tune.Tick), false, "")
			return
		}
		if next := last.Add(r.GroupInterval); !last.IsZero() && sc.now.Before(next) {
			e.n.postponed.Add(int64(len(ds)))
			e.release(ctx, ds, next, false, "")
			e.wakeSender(next)
			return
		}
	}
	var m Message
	var err error
	switch ds[0].Kind {
	case state.DeliveryNotify, state.DeliveryRepeat:
		m, err = e.render(sc, r, name, ds)
	case state.DeliveryTest:
		m = testMessage(sc.cfg, name, ds[0])
	default:
		if e.compose == nil {
			err = fmt.Errorf("route %s: delivery %d: nothing composes deliveries of kind %q", name, ds[0].ID, ds[0].Kind)
		} else if m, err = e.compose(ctx, ds[0]); err != nil {
			err = fmt.Errorf("route %s: delivery %d (%s): %w", name, ds[0].ID, ds[0].Kind, err)
		}
	}
	if err != nil {
		e.finish(ctx, ids(ds), state.DeliveryFailed, sc.now, err.Error())
		return
	}
	// The Message-ID is recorded before the server may take the message:
	// whatever happens after, a re-send is the same message.
	if ds[0].MessageID != "" {
		m.ID = ds[0].MessageID
	} else if err := e.out.MarkSending(ctx, e.owner, ids(ds), m.ID); err != nil {
		e.log.Error("watch: record message id", "route", name, "deliveries", len(ds), "err", err)
		if !errors.Is(err, state.ErrClaimLost) {
			e.release(context.WithoutCancel(ctx), ds, sc.now.Add(e.tune.Tick), false, "")
		}
		return
	}
	sctx, cancel := context.WithTimeout(ctx, e.tune.SendTimeout)
	err = e.notifier.Send(sctx, m)
	cancel()
	at := e.clock.Now()
	var perm *PermanentError
	switch {
	case err == nil:
		e.n.messages.Add(1)
		// The server took it: record that even when stopping cuts ctx.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.tune.StopTimeout)
		ok := e.finish(fctx, ids(ds), state.DeliverySent, at, "")
		cancel()
		if ok {
			e.n.sent.Add(int64(len(ds)))
		}
		e.log.Info("watch: sent", "route", name, "deliveries", len(ds), "message_id", m.ID)
	case errors.As(err, &perm):
		e.log.Error("watch: refused", "route", name, "deliveries", len(ds), "err", err)
		e.finish(ctx, ids(ds), state.DeliveryFailed, at, err.Error())
	case ctx.Err() != nil:
		// Stopping cut the send short: give it back untried.
		e.release(context.WithoutCancel(ctx), ds, at, false, "")
	default:
		attempts := 0
		for _, d := range ds {
			attempts = max(attempts, d.Attempts)
		}
		next := at.Add(e.backoff(attempts))
		e.log.Warn("watch: send failed, will retry", "route", name, "deliveries", len(ds), "retry_at", next, "err", err)
		e.n.retries.Add(int64(len(ds)))
		e.release(ctx, ds, next, true, err.Error())
		e.wakeSender(next)
	}
}

// backoff is the wait after a failed attempt (attempts failed before):
// RetryMin doubled per attempt up to RetryMax, with jitter in its upper
// half so that engines and routes spread out.
func (e *Engine) backoff(attempts int) time.Duration {
	d := e.tune.RetryMin
	for i := 0; i < attempts && d < e.tune.RetryMax; i++ {
		d *= 2
	}
	d = min(d, e.tune.RetryMax)
	return d/2 + rand.N(d/2+1)
}

func ids(ds []state.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// finish records a final status; false when the claim was lost.
func (e *Engine) finish(ctx context.Context, ids []int64, status string, at time.Time, detail string) bool {
	if len(ids) == 0 {
		return true
	}
	err := e.out.FinishDeliveries(ctx, e.owner, ids, status, at, detail)
	if err != nil {
		if errors.Is(err, state.ErrClaimLost) {
			e.n.claimsLost.Add(int64(len(ids)))
		}
		e.log.Error("watch: finish deliveries", "deliveries", len(ids), "status", status, "err", err)
		return false
	}
	switch status {
	case state.DeliverySuppressed:
		e.n.suppressed.Add(int64(len(ids)))
		e.log.Info("watch: suppressed", "deliveries", len(ids), "why", detail)
	case state.DeliveryFailed:
		e.n.failed.Add(int64(len(ids)))
	}
	return true
}

func (e *Engine) release(ctx context.Context, ds []state.Delivery, next time.Time, attempt bool, detail string) {
	if err := e.out.ReleaseDeliveries(ctx, e.owner, ids(ds), next, attempt, detail); err != nil {
		if errors.Is(err, state.ErrClaimLost) {
			e.n.claimsLost.Add(int64(len(ds)))
		}
		e.log.Error("watch: release deliveries", "deliveries", len(ds), "err", err)
	}
}
