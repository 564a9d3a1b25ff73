package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/views"
)

// showOptions are the options of show.
type showOptions struct {
	IO        streams
	OpenStore storeOpener
	Connect   connectFunc
	State     stateFlags
	PlanFile  string // "" shows the recorded state
	Printer   string // printer.NAME: shows that printer in full, observed live
	JSON      bool
}

func newShowCommand(f *factory) *cobra.Command {
	opts := &showOptions{IO: f.IO, OpenStore: f.OpenStore, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "show [PLANFILE | printer.NAME]",
		Short: "Show a saved plan, one printer in full, or the recorded state",
		Long: `Without an argument, show what state records of every printer. With a plan
file, show that plan. With printer.NAME (a printer of the configuration, when
no file has that name), observe that printer now, read-only, and show it in
full: identity, status and errors, every supply, the page count, its declared
settings beside the values it has, and what state records of it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if isPrinterAddress(args[0]) {
					opts.Printer = args[0]
				} else {
					opts.PlanFile = args[0]
				}
			}
			return runShow(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "machine-readable output")
	return cmd
}

// isPrinterAddress says an argument of show names a printer: printer.NAME,
// unless a file of that name exists (a plan file may be called anything).
func isPrinterAddress(arg string) bool {
	if !strings.HasPrefix(arg, "printer.") || len(arg) == len("printer.") {
		return false
	}
	_, err := os.Stat(arg)
	return errors.Is(err, fs.ErrNotExist)
}

func runShow(ctx context.Context, opts *showOptions) error {
	io := opts.IO
	if opts.Printer != "" {
		return runShowPrinter(ctx, opts)
	}
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
