//go:build !unix

package simulator

// raiseFileLimit has nothing to raise on this platform.
func raiseFileLimit() {}
