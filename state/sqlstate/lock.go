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
	"sync/atomic"
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
	lost   atomic.Bool
	once   sync.Once
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
		info := owner
		info.ID = id
		info.CreatedAt = s.now().UTC()
		info.Expires = info.CreatedAt.Add(lease)
		got, cur, err := s.tryLock(ctx, info)
		switch {
		case err == nil && got:
			return s.hold(info, lease, renew), nil
		case err == nil:
			if cur.ID != "" {
				holder = &cur
			}
		case ctx.Err() != nil || s.d.IsRetryable(err):
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

// hold starts renewing a freshly taken lock and wraps it for the caller.
func (s *Store) hold(info state.LockInfo, lease, renew time.Duration) *state.Lock {
	// Renewal outlives the ctx given to Lock, which often only bounds
	// the wait; it ends with Unlock or Close.
	ctx, cancel := context.WithCancel(context.Background())
	h := &heldLock{id: info.ID, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.held[h] = struct{}{}
	s.mu.Unlock()
	if renew > 0 {
		go s.renewLoop(ctx, h, lease, renew)
	} else {
		close(h.done)
	}
	return state.NewLock(info, func(ctx context.Context) error { return s.unlock(ctx, h) })
}

// renewLoop extends the lease every interval. A failed renewal is retried
// at the next tick; if the lease runs out meanwhile, the takeover is
// noticed here or by Unlock.
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
		// Half the lease: a slow renewal is still worth finishing, and
		// a stuck one must end before the lease does.
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
		if err == nil && n == 0 {
			h.lost.Store(true)
			return
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
	if n == 0 || h.lost.Load() {
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
