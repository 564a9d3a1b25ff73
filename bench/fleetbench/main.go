// Command fleetbench measures inkform against a simulated fleet on
// loopback and prints one row per figure: name, fleet size, value.
//
// Every measured program runs as its own process, as users run it: the
// simulator (inkform sim), inkform validate/plan/apply, and the floor (a
// minimal gosnmp sweep reading the same objects at the same concurrency).
// Wall time is measured around each process; peak RSS comes from the
// kernel's rusage of the finished child.
//
//	fleetbench -inkform bin/inkform -floor bin/floor -sizes 1000,10000
//
// With -serve N it only runs an N-printer simulator and writes the matching
// configuration to -dir, so that inkform can be profiled by hand against it.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	o := options{}
	var sizes string
	flag.StringVar(&o.inkform, "inkform", "bin/inkform", "the inkform binary")
	flag.StringVar(&o.floor, "floor", "bin/floor", "the floor binary (bench/floor)")
	flag.StringVar(&sizes, "sizes", "1000,10000", "fleet sizes, comma-separated")
	flag.IntVar(&o.parallelism, "parallelism", 0, "pass -parallelism to plan and apply (0 = inkform's default); the floor uses the same concurrency")
	flag.DurationVar(&o.timeout, "timeout", time.Second, "SNMP timeout per request in the generated configuration (one retry)")
	flag.IntVar(&o.unhealthyAt, "unhealthy", 10000, "fleet size of the unhealthy-fleet run (0 = skip)")
	flag.IntVar(&o.watchAt, "watch", 10000, "fleet size of the inkform watch run (0 = skip)")
	flag.StringVar(&o.only, "only", "", `run only these rows: "watch" (the inkform watch rows, with one plan of the same fleet as the poll cycle's baseline) or "discover" (a sweep of a simulated /16)`)
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.BoolVar(&o.verbose, "v", false, "log each step to stderr")
	serve := flag.Int("serve", 0, "instead of measuring, run a simulated fleet of this many printers and write its configuration to -dir until interrupted (for profiling)")
	flag.StringVar(&o.dir, "dir", "", "with -serve: where to write the configuration")
	flag.StringVar(&o.recording, "recording", "", "simulate printers answering like this recorded device (a .snmprec, such as testdata/interop/jetdirect.snmprec)")
	flag.Parse()
	if *serve > 0 {
		if err := o.serve(*serve); err != nil {
			fmt.Fprintln(os.Stderr, "fleetbench:", err)
			os.Exit(1)
		}
		return
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			fmt.Fprintf(os.Stderr, "fleetbench: fleet size %q: want a number ≥ 2\n", s)
			os.Exit(2)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.only != "" && o.only != "watch" && o.only != "discover" {
		fmt.Fprintf(os.Stderr, "fleetbench: -only %q: the choices are \"watch\" and \"discover\"\n", o.only)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}
