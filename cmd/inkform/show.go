package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/views"
)

// showOptions are the options of show.
type showOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
	PlanFile  string // "" shows the recorded state
	JSON      bool
}

func newShowCommand(f *factory) *cobra.Command {
	opts := &showOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "show [PLANFILE]",
		Short: "Show a saved plan, or the recorded state",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.PlanFile = args[0]
			}
			return runShow(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "machine-readable output")
	return cmd
}

func runShow(ctx context.Context, opts *showOptions) error {
	io := opts.IO
	if opts.PlanFile != "" {
		plan, err := readPlanFile(opts.PlanFile)
		if err != nil {
			return err
		}
		if opts.JSON {
			return views.RenderJSON(io.Out, plan)
		}
		return views.RenderHuman(io.Out, plan, views.RenderOptions{Color: io.color()})
	}
	st, err := opts.State.open(ctx, io, opts.OpenStore)
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
		return views.RenderStateJSON(io.Out, printers)
	}
	return views.RenderState(io.Out, printers)
}
