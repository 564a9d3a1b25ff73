package main

import (
	"runtime"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
)

// A plan and an apply of a fleet with offline and slow printers leave no
// goroutine behind: every printer's work, timer and socket ends with the
// command.
func TestNoGoroutinesOutliveCommands(t *testing.T) {
	f := newFixture(t, 300, simulator.Options{Offline: 20, Slow: 20, SlowLatency: 100 * time.Millisecond})
	before := runtime.NumGoroutine()
	f.mustRun(ExitOK, "plan")
	f.mustRun(ExitOK, "apply", "-auto-approve")
	// Goroutines that are finishing may still be on their way out; wait
	// for the count to come back rather than for a fixed time.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before plan and apply, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
}
