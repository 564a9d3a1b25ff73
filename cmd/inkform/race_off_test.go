//go:build !race

package main

// raceDetector says the race detector is on: the processes tests start
// are this binary, about ten times slower, so bursts are smaller.
const raceDetector = false
