package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/state/memstate"
)

// Stopped while waiting for a lock, a command says it was stopped, not
// that the lock stayed taken for the whole wait.
func TestLockWaitInterrupted(t *testing.T) {
	st := memstate.New()
	held, err := lockState(context.Background(), st, "inkform apply", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = lockState(ctx, st, "inkform plan", time.Minute)
	if err == nil || !strings.Contains(err.Error(), "stopped while waiting for the state lock, held by") {
		t.Fatalf("err = %v", err)
	}
	_, err = lockState(context.Background(), st, "inkform plan", 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "state is locked by") {
		t.Fatalf("err = %v", err)
	}
}
