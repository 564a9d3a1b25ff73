package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/hcl"
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
	fmt.Fprintf(opts.IO.Out, "Success! The configuration is valid: %s.\n", validSummary(cfg))
	return nil
}

// validSummary counts what a valid configuration declares; the watch
// service's blocks only when there are any.
func validSummary(cfg *hcl.Config) string {
	parts := []string{fmt.Sprintf("%d printers", len(cfg.Printers))}
	if len(cfg.Printers) == 1 {
		parts[0] = "1 printer"
	}
	count := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	count(len(cfg.Routes), "alert route", "alert routes")
	count(len(cfg.Reports), "report", "reports")
	if cfg.Watch != nil {
		parts = append(parts, "a watch block")
	}
	return strings.Join(parts, ", ")
}
