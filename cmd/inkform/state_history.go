package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
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
	return cmd
}

func runStateHistory(ctx context.Context, opts *stateHistoryOptions) error {
	st, err := opts.State.open(ctx, opts.IO, opts.OpenStore)
	if err != nil {
		return err
	}
	defer st.Close()
	hist, err := capability[state.HistoryReader](st, "list history")
	if err != nil {
		return err
	}
	if opts.Printer != "" {
		return printerHistory(ctx, opts.IO, st, hist, trimPrinterPrefix(opts.Printer), opts.Limit)
	}
	return runHistory(ctx, opts.IO, st, hist, opts.Limit)
}

func runHistory(ctx context.Context, io streams, st state.Store, hist state.HistoryReader, limit int) error {
	runs, err := st.Runs(ctx, limit)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintln(io.Out, "No runs recorded.")
		return nil
	}
	status, err := runStatus(ctx, st)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tFINISHED\tCOMMAND\tSTATUS\tBY\tCOMMIT\tCONFIG\tPRINTERS")
	for _, r := range runs {
		outcomes, err := hist.Outcomes(ctx, r.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s@%s\t%s\t%s\t%s\n", r.ID, views.FormatTime(r.StartedAt), finished(r), r.Command, status(r),
			r.User, r.Host, short(r.GitCommit, 10), short(strings.TrimPrefix(r.ConfigHash, "sha256:"), 12), tally(outcomes))
	}
	return tw.Flush()
}

func printerHistory(ctx context.Context, io streams, st state.Store, hist state.HistoryReader, name string, limit int) error {
	events, err := hist.PrinterHistory(ctx, name, limit)
	if err != nil {
		return err
	}
	status, err := runStatus(ctx, st)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		fmt.Fprintf(io.Out, "No runs recorded for printer.%s.\n", name)
		return nil
	}
	fmt.Fprintf(io.Out, "# printer.%s\n", name)
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tAT\tCOMMAND\tRESULT\tBY\tCOMMIT\tCHANGED\tDETAIL")
	for _, e := range events {
		command := e.Run.Command
		if s := status(e.Run); s == state.RunAbandoned {
			command += " (" + s + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s@%s\t%s\t%s\t%s\n", e.Run.ID, views.FormatTime(e.Outcome.At), command, e.Outcome.Status,
			e.Run.User, e.Run.Host, short(e.Run.GitCommit, 10), changed(e.Outcome), oneLine(e.Outcome.Detail))
	}
	return tw.Flush()
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

func finished(r state.Run) string {
	if r.FinishedAt.IsZero() {
		return "-"
	}
	return views.FormatTime(r.FinishedAt)
}

// tally summarises outcomes as "3 applied, 1 failed", statuses sorted.
func tally(os []state.Outcome) string {
	if len(os) == 0 {
		return "-"
	}
	n := map[string]int{}
	for _, o := range os {
		n[o.Status]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", n[k], k)
	}
	return strings.Join(parts, ", ")
}

// changed lists the settings written (names only: values may be secret),
// or the bare count when the run did not record which.
func changed(o state.Outcome) string {
	if len(o.Changed) == 0 {
		if o.Changes > 0 {
			return fmt.Sprintf("%d settings", o.Changes)
		}
		return "-"
	}
	names := make([]string, 0, len(o.Changed))
	for n := range o.Changed {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func short(s string, n int) string {
	if s == "" {
		return "-"
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}

func oneLine(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), " ")
}
