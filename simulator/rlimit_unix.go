//go:build unix

package simulator

import "syscall"

// raiseFileLimit lifts the soft open-files limit to the hard limit: a fleet
// needs one descriptor per printer, far above the usual soft limit of 1024.
// Failure is not fatal; binding reports a clear error if descriptors run out.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}
