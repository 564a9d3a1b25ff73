package watch

import (
	"context"
	"errors"
	"time"

	"github.com/inkform/inkform/alerts"
)

// event attributes a signal to printer.
func event(printer, source, from string, at time.Time, s alerts.Signal) alerts.Event {
	if s.Kind == "" {
		s.Kind = alerts.Raised
	}
	if s.Name == "" {
		s.Name = alerts.Other
	}
	if s.Severity == "" {
		s.Severity = alerts.DefaultSeverity(s.Name)
	}
	return alerts.Event{
		Printer: printer, Key: alerts.KeyFor(printer, s.Name, s.Index), Kind: s.Kind, Name: s.Name,
		Severity: s.Severity, Source: source, From: from, Code: s.Code, OID: s.OID,
		Description: s.Description, At: at,
	}
}

// accept takes what a source delivered. It never blocks the source: when
// the queue is full the signal is dropped and counted.
func (e *Engine) accept(source string, r Received) {
	e.n.received.Add(int64(len(r.Signals)))
	printer, from := r.Printer, ""
	if r.From.IsValid() {
		from = r.From.String()
	}
	if printer == "" {
		printer = from // an allowed address that is no configured printer
	}
	if printer == "" {
		e.n.dropped.Add(int64(len(r.Signals)))
		return
	}
	at := r.At
	if at.IsZero() {
		at = e.clock.Now()
	}
	for _, s := range r.Signals {
		_ = e.enqueue(context.Background(), event(printer, source, from, at, s), false)
	}
	if r.Printer != "" && e.poller != nil {
		e.pollSoonFor(r.Printer)
	}
}

// Signal records signals from an internal source (drift checks, tests)
// as events of printer. Unlike a Source's deliveries it waits for room in
// the queue; it fails only when ctx is done or the engine stopped.
func (e *Engine) Signal(ctx context.Context, printer, source string, at time.Time, sigs ...alerts.Signal) error {
	if at.IsZero() {
		at = e.clock.Now()
	}
	for _, s := range sigs {
		if err := e.enqueue(ctx, event(printer, source, "", at, s), true); err != nil {
			return err
		}
	}
	return nil
}

var errStopped = errors.New("watch: engine stopped")

// enqueue queues ev unless it changes nothing in the intake's view (a
// raise of an active alert, a clear of an alert not active): a storm of
// one alert records it once. When the queue is full it waits for room
// until ctx is done if wait is set, and drops ev otherwise.
func (e *Engine) enqueue(ctx context.Context, ev alerts.Event, wait bool) error {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			e.n.dropped.Add(1)
			return errStopped
		}
		raised, active := e.view[ev.Key]
		if (ev.Kind == alerts.Raised) == active {
			e.mu.Unlock()
			e.n.duplicates.Add(1)
			return nil
		}
		if ev.Kind == alerts.Cleared {
			// A clear is as urgent as what it ends: a closing trap says
			// "warning" (a binary change) of a critical open door.
			ev.Severity = raised.Severity
		}
		select {
		case e.queue <- ev:
			if ev.Kind == alerts.Raised {
				e.view[ev.Key] = ev
			} else {
				delete(e.view, ev.Key)
			}
			e.inflight++
			e.seq++
			e.mu.Unlock()
			return nil
		default:
		}
		e.mu.Unlock()
		if !wait {
			e.n.dropped.Add(1)
			return nil
		}
		select {
		case <-e.space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// commitLoop records queued events in batches (group commit) until stop
// is closed, then records what is left. A batch that fails to record is
// tried again (with backoff) until it is recorded: it is what was
// accepted, and the queue behind it stays bounded.
func (e *Engine) commitLoop(stopCtx context.Context, stop <-chan struct{}) {
	batch := make([]alerts.Event, 0, e.tune.BatchSize)
	for {
		batch = batch[:0]
		select {
		case ev := <-e.queue:
			batch = append(batch, ev)
		case <-stop:
			e.flush(stopCtx)
			return
		}
	fill:
		for len(batch) < e.tune.BatchSize {
			select {
			case ev := <-e.queue:
				batch = append(batch, ev)
			default:
				break fill
			}
		}
		kick(e.space)
		if !e.record(stopCtx, stop, batch) {
			e.flush(stopCtx)
			return
		}
	}
}

// record writes batch, retrying while it fails; false when it gave up
// because the engine stops (the batch is then counted lost).
func (e *Engine) record(ctx context.Context, stop <-chan struct{}, batch []alerts.Event) bool {
	wait := 100 * time.Millisecond
	for {
		_, err := e.out.AppendEvents(ctx, batch)
		if err == nil {
			e.recorded(len(batch))
			return true
		}
		e.log.Error("watch: record events", "events", len(batch), "err", err)
		select {
		case <-stop:
			if _, err := e.out.AppendEvents(ctx, batch); err == nil {
				e.recorded(len(batch))
				return false
			}
			e.lose(len(batch))
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func (e *Engine) recorded(n int) {
	e.n.recorded.Add(int64(n))
	e.mu.Lock()
	e.inflight -= n
	e.mu.Unlock()
	kick(e.routeKick)
}

func (e *Engine) lose(n int) {
	e.n.lost.Add(int64(n))
	e.mu.Lock()
	e.inflight -= n
	e.mu.Unlock()
	e.log.Error("watch: events accepted but not recorded", "events", n)
}

// flush records everything left in the queue; intake is closed.
func (e *Engine) flush(ctx context.Context) {
	for {
		var batch []alerts.Event
	fill:
		for len(batch) < e.tune.BatchSize {
			select {
			case ev := <-e.queue:
				batch = append(batch, ev)
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			return
		}
		if _, err := e.out.AppendEvents(ctx, batch); err != nil {
			e.log.Error("watch: record events when stopping", "events", len(batch), "err", err)
			e.lose(len(batch))
			continue
		}
		e.recorded(len(batch))
	}
}

// resync replaces the intake's view with the recorded active set when
// nothing is queued, to take in what other engines on the same state
// recorded.
func (e *Engine) resync(ctx context.Context) {
	e.mu.Lock()
	seq, idle := e.seq, e.inflight == 0
	e.mu.Unlock()
	if !idle {
		return
	}
	act, err := e.out.ActiveAlerts(ctx)
	if err != nil {
		e.log.Warn("watch: load active alerts", "err", err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seq != seq || e.inflight != 0 {
		return
	}
	clear(e.view)
	for _, a := range act {
		e.view[a.Event.Key] = a.Event
	}
}

// activeOf returns the intake's view of printer's active alerts.
func (e *Engine) activeOf(printers map[string]bool) map[string][]alerts.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]alerts.Event{}
	for _, ev := range e.view {
		if printers[ev.Printer] {
			out[ev.Printer] = append(out[ev.Printer], ev)
		}
	}
	return out
}
