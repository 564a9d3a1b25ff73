// Command inkform manages printer fleets as code: plan shows how the live
// printers differ from the HCL files, apply makes them match.
package main

import "os"

func main() {
	os.Exit(int(run(os.Args[1:], defaultStreams())))
}
