package main

import (
	"github.com/spf13/cobra"

	"github.com/inkform/inkform/views"
)

func newShowCommand(io streams) *cobra.Command {
	var f stateFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [PLANFILE]",
		Short: "Show a saved plan, or the recorded state",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				plan, err := readPlanFile(args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return views.RenderJSON(io.Out, plan)
				}
				return views.RenderHuman(io.Out, plan, views.RenderOptions{Color: io.color()})
			}
			st, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer st.Close()
			printers, err := st.Printers(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return views.RenderStateJSON(io.Out, printers)
			}
			return views.RenderState(io.Out, printers)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "machine-readable output")
	return cmd
}
