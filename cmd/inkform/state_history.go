package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
)

// stateHistoryOptions are the options of state history.
type stateHistoryOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
	Printer   string // printer.NAME or NAME; "" lists runs
	Limit     int
	JSON      bool
}

func newStateHistoryCommand(f *factory) *cobra.Command {
	opts := &stateHistoryOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "history [printer.NAME]",
		Short: "Show past runs, or what they did to one printer",
		Long: `Without an argument, list the most recent runs: when, by whom, from which git
commit and configuration, and how the printers fared. With printer.NAME, list
what each run did to that printer and which settings it changed.

A run recorded as running whose lock expired or passed to another run is
shown as "abandoned": its process was killed or its machine went away.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Printer = args[0]
			}
			return runStateHistory(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	cmd.Flags().IntVar(&opts.Limit, "limit", 20, "show at most this many entries (0: all)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "machine-readable output")
	return cmd
}

func runStateHistory(ctx context.Context, opts *stateHistoryOptions) error {
	st, err := opts.State.open(ctx, opts.IO, opts.OpenStore)
	if err != nil {
		return err
	}
	defer st.Close()
	if !opts.JSON && sayNoState(opts.IO, st) {
		return nil
	}
	hist, err := capability[state.HistoryReader](st, "list history")
	if err != nil {
		return err
	}
	if opts.Printer != "" {
		return printerHistory(ctx, opts, st, hist, trimPrinterPrefix(opts.Printer))
	}
	return runHistory(ctx, opts, st, hist)
}

func runHistory(ctx context.Context, opts *stateHistoryOptions, st state.Store, hist state.HistoryReader) error {
	runs, err := st.Runs(ctx, opts.Limit)
	if err != nil {
		return err
	}
	entries := make([]views.RunEntry, len(runs))
	if len(runs) > 0 {
		status, err := runStatus(ctx, st)
		if err != nil {
			return err
		}
		for i, r := range runs {
			outcomes, err := hist.Outcomes(ctx, r.ID)
			if err != nil {
				return err
			}
			entries[i] = views.RunEntry{Run: r, Status: status(r), Outcomes: outcomes}
		}
	}
	if opts.JSON {
		return views.RenderRunsJSON(opts.IO.Out, entries)
	}
	return views.RenderRuns(opts.IO.Out, entries)
}

func printerHistory(ctx context.Context, opts *stateHistoryOptions, st state.Store, hist state.HistoryReader, name string) error {
	events, err := hist.PrinterHistory(ctx, name, opts.Limit)
	if err != nil {
		return err
	}
	status, err := runStatus(ctx, st)
	if err != nil {
		return err
	}
	shown := make([]views.PrinterEvent, len(events))
	for i, e := range events {
		shown[i] = views.PrinterEvent{PrinterEvent: e, RunStatus: status(e.Run)}
	}
	if opts.JSON {
		return views.RenderPrinterHistoryJSON(opts.IO.Out, name, shown)
	}
	return views.RenderPrinterHistory(opts.IO.Out, name, shown)
}

// runStatus returns how to show a run's status: as recorded, except that
// a run in progress is told from one that died by the lock as it is now,
// when the backend can say who holds it.
func runStatus(ctx context.Context, st state.Store) (func(state.Run) string, error) {
	admin, ok := st.(state.LockAdmin)
	if !ok {
		return func(r state.Run) string { return r.Status }, nil
	}
	info, held, err := admin.LockHolder(ctx)
	if err != nil {
		return nil, err
	}
	var lock *state.LockInfo
	if held {
		lock = &info
	}
	now := time.Now()
	return func(r state.Run) string { return r.ShownStatus(lock, now) }, nil
}
