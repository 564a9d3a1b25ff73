package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
)

// applyOptions are the options of apply.
type applyOptions struct {
	planningOptions
	PlanFile    string // from plan -out; "" plans first
	AutoApprove bool
	// PrinterTimeout bounds each printer's whole apply (0: the default).
	PrinterTimeout time.Duration
}

func newApplyCommand(f *factory) *cobra.Command {
	opts := &applyOptions{planningOptions: newPlanningOptions(f)}
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
			if len(args) == 1 {
				opts.PlanFile = args[0]
			}
			return runApply(cmd.Context(), opts)
		},
	}
	opts.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking for confirmation")
	registerPrinterTimeout(cmd, &opts.PrinterTimeout)
	return cmd
}

func runApply(ctx context.Context, opts *applyOptions) error {
	io := opts.IO
	var saved *plans.Plan
	if opts.PlanFile != "" {
		p, err := readPlanFile(opts.PlanFile)
		if err != nil {
			return err
		}
		saved = p
	}
	tuneGC(0) // before loading, as in plan
	ws, err := opts.openWorkspace(ctx, "inkform apply", false)
	if err != nil {
		return err
	}
	defer ws.close(ctx)

	plan := saved
	if saved != nil {
		if saved.ConfigHash != ws.cfg.Hash {
			return &exitError{code: ExitError, msg: fmt.Sprintf("the configuration changed since %s was made; run inkform plan again", opts.PlanFile)}
		}
	} else {
		if !opts.AutoApprove && !io.Terminal {
			return &exitError{code: ExitError, msg: "apply asks for confirmation on a terminal; pass -auto-approve to apply without one"}
		}
		// With -json the plan itself is not shown.
		var view *views.PlanView
		var onPrinter func(*plans.PrinterPlan)
		if !opts.JSON {
			view = views.NewPlanView(views.Human, views.RenderOptions{Color: io.color()})
			onPrinter = view.OnPrinter
		}
		if plan, err = opts.makePlan(ctx, ws, opts.JSON, onPrinter); err != nil {
			return err
		}
		if view != nil {
			if err := view.Render(io.Out, plan); err != nil {
				return err
			}
		}
		if !plan.HasChanges() && !plan.RefreshOnly {
			return checkedError(plan, opts.RequireAll)
		}
		if !opts.AutoApprove && !confirmed(ctx, io) {
			fmt.Fprintln(io.Out, "\nApply cancelled.")
			return &exitError{code: ExitError}
		}
	}

	tuneGC(len(plan.Printers))
	prog := newProgress(io, "Applying", opts.JSON)
	ap := ws.newApplier(opts.Parallelism, len(plan.Printers), prog)
	ap.RebootTimeout = opts.RebootTimeout
	ap.PrinterTimeout = opts.PrinterTimeout
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
	if opts.JSON {
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
	if err := checkedError(plan, false); err != nil {
		return err
	}
	return appliedError(res, opts.RequireAll)
}

func confirm(io streams) bool {
	fmt.Fprint(io.Out, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
	line, _ := bufio.NewReader(io.In).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}
