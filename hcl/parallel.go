package hcl

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFor calls fn(i) for every i in [0, n) on up to GOMAXPROCS
// goroutines and returns when all calls have returned. Workers claim grain
// consecutive indices at a time, so cheap calls do not contend on the
// counter. fn must be safe to call concurrently; results belong in
// per-index slots, which keeps output in index order.
func parallelFor(n, grain int, fn func(i int)) {
	grain = max(grain, 1)
	workers := min(runtime.GOMAXPROCS(0), (n+grain-1)/grain)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				start := int(next.Add(int64(grain))) - grain
				if start >= n {
					return
				}
				for i := start; i < min(start+grain, n); i++ {
					fn(i)
				}
			}
		})
	}
	wg.Wait()
}
