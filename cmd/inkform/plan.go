package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/views"
)

// planningOptions are what plan and apply share: where the configuration
// and the state are, how printers are reached, and how the plan is made.
type planningOptions struct {
	IO        streams
	OpenStore storeOpener
	Connect   connectFunc

	State       stateFlags
	Lock        lockFlags
	Targets     []string
	Parallelism int
	RefreshOnly bool
	JSON        bool
	// RebootTimeout bounds the wait for a printer to come back after a
	// firmware upgrade.
	RebootTimeout time.Duration
	// RequireAll fails the command unless every printer was checked
	// (and, for apply, applied or found unchanged).
	RequireAll bool
}

func newPlanningOptions(f *factory) planningOptions {
	return planningOptions{IO: f.IO, OpenStore: f.OpenStore, Connect: f.Connect}
}

func (o *planningOptions) register(fs *pflag.FlagSet) {
	o.State.register(fs)
	o.Lock.register(fs)
	fs.StringArrayVar(&o.Targets, "target", nil, "limit to printer.NAME (repeatable; globs such as printer.hq-* allowed)")
	// fleetbench reads "default N" from this help to sweep the floor at
	// the same concurrency.
	fs.IntVar(&o.Parallelism, "parallelism", 0, fmt.Sprintf("printers handled at once; 0 adapts (default %d at work at once, and printers waiting on the network make room for others, up to %d in flight; fewer under a low open-files limit)", observer.DefaultParallelism, observer.DefaultMaxInFlight))
	fs.BoolVar(&o.RefreshOnly, "refresh-only", false, "only observe: record what the printers report, change nothing")
	fs.BoolVar(&o.JSON, "json", false, "machine-readable output")
	fs.DurationVar(&o.RebootTimeout, "reboot-timeout", apply.DefaultRebootTimeout, "how long apply waits for a printer to come back after a firmware upgrade")
	registerRequireAll(fs, &o.RequireAll)
}

// planOptions are the options of plan.
type planOptions struct {
	planningOptions
	Out              string // plan file to save
	Markdown         bool
	DetailedExitCode bool
}

func newPlanCommand(f *factory) *cobra.Command {
	opts := &planOptions{planningOptions: newPlanningOptions(f)}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show how the live printers differ from the configuration",
		Long: `Observe every printer and show, printer by printer, what apply would change.
Unreachable and mismatched printers are reported and skipped.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), opts)
		},
	}
	opts.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Out, "out", "", "save the plan to a file for apply")
	cmd.Flags().BoolVar(&opts.Markdown, "markdown", false, "a Markdown summary fit for a pull-request comment")
	cmd.Flags().BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	return cmd
}

func runPlan(ctx context.Context, opts *planOptions) error {
	io := opts.IO
	if opts.JSON && opts.Markdown {
		return &exitError{code: ExitError, msg: "-json and -markdown cannot be used together"}
	}
	if err := checkPlanOut(opts.Out); err != nil {
		return err
	}
	// Loading a large configuration allocates heavily too: tune before
	// it, and again for the fleet's size once it is known.
	tuneGC(0)
	ws, err := opts.openWorkspace(ctx, "inkform plan", opts.Out == "")
	if err != nil {
		return err
	}
	defer ws.close(ctx)
	format := views.Human
	switch {
	case opts.JSON:
		format = views.JSON
	case opts.Markdown:
		format = views.Markdown
	}
	view := views.NewPlanView(format, views.RenderOptions{Color: io.color()})
	plan, err := opts.makePlan(ctx, ws, format != views.Human, view.OnPrinter)
	if err != nil {
		return err
	}
	if opts.Out != "" {
		if err := savePlan(opts.Out, plan); err != nil {
			return fmt.Errorf("save the plan to %s: %w", opts.Out, err)
		}
	}
	if err := view.Render(io.Out, plan); err != nil {
		return err
	}
	if format == views.Human && opts.Out != "" {
		config := ""
		if opts.State.Dir != "." {
			config = "-config " + opts.State.Dir + " "
		}
		fmt.Fprintf(io.Out, "\nSaved the plan to %s. To apply exactly these changes, run:\n    inkform apply %s%s\n", opts.Out, config, opts.Out)
	}
	if err := checkedError(plan, opts.RequireAll); err != nil {
		return err
	}
	if opts.DetailedExitCode && plan.HasChanges() {
		return &exitError{code: ExitChanges}
	}
	return nil
}

// makePlan observes the fleet of an opened workspace, showing progress
// unless quiet. onPrinter, when set, is handed each printer's plan as soon
// as it is made (a view renders its part while the rest of the fleet is
// observed).
func (o *planningOptions) makePlan(ctx context.Context, ws *workspace, quiet bool, onPrinter func(*plans.PrinterPlan)) (*plans.Plan, error) {
	// The parsed files only serve diagnostics while loading; at fleet
	// scale they are tens of megabytes the plan does not need.
	ws.cfg.Files = nil
	prog := newProgress(o.IO, "Observing", quiet)
	defer prog.clear()
	tuneGC(len(ws.cfg.Printers))
	return ws.newPlanner(o.Parallelism, len(ws.cfg.Printers), prog).Plan(ctx, ws.cfg.Printers, planner.PlanOptions{
		Targets:     o.Targets,
		RefreshOnly: o.RefreshOnly,
		ConfigHash:  ws.cfg.Hash,
		OnPrinter:   onPrinter,
	})
}
