package sqlstate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/inkform/inkform/state"
)

// lockName keys the single row of the locks table: one lock per state.
const lockName = "state"

const (
	lockBackoffMin = 100 * time.Millisecond
	lockBackoffMax = 2 * time.Second
)

// heldLock is a lock this process holds and renews.
type heldLock struct {
	id     string
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	mu sync.Mutex
	// until is when the lease runs out unless renewed, read on this
	// process's monotonic clock: a renewal started at t moves it to
	// t+lease, never later than the expiry it writes. A process stopped
	// (SIGSTOP, a hung VM) past it finds its lease gone on waking, before
	// the renewer runs again.
	until time.Time
	lost  bool // sticky: a lock found lost is never trusted again
}

// err returns nil while the lock is held, ErrLockLost (wrapped) once it
// was found taken over or its lease ran out unrenewed.
func (h *heldLock) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.lost && !time.Now().Before(h.until) {
		h.lost = true
	}
	if h.lost {
		return fmt.Errorf("lock %s: %w", h.id, state.ErrLockLost)
	}
	return nil
}

// renewed moves the lease end after a renewal started at start; a lock
// already found lost stays lost.
func (h *heldLock) renewed(start time.Time, lease time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.lost && !time.Now().After(start.Add(lease)) {
		h.until = start.Add(lease)
	}
}

// lose marks the lock lost.
func (h *heldLock) lose() {
	h.mu.Lock()
	h.lost = true
	h.mu.Unlock()
}

// stop ends renewal and waits for the renewer to exit.
func (h *heldLock) stop() {
	h.once.Do(h.cancel)
	<-h.done
}

// Lock takes the state lock for owner, retrying with backoff while a live
// holder has it, until ctx is done; then it returns a *state.LockedError
// naming the holder. A lock whose lease has run out is taken over.
func (s *Store) Lock(ctx context.Context, owner state.LockInfo) (*state.Lock, error) {
	id, err := newLockID()
	if err != nil {
		return nil, fmt.Errorf("state lock: %w", err)
	}
	s.mu.Lock()
	lease, renew, closed := s.lease, s.renew, s.closed
	s.mu.Unlock()
	if closed {
		return nil, errors.New("state lock: store is closed")
	}

	var (
		holder  *state.LockInfo
		lastErr error
	)
	backoff := lockBackoffMin
	for {
		// Before the expiry is computed: the local lease end is never
		// later than the one written.
		start := time.Now()
		info := owner
		info.ID = id
		info.CreatedAt = s.now().UTC()
		info.Expires = info.CreatedAt.Add(lease)
		got, cur, err := s.tryLock(ctx, info)
		switch {
		case err == nil && got:
			return s.hold(info, start.Add(lease), lease, renew), nil
		case err == nil:
			if cur.ID != "" {
				holder = &cur
			}
		case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || s.d.IsRetryable(err):
			// A driver may report the deadline before ctx says so: end
			// through wait below, which names the holder.
			lastErr = err
		default:
			return nil, fmt.Errorf("state lock: %w", err)
		}
		// Jitter keeps two waiting runs from retrying in lockstep.
		d := backoff/2 + mrand.N(backoff/2+1)
		if err := wait(ctx, d); err != nil {
			if holder == nil {
				// The deadline came before any attempt could read the
				// holder (a slow server): read it once more, so the error
				// still says who holds the lock.
				holder = s.holderAfter(ctx)
			}
			if holder != nil {
				return nil, &state.LockedError{Holder: *holder}
			}
			if lastErr != nil {
				return nil, fmt.Errorf("state lock: %w (last attempt: %v)", err, lastErr)
			}
			return nil, fmt.Errorf("state lock: %w", err)
		}
		backoff = min(backoff*2, lockBackoffMax)
	}
}

// holderAfter reads the live holder with a short deadline of its own once
// ctx is done; nil when the lock is free, expired or cannot be read.
func (s *Store) holderAfter(ctx context.Context) *state.LockInfo {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	info, ok, err := s.LockHolder(rctx)
	if err != nil || !ok || !info.Expires.After(s.now()) {
		return nil
	}
	return &info
}

// tryLock makes one attempt. It returns got when the lock is now info's;
// otherwise cur is the live holder (zero when it could not be read).
func (s *Store) tryLock(ctx context.Context, info state.LockInfo) (got bool, cur state.LockInfo, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		got, cur = false, state.LockInfo{}
		var created, expires int64
		err := tx.QueryRowContext(ctx, s.bind(`SELECT id, owner_user, owner_host, owner_pid, owner_command, created_at, expires_at FROM locks WHERE name = ?`), lockName).
			Scan(&cur.ID, &cur.User, &cur.Host, &cur.PID, &cur.Command, &created, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			cur = state.LockInfo{}
			_, err := tx.ExecContext(ctx, s.bind(`INSERT INTO locks (name, id, owner_user, owner_host, owner_pid, owner_command, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				lockName, info.ID, info.User, info.Host, info.PID, info.Command, info.CreatedAt.UnixNano(), info.Expires.UnixNano())
			if s.d.IsUniqueViolation(err) {
				return nil // another run got there first; read it next time
			}
			got = err == nil
			return err
		case err != nil:
			return err
		}
		cur.CreatedAt, cur.Expires = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
		if expires >= info.CreatedAt.UnixNano() {
			return nil // held and alive
		}
		// Expired: take it over, but only from the holder just read, so
		// that two runs racing for a dead lock cannot both win.
		res, err := tx.ExecContext(ctx, s.bind(`UPDATE locks SET id = ?, owner_user = ?, owner_host = ?, owner_pid = ?, owner_command = ?, created_at = ?, expires_at = ? WHERE name = ? AND id = ?`),
			info.ID, info.User, info.Host, info.PID, info.Command, info.CreatedAt.UnixNano(), info.Expires.UnixNano(), lockName, cur.ID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		got = n == 1
		if !got {
			cur = state.LockInfo{}
		}
		return nil
	})
	return got, cur, err
}

// hold starts renewing a freshly taken lock, whose lease runs out at until
// unless renewed, and wraps it for the caller.
func (s *Store) hold(info state.LockInfo, until time.Time, lease, renew time.Duration) *state.Lock {
	// Renewal outlives the ctx given to Lock, which often only bounds
	// the wait; it ends with Unlock or Close.
	ctx, cancel := context.WithCancel(context.Background())
	h := &heldLock{id: info.ID, cancel: cancel, done: make(chan struct{}), until: until}
	s.mu.Lock()
	s.held[h] = struct{}{}
	s.mu.Unlock()
	if renew > 0 {
		go s.renewLoop(ctx, h, lease, renew)
	} else {
		close(h.done)
	}
	return state.NewLock(info, func(ctx context.Context) error { return s.unlock(ctx, h) }, h.err)
}

// renewLoop extends the lease every interval. A failed renewal is retried
// at the next tick; if the lease runs out meanwhile, the lock is lost
// (heldLock.err), and a takeover is noticed here or by Unlock. Renewal
// ends once the lock is lost: the run must stop writing, and keeping a
// lease it no longer trusts would only hold others off.
func (s *Store) renewLoop(ctx context.Context, h *heldLock, lease, every time.Duration) {
	defer close(h.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if h.err() != nil {
			return
		}
		// Half the lease: a slow renewal is still worth finishing, and
		// a stuck one must end before the lease does.
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, lease/2)
		var n int64
		err := s.write(rctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(rctx, s.bind(`UPDATE locks SET expires_at = ? WHERE name = ? AND id = ?`),
				s.now().Add(lease).UnixNano(), lockName, h.id)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		cancel()
		switch {
		case err == nil && n == 0:
			h.lose()
			return
		case err == nil:
			h.renewed(start, lease)
		}
	}
}

func (s *Store) unlock(ctx context.Context, h *heldLock) error {
	h.stop()
	s.mu.Lock()
	delete(s.held, h)
	s.mu.Unlock()
	n, err := s.deleteLock(ctx, h.id)
	if err != nil {
		return fmt.Errorf("state unlock %s: %w", h.id, err)
	}
	if n == 0 || h.err() != nil {
		return fmt.Errorf("state unlock %s: %w", h.id, state.ErrLockLost)
	}
	return nil
}

func (s *Store) deleteLock(ctx context.Context, id string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.bind(`DELETE FROM locks WHERE name = ? AND id = ?`), lockName, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// ForceUnlock removes the lock with the given id whoever holds it, for an
// operator clearing a lock left by a run known to be dead. Asking for the
// id, not just "whatever is there", keeps it from removing a lock that a
// new run took in the meantime.
func (s *Store) ForceUnlock(ctx context.Context, id string) error {
	n, err := s.deleteLock(ctx, id)
	if err != nil {
		return fmt.Errorf("state force-unlock %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("state force-unlock %s: lock %w", id, state.ErrNotFound)
	}
	return nil
}

// LockHolder returns the current lock row, expired or not; ok is false
// when nobody holds the lock.
func (s *Store) LockHolder(ctx context.Context) (info state.LockInfo, ok bool, err error) {
	var created, expires int64
	err = s.db.QueryRowContext(ctx, s.bind(`SELECT id, owner_user, owner_host, owner_pid, owner_command, created_at, expires_at FROM locks WHERE name = ?`), lockName).
		Scan(&info.ID, &info.User, &info.Host, &info.PID, &info.Command, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return state.LockInfo{}, false, nil
	}
	if err != nil {
		return state.LockInfo{}, false, fmt.Errorf("%s state: read lock: %w", s.d.Name(), err)
	}
	info.CreatedAt, info.Expires = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	return info, true, nil
}

func newLockID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lock id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
