// Package state records what inkform has applied: printers under
// management with their identity and last observation, the setting values
// applied (in clear, with their hashes; sensitive ones only as hashes keyed
// with the state's own key, see Key), the history of runs with an outcome
// per printer, and a leased lock so that two applies never write one fleet
// at once.
//
// Store is the one interface every backend implements. What only some
// backends offer (batched writes, history, lock administration, copying)
// are small interfaces of their own in capability.go, which callers
// type-assert. The backends, and the table that opens them by location,
// are in the sub-packages.
package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned (wrapped) when a run or lock named by id does
// not exist.
var ErrNotFound = errors.New("not found")

// ErrNoState is returned (wrapped) when a state that must exist does not
// (see sqlstate.Options.MustExist).
var ErrNoState = errors.New("no state yet")

// ErrLockLost is returned (wrapped) by Lock.Err and Unlock once the lease
// ran out without renewal or another run took the lock over: what this
// run writes from then on may overwrite that run's work.
var ErrLockLost = errors.New("state lock lost: its lease ran out without renewal, and another run may have taken it over")

// DefaultLease is how long a lock stays valid without renewal. A holder
// renews every third of it, so a killed run blocks the next for at most
// this long.
var DefaultLease = 30 * time.Second

// LeaseTimes fills in a backend's lease and renewal interval: DefaultLease
// when lease is not positive, and renewal every third of the lease when
// renewEvery is zero (a negative renewEvery, for tests, never renews).
func LeaseTimes(lease, renewEvery time.Duration) (time.Duration, time.Duration) {
	if lease <= 0 {
		lease = DefaultLease
	}
	if renewEvery == 0 {
		renewEvery = lease / 3
	}
	return lease, renewEvery
}

// Store is safe for concurrent use by the goroutines of one process.
type Store interface {
	// Lock takes the state lock for owner. When another live holder has it,
	// Lock retries with backoff until ctx is done, then returns a *LockedError
	// naming the holder. A lock whose lease expired (its holder died) is taken
	// over. The returned Lock renews its lease in the background until Unlock.
	Lock(ctx context.Context, owner LockInfo) (*Lock, error)

	// Printers returns every printer record, sorted by name.
	Printers(ctx context.Context) ([]Printer, error)
	// Printer returns one record; ok is false when the printer is not in state.
	Printer(ctx context.Context, name string) (p Printer, ok bool, err error)
	// PutPrinter inserts or replaces one printer record, its settings and
	// its files in a single transaction.
	PutPrinter(ctx context.Context, p Printer) error
	// DeletePrinter removes a printer, its settings and its files.
	DeletePrinter(ctx context.Context, name string) error

	// BeginRun records the start of a plan or apply and returns its id.
	BeginRun(ctx context.Context, r Run) (int64, error)
	// RecordOutcome records how one printer fared in a run.
	RecordOutcome(ctx context.Context, runID int64, o Outcome) error
	// FinishRun marks a run finished with an overall status.
	FinishRun(ctx context.Context, runID int64, status string) error
	// Runs returns the most recent runs first, at most limit.
	Runs(ctx context.Context, limit int) ([]Run, error)

	// ValueKey returns the state's secret key, which sensitive values
	// are hashed with. It is kept outside the state's database, and may
	// be made on first use; an error wrapping ErrNoKey says there is
	// none, and what to do.
	ValueKey() (Key, error)

	Close() error
}

// Printer is a printer under management.
type Printer struct {
	Name       string
	Address    string
	Serial     string
	Model      string
	Firmware   string
	ObservedAt time.Time // last observation
	AppliedAt  time.Time // last successful apply
	// Settings maps each managed setting name to the hash of the value
	// last applied: HashValue of it, or for a sensitive setting the state
	// key's Key.Hash; "" when not known (recorded by an older inkform).
	Settings map[string]string
	// Values maps each setting in Settings that is not sensitive to the
	// value last applied, in clear; nil when none is. A setting recorded
	// by an older inkform has none.
	Values map[string]string
	// Files maps the name on the printer of each file deployed to
	// HashValue of the content's hex SHA-256; nil when none was.
	Files map[string]string
}

// Run is one plan or apply.
type Run struct {
	ID         int64
	Command    string // "apply", "plan"
	User       string
	Host       string
	GitCommit  string
	ConfigHash string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running (or when the process died)
	Status     string    // RunRunning, RunOK, RunFailed, RunCancelled, RunLockLost, …
}

// Run statuses. RunAbandoned is never stored: it is how a run still
// recorded as running is shown once its process is known to be gone.
const (
	RunRunning   = "running"
	RunOK        = "ok"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
	// RunLockLost: the run lost the state lock midway and stopped before
	// writing any further printer or record.
	RunLockLost  = "lock lost"
	RunAbandoned = "abandoned"
)

// ShownStatus is the status to show for r, given the lock as it is now
// (nil when nobody holds it). Every run holds the state lock while it
// runs, so a run recorded as running is abandoned (killed, or its machine
// gone) when no live lock exists, or when the live lock was taken after
// the run started, by someone else.
func (r Run) ShownStatus(lock *LockInfo, now time.Time) string {
	if r.Status != RunRunning {
		return r.Status
	}
	if lock == nil || !now.Before(lock.Expires) || lock.CreatedAt.After(r.StartedAt) {
		return RunAbandoned
	}
	return r.Status
}

// Outcome is one printer's result in a run.
type Outcome struct {
	Printer string
	Status  string // "applied", "unchanged", "failed", "skipped"
	Detail  string // error or reason; never a secret
	Changes int
	At      time.Time
	// Changed maps each setting written to the printer in this run to the
	// hash of the value written, as Printer.Settings holds it (never the
	// value itself). Optional: nil when the run changed nothing or did
	// not say what.
	Changed map[string]string
}

// LockInfo says who holds (or wants) the lock.
type LockInfo struct {
	ID        string // set by Lock
	User      string
	Host      string
	PID       int
	Command   string // e.g. "inkform apply"
	CreatedAt time.Time
	Expires   time.Time
}

func (l LockInfo) String() string {
	return fmt.Sprintf("%s@%s (pid %d) running %q since %s", l.User, l.Host, l.PID, l.Command, l.CreatedAt.Format(time.RFC3339))
}

// LockedError is returned when the lock stays held by someone else.
type LockedError struct {
	Holder LockInfo
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("state is locked by %s (lock %s, lease until %s)", e.Holder, e.Holder.ID, e.Holder.Expires.Format(time.RFC3339))
}

// Lock is a held lock. Unlock releases it; it is safe to call more than once.
// Err says whether it is still held; it is safe for concurrent use.
type Lock struct {
	Info   LockInfo
	unlock func(context.Context) error
	check  func() error
}

// NewLock is for backends: it wraps a held lock, its release function and
// check, which returns an error wrapping ErrLockLost once the lock is lost.
func NewLock(info LockInfo, unlock func(context.Context) error, check func() error) *Lock {
	return &Lock{Info: info, unlock: unlock, check: check}
}

// Err returns nil while the lock is held, and an error wrapping
// ErrLockLost once its lease ran out without renewal or another run took
// it over; a lost lock stays lost. It reads what the holder last knew,
// without a round trip, so that a writer can ask before every write. A
// nil Lock is never lost: it stands for no lock to keep.
func (l *Lock) Err() error {
	if l == nil || l.check == nil {
		return nil
	}
	return l.check()
}

// Unlock releases the lock.
func (l *Lock) Unlock(ctx context.Context) error {
	if l == nil || l.unlock == nil {
		return nil
	}
	f := l.unlock
	l.unlock = nil
	return f(ctx)
}

// valueDomain keeps value hashes apart from any other use of SHA-256.
const valueDomain = "inkform-setting-v1\x00"

// HashValue is how applied values that are not sensitive are recorded: a
// SHA-256 over a domain prefix and the value, hex encoded with an
// algorithm tag. Sensitive values are recorded with Key.Hash.
func HashValue(v string) string {
	h := sha256.Sum256([]byte(valueDomain + v))
	return "sha256:" + hex.EncodeToString(h[:])
}
