// Package memstate holds an in-memory state.Store and state.Outbox, for
// tests only: it keeps nothing after the process ends and its lock guards
// one process. It passes the conformance suite (statetest), so tests of
// the planner, the commands and watch can use it in place of a database.
package memstate

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/inkform/inkform/state"
)

// lockPoll is how often Lock looks again at a lock held by someone else.
const lockPoll = 5 * time.Millisecond

// Store is an in-memory state.Store with every optional capability but
// copying. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	printers map[string]state.Printer
	runs     []state.Run
	outcomes map[int64][]state.Outcome
	lock     *heldLock
	lockSeq  int
	lease    time.Duration
	renew    time.Duration
	key      state.Key
	out      *outbox // watch's outbox, made on first use
	audit    []state.AuditEntry
	revoked  map[string]time.Time // session digests, until they expire

	// PutErr, when set, is returned by PutPrinter and PutPrinters.
	PutErr error
	// Writes counts calls that write printers or outcomes: each would be
	// one transaction in a database.
	Writes int
	// BeforePut, when set, runs at the start of PutPrinter and PutPrinters,
	// outside any lock; it may block to hold the write in flight.
	BeforePut func()
	// BeforePrinters, when set, runs at the start of Printers, outside any
	// lock; it may block, and an error it returns is Printers' error.
	BeforePrinters func(ctx context.Context) error
}

var (
	_ state.Store          = (*Store)(nil)
	_ state.PrinterBatcher = (*Store)(nil)
	_ state.OutcomeBatcher = (*Store)(nil)
	_ state.HistoryReader  = (*Store)(nil)
	_ state.LockAdmin      = (*Store)(nil)
)

// New returns an empty store with a key of its own.
func New() *Store {
	secret, err := state.GenerateKey()
	if err != nil {
		panic(err) // crypto/rand does not fail on the systems tests run on
	}
	key, err := state.NewKey(secret)
	if err != nil {
		panic(err)
	}
	s := &Store{printers: map[string]state.Printer{}, outcomes: map[int64][]state.Outcome{}, key: key}
	s.SetLease(0, 0)
	return s
}

// ValueKey returns the store's key, made by New.
func (s *Store) ValueKey() (state.Key, error) { return s.key, nil }

// SetLease changes the lease and renewal interval of locks taken from now
// on: state.DefaultLease and a third of it when zero; a negative
// renewEvery never renews, as if the holder had hung.
func (s *Store) SetLease(lease, renewEvery time.Duration) {
	lease, renewEvery = state.LeaseTimes(lease, renewEvery)
	s.mu.Lock()
	s.lease, s.renew = lease, renewEvery
	s.mu.Unlock()
}

// clonePrinter copies p so that neither the caller nor the store sees the
// other's later edits. As from a database, Settings is never nil, and
// Values and Files are nil when empty.
func clonePrinter(p state.Printer) state.Printer {
	p.Settings = maps.Clone(p.Settings)
	if p.Settings == nil {
		p.Settings = map[string]string{}
	}
	p.Values = maps.Clone(p.Values)
	if len(p.Values) == 0 {
		p.Values = nil
	}
	p.Files = maps.Clone(p.Files)
	if len(p.Files) == 0 {
		p.Files = nil
	}
	return p
}

// cloneOutcome copies o; Changed is nil when nothing was changed, as from
// a database.
func cloneOutcome(o state.Outcome) state.Outcome {
	o.Changed = maps.Clone(o.Changed)
	if len(o.Changed) == 0 {
		o.Changed = nil
	}
	return o
}

// heldLock is the lock's holder. Holders live in this process, so one
// that renews is alive: its renewal is worked out when the lock is read
// rather than by a goroutine.
type heldLock struct {
	info    state.LockInfo
	lease   time.Duration
	renew   time.Duration // <= 0: never renewed
	renewed time.Time
}

// holder returns the live holder at now, renewing its lease when due; nil
// when the lock is free or its lease ran out. s.mu must be held.
func (s *Store) holder(now time.Time) *heldLock {
	h := s.lock
	if h == nil {
		return nil
	}
	if h.renew > 0 && now.Sub(h.renewed) >= h.renew {
		h.renewed = now
		h.info.Expires = now.Add(h.lease).UTC()
	}
	if !h.info.Expires.After(now) {
		return nil
	}
	return h
}

// Lock takes the lock for owner, waiting while a live holder has it until
// ctx is done; a lock whose lease ran out is taken over.
func (s *Store) Lock(ctx context.Context, owner state.LockInfo) (*state.Lock, error) {
	for {
		s.mu.Lock()
		now := time.Now()
		h := s.holder(now)
		if h == nil {
			s.lockSeq++
			info := owner
			info.ID = fmt.Sprintf("mem-%d", s.lockSeq)
			info.CreatedAt = now.UTC()
			info.Expires = info.CreatedAt.Add(s.lease)
			s.lock = &heldLock{info: info, lease: s.lease, renew: s.renew, renewed: now}
			s.mu.Unlock()
			return state.NewLock(info, func(context.Context) error { return s.unlock(info.ID) }, func() error { return s.lockErr(info.ID) }), nil
		}
		holder := h.info
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, &state.LockedError{Holder: holder}
		case <-time.After(lockPoll):
		}
	}
}

func (s *Store) unlock(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil || s.lock.info.ID != id {
		return fmt.Errorf("state unlock %s: %w", id, state.ErrLockLost)
	}
	s.lock = nil
	return nil
}

// lockErr says whether the lock with id is still held: it is lost once
// another holder has it, it was removed, or its lease ran out unrenewed.
func (s *Store) lockErr(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.holder(time.Now()); h == nil || h.info.ID != id {
		return fmt.Errorf("lock %s: %w", id, state.ErrLockLost)
	}
	return nil
}

// LockHolder returns the current lock, expired or not.
func (s *Store) LockHolder(ctx context.Context) (state.LockInfo, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return state.LockInfo{}, false, nil
	}
	s.holder(time.Now()) // for a renewal that is due
	return s.lock.info, true, nil
}

// ForceUnlock removes the lock with the given id.
func (s *Store) ForceUnlock(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil || s.lock.info.ID != id {
		return fmt.Errorf("state force-unlock %s: lock %w", id, state.ErrNotFound)
	}
	s.lock = nil
	return nil
}

// Printers returns every printer, sorted by name.
func (s *Store) Printers(ctx context.Context) ([]state.Printer, error) {
	if s.BeforePrinters != nil {
		if err := s.BeforePrinters(ctx); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]state.Printer, 0, len(s.printers))
	for _, p := range s.printers {
		out = append(out, clonePrinter(p))
	}
	slices.SortFunc(out, func(a, b state.Printer) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// Printer returns one printer; ok is false when it is not in state.
func (s *Store) Printer(ctx context.Context, name string) (state.Printer, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.printers[name]
	if !ok {
		return state.Printer{}, false, nil
	}
	return clonePrinter(p), true, nil
}

// PutPrinter inserts or replaces p; it fails with PutErr when set.
func (s *Store) PutPrinter(ctx context.Context, p state.Printer) error {
	return s.PutPrinters(ctx, []state.Printer{p})
}

// PutPrinters writes several printers at once, all or none; it fails with
// PutErr when set.
func (s *Store) PutPrinters(ctx context.Context, ps []state.Printer) error {
	s.beforePut()
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.PutErr != nil {
		return s.PutErr
	}
	s.Writes++
	for _, p := range ps {
		s.printers[p.Name] = clonePrinter(p)
	}
	return nil
}

func (s *Store) beforePut() {
	s.mu.Lock()
	f := s.BeforePut
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

// DeletePrinter removes a printer; removing one not in state is no error.
func (s *Store) DeletePrinter(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.printers, name)
	return nil
}

// BeginRun records a run. A zero StartedAt means now; an empty Status
// means "running".
func (s *Store) BeginRun(ctx context.Context, r state.Run) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ID = int64(len(s.runs) + 1)
	if r.StartedAt.IsZero() {
		r.StartedAt = time.Now()
	}
	if r.Status == "" {
		r.Status = "running"
	}
	s.runs = append(s.runs, r)
	return r.ID, nil
}

// run returns the run with id, or nil. s.mu must be held.
func (s *Store) run(id int64) *state.Run {
	if id < 1 || id > int64(len(s.runs)) {
		return nil
	}
	return &s.runs[id-1]
}

// RecordOutcome records one printer's result; a zero At means now.
func (s *Store) RecordOutcome(ctx context.Context, runID int64, o state.Outcome) error {
	return s.RecordOutcomes(ctx, runID, []state.Outcome{o})
}

// RecordOutcomes records several outcomes of one run at once, all or none.
func (s *Store) RecordOutcomes(ctx context.Context, runID int64, outcomes []state.Outcome) error {
	for _, o := range outcomes {
		if err := o.Validate(); err != nil {
			return fmt.Errorf("run %d: printer %s: record outcome: %w", runID, o.Printer, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run(runID) == nil {
		return fmt.Errorf("run %d: record outcome: run %w", runID, state.ErrNotFound)
	}
	s.Writes++
	now := time.Now()
	for _, o := range outcomes {
		if o.At.IsZero() {
			o.At = now
		}
		s.outcomes[runID] = append(s.outcomes[runID], cloneOutcome(o))
	}
	return nil
}

// WriteCount returns Writes under the store's lock.
func (s *Store) WriteCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Writes
}

// FinishRun marks a run finished now with status.
func (s *Store) FinishRun(ctx context.Context, runID int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.run(runID)
	if r == nil {
		return fmt.Errorf("run %d: finish: run %w", runID, state.ErrNotFound)
	}
	r.Status, r.FinishedAt = status, time.Now()
	return nil
}

// Runs returns the most recent runs first (by start time, then id); at
// most limit of them, or all when limit <= 0.
func (s *Store) Runs(ctx context.Context, limit int) ([]state.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.runs)
	slices.SortFunc(out, func(a, b state.Run) int {
		return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(b.ID, a.ID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Outcomes returns a run's outcomes by time, then printer name.
func (s *Store) Outcomes(ctx context.Context, runID int64) ([]state.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []state.Outcome
	for _, o := range s.outcomes[runID] {
		out = append(out, cloneOutcome(o))
	}
	slices.SortStableFunc(out, func(a, b state.Outcome) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Printer, b.Printer))
	})
	return out, nil
}

// PrinterHistory returns what every run did to one printer, most recent
// first; at most limit events, or all when limit <= 0.
func (s *Store) PrinterHistory(ctx context.Context, name string, limit int) ([]state.PrinterEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []state.PrinterEvent
	for id, os := range s.outcomes {
		for _, o := range os {
			if o.Printer == name {
				out = append(out, state.PrinterEvent{Run: *s.run(id), Outcome: cloneOutcome(o)})
			}
		}
	}
	slices.SortFunc(out, func(a, b state.PrinterEvent) int {
		return cmp.Or(b.Outcome.At.Compare(a.Outcome.At), cmp.Compare(b.Run.ID, a.Run.ID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Close does nothing: there is nothing to release.
func (s *Store) Close() error { return nil }
