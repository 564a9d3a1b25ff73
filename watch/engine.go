package watch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
)

// Config is what the engine does; Reload swaps it while the engine runs.
type Config struct {
	Routes   []alerts.Route
	Printers []Printer
	// Watch gives the poll interval, trap_ttl and offline_after; zero
	// values take the alerts package's defaults.
	Watch alerts.Watch
	// StatusURL is the status page's base URL; emails link each printer's
	// page below it. "" leaves the links out.
	StatusURL string
	// MessageDomain is the right-hand side of Message-IDs; "" means
	// "inkform.invalid".
	MessageDomain string
}

// Printer is what routes and emails know of a printer: keywords for
// matching, the rest for the text.
type Printer struct {
	Name     string
	Model    string
	Serial   string
	Location string
	Keywords []string
}

// Tuning sizes the engine; zero values take the defaults given. It is
// fixed for the engine's life (Reload does not change it).
type Tuning struct {
	// QueueSize bounds the events accepted from sources and not yet
	// recorded (32768: a few seconds of a storm, some 10 MB). When it is full, what sources deliver is dropped
	// and counted (Stats.IntakeDropped): sources are UDP listeners, which
	// cannot push back, so memory stays bounded and the loss is visible.
	QueueSize int
	// BatchSize bounds the events recorded in one transaction (2048).
	BatchSize int
	// Lease is how long a claimed delivery is this engine's (5m); a
	// stopped or killed engine's claims are free again after it.
	Lease time.Duration
	// SendTimeout bounds one Notifier.Send (2m, and at most half the
	// lease, so that a send ends before its claim does).
	SendTimeout time.Duration
	// RetryMin and RetryMax bound the backoff after a failed send (30s,
	// 1h): it doubles with every attempt, with jitter.
	RetryMin, RetryMax time.Duration
	// Tick is how often routing and sending look at state besides when
	// woken (5s): what other engines on the same state added, and
	// deliveries coming due.
	Tick time.Duration
	// PollDebounce is how long after a trap its printer is polled (5s),
	// so that a burst of traps makes one poll.
	PollDebounce time.Duration
	// StopTimeout bounds how long stopping waits for sends in flight and
	// for recording the queue (5s).
	StopTimeout time.Duration
	// ClaimLimit bounds the deliveries claimed at once (500).
	ClaimLimit int
	// PruneEvery is how often history older than the retention is
	// deleted from state (1h; the first time at start).
	PruneEvery time.Duration
}

func (t Tuning) withDefaults() Tuning {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt(&t.QueueSize, 32768)
	defInt(&t.BatchSize, 2048)
	defInt(&t.ClaimLimit, 500)
	def(&t.Lease, 5*time.Minute)
	def(&t.PruneEvery, time.Hour)
	def(&t.SendTimeout, 2*time.Minute)
	if t.SendTimeout > t.Lease/2 {
		t.SendTimeout = t.Lease / 2
	}
	def(&t.RetryMin, 30*time.Second)
	def(&t.RetryMax, time.Hour)
	if t.RetryMax < t.RetryMin {
		t.RetryMax = t.RetryMin
	}
	def(&t.Tick, 5*time.Second)
	def(&t.PollDebounce, 5*time.Second)
	def(&t.StopTimeout, 5*time.Second)
	return t
}

// Deps are what the engine works through.
type Deps struct {
	Outbox   state.Outbox // required
	Notifier Notifier     // required
	Sources  []Source
	// Poller reads printers' active alerts; nil polls nothing (trap
	// alerts then end by a clearing trap or trap_ttl).
	Poller Poller
	Clock  Clock        // nil: the system clock
	Logger *slog.Logger // nil: no logging
	// Instance names this engine as the owner of its claims; it must
	// differ between engines on one state. "" makes one from the host
	// name, the process id and random bytes.
	Instance string
	// Compose makes the email of a delivery that no alert routing made
	// (kind report: the scheduled reports); nil fails such deliveries.
	Compose func(ctx context.Context, d state.Delivery) (Message, error)
	Tuning  Tuning
}

// Clock is the engine's time, injectable so that grace, group_wait,
// repeat, backoff and trap_ttl can be tested without waiting.
type Clock interface {
	Now() time.Time
	// Alarm returns a channel that receives once the clock reaches t (at
	// once when it has) and a function that releases it.
	Alarm(t time.Time) (<-chan time.Time, func())
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) Alarm(t time.Time) (<-chan time.Time, func()) {
	tm := time.NewTimer(time.Until(t))
	return tm.C, func() { tm.Stop() }
}

// Stats counts what the engine did since it was made.
type Stats struct {
	Received       int64 // signals sources delivered
	Duplicates     int64 // signals that changed nothing (a raise of an active alert, a clear of none)
	IntakeDropped  int64 // signals dropped because the queue was full or the engine stopping
	IntakeLost     int64 // accepted events that could not be recorded when stopping
	EventsRecorded int64
	Routed         int64 // events routed by this engine
	Deliveries     int64 // deliveries this engine created (routing and repeats)
	Messages       int64 // emails sent
	Sent           int64 // deliveries sent (a digest carries several)
	Suppressed     int64 // grace, silence, inhibition
	Failed         int64 // refused for good
	Retries        int64 // deliveries released to be tried again
	Postponed      int64 // deliveries held back by group_interval
	ClaimsLost     int64 // finishes refused because the claim ran out
	Polls          int64 // poll cycles
}

type counters struct {
	received, duplicates, dropped, lost, recorded, routed, deliveries, messages,
	sent, suppressed, failed, retries, postponed, claimsLost, polls atomic.Int64
}

// Engine is the alerting service: intake, polling, routing and sending.
type Engine struct {
	out      state.Outbox
	notifier Notifier
	sources  []Source
	poller   Poller
	compose  func(ctx context.Context, d state.Delivery) (Message, error)
	clock    Clock
	log      *slog.Logger
	owner    string
	tune     Tuning

	cfg atomic.Pointer[compiled]

	queue chan alerts.Event
	space chan struct{} // signalled when the committer took events off the queue

	// mu guards the intake's view: the active alerts as they will be once
	// the queue is recorded, so that a storm of one alert records it once.
	mu       sync.Mutex
	view     map[string]alerts.Event
	closed   bool
	inflight int   // events accepted and not yet recorded
	seq      int64 // events accepted, ever

	routeKick, sendKick, pollKick chan struct{}

	wakeMu sync.Mutex
	wakeAt time.Time // when the sender should look next (zero: Tick)

	pollMu   sync.Mutex
	pollSoon map[string]bool
	soonAt   time.Time

	unreachMu sync.Mutex
	unreach   map[string]int // consecutive unreachable polls per printer

	groupMu  sync.Mutex
	groupDue map[string]time.Time // route → due time of its open group

	n counters

	running atomic.Bool
}

// New makes an engine; the configuration is checked as Reload checks it.
func New(cfg Config, deps Deps) (*Engine, error) {
	if deps.Outbox == nil {
		return nil, errors.New("watch: no outbox: the state backend keeps none")
	}
	if deps.Notifier == nil {
		return nil, errors.New("watch: no notifier")
	}
	e := &Engine{
		out: deps.Outbox, notifier: deps.Notifier, sources: deps.Sources, poller: deps.Poller,
		compose: deps.Compose,
		clock:   deps.Clock, log: deps.Logger, owner: deps.Instance, tune: deps.Tuning.withDefaults(),
		space: make(chan struct{}, 1), routeKick: make(chan struct{}, 1), sendKick: make(chan struct{}, 1),
		pollKick: make(chan struct{}, 1), view: map[string]alerts.Event{}, pollSoon: map[string]bool{},
		groupDue: map[string]time.Time{}, unreach: map[string]int{},
	}
	if e.clock == nil {
		e.clock = systemClock{}
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.owner == "" {
		e.owner = instanceID()
	}
	e.queue = make(chan alerts.Event, e.tune.QueueSize)
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	e.cfg.Store(c)
	return e, nil
}

func instanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Instance returns the name this engine claims deliveries under.
func (e *Engine) Instance() string { return e.owner }

// Reload swaps routes, printers and settings. A configuration with errors
// is refused and the running one kept. Nothing queued is lost and nothing
// is sent again: events and deliveries live in the outbox, and pending
// deliveries carry their recipients; they are sent with the new routes'
// templates and timing.
func (e *Engine) Reload(cfg Config) error {
	c, err := compile(cfg)
	if err != nil {
		return err
	}
	e.cfg.Store(c)
	e.groupMu.Lock()
	clear(e.groupDue)
	e.groupMu.Unlock()
	kick(e.routeKick)
	kick(e.pollKick)
	e.log.Info("watch: configuration reloaded", "routes", len(c.routes), "printers", len(c.printers))
	return nil
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	n := &e.n
	return Stats{
		Received: n.received.Load(), Duplicates: n.duplicates.Load(), IntakeDropped: n.dropped.Load(),
		IntakeLost: n.lost.Load(), EventsRecorded: n.recorded.Load(), Routed: n.routed.Load(),
		Deliveries: n.deliveries.Load(), Messages: n.messages.Load(), Sent: n.sent.Load(),
		Suppressed: n.suppressed.Load(), Failed: n.failed.Load(), Retries: n.retries.Load(),
		Postponed: n.postponed.Load(), ClaimsLost: n.claimsLost.Load(), Polls: n.polls.Load(),
	}
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run runs the engine until ctx is done or a source fails to start, then
// stops: intake ends, every accepted event is recorded, sends in flight
// get StopTimeout to finish, and claims not sent are given back. It
// returns the source's error, or nil after ctx was done.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("watch: engine already running")
	}
	defer e.running.Store(false)
	act, err := e.out.ActiveAlerts(ctx)
	if err != nil {
		return fmt.Errorf("watch: load active alerts: %w", err)
	}
	e.mu.Lock()
	e.closed = false
	e.view = make(map[string]alerts.Event, len(act))
	for _, a := range act {
		e.view[a.Event.Key] = a.Event
	}
	e.mu.Unlock()

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// State writes and sends in flight outlive ctx by StopTimeout.
	stopCtx, stopCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCancel()
	stopTimer := context.AfterFunc(runCtx, func() { time.AfterFunc(e.tune.StopTimeout, stopCancel) })
	defer stopTimer()

	var producers, workers sync.WaitGroup
	for _, src := range e.sources {
		producers.Go(func() {
			name := src.Name()
			err := src.Run(runCtx, func(r Received) { e.accept(name, r) })
			if err != nil && runCtx.Err() == nil {
				e.log.Error("watch: source failed", "source", name, "err", err)
				cancel(fmt.Errorf("watch: source %s: %w", name, err))
			}
		})
	}
	producers.Go(func() { e.pollLoop(runCtx) })
	commitDone := make(chan struct{})
	stopCommit := make(chan struct{})
	go func() { defer close(commitDone); e.commitLoop(stopCtx, stopCommit) }()
	workers.Go(func() { e.routeLoop(runCtx) })
	workers.Go(func() { e.sendLoop(runCtx, stopCtx) })
	if p, ok := e.out.(state.Pruner); ok {
		workers.Go(func() { e.pruneLoop(runCtx, p) })
	}
	e.log.Info("watch: running", "instance", e.owner, "active", len(act))

	<-runCtx.Done()
	producers.Wait()
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	close(stopCommit)
	<-commitDone
	workers.Wait()
	e.log.Info("watch: stopped", "instance", e.owner)
	if err := context.Cause(runCtx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// pruneLoop deletes the history older than the retention every
// PruneEvery, so that state stays bounded however long the service runs.
// Several engines on one state may prune at once: deleting what another
// deleted already deletes nothing.
func (e *Engine) pruneLoop(ctx context.Context, p state.Pruner) {
	for {
		now := e.clock.Now()
		before := now.Add(-e.cfg.Load().retention)
		n, err := p.Prune(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			e.log.Warn("watch: prune history", "err", err)
		case n != state.Pruned{}:
			e.log.Info("watch: pruned history", "before", before.Format(time.RFC3339), "events", n.Events, "deliveries", n.Deliveries, "silences", n.Silences)
		}
		if !e.sleep(ctx, now.Add(e.tune.PruneEvery), nil) {
			return
		}
	}
}

// sleep waits until the clock reaches until, kick is signalled or ctx is
// done; it returns false when ctx is done.
func (e *Engine) sleep(ctx context.Context, until time.Time, kick <-chan struct{}) bool {
	c, stop := e.clock.Alarm(until)
	defer stop()
	select {
	case <-ctx.Done():
		return false
	case <-c:
	case <-kick:
	}
	return true
}
