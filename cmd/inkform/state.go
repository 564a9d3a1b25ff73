package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/views"
)

func newStateCommand(io streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect and maintain what inkform has recorded",
		Long: `Inspect and maintain the state: the printers under management, the history
of runs, and the lock that keeps two applies apart.

The state is found as for plan and apply: -state, else $` + stateEnv + `, else
the configuration's state block.`,
	}
	cmd.AddCommand(
		newStateListCommand(io),
		newStateShowCommand(io),
		newStateRmCommand(io),
		newStateUnlockCommand(io),
		newStateHistoryCommand(io),
		newStateMigrateCommand(io),
	)
	return cmd
}

func newStateListCommand(io streams) *cobra.Command {
	var f stateFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the printers under management",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer st.Close()
			printers, err := st.Printers(cmd.Context())
			if err != nil {
				return err
			}
			for _, p := range printers {
				fmt.Fprintf(io.Out, "printer.%s\n", p.Name)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newStateShowCommand(io streams) *cobra.Command {
	var f stateFlags
	cmd := &cobra.Command{
		Use:   "show printer.NAME",
		Short: "Show what is recorded for one printer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer st.Close()
			name := trimPrinterPrefix(args[0])
			p, ok, err := st.Printer(cmd.Context(), name)
			if err != nil {
				return err
			}
			if !ok {
				return &exitError{code: ExitError, msg: fmt.Sprintf("printer %q is not in state", name)}
			}
			return views.RenderRecord(io.Out, p)
		},
	}
	f.register(cmd)
	return cmd
}

func trimPrinterPrefix(s string) string {
	if len(s) > len("printer.") && s[:len("printer.")] == "printer." {
		return s[len("printer."):]
	}
	return s
}
