package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// stateRmOptions are the options of state rm.
type stateRmOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
	Lock      lockFlags
	Printers  []string // printer.NAME or NAME
}

func newStateRmCommand(f *factory) *cobra.Command {
	opts := &stateRmOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "rm printer.NAME...",
		Short: "Stop managing printers: forget their records (the printers are not touched)",
		Long: `Remove printers from state. The printers themselves are not contacted or
changed; their history stays. A printer still declared in the configuration is
taken under management again by the next apply.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Printers = args
			return runStateRm(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	opts.Lock.register(cmd.Flags())
	return cmd
}

func runStateRm(ctx context.Context, opts *stateRmOptions) error {
	st, lock, err := openLocked(ctx, opts.IO, opts.OpenStore, &opts.State, opts.Lock.Timeout, "inkform state rm")
	if err != nil {
		return err
	}
	defer st.Close()
	defer lock.Unlock(ctx)
	// Check every name first, so that a typo removes nothing.
	names := make([]string, len(opts.Printers))
	for i, a := range opts.Printers {
		names[i] = trimPrinterPrefix(a)
		if _, ok, err := st.Printer(ctx, names[i]); err != nil {
			return err
		} else if !ok {
			return &exitError{code: ExitError, msg: fmt.Sprintf("printer %q is not in state; nothing removed", names[i])}
		}
	}
	for _, n := range names {
		if err := st.DeletePrinter(ctx, n); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Out, "Removed printer.%s from state.\n", n)
	}
	return lock.Unlock(ctx)
}
