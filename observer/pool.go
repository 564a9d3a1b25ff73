package observer

import (
	"context"
	"sync"
	"time"
)

// Concurrency defaults. A printer's work is mostly waiting on the network,
// so the pool separates printers that are busy (sending, decoding,
// diffing) from printers that are only waiting for an answer.
const (
	// DefaultParallelism is how many printers are busy at once by default:
	// enough to keep a network and two CPUs saturated.
	DefaultParallelism = 64
	// DefaultMaxInFlight bounds how many printers are in flight at once,
	// waiting ones included, when Limits.Parallelism is zero. Each costs
	// one socket and its buffers.
	DefaultMaxInFlight = 2048
	// stallAfter is when a printer that has not finished counts as waiting
	// on the network (an offline or slow device) and stops holding one of
	// the busy slots, so the rest of the fleet goes on meanwhile.
	stallAfter = 50 * time.Millisecond
)

// pool runs functions with adaptive concurrency: at most busy of them
// count as busy, and one that runs longer than stallAfter frees its busy
// slot while it keeps running, up to inFlight functions in all. Go blocks
// while the pool is full, so work starts in order. Wait returns when every
// function has returned; no goroutine outlives it.
type pool struct {
	busy     chan struct{}
	inFlight chan struct{}
	wg       sync.WaitGroup
}

// newPool returns a pool. With busy == inFlight it is a plain bounded pool.
func newPool(busy, inFlight int) *pool {
	busy = max(1, min(busy, inFlight))
	return &pool{busy: make(chan struct{}, busy), inFlight: make(chan struct{}, max(1, inFlight))}
}

func (p *pool) Go(f func()) {
	p.inFlight <- struct{}{}
	p.busy <- struct{}{}
	var once sync.Once
	release := func() { once.Do(func() { <-p.busy }) }
	p.wg.Go(func() {
		defer func() { <-p.inFlight }()
		defer release()
		if cap(p.busy) == cap(p.inFlight) {
			f()
			return
		}
		t := time.AfterFunc(stallAfter, release)
		defer t.Stop()
		f()
	})
}

func (p *pool) Wait() { p.wg.Wait() }

// Limits say how many printers are handled at once: the -parallelism
// policy, which observing and applying both follow.
type Limits struct {
	// Parallelism caps how many printers are in flight at once. Zero
	// means adaptive: DefaultParallelism busy at once, and printers that
	// wait on the network (offline, slow) make room for others, up to
	// MaxInFlight.
	Parallelism int
	// MaxInFlight, when positive, bounds the printers in flight whatever
	// Parallelism says (each holds sockets: the open-files limit); zero
	// means DefaultMaxInFlight.
	MaxInFlight int
}

// newPool returns a pool within l: Parallelism, when set, caps every
// printer in flight; otherwise DefaultParallelism are busy at once. Either
// way at most MaxInFlight (DefaultMaxInFlight when zero) are in flight.
func (l Limits) newPool() *pool {
	inFlight := DefaultMaxInFlight
	if l.MaxInFlight > 0 {
		inFlight = l.MaxInFlight
	}
	if l.Parallelism > 0 {
		inFlight = min(inFlight, l.Parallelism)
		return newPool(min(l.Parallelism, DefaultParallelism), inFlight)
	}
	return newPool(DefaultParallelism, inFlight)
}

// Each calls work(i) for every i in [0, n) within l, starting them in
// order, and returns once every call has returned. Once ctx ends it starts
// no more. progress, when set, is called after each call returns with how
// many have; calls to it are serialised.
func (l Limits) Each(ctx context.Context, n int, progress func(done, total int), work func(i int)) {
	var mu sync.Mutex
	done := 0
	g := l.newPool()
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() {
			work(i)
			if progress != nil {
				mu.Lock()
				defer mu.Unlock()
				done++
				progress(done, n)
			}
		})
	}
	g.Wait()
}
