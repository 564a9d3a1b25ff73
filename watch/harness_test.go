package watch_test

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
	"github.com/inkform/inkform/watch"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fakeClock moves only when told to.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	alarms map[*alarm]bool
}

type alarm struct {
	at time.Time
	c  chan time.Time
}

func newClock() *fakeClock { return &fakeClock{now: t0, alarms: map[*alarm]bool{}} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Alarm(t time.Time) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := &alarm{at: t, c: make(chan time.Time, 1)}
	if !t.After(f.now) {
		a.c <- f.now
		return a.c, func() {}
	}
	f.alarms[a] = true
	return a.c, func() {
		f.mu.Lock()
		delete(f.alarms, a)
		f.mu.Unlock()
	}
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	for a := range f.alarms {
		if !a.at.After(f.now) {
			a.c <- f.now
			delete(f.alarms, a)
		}
	}
}

// fakeSource hands its deliver function to the test.
type fakeSource struct {
	ready   chan struct{}
	once    sync.Once
	deliver func(watch.Received)
}

func newSource() *fakeSource { return &fakeSource{ready: make(chan struct{})} }

func (s *fakeSource) Name() string { return alerts.SourceTrap }

func (s *fakeSource) Run(ctx context.Context, deliver func(watch.Received)) error {
	s.once.Do(func() { s.deliver = deliver; close(s.ready) })
	<-ctx.Done()
	return nil
}

var lab = netip.MustParseAddr("127.0.0.10")

// trap delivers one signal from printer.
func (s *fakeSource) trap(printer string, sigs ...alerts.Signal) {
	<-s.ready
	s.deliver(watch.Received{From: lab, Printer: printer, Signals: sigs})
}

func jam(index string) alerts.Signal {
	return alerts.Signal{Kind: alerts.Raised, Name: alerts.Jam, Severity: alerts.Critical, Code: 8, Index: index, Description: "paper jam in tray " + index}
}

func cleared(s alerts.Signal) alerts.Signal {
	s.Kind = alerts.Cleared
	return s
}

// fakeNotifier records what it is given; fail, when set, decides the
// outcome of each send (n counts from 1).
type fakeNotifier struct {
	mu    sync.Mutex
	calls int
	msgs  []watch.Message
	fail  func(ctx context.Context, n int, m watch.Message) error
}

func (f *fakeNotifier) Send(ctx context.Context, m watch.Message) error {
	f.mu.Lock()
	f.calls++
	n, fail := f.calls, f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(ctx, n, m); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	f.mu.Unlock()
	return nil
}

func (f *fakeNotifier) sent() []watch.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
}

func (f *fakeNotifier) count() int { return len(f.sent()) }

// fakePoller answers from a table the test changes.
type fakePoller struct {
	mu      sync.Mutex
	results map[string]watch.PollResult
	polls   int
}

func (p *fakePoller) Poll(ctx context.Context, printers []string) map[string]watch.PollResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls++
	out := map[string]watch.PollResult{}
	for _, n := range printers {
		if r, ok := p.results[n]; ok {
			out[n] = r
		}
	}
	return out
}

func (p *fakePoller) set(printer string, r watch.PollResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.results == nil {
		p.results = map[string]watch.PollResult{}
	}
	p.results[printer] = r
}

func (p *fakePoller) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.polls
}

// keysBody lists each alert as key|kind, so that tests can count them.
const keysBody = "{{range .Alerts}}{{.Key}}|{{if .Repeat}}repeat{{else}}{{.Kind}}{{end}}\n{{end}}"

func route(name string, mods ...func(*alerts.Route)) alerts.Route {
	r := alerts.Route{Name: name, Email: alerts.Email{To: []string{name + "@example.test"}}}
	for _, m := range mods {
		m(&r)
	}
	return r
}

type harness struct {
	t      *testing.T
	out    state.Outbox
	store  *memstate.Store
	clock  *fakeClock
	src    *fakeSource
	notif  *fakeNotifier
	poller *fakePoller
	eng    *watch.Engine
	cancel context.CancelFunc
	done   chan error
}

type option func(*watch.Config, *watch.Deps)

func defaultConfig(routes ...alerts.Route) watch.Config {
	return watch.Config{
		Routes: routes,
		Printers: []watch.Printer{
			{Name: "lab-1", Model: "Lexmark MS821", Serial: "LX123", Location: "Lab, 2nd floor", Keywords: []string{"lab"}},
			{Name: "lab-2", Model: "HP M507", Keywords: []string{"lab", "hq"}},
			{Name: "office-1", Model: "Dell S5830dn", Keywords: []string{"hq"}},
		},
		StatusURL: "https://inkform.example.test/",
	}
}

// start runs an engine on store (a new one when nil) until the test ends.
func start(t *testing.T, store *memstate.Store, clock *fakeClock, cfg watch.Config, opts ...option) *harness {
	t.Helper()
	if store == nil {
		store = memstate.New()
	}
	if clock == nil {
		clock = newClock()
	}
	h := &harness{t: t, out: store, store: store, clock: clock, src: newSource(), notif: &fakeNotifier{}, done: make(chan error, 1)}
	deps := watch.Deps{
		Outbox: store, Notifier: h.notif, Sources: []watch.Source{h.src}, Clock: clock,
		Tuning: watch.Tuning{Tick: time.Second, StopTimeout: 2 * time.Second},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	if p, ok := deps.Poller.(*fakePoller); ok {
		h.poller = p
	}
	h.out = deps.Outbox
	eng, err := watch.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- eng.Run(ctx) }()
	t.Cleanup(func() { h.stop() })
	return h
}

// stop stops the engine and waits for Run to return.
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal("engine did not stop within 10s")
	}
}

// waitFor polls cond until it holds, failing after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) deliveries(f state.DeliveryFilter) []state.Delivery {
	h.t.Helper()
	ds, err := h.store.Deliveries(context.Background(), f)
	if err != nil {
		h.t.Fatal(err)
	}
	return ds
}

func (h *harness) events() []alerts.Event {
	h.t.Helper()
	evs, err := h.store.Events(context.Background(), state.EventFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

// waitDeliveries waits until n deliveries have status.
func (h *harness) waitDeliveries(status string, n int) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.deliveries(state.DeliveryFilter{Status: status})) < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %d deliveries %s at %v: %+v", n, status, h.clock.Now(), h.deliveries(state.DeliveryFilter{}))
		}
		time.Sleep(time.Millisecond)
	}
}

// lines counts key|kind lines across messages made with keysBody.
func lines(msgs []watch.Message) map[string]int {
	out := map[string]int{}
	for _, m := range msgs {
		for _, l := range strings.Split(strings.TrimSpace(m.Body), "\n") {
			if l != "" {
				out[l]++
			}
		}
	}
	return out
}

// testWriter logs through t, so that a failing test shows the engine's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
