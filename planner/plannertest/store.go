package plannertest

import (
	"cmp"
	"context"
	"slices"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
)

// Store forwards to memstate.Store, where the in-memory store now lives.
// It embeds rather than aliases it to keep the Outcomes(runID) that the
// planner's tests call; memstate's is state.HistoryReader's.
type Store struct{ *memstate.Store }

// NewStore returns an empty store.
func NewStore() *Store { return &Store{memstate.New()} }

// Outcomes returns the outcomes recorded for a run, sorted by printer.
func (s *Store) Outcomes(runID int64) []state.Outcome {
	out, _ := s.Store.Outcomes(context.Background(), runID)
	slices.SortStableFunc(out, func(a, b state.Outcome) int { return cmp.Compare(a.Printer, b.Printer) })
	return out
}
