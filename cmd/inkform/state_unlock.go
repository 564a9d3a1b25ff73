package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/state"
)

// stateUnlockOptions are the options of state unlock.
type stateUnlockOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
	LockID    string
}

func newStateUnlockCommand(f *factory) *cobra.Command {
	opts := &stateUnlockOptions{IO: f.IO, OpenStore: f.OpenStore}
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
			opts.LockID = args[0]
			return runStateUnlock(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	return cmd
}

func runStateUnlock(ctx context.Context, opts *stateUnlockOptions) error {
	st, err := opts.State.open(ctx, opts.IO, opts.OpenStore)
	if err != nil {
		return err
	}
	defer st.Close()
	locks, err := capability[state.LockAdmin](st, "remove a lock")
	if err != nil {
		return err
	}
	id := opts.LockID
	err = locks.ForceUnlock(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		holder, ok, herr := locks.LockHolder(ctx)
		switch {
		case herr != nil:
			return herr
		case ok:
			return &exitError{code: ExitError, msg: fmt.Sprintf("no lock %s; the state is locked by %s (lock %s)", id, holder, holder.ID)}
		default:
			return &exitError{code: ExitError, msg: fmt.Sprintf("no lock %s; the state is not locked", id)}
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "Removed state lock %s.\n", id)
	return nil
}
