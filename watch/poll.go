package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/inkform/inkform/alerts"
)

// Poller reads the alerts printers have active now: their prtAlertTable,
// hrPrinterDetectedErrorState and supplies (through the fleet observer).
// It returns one result per printer asked for; a printer missing from the
// map is taken as not polled (its alerts are left as they are).
type Poller interface {
	Poll(ctx context.Context, printers []string) map[string]PollResult
}

// PollResult is what polling one printer found.
type PollResult struct {
	// Unreachable says the printer did not answer; Err says why. An Err
	// without Unreachable (the printer answered, the reading failed
	// part-way) leaves its alerts as they are.
	Unreachable bool
	Err         error
	// AlertsRead says the printer has a prtAlertTable. Without one, an
	// alert a trap raised stays active until a clearing trap or trap_ttl.
	AlertsRead bool
	// Signals are the alerts active now (their Kind is ignored). Index
	// must be what traps give as the alert's index (prtAlertIndex), so
	// that a trap's alert and the polled one are one alert.
	Signals []alerts.Signal
}

// pollSoonFor schedules a poll of printer PollDebounce from now, so that
// a burst of traps makes one poll.
func (e *Engine) pollSoonFor(printer string) {
	e.pollMu.Lock()
	if len(e.pollSoon) == 0 {
		e.soonAt = e.clock.Now().Add(e.tune.PollDebounce)
	}
	e.pollSoon[printer] = true
	e.pollMu.Unlock()
	kick(e.pollKick)
}

// pollLoop polls every printer every poll interval, from the start (so
// that a restart sees what changed while it was down), and the printers
// that sent traps shortly after.
func (e *Engine) pollLoop(ctx context.Context) {
	var nextFull, lastFull time.Time // zero: now
	var last *compiled
	for {
		now := e.clock.Now()
		c := e.cfg.Load()
		if last != nil && c != last && lastFull.Add(c.poll).Before(nextFull) {
			nextFull = lastFull.Add(c.poll) // reloaded with a shorter interval
		}
		last = c
		var printers []string
		if !now.Before(nextFull) {
			printers = c.names
			lastFull, nextFull = now, now.Add(c.poll)
			e.pollMu.Lock()
			clear(e.pollSoon)
			e.pollMu.Unlock()
		} else {
			e.pollMu.Lock()
			if len(e.pollSoon) > 0 && !now.Before(e.soonAt) {
				for p := range e.pollSoon {
					printers = append(printers, p)
				}
				clear(e.pollSoon)
			}
			e.pollMu.Unlock()
		}
		if len(printers) > 0 {
			e.pollCycle(ctx, c, printers, now)
		}
		wake := nextFull
		e.pollMu.Lock()
		if len(e.pollSoon) > 0 && e.soonAt.Before(wake) {
			wake = e.soonAt
		}
		e.pollMu.Unlock()
		if !e.sleep(ctx, wake, e.pollKick) {
			return
		}
	}
}

// pollCycle polls printers and records what changed: the difference
// between the intake's view of their active alerts and what they report.
func (e *Engine) pollCycle(ctx context.Context, c *compiled, printers []string, started time.Time) {
	e.resync(ctx)
	var results map[string]PollResult
	if e.poller != nil {
		results = e.poller.Poll(ctx, printers)
		if ctx.Err() != nil {
			return
		}
		e.n.polls.Add(1)
	}
	now := e.clock.Now()
	if e.poller != nil {
		// One line per cycle: how long polling the printers took (the
		// performance figures read it).
		e.log.Info("watch: polled", "printers", len(printers), "seconds", now.Sub(started).Seconds())
	}
	want := make(map[string]bool, len(printers))
	for _, p := range printers {
		want[p] = true
	}
	active := e.activeOf(want)
	var evs []alerts.Event
	for _, p := range printers {
		res, polled := results[p]
		evs = append(evs, e.diff(c, p, active[p], res, polled, now)...)
	}
	for _, ev := range evs {
		if err := e.enqueue(ctx, ev, true); err != nil {
			return
		}
	}
	if len(evs) > 0 {
		e.log.Debug("watch: poll", "printers", len(printers), "events", len(evs), "took", now.Sub(started))
	}
}

// diff returns the events that bring printer's active alerts in line with
// one poll result.
func (e *Engine) diff(c *compiled, printer string, active []alerts.Event, res PollResult, polled bool, now time.Time) []alerts.Event {
	var evs []alerts.Event
	clearOf := func(a alerts.Event, why string) {
		evs = append(evs, alerts.Event{Printer: a.Printer, Key: a.Key, Kind: alerts.Cleared, Name: a.Name,
			Severity: a.Severity, Source: alerts.SourcePoll, Code: a.Code, OID: a.OID, Description: why, At: now})
	}
	// ttl ends alerts of sources that never say when they are over.
	ttl := func(confirmed map[string]bool) {
		for _, a := range active {
			if a.Source == alerts.SourcePoll || a.Name == alerts.Offline || a.Name == alerts.Drift || confirmed[a.Key] {
				continue
			}
			if now.Sub(a.At) >= c.trapTTL {
				clearOf(a, fmt.Sprintf("no clearing signal within trap_ttl (%v)", c.trapTTL))
			}
		}
	}
	offlineKey := alerts.KeyFor(printer, alerts.Offline, "")
	var offline *alerts.Event
	for i := range active {
		if active[i].Key == offlineKey {
			offline = &active[i]
		}
	}
	if !polled || (res.Err != nil && !res.Unreachable) {
		ttl(nil)
		return evs
	}
	e.unreachMu.Lock()
	defer e.unreachMu.Unlock()
	if res.Unreachable {
		e.unreach[printer]++
		if n := e.unreach[printer]; n >= c.offlineAfter && offline == nil {
			desc := fmt.Sprintf("no answer to %d polls", n)
			if res.Err != nil {
				desc += ": " + res.Err.Error()
			}
			evs = append(evs, event(printer, alerts.SourcePoll, "", now, alerts.Signal{Kind: alerts.Raised, Name: alerts.Offline, Description: desc}))
		}
		ttl(nil)
		return evs
	}
	delete(e.unreach, printer)
	if offline != nil {
		clearOf(*offline, "answers again")
	}
	seen := map[string]bool{}
	for _, s := range res.Signals {
		s.Kind = alerts.Raised
		ev := event(printer, alerts.SourcePoll, "", now, s)
		if seen[ev.Key] {
			continue
		}
		seen[ev.Key] = true
		if !contains(active, ev.Key) {
			evs = append(evs, ev)
		}
	}
	if !res.AlertsRead {
		ttl(seen)
	}
	for _, a := range active {
		if seen[a.Key] || a.Name == alerts.Offline || a.Name == alerts.Drift {
			continue
		}
		if a.Source != alerts.SourcePoll && !res.AlertsRead {
			continue // ttl decided
		}
		clearOf(a, "no longer reported by the printer")
	}
	return evs
}

func contains(evs []alerts.Event, key string) bool {
	for _, ev := range evs {
		if ev.Key == key {
			return true
		}
	}
	return false
}
