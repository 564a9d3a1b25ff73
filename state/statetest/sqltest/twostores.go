package sqltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlstate"
)

// RunTwoStores checks that two stores opened on one database behave as two
// processes would: the lock names its holder across them, their writes all
// land, exactly one wins a race for a free lock, and a forced unlock is seen
// by the holder. open returns two stores on the same fresh database; the
// caller closes them.
func RunTwoStores(t *testing.T, open func(t *testing.T) (s1, s2 *sqlstate.Store)) {
	ctx := ctxFor(t)
	s1, s2 := open(t)

	a, err := s1.Lock(ctx, state.LockInfo{User: "ana", Host: "h1", PID: 1, Command: "inkform apply"})
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
	_, err = s2.Lock(lctx, state.LockInfo{User: "bo", Host: "h2", PID: 2, Command: "inkform apply"})
	cancel()
	var le *state.LockedError
	if !errors.As(err, &le) || le.Holder.ID != a.Info.ID || le.Holder.User != "ana" {
		t.Fatalf("second store's Lock = %v, want LockedError naming ana", err)
	}

	// Both write at once, to their own printers, while the lock is held:
	// the state lock does not block writes; the engine serialises them and
	// the core retries, so every write lands.
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, s := range []*sqlstate.Store{s1, s2, s1, s2} {
		wg.Go(func() {
			for j := range 25 {
				p := state.Printer{Name: fmt.Sprintf("s%d-%d", i, j), Settings: map[string]string{"k": state.HashValue("v")}}
				if err := s.PutPrinter(ctx, p); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("cross-store PutPrinter: %v", err)
	}
	if ps, err := s2.Printers(ctx); err != nil || len(ps) != 100 {
		t.Errorf("Printers = %d, %v; want 100", len(ps), err)
	}

	// Both race for a free lock: exactly one wins, the other is told who.
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	type result struct {
		l   *state.Lock
		err error
	}
	res := make(chan result, 2)
	for i, s := range []*sqlstate.Store{s1, s2} {
		go func() {
			lctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancel()
			l, err := s.Lock(lctx, state.LockInfo{User: fmt.Sprintf("racer%d", i), Host: "h", PID: i})
			res <- result{l, err}
		}()
	}
	var won []*state.Lock
	for range 2 {
		r := <-res
		switch {
		case r.err == nil:
			won = append(won, r.l)
		case !errors.As(r.err, &le):
			t.Errorf("losing Lock = %v, want LockedError", r.err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d stores took the lock at once", len(won))
	}
	b := won[0]
	if h, ok, err := s1.LockHolder(ctx); err != nil || !ok || h.ID != b.Info.ID {
		t.Errorf("LockHolder = %+v, %v, %v", h, ok, err)
	}
	if err := s1.ForceUnlock(ctx, "not-a-lock"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("ForceUnlock(unknown) = %v, want ErrNotFound", err)
	}
	if err := s2.ForceUnlock(ctx, b.Info.ID); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	if err := b.Unlock(ctx); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("Unlock after ForceUnlock = %v, want ErrLockLost", err)
	}
	if _, ok, err := s1.LockHolder(ctx); ok || err != nil {
		t.Errorf("lock still held after ForceUnlock: %v", err)
	}

	// A live holder whose lock is removed and taken by another store
	// learns it at its next renewal, without waiting for its lease.
	s1.SetLease(time.Minute, 20*time.Millisecond)
	c, err := s1.Lock(ctx, state.LockInfo{User: "ana", Host: "h1", PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.ForceUnlock(ctx, c.Info.ID); err != nil {
		t.Fatal(err)
	}
	d, err := s2.Lock(ctx, state.LockInfo{User: "bo", Host: "h2", PID: 2})
	if err != nil {
		t.Fatal(err)
	}
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for deadline := time.Now().Add(10 * time.Second); c.Err() == nil; <-poll.C {
		if time.Now().After(deadline) {
			t.Fatal("the holder still believes it holds a lock taken from it 10s ago")
		}
	}
	if err := c.Err(); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("Err of a lock taken over = %v, want ErrLockLost", err)
	}
	if err := d.Err(); err != nil {
		t.Errorf("Err of the new holder = %v", err)
	}
	if err := d.Unlock(ctx); err != nil {
		t.Errorf("Unlock of the new holder: %v", err)
	}
}
