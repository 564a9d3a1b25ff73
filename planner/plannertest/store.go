package plannertest

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/inkform/inkform/state"
)

// Store is an in-memory state.Store. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	printers map[string]state.Printer
	runs     []state.Run
	outcomes map[int64][]state.Outcome
	lock     *state.LockInfo
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

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{printers: map[string]state.Printer{}, outcomes: map[int64][]state.Outcome{}}
}

func clonePrinter(p state.Printer) state.Printer {
	p.Settings = maps.Clone(p.Settings)
	return p
}

// Lock takes the lock or reports its holder at once.
func (s *Store) Lock(ctx context.Context, owner state.LockInfo) (*state.Lock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock != nil {
		return nil, &state.LockedError{Holder: *s.lock}
	}
	owner.ID = "mem"
	owner.CreatedAt = time.Now()
	s.lock = &owner
	return state.NewLock(owner, func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lock = nil
		return nil
	}), nil
}

// Printers implements state.Store.
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
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Printer implements state.Store.
func (s *Store) Printer(ctx context.Context, name string) (state.Printer, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.printers[name]
	return clonePrinter(p), ok, nil
}

// PutPrinter implements state.Store; it fails with PutErr when set.
func (s *Store) PutPrinter(ctx context.Context, p state.Printer) error {
	s.beforePut()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.PutErr != nil {
		return s.PutErr
	}
	s.Writes++
	s.printers[p.Name] = clonePrinter(p)
	return nil
}

// PutPrinters writes several printers at once, all or none; it fails with
// PutErr when set.
func (s *Store) PutPrinters(ctx context.Context, ps []state.Printer) error {
	s.beforePut()
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

// DeletePrinter implements state.Store.
func (s *Store) DeletePrinter(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.printers, name)
	return nil
}

// BeginRun implements state.Store.
func (s *Store) BeginRun(ctx context.Context, r state.Run) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ID = int64(len(s.runs) + 1)
	r.Status = "running"
	s.runs = append(s.runs, r)
	return r.ID, nil
}

// RecordOutcome implements state.Store.
func (s *Store) RecordOutcome(ctx context.Context, runID int64, o state.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Writes++
	s.outcomes[runID] = append(s.outcomes[runID], o)
	return nil
}

// RecordOutcomes records several outcomes at once.
func (s *Store) RecordOutcomes(ctx context.Context, runID int64, outcomes []state.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Writes++
	s.outcomes[runID] = append(s.outcomes[runID], outcomes...)
	return nil
}

// WriteCount returns Writes under the store's lock.
func (s *Store) WriteCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Writes
}

// FinishRun implements state.Store.
func (s *Store) FinishRun(ctx context.Context, runID int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if runID >= 1 && int(runID) <= len(s.runs) {
		s.runs[runID-1].Status = status
		s.runs[runID-1].FinishedAt = time.Now()
	}
	return nil
}

// Runs implements state.Store.
func (s *Store) Runs(ctx context.Context, limit int) ([]state.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.runs)
	slices.Reverse(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Outcomes returns the outcomes recorded for a run, sorted by printer.
func (s *Store) Outcomes(runID int64) []state.Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.outcomes[runID])
	sort.Slice(out, func(i, j int) bool { return out[i].Printer < out[j].Printer })
	return out
}

// Close implements state.Store.
func (s *Store) Close() error { return nil }

var _ state.Store = (*Store)(nil)
