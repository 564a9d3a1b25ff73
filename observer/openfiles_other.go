//go:build !unix

package observer

// openFilesLimit: no per-process open-files limit to respect here.
func openFilesLimit() (soft, hard uint64) { return 0, 0 }
