package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// stateListOptions are the options of state list.
type stateListOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
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
	return cmd
}

func runStateList(ctx context.Context, opts *stateListOptions) error {
	st, err := opts.State.open(ctx, opts.IO, opts.OpenStore)
	if err != nil {
		return err
	}
	defer st.Close()
	printers, err := st.Printers(ctx)
	if err != nil {
		return err
	}
	for _, p := range printers {
		fmt.Fprintf(opts.IO.Out, "printer.%s\n", p.Name)
	}
	return nil
}
