package main

import (
	"github.com/spf13/cobra"
)

func newStateCommand(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect and maintain what inkform has recorded",
		Long: `Inspect and maintain the state: the printers under management, the history
of runs, and the lock that keeps two applies apart.

The state is found as for plan and apply: -state, else $` + stateEnv + `, else
the configuration's state block.`,
	}
	cmd.AddCommand(
		newStateListCommand(f),
		newStateShowCommand(f),
		newStateRmCommand(f),
		newStateUnlockCommand(f),
		newStateHistoryCommand(f),
		newStateMigrateCommand(f),
	)
	return cmd
}

// trimPrinterPrefix turns printer.NAME, as arguments name printers, into
// NAME, as state records them.
func trimPrinterPrefix(s string) string {
	if len(s) > len("printer.") && s[:len("printer.")] == "printer." {
		return s[len("printer."):]
	}
	return s
}
