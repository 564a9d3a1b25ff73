//go:build unix

package snmp

import (
	"sync"
	"syscall"
)

var raiseOnce sync.Once

// raiseFileLimit lifts the soft open-files limit to the hard limit once per
// process: every printer in flight holds a socket, and the planner keeps up
// to thousands in flight while offline printers time out. Where the OS
// refuses, sockets beyond the limit fail per printer with EMFILE, naming it.
func raiseFileLimit() {
	raiseOnce.Do(func() {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return
		}
		if lim.Cur < lim.Max {
			lim.Cur = lim.Max
			_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	})
}
