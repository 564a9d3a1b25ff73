//go:build unix

package observer

import "syscall"

// openFilesLimit returns the soft and hard open-files limits, zero when
// they cannot be read.
func openFilesLimit() (soft, hard uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0
	}
	return uint64(l.Cur), uint64(l.Max)
}
