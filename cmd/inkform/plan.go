package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/providers"
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
	requireAll    bool
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
	registerRequireAll(cmd, &f.requireAll)
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
			if err := checkPlanOut(out); err != nil {
				return err
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
			if err := checkedError(plan, f.requireAll); err != nil {
				return err
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

// tuneGC trades memory for garbage-collection work during a plan or apply
// of n printers. Observing a fleet allocates quickly while the plan it
// builds stays live, so the default GOGC=100 collects over and over. A GC
// percent of 400 with a soft memory limit collects rarely while the heap
// is small and as needed near the limit: 256 MiB, or 24 KiB per printer
// for fleets beyond 10,000 (a plan keeps about 10 KiB per printer live,
// so the limit never forces continuous collection). GOGC or GOMEMLIMIT in
// the environment take precedence.
func tuneGC(n int) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(max(256<<20, int64(n)*24<<10))
}

// newPlanner plans n printers of the workspace with its catalog (the
// built-in one plus its setting blocks), keeping the printers in flight
// within the open-files limit.
func (ws *workspace) newPlanner(io streams, parallelism, n int, prog *progress) *planner.Planner {
	cat, conn, limits := ws.reach(io, parallelism, n)
	return &planner.Planner{
		Observer: observer.Observer{Connector: conn, Limits: limits, Progress: callback(prog)},
		State:    ws.store,
		Catalog:  cat,
	}
}

// newApplier applies plans of n printers as newPlanner plans them.
func (ws *workspace) newApplier(io streams, parallelism, n int, prog *progress) *apply.Applier {
	cat, conn, limits := ws.reach(io, parallelism, n)
	return &apply.Applier{
		Connector:      conn,
		State:          ws.store,
		Catalog:        cat,
		Limits:         limits,
		Progress:       callback(prog),
		UploadProgress: uploadCallback(prog),
	}
}

// reach returns the workspace's catalog, and a connector to n printers
// with the limits it is used within.
func (ws *workspace) reach(io streams, parallelism, n int) (*catalog.Catalog, providers.Connector, observer.Limits) {
	cat := ws.cfg.Catalog
	if cat == nil {
		cat = catalog.Default()
	}
	limits := ws.limits(io, n, parallelism)
	return cat, newConnector(cat, limits.MaxInFlight), limits
}

// limits are the observer's limits for n printers, said once on stderr
// when the open-files limit lowers them.
func (ws *workspace) limits(io streams, n, parallelism int) observer.Limits {
	l, warning := observer.NewLimits(parallelism, n)
	if warning != "" && !ws.warnedFiles {
		ws.warnedFiles = true
		fmt.Fprintf(io.Err, "Warning: %s\n", warning)
	}
	return l
}
