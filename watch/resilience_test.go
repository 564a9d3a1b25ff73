package watch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
	"github.com/inkform/inkform/watch"
)

// crashOutbox stands for a process killed with -9: once crashed, nothing
// it does reaches state any more.
type crashOutbox struct {
	state.Outbox
	crashed atomic.Bool
}

var errCrashed = errors.New("process killed")

func (c *crashOutbox) AppendEvents(ctx context.Context, evs []alerts.Event) ([]int64, error) {
	if c.crashed.Load() {
		return nil, errCrashed
	}
	return c.Outbox.AppendEvents(ctx, evs)
}

func (c *crashOutbox) RouteEvent(ctx context.Context, id int64, ds []state.Delivery) (bool, error) {
	if c.crashed.Load() {
		return false, errCrashed
	}
	return c.Outbox.RouteEvent(ctx, id, ds)
}

func (c *crashOutbox) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]state.Delivery, error) {
	if c.crashed.Load() {
		return nil, errCrashed
	}
	return c.Outbox.ClaimDeliveries(ctx, owner, now, lease, limit)
}

func (c *crashOutbox) FinishDeliveries(ctx context.Context, owner string, ids []int64, status string, at time.Time, detail string) error {
	if c.crashed.Load() {
		return errCrashed
	}
	return c.Outbox.FinishDeliveries(ctx, owner, ids, status, at, detail)
}

func (c *crashOutbox) ReleaseDeliveries(ctx context.Context, owner string, ids []int64, next time.Time, attempt bool, detail string) error {
	if c.crashed.Load() {
		return errCrashed
	}
	return c.Outbox.ReleaseDeliveries(ctx, owner, ids, next, attempt, detail)
}

func (c *crashOutbox) AddDeliveries(ctx context.Context, ds []state.Delivery) (int, error) {
	if c.crashed.Load() {
		return 0, errCrashed
	}
	return c.Outbox.AddDeliveries(ctx, ds)
}

func keysRoute() alerts.Route {
	return route("r", func(r *alerts.Route) { r.Body = keysBody; r.AlsoOnClear = true })
}

// TestRestartAfterKill kills an engine in the middle of a send and starts
// a new one on the same state: once the dead engine's lease has run out,
// the new one sends what was claimed. Cut before the server accepted, the
// email arrives once; accepted but not recorded as sent (the one gap), it
// arrives twice with the same Message-ID, even when the new engine finds
// it due together with alerts the dead one never sent.
func TestRestartAfterKill(t *testing.T) {
	for _, c := range []struct {
		name     string
		accepted bool // the server took the email before the kill
		late     bool // the new engine starts once the lease ran out
	}{
		{"cut before the server accepted", false, false},
		{"killed after the server accepted", true, false},
		{"killed after the server accepted, restarted after the lease", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			store, clock := memstate.New(), newClock()
			crash := &crashOutbox{Outbox: store}
			a := start(t, store, clock, defaultConfig(keysRoute()), func(c *watch.Config, d *watch.Deps) {
				d.Outbox = crash
				d.Tuning.Lease = time.Minute
			})
			sending, unblock := make(chan watch.Message, 1), make(chan struct{})
			var accepted []watch.Message
			a.notif.fail = func(ctx context.Context, n int, m watch.Message) error {
				if n > 1 {
					return errors.New("dead")
				}
				sending <- m
				<-unblock
				crash.crashed.Store(true)
				if c.accepted {
					accepted = append(accepted, m)
					return nil
				}
				return errors.New("connection reset")
			}
			a.src.trap("lab-1", jam("1"))
			inFlight := <-sending
			for i := 2; i <= 5; i++ {
				a.src.trap("lab-1", jam(fmt.Sprint(i)))
			}
			waitFor(t, "the rest recorded", func() bool { return a.eng.Stats().EventsRecorded == 5 })
			close(unblock)
			a.stop()

			if c.late {
				clock.Advance(time.Minute)
			}
			b := start(t, store, clock, defaultConfig(keysRoute()))
			if !c.late {
				waitFor(t, "the events not claimed sent", func() bool { return len(lines(b.notif.sent())) == 4 })
				if got := lines(b.notif.sent()); got["lab-1/jam/1|raised"] != 0 {
					t.Fatal("sent while the killed engine's claim was live")
				}
				clock.Advance(time.Minute)
			}
			waitFor(t, "the claimed one sent after the lease", func() bool { return len(lines(b.notif.sent())) == 5 })
			b.stop()

			got := lines(append(accepted, b.notif.sent()...))
			for i := 1; i <= 5; i++ {
				want := 1
				if i == 1 && c.accepted {
					want = 2
				}
				if n := got[fmt.Sprintf("lab-1/jam/%d|raised", i)]; n != want {
					t.Errorf("jam %d arrived %d times, want %d", i, n, want)
				}
			}
			if c.accepted {
				var resent watch.Message
				for _, m := range b.notif.sent() {
					if lines([]watch.Message{m})["lab-1/jam/1|raised"] == 1 {
						resent = m
					}
				}
				if resent.ID != inFlight.ID {
					t.Errorf("resent with Message-ID %q, first sent as %q", resent.ID, inFlight.ID)
				}
				if n := len(lines([]watch.Message{resent})); n != 1 {
					t.Errorf("resent with %d alerts, first sent with 1", n)
				}
			}
		})
	}
}

// TestStopLosesNothing stops an engine during a burst: every accepted
// event is recorded, and the next engine sends each once.
func TestStopLosesNothing(t *testing.T) {
	store, clock := memstate.New(), newClock()
	a := start(t, store, clock, defaultConfig(keysRoute()))
	for i := range 2000 {
		a.src.trap(fmt.Sprintf("lab-%d", i%2+1), jam(fmt.Sprint(i)))
	}
	a.stop()
	st := a.eng.Stats()
	accepted := st.Received - st.IntakeDropped - st.Duplicates
	if st.EventsRecorded != accepted || st.IntakeLost != 0 {
		t.Fatalf("stats %+v: accepted %d, recorded %d", st, accepted, st.EventsRecorded)
	}
	if n := len(a.events()); int64(n) != accepted {
		t.Fatalf("%d events in state, %d accepted", n, accepted)
	}
	b := start(t, store, clock, defaultConfig(keysRoute()))
	b.waitDeliveries(state.DeliverySent, int(accepted))
	b.stop()
	got := lines(append(a.notif.sent(), b.notif.sent()...))
	if int64(len(got)) != accepted {
		t.Fatalf("%d alerts emailed, %d accepted", len(got), accepted)
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s emailed %d times", k, n)
		}
	}
}

func TestStopReturnsWithinSeconds(t *testing.T) {
	h := start(t, nil, nil, defaultConfig(keysRoute()), func(c *watch.Config, d *watch.Deps) {
		d.Tuning.StopTimeout = 100 * time.Millisecond
	})
	inSend := make(chan struct{})
	h.notif.fail = func(ctx context.Context, n int, m watch.Message) error {
		close(inSend)
		<-ctx.Done() // a server that never answers
		return ctx.Err()
	}
	h.src.trap("lab-1", jam("1"))
	<-inSend
	began := time.Now()
	h.stop()
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("stopping took %v", took)
	}
	d := h.deliveries(state.DeliveryFilter{})[0]
	if d.Status != state.DeliveryPending || d.ClaimedBy != "" || d.Attempts != 0 {
		t.Fatalf("the cut send was not given back untried: %+v", d)
	}
}

func TestTwoEnginesSendEachOnce(t *testing.T) {
	store, clock := memstate.New(), newClock()
	cfg := defaultConfig(keysRoute())
	a := start(t, store, clock, cfg)
	b := start(t, store, clock, cfg)
	if a.eng.Instance() == b.eng.Instance() {
		t.Fatal("two engines share an instance name")
	}
	var wg sync.WaitGroup
	for _, h := range []*harness{a, b} {
		wg.Go(func() {
			for i := range 150 {
				h.src.trap(fmt.Sprintf("lab-%d", i%2+1), jam(fmt.Sprint(i)))
			}
		})
	}
	wg.Wait()
	// Both engines saw the same 150 alerts (jams 0–149 on lab-1 and lab-2)
	// and each recorded them; their routers and senders race on them all,
	// and each alert is emailed once.
	waitFor(t, "every event recorded, routed and sent", func() bool {
		for _, h := range []*harness{a, b} {
			st := h.eng.Stats()
			if st.EventsRecorded != st.Received-st.IntakeDropped-st.Duplicates {
				return false
			}
		}
		un, _ := store.UnroutedEvents(context.Background(), 0)
		return len(un) == 0 && len(a.deliveries(state.DeliveryFilter{Status: state.DeliveryPending})) == 0
	})
	a.stop()
	b.stop()
	sa, sb := a.notif.sent(), b.notif.sent()
	if len(sa) == 0 || len(sb) == 0 {
		t.Logf("one engine sent everything (%d, %d emails)", len(sa), len(sb))
	}
	deliveries := 0
	for _, d := range a.deliveries(state.DeliveryFilter{}) {
		if d.Status != state.DeliverySent {
			t.Errorf("delivery %d %s", d.ID, d.Status)
		}
		deliveries++
	}
	got := lines(append(sa, sb...))
	if len(got) != 150 || deliveries != 150 {
		t.Fatalf("%d alerts emailed, %d deliveries; want 150", len(got), deliveries)
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s emailed %d times", k, n)
		}
	}
	st := a.eng.Stats()
	stb := b.eng.Stats()
	if st.Routed+stb.Routed != int64(len(a.events())) || st.Sent+stb.Sent != int64(deliveries) {
		t.Fatalf("routed %d+%d of %d events, sent %d+%d of %d deliveries", st.Routed, stb.Routed, len(a.events()), st.Sent, stb.Sent, deliveries)
	}
}

func TestReloadKeepsTheOutbox(t *testing.T) {
	cfg := defaultConfig(route("r", func(r *alerts.Route) { r.GroupWait = 30 * time.Second; r.Body = keysBody }))
	h := start(t, nil, nil, cfg)
	for i := range 10 {
		h.src.trap("lab-1", jam(fmt.Sprint(i)))
	}
	waitFor(t, "10 routed", func() bool { return h.eng.Stats().Routed == 10 })
	next := defaultConfig(
		route("r", func(r *alerts.Route) {
			r.GroupWait = 30 * time.Second
			r.Body = keysBody
			r.Subject = "[new] {{.Count}} on {{.Route}}"
		}),
		route("extra", func(r *alerts.Route) { r.Body = keysBody }),
	)
	if err := h.eng.Reload(next); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.Reload(next); err != nil { // twice: still nothing twice
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Second)
	h.waitDeliveries(state.DeliverySent, 10)
	h.src.trap("lab-2", jam("1"))
	waitFor(t, "the new event sent on the new route", func() bool { return h.notif.count() == 2 })
	h.clock.Advance(30 * time.Second)
	waitFor(t, "the new event sent on the old route", func() bool { return h.notif.count() == 3 })
	h.stop()
	msgs := h.notif.sent()
	if msgs[0].Subject != "[new] 10 on r" {
		t.Errorf("queued deliveries sent with %q, want the reloaded template", msgs[0].Subject)
	}
	got := lines(msgs)
	for i := range 10 {
		if n := got[fmt.Sprintf("lab-1/jam/%d|raised", i)]; n != 1 {
			t.Errorf("jam %d sent %d times", i, n)
		}
	}
	if got["lab-2/jam/1|raised"] != 2 {
		t.Errorf("the event after the reload went to %d routes, want 2", got["lab-2/jam/1|raised"])
	}
}

// gatedOutbox holds AppendEvents until the gate opens: state is slow.
type gatedOutbox struct {
	state.Outbox
	gate chan struct{}
}

func (g *gatedOutbox) AppendEvents(ctx context.Context, evs []alerts.Event) ([]int64, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Outbox.AppendEvents(ctx, evs)
}

func TestFloodKeepsMemoryBounded(t *testing.T) {
	const queue, batch, flood = 64, 16, 20000
	store := memstate.New()
	gated := &gatedOutbox{Outbox: store, gate: make(chan struct{})}
	h := start(t, store, nil, defaultConfig(keysRoute()), func(c *watch.Config, d *watch.Deps) {
		d.Outbox = gated
		d.Tuning.QueueSize, d.Tuning.BatchSize = queue, batch
	})
	for i := range flood {
		h.src.trap("lab-1", jam(fmt.Sprint(i)))
	}
	st := h.eng.Stats()
	accepted := st.Received - st.IntakeDropped - st.Duplicates
	if st.Received != flood || accepted > queue+batch || accepted < queue {
		t.Fatalf("stats %+v: %d accepted, want between the queue (%d) and the queue and one batch", st, accepted, queue)
	}
	close(gated.gate)
	waitFor(t, "the accepted events recorded", func() bool { return h.eng.Stats().EventsRecorded == accepted })
	h.stop()
	if n := len(h.events()); int64(n) != accepted {
		t.Fatalf("%d events recorded, %d accepted", n, accepted)
	}
}

// TestSlowSendGivesBackWhatCouldOutlastItsClaim: a send that takes most of
// the lease leaves the batch's other groups to the next round, claimed
// afresh, rather than sending them on a claim that may run out meanwhile.
func TestSlowSendGivesBackWhatCouldOutlastItsClaim(t *testing.T) {
	cfg := defaultConfig(
		route("a", func(r *alerts.Route) { r.Match.Printers = []string{"lab-1"}; r.GroupWait = time.Minute }),
		route("b", func(r *alerts.Route) { r.Match.Printers = []string{"lab-2"}; r.GroupWait = time.Minute }),
	)
	h := start(t, nil, nil, cfg, func(c *watch.Config, d *watch.Deps) { d.Tuning.Lease = 10 * time.Minute })
	h.notif.fail = func(ctx context.Context, n int, m watch.Message) error {
		if n == 1 {
			h.clock.Advance(9 * time.Minute) // past the lease less the send timeout
		}
		return nil
	}
	h.src.trap("lab-1", jam("1"))
	h.src.trap("lab-2", jam("1"))
	waitFor(t, "both routed", func() bool { return h.eng.Stats().Routed == 2 })
	h.clock.Advance(time.Minute)
	h.waitDeliveries(state.DeliverySent, 2)
	h.stop()
	if h.notif.calls != 2 || h.eng.Stats().ClaimsLost != 0 {
		t.Fatalf("%d sends, %d claims lost; want 2 and none", h.notif.calls, h.eng.Stats().ClaimsLost)
	}
	ds := h.deliveries(state.DeliveryFilter{})
	// b was given back at 09:10 (its due time moved there), untried.
	if ds[0].Route != "b" || !ds[0].DueAt.Equal(t0.Add(10*time.Minute)) || ds[0].Attempts+ds[1].Attempts != 0 {
		t.Fatalf("the second group was not left to the next round untried: %+v", ds)
	}
}

// pruningOutbox records the engine's Prune calls.
type pruningOutbox struct {
	state.Outbox
	mu     sync.Mutex
	before []time.Time
}

func (p *pruningOutbox) Prune(ctx context.Context, before time.Time) (state.Pruned, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.before = append(p.before, before)
	return state.Pruned{}, nil
}

func (p *pruningOutbox) calls() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.before...)
}

// The engine prunes history older than the retention at start and then
// every PruneEvery, so that state stays bounded over years.
func TestPrunesHistoryEveryInterval(t *testing.T) {
	store, clock := memstate.New(), newClock()
	po := &pruningOutbox{Outbox: store}
	cfg := defaultConfig(keysRoute())
	cfg.Watch.Retention = 30 * 24 * time.Hour
	start(t, store, clock, cfg, func(c *watch.Config, d *watch.Deps) {
		d.Outbox = po
		d.Tuning.PruneEvery = time.Hour
	})
	waitFor(t, "a prune at start", func() bool { return len(po.calls()) == 1 })
	if got, want := po.calls()[0], t0.Add(-30*24*time.Hour); !got.Equal(want) {
		t.Errorf("pruned before %v, want %v (now - retention)", got, want)
	}
	clock.Advance(59 * time.Minute)
	clock.Advance(time.Minute)
	waitFor(t, "a prune an hour later", func() bool { return len(po.calls()) == 2 })
	if got, want := po.calls()[1], t0.Add(time.Hour-30*24*time.Hour); !got.Equal(want) {
		t.Errorf("second prune before %v, want %v", got, want)
	}
}
