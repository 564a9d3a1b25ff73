package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/views"
)

// planFlags are shared by plan and apply.
type planFlags struct {
	configFlags
	targets     []string
	parallelism int
	refreshOnly bool
	lockTimeout time.Duration
	json        bool
	// rebootTimeout bounds the wait for a printer to come back after a
	// firmware upgrade.
	rebootTimeout time.Duration
}

func (f *planFlags) register(cmd *cobra.Command) {
	f.configFlags.register(cmd)
	cmd.Flags().StringArrayVar(&f.targets, "target", nil, "limit to printer.NAME (repeatable; globs such as printer.hq-* allowed)")
	// fleetbench reads "default N" from this help to sweep the floor at
	// the same concurrency.
	cmd.Flags().IntVar(&f.parallelism, "parallelism", 0, fmt.Sprintf("printers handled at once; 0 adapts (default %d at work at once, and printers waiting on the network make room for others, up to %d in flight; fewer under a low open-files limit)", observer.DefaultParallelism, observer.DefaultMaxInFlight))
	cmd.Flags().BoolVar(&f.refreshOnly, "refresh-only", false, "only observe: record what the printers report, change nothing")
	cmd.Flags().DurationVar(&f.lockTimeout, "lock-timeout", 0, "how long to wait for the state lock (e.g. 30s)")
	cmd.Flags().BoolVar(&f.json, "json", false, "machine-readable output")
	cmd.Flags().DurationVar(&f.rebootTimeout, "reboot-timeout", apply.DefaultRebootTimeout, "how long apply waits for a printer to come back after a firmware upgrade")
}

func newPlanCommand(io streams) *cobra.Command {
	var f planFlags
	var out string
	var markdown, detailed bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show how the live printers differ from the configuration",
		Long: `Observe every printer and show, printer by printer, what apply would change.
Unreachable and mismatched printers are reported and skipped.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.json && markdown {
				return &exitError{code: ExitError, msg: "-json and -markdown cannot be used together"}
			}
			// Loading a large configuration allocates heavily too: tune
			// before it, and again for the fleet's size once it is known.
			tuneGC(0)
			ws, err := openWorkspace(cmd.Context(), io, &f.configFlags, "inkform plan", f.lockTimeout)
			if err != nil {
				return err
			}
			defer ws.close(cmd.Context())
			format := views.Human
			switch {
			case f.json:
				format = views.JSON
			case markdown:
				format = views.Markdown
			}
			view := views.NewPlanView(format, views.RenderOptions{Color: io.color()})
			plan, err := makePlan(cmd.Context(), io, ws, &f, format != views.Human, view.OnPrinter)
			if err != nil {
				return err
			}
			if out != "" {
				if err := savePlan(out, plan); err != nil {
					return fmt.Errorf("save the plan to %s: %w", out, err)
				}
			}
			if err := view.Render(io.Out, plan); err != nil {
				return err
			}
			if format == views.Human && out != "" {
				config := ""
				if f.dir != "." {
					config = "-config " + f.dir + " "
				}
				fmt.Fprintf(io.Out, "\nSaved the plan to %s. To apply exactly these changes, run:\n    inkform apply %s%s\n", out, config, out)
			}
			if detailed && plan.HasChanges() {
				return &exitError{code: ExitChanges}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "save the plan to a file for apply")
	cmd.Flags().BoolVar(&markdown, "markdown", false, "a Markdown summary fit for a pull-request comment")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	return cmd
}

// makePlan observes the fleet of an opened workspace, showing progress
// unless quiet. onPrinter, when set, is handed each printer's plan as soon
// as it is made (a view renders its part while the rest of the fleet is
// observed).
func makePlan(ctx context.Context, io streams, ws *workspace, f *planFlags, quiet bool, onPrinter func(*plans.PrinterPlan)) (*plans.Plan, error) {
	// The parsed files only serve diagnostics while loading; at fleet
	// scale they are tens of megabytes the plan does not need.
	ws.cfg.Files = nil
	prog := newProgress(io, "Observing", quiet)
	defer prog.clear()
	tuneGC(len(ws.cfg.Printers))
	return ws.newPlanner(io, f.parallelism, len(ws.cfg.Printers), prog).Plan(ctx, ws.cfg.Printers, planner.PlanOptions{
		Targets:     f.targets,
		RefreshOnly: f.refreshOnly,
		ConfigHash:  ws.cfg.Hash,
		OnPrinter:   onPrinter,
	})
}
