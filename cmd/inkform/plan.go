package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/providers/catalog"
	"github.com/inkform/inkform/providers/snmp"
	"github.com/inkform/inkform/state"
)

// planFlags are shared by plan and apply.
type planFlags struct {
	configFlags
	targets     []string
	parallelism int
	refreshOnly bool
	lockTimeout time.Duration
	json        bool
}

func (f *planFlags) register(cmd *cobra.Command) {
	f.configFlags.register(cmd)
	cmd.Flags().StringArrayVar(&f.targets, "target", nil, "limit to printer.NAME (repeatable; globs such as printer.hq-* allowed)")
	cmd.Flags().IntVar(&f.parallelism, "parallelism", 0, "printers handled at once (default 64)")
	cmd.Flags().BoolVar(&f.refreshOnly, "refresh-only", false, "only observe: record what the printers report, change nothing")
	cmd.Flags().DurationVar(&f.lockTimeout, "lock-timeout", 0, "how long to wait for the state lock (e.g. 30s)")
	cmd.Flags().BoolVar(&f.json, "json", false, "machine-readable output")
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
			ws, err := openWorkspace(cmd.Context(), io, &f.configFlags, "inkform plan", f.lockTimeout)
			if err != nil {
				return err
			}
			defer ws.close(cmd.Context())
			plan, err := makePlan(cmd.Context(), io, ws, &f, f.json || markdown)
			if err != nil {
				return err
			}
			if out != "" {
				var buf bytes.Buffer
				if err := planner.WritePlanFile(&buf, plan); err != nil {
					return err
				}
				if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
					return fmt.Errorf("write plan file: %w", err)
				}
			}
			switch {
			case f.json:
				err = planner.RenderJSON(io.Out, plan)
			case markdown:
				err = planner.RenderMarkdown(io.Out, plan)
			default:
				err = planner.RenderHuman(io.Out, plan, planner.RenderOptions{Color: io.color()})
				if err == nil && out != "" {
					config := ""
					if f.dir != "." {
						config = "-config " + f.dir + " "
					}
					fmt.Fprintf(io.Out, "\nSaved the plan to %s. To apply exactly these changes, run:\n    inkform apply %s%s\n", out, config, out)
				}
			}
			if err != nil {
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

// makePlan observes the fleet of an opened workspace.
func makePlan(ctx context.Context, io streams, ws *workspace, f *planFlags, quiet bool) (*planner.Plan, error) {
	prog := newProgress(io, "Observing", quiet)
	defer prog.clear()
	return newPlanner(ws.store, f.parallelism, prog).Plan(ctx, ws.cfg.Printers, planner.PlanOptions{
		Targets:     f.targets,
		RefreshOnly: f.refreshOnly,
		ConfigHash:  ws.cfg.Hash,
	})
}

func newPlanner(st state.Store, parallelism int, prog *progress) *planner.Planner {
	cat := catalog.Default()
	return &planner.Planner{
		Connector:   snmp.New(cat, snmp.Options{}),
		State:       st,
		Catalog:     cat,
		Parallelism: parallelism,
		Progress:    callback(prog),
	}
}
