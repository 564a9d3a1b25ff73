package observer

import "fmt"

// Open files. Go raises a process's soft open-files limit to the hard one
// at start; when even the hard limit is low, printers in flight must stay
// within it, or the ones beyond fail with "too many open files".
const (
	// filesReserved are kept for everything but printers: standard
	// streams, the state database and its journal, configuration and
	// plan files, the runtime's own.
	filesReserved = 64
	// filesPerPrinter is the most one printer in flight holds: its SNMP
	// socket, a TCP connection (PJL, FTP control, HTTP), an FTP data
	// connection, and an idle SNMP socket left for reuse.
	filesPerPrinter = 4
)

// inFlightLimit is how many printers may be in flight at once under an
// open-files limit of soft (0 when unknown): DefaultMaxInFlight unless the
// limit allows fewer, and never less than one.
func inFlightLimit(soft uint64) int {
	if soft == 0 || soft >= filesReserved+filesPerPrinter*DefaultMaxInFlight {
		return DefaultMaxInFlight
	}
	if soft <= filesReserved+filesPerPrinter {
		return 1
	}
	return int((soft - filesReserved) / filesPerPrinter)
}

// NewLimits returns the limits for handling n printers at the given
// parallelism (see Limits) within this process's open-files limit. warning
// is "" unless that limit makes the printers in flight fewer than they
// would otherwise be; then it says so, and how to lift it.
func NewLimits(parallelism, n int) (l Limits, warning string) {
	soft, hard := openFilesLimit()
	limit := inFlightLimit(soft)
	want := min(n, DefaultMaxInFlight)
	if parallelism > 0 {
		want = min(want, parallelism)
	}
	if limit < want {
		warning = fmt.Sprintf("the open-files limit is %d and the system allows no more (hard limit %d), so at most %d printers are in flight at once instead of up to %d; slow and unreachable printers will hold the others up. Raise the hard limit (ulimit -Hn) to lift it.",
			soft, hard, limit, want)
	}
	return Limits{Parallelism: parallelism, MaxInFlight: limit}, warning
}
