package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newStateRmCommand(io streams) *cobra.Command {
	var f stateFlags
	cmd := &cobra.Command{
		Use:   "rm printer.NAME...",
		Short: "Stop managing printers: forget their records (the printers are not touched)",
		Long: `Remove printers from state. The printers themselves are not contacted or
changed; their history stays. A printer still declared in the configuration is
taken under management again by the next apply.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, lock, err := f.openLocked(ctx, io, "inkform state rm")
			if err != nil {
				return err
			}
			defer st.Close()
			defer lock.Unlock(ctx)
			// Check every name first, so that a typo removes nothing.
			names := make([]string, len(args))
			for i, a := range args {
				names[i] = trimPrinterPrefix(a)
				if _, ok, err := st.Printer(ctx, names[i]); err != nil {
					return err
				} else if !ok {
					return &exitError{code: ExitError, msg: fmt.Sprintf("printer %q is not in state; nothing removed", names[i])}
				}
			}
			for _, n := range names {
				if err := st.DeletePrinter(ctx, n); err != nil {
					return err
				}
				fmt.Fprintf(io.Out, "Removed printer.%s from state.\n", n)
			}
			return lock.Unlock(ctx)
		},
	}
	f.register(cmd)
	f.registerLock(cmd)
	return cmd
}
