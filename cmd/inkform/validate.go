package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCommand(io streams) *cobra.Command {
	var f configFlags
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration without contacting any printer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Loading allocates as heavily here as in plan.
			tuneGC(0)
			cfg, err := f.load(io)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "Success! The configuration is valid: %d printers.\n", len(cfg.Printers))
			return nil
		},
	}
	f.registerConfig(cmd)
	return cmd
}
