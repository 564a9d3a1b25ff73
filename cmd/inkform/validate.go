package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// validateOptions are the options of validate.
type validateOptions struct {
	IO     streams
	Config configFlags
}

func newValidateCommand(f *factory) *cobra.Command {
	opts := &validateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration without contacting any printer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.Context(), opts)
		},
	}
	opts.Config.register(cmd.Flags())
	return cmd
}

func runValidate(_ context.Context, opts *validateOptions) error {
	// Loading allocates as heavily here as in plan.
	tuneGC(0)
	cfg, err := opts.Config.load(opts.IO)
	if err != nil {
		return err
	}
	what := "printers"
	if len(cfg.Printers) == 1 {
		what = "printer"
	}
	fmt.Fprintf(opts.IO.Out, "Success! The configuration is valid: %d %s.\n", len(cfg.Printers), what)
	return nil
}
