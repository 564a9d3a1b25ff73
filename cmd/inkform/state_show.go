package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/views"
)

// stateShowOptions are the options of state show.
type stateShowOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
	Printer   string // printer.NAME or NAME
	JSON      bool
}

func newStateShowCommand(f *factory) *cobra.Command {
	opts := &stateShowOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "show printer.NAME",
		Short: "Show what is recorded for one printer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Printer = args[0]
			return runStateShow(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "machine-readable output")
	return cmd
}

func runStateShow(ctx context.Context, opts *stateShowOptions) error {
	st, err := opts.State.open(ctx, opts.IO, opts.OpenStore)
	if err != nil {
		return err
	}
	defer st.Close()
	if !opts.JSON && sayNoState(opts.IO, st) {
		return nil
	}
	name := trimPrinterPrefix(opts.Printer)
	p, ok, err := st.Printer(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer %q is not in state", name)}
	}
	if opts.JSON {
		return views.RenderRecordJSON(opts.IO.Out, p)
	}
	return views.RenderRecord(opts.IO.Out, p)
}
