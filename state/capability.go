package state

import "context"

// The interfaces below are what some backends offer beyond Store. Callers
// type-assert the one they need: an optimisation falls back to Store's
// methods when it is missing; a command that cannot do without it says
// that the backend lacks it.

// PrinterBatcher writes many printers in one transaction, all or none.
type PrinterBatcher interface {
	PutPrinters(ctx context.Context, ps []Printer) error
}

// OutcomeBatcher records many outcomes of one run in one transaction, all
// or none.
type OutcomeBatcher interface {
	RecordOutcomes(ctx context.Context, runID int64, outcomes []Outcome) error
}

// HistoryReader reads back what runs did.
type HistoryReader interface {
	// Outcomes returns the per-printer results of one run in the order
	// they were recorded (by time, then printer name), with the settings
	// changed.
	Outcomes(ctx context.Context, runID int64) ([]Outcome, error)
	// PrinterHistory returns what every run did to one printer, most
	// recent first; at most limit events, or all when limit <= 0.
	PrinterHistory(ctx context.Context, name string, limit int) ([]PrinterEvent, error)
}

// PrinterEvent is one printer's outcome in one run.
type PrinterEvent struct {
	Run     Run
	Outcome Outcome
}

// LockAdmin lets an operator see and clear the lock.
type LockAdmin interface {
	// LockHolder returns the current lock, expired or not; ok is false
	// when nobody holds it.
	LockHolder(ctx context.Context) (info LockInfo, ok bool, err error)
	// ForceUnlock removes the lock with the given id whoever holds it,
	// for a lock left by a run known to be dead. Asking for the id, not
	// "whatever is there", keeps it from removing a lock that a new run
	// took meanwhile. An unknown id is an ErrNotFound.
	ForceUnlock(ctx context.Context, id string) error
}

// Exporter reads a whole state but its lock, to copy it elsewhere. The
// caller should hold the lock, so that no run writes meanwhile.
type Exporter interface {
	Export(ctx context.Context) (*Snapshot, error)
}

// ProgressImporter is an Importer that says how far it got: progress is
// called with the records (printers, then runs) written and their total.
type ProgressImporter interface {
	ImportProgress(ctx context.Context, snap *Snapshot, progress func(done, total int)) error
}

// Importer writes a Snapshot into a state that holds no printers and no
// runs, all or nothing. Runs get new ids in the same order.
type Importer interface {
	Import(ctx context.Context, snap *Snapshot) error
}
