package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/state"
)

func newStateUnlockCommand(io streams) *cobra.Command {
	var f stateFlags
	cmd := &cobra.Command{
		Use:   "unlock LOCK_ID",
		Short: "Remove a state lock left by a run that died",
		Long: `Remove the state lock with the given id, as shown by the error of a run that
could not take it. Only do so when its holder is known to be dead: a lock whose
holder died also expires by itself when its lease runs out.

Naming the id, rather than "whatever lock is there", keeps this from removing a
lock that a new run took meanwhile.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := f.open(ctx, io)
			if err != nil {
				return err
			}
			defer st.Close()
			locks, err := capability[state.LockAdmin](st, "remove a lock")
			if err != nil {
				return err
			}
			err = locks.ForceUnlock(ctx, args[0])
			if errors.Is(err, state.ErrNotFound) {
				holder, ok, herr := locks.LockHolder(ctx)
				switch {
				case herr != nil:
					return herr
				case ok:
					return &exitError{code: ExitError, msg: fmt.Sprintf("no lock %s; the state is locked by %s (lock %s)", args[0], holder, holder.ID)}
				default:
					return &exitError{code: ExitError, msg: fmt.Sprintf("no lock %s; the state is not locked", args[0])}
				}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "Removed state lock %s.\n", args[0])
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
