package observer

import (
	"sync/atomic"
	"testing"
	"time"
)

// A function waiting on the network must not hold back the rest: with one
// busy slot, work queued behind a blocked function still runs.
func TestPoolWaitingWorkMakesRoom(t *testing.T) {
	p := newPool(1, 8)
	blocked := make(chan struct{})
	var ran atomic.Int32
	p.Go(func() { <-blocked })
	done := make(chan struct{})
	go func() {
		for range 5 {
			p.Go(func() { ran.Add(1) })
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("queued work did not start while the first function waited")
	}
	close(blocked)
	p.Wait()
	if got := ran.Load(); got != 5 {
		t.Fatalf("ran %d functions, want 5", got)
	}
}

// The in-flight cap holds even when every function waits.
func TestPoolInFlightCap(t *testing.T) {
	p := newPool(2, 3)
	release := make(chan struct{})
	var running, peak atomic.Int32
	started := make(chan struct{}, 10)
	go func() {
		for range 6 {
			p.Go(func() {
				n := running.Add(1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				started <- struct{}{}
				<-release
				running.Add(-1)
			})
		}
	}()
	for range 3 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("the first three functions did not start")
		}
	}
	select {
	case <-started:
		t.Fatal("a fourth function started beyond the in-flight cap of 3")
	case <-time.After(3 * stallAfter):
	}
	close(release)
	for range 3 {
		<-started
	}
	p.Wait()
	if peak.Load() > 3 {
		t.Fatalf("peak in flight %d, want ≤ 3", peak.Load())
	}
}
