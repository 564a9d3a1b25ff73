package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/views"
)

// stateListOptions are the options of state list.
type stateListOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
	JSON      bool
}

func newStateListCommand(f *factory) *cobra.Command {
	opts := &stateListOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the printers under management",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStateList(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "machine-readable output")
	return cmd
}

func runStateList(ctx context.Context, opts *stateListOptions) error {
	st, err := opts.State.open(ctx, opts.IO, opts.OpenStore)
	if err != nil {
		return err
	}
	defer st.Close()
	if !opts.JSON && sayNoState(opts.IO, st) {
		return nil
	}
	printers, err := st.Printers(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		return views.RenderPrinterListJSON(opts.IO.Out, printers)
	}
	return views.RenderPrinterList(opts.IO.Out, printers)
}
