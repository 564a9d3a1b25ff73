package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/plans/planfile"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
)

func newApplyCommand(io streams) *cobra.Command {
	var f planFlags
	var autoApprove bool
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE]",
		Short: "Make the printers match the configuration",
		Long: `Push exactly the changes a plan shows, verify each by reading it back, and
record every printer in state as soon as it finishes.

With PLANFILE (from plan -out), apply that plan. A printer whose observed values
changed since the plan was made is not touched, and the output says why.
Without it, plan first and ask for confirmation (unless -auto-approve).

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var saved *plans.Plan
			if len(args) == 1 {
				p, err := readPlanFile(args[0])
				if err != nil {
					return err
				}
				saved = p
			}
			tuneGC(0) // before loading, as in plan
			ws, err := openWorkspace(ctx, io, &f.configFlags, "inkform apply", f.lockTimeout)
			if err != nil {
				return err
			}
			defer ws.close(ctx)

			plan := saved
			if saved != nil {
				if saved.ConfigHash != ws.cfg.Hash {
					return &exitError{code: ExitError, msg: fmt.Sprintf("the configuration changed since %s was made; run inkform plan again", args[0])}
				}
			} else {
				if !autoApprove && !io.Terminal {
					return &exitError{code: ExitError, msg: "apply asks for confirmation on a terminal; pass -auto-approve to apply without one"}
				}
				// With -json the plan itself is not shown.
				var view *views.PlanView
				var onPrinter func(*plans.PrinterPlan)
				if !f.json {
					view = views.NewPlanView(views.Human, views.RenderOptions{Color: io.color()})
					onPrinter = view.OnPrinter
				}
				if plan, err = makePlan(ctx, io, ws, &f, f.json, onPrinter); err != nil {
					return err
				}
				if view != nil {
					if err := view.Render(io.Out, plan); err != nil {
						return err
					}
				}
				if !plan.HasChanges() && !plan.RefreshOnly {
					return nil
				}
				if !autoApprove && !confirm(io) {
					fmt.Fprintln(io.Out, "\nApply cancelled.")
					return &exitError{code: ExitError}
				}
			}

			tuneGC(len(plan.Printers))
			prog := newProgress(io, "Applying", f.json)
			ap := ws.newApplier(io, f.parallelism, len(plan.Printers), prog)
			ap.RebootTimeout = f.rebootTimeout
			info := owner("inkform apply")
			res, err := ap.Apply(ctx, plan, ws.cfg.Printers, apply.Options{Run: state.Run{
				Command:    "apply",
				User:       info.User,
				Host:       info.Host,
				GitCommit:  gitCommit(ws.cfg.Dir),
				ConfigHash: ws.cfg.Hash,
			}, Lock: ws.lock})
			prog.clear()
			stopped := ws.lockLost(err) // said after the results
			if err != nil && stopped == nil {
				return err
			}
			if f.json {
				err = views.RenderApplyJSON(io.Out, res)
			} else {
				fmt.Fprintln(io.Out)
				err = views.RenderApplyResult(io.Out, res, views.RenderOptions{Color: io.color()})
			}
			if err != nil {
				return err
			}
			if stopped != nil {
				return stopped
			}
			if res.Failed() || ctx.Err() != nil {
				return &exitError{code: ExitError}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking for confirmation")
	return cmd
}

func readPlanFile(path string) (*plans.Plan, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	defer fh.Close()
	p, err := planfile.Read(fh)
	if err != nil {
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	return p, nil
}

func confirm(io streams) bool {
	fmt.Fprint(io.Out, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
	line, _ := bufio.NewReader(io.In).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}
