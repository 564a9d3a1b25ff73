package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlstate"
	"github.com/inkform/inkform/views"
)

func newStateHistoryCommand(io streams) *cobra.Command {
	var f stateFlags
	var limit int
	cmd := &cobra.Command{
		Use:   "history [printer.NAME]",
		Short: "Show past runs, or what they did to one printer",
		Long: `Without an argument, list the most recent runs: when, by whom, from which git
commit and configuration, and how the printers fared. With printer.NAME, list
what each run did to that printer and which settings it changed.

A run still "running" with no finish time either is in progress or died.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := f.open(ctx, io)
			if err != nil {
				return err
			}
			defer st.Close()
			if len(args) == 1 {
				return printerHistory(ctx, io, st, trimPrinterPrefix(args[0]), limit)
			}
			return runHistory(ctx, io, st, limit)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 20, "show at most this many entries (0: all)")
	return cmd
}

func runHistory(ctx context.Context, io streams, st *sqlstate.Store, limit int) error {
	runs, err := st.Runs(ctx, limit)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintln(io.Out, "No runs recorded.")
		return nil
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tFINISHED\tCOMMAND\tSTATUS\tBY\tCOMMIT\tCONFIG\tPRINTERS")
	for _, r := range runs {
		outcomes, err := st.Outcomes(ctx, r.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s@%s\t%s\t%s\t%s\n", r.ID, views.FormatTime(r.StartedAt), finished(r), r.Command, r.Status,
			r.User, r.Host, short(r.GitCommit, 10), short(strings.TrimPrefix(r.ConfigHash, "sha256:"), 12), tally(outcomes))
	}
	return tw.Flush()
}

func printerHistory(ctx context.Context, io streams, st *sqlstate.Store, name string, limit int) error {
	events, err := st.PrinterHistory(ctx, name, limit)
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s@%s\t%s\t%s\t%s\n", e.Run.ID, views.FormatTime(e.Outcome.At), e.Run.Command, e.Outcome.Status,
			e.Run.User, e.Run.Host, short(e.Run.GitCommit, 10), changed(e.Outcome), oneLine(e.Outcome.Detail))
	}
	return tw.Flush()
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
