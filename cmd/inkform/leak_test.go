package main

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
)

// A plan and an apply of a fleet with offline and slow printers leave no
// goroutine behind: every printer's work, timer and socket ends with the
// command. Whether a healthy printer answers within its 300 ms timeout
// depends on the machine's load, so the outcome of each command is not
// asserted here (other tests do); only that both ran and cleaned up.
func TestNoGoroutinesOutliveCommands(t *testing.T) {
	f := newFixture(t, 300, simulator.Options{Offline: 20, Slow: 20, SlowLatency: 100 * time.Millisecond})
	before := runtime.NumGoroutine()
	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}} {
		r := f.run(context.Background(), args...)
		if r.code != ExitOK && r.code != ExitError {
			t.Fatalf("inkform %s: exit %d\n%s", strings.Join(args, " "), r.code, lastLines(r.out+r.err, 20))
		}
		if !strings.Contains(r.out, "printer") {
			t.Fatalf("inkform %s did not report on the printers:\n%s", strings.Join(args, " "), lastLines(r.out+r.err, 20))
		}
	}
	// Goroutines that are finishing may still be on their way out; wait
	// for the count to come back rather than for a fixed time.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines before plan and apply, %d after; the most common left over:\n%s",
				before, runtime.NumGoroutine(), goroutineSummary(10))
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
}

// goroutineSummary groups the live goroutines by where they are blocked
// and where they were created, most common first: what explains a leak,
// without a thousand-line dump.
func goroutineSummary(top int) string {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	counts := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(strings.TrimSpace(g), "\n")
		if len(lines) < 2 {
			continue
		}
		key := lines[1] // the innermost function
		for i, l := range lines {
			if strings.HasPrefix(l, "created by ") {
				key += "\n    " + l
				if i+1 < len(lines) {
					key += "\n    " + strings.TrimSpace(lines[i+1])
				}
			}
		}
		counts[key]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return counts[b] - counts[a] })
	var b strings.Builder
	for i, k := range keys {
		if i == top {
			fmt.Fprintf(&b, "… and %d more kinds\n", len(keys)-top)
			break
		}
		fmt.Fprintf(&b, "%5d × %s\n", counts[k], k)
	}
	return b.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
