package main

import (
	"os"
	"runtime/debug"
)

// tuneGC trades memory for garbage-collection work during a plan or apply
// of n printers. Observing a fleet allocates quickly while the plan it
// builds stays live, so the default GOGC=100 collects over and over. A GC
// percent of 400 with a soft memory limit collects rarely while the heap
// is small and as needed near the limit: 256 MiB, or 24 KiB per printer
// for fleets beyond 10,000 (a plan keeps about 10 KiB per printer live,
// so the limit never forces continuous collection). GOGC or GOMEMLIMIT in
// the environment take precedence.
func tuneGC(n int) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(max(256<<20, int64(n)*24<<10))
}
