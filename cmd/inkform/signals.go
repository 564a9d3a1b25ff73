package main

// How inkform stops.
//
// The first SIGINT (Ctrl-C) or SIGTERM cancels the command's context:
// every command stops what it waits on (printers in flight, the lock, the
// apply prompt), releases the state lock and, for apply, records its run
// as cancelled, within seconds. A second one exits at once with 128 plus
// the signal's number (130 for SIGINT, 143 for SIGTERM), as a shell
// reports a process the signal killed; a state lock still held is then
// left to expire with its lease.
//
// A write to a closed stdout (plan -json | head) would by default kill the
// process with SIGPIPE, leaving its lock behind for the lease. inkform asks
// for SIGPIPE instead, which makes such a write fail with EPIPE: the
// command stops as on any other error, releases the lock and exits 1.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// stopSignals stop a command: the first in order, the second at once.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// exitAtOnce ends the process on a second stop signal.
var exitAtOnce = func(code ExitCode) { os.Exit(int(code)) }

// signalContext returns the context of one command, which the first stop
// signal cancels; the second exits the process. Messages go to errw. stop
// undoes it all.
func signalContext(errw io.Writer) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	// Asked for, SIGPIPE no longer kills: writes to a closed stdout fail.
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchSignals(sigs, done, errw, cancel, exitAtOnce)
	}()
	return ctx, func() {
		signal.Stop(sigs)
		signal.Stop(pipe)
		close(done)
		<-watched
		cancel(nil)
	}
}

// watchSignals cancels with the first signal from sigs and calls exit with
// the second, until done is closed.
func watchSignals(sigs <-chan os.Signal, done <-chan struct{}, errw io.Writer, cancel context.CancelCauseFunc, exit func(ExitCode)) {
	var first os.Signal
	select {
	case first = <-sigs:
	case <-done:
		return
	}
	name := signalName(first)
	again := "Send it again"
	if first == os.Interrupt {
		again = "Press Ctrl-C again"
	}
	fmt.Fprintf(errw, "\n%s received: stopping. %s to exit at once.\n", name, again)
	cancel(fmt.Errorf("stopped by %s", name))
	select {
	case s := <-sigs:
		fmt.Fprintf(errw, "%s received again: exiting at once; a state lock still held expires with its lease.\n", signalName(s))
		code := ExitError
		if n, ok := s.(syscall.Signal); ok {
			code = ExitCode(128 + int(n))
		}
		exit(code)
	case <-done:
	}
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// confirmed asks as confirm does, and takes a stop signal for a no: it
// must not wait for a line on stdin. The read goes on in the background
// until the process exits.
func confirmed(ctx context.Context, io streams) bool {
	answer := make(chan bool, 1)
	go func() { answer <- confirm(io) }()
	select {
	case ok := <-answer:
		return ok
	case <-ctx.Done():
		return false
	}
}
