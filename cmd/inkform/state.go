package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
)

// stateFlags locate the state: -state or $INKFORM_STATE_DSN, else the
// configuration's state block.
type stateFlags struct {
	configFlags
	lockTimeout time.Duration
}

func (f *stateFlags) register(cmd *cobra.Command) {
	f.configFlags.register(cmd)
}

// registerLock adds -lock-timeout, for the commands that write.
func (f *stateFlags) registerLock(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&f.lockTimeout, "lock-timeout", 0, "how long to wait for the state lock (e.g. 30s)")
}

func (f *stateFlags) open(ctx context.Context, io streams) (state.Store, error) {
	var cfg *hcl.Config
	if !hasStateOverride(io, &f.configFlags) {
		var err error
		if cfg, err = f.load(io); err != nil {
			return nil, err
		}
	}
	loc, err := stateLocation(io, &f.configFlags, cfg)
	if err != nil {
		return nil, err
	}
	return openState(ctx, io, loc)
}

// openLocked opens the state and takes its lock for command.
func (f *stateFlags) openLocked(ctx context.Context, io streams, command string) (state.Store, *state.Lock, error) {
	st, err := f.open(ctx, io)
	if err != nil {
		return nil, nil, err
	}
	lock, err := lockState(ctx, st, command, f.lockTimeout)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, lock, nil
}

// capability returns st as the optional interface C, or an error saying
// that the state's backend cannot do what.
func capability[C any](st state.Store, what string) (C, error) {
	c, ok := st.(C)
	if !ok {
		return c, errors.New("this state backend cannot " + what)
	}
	return c, nil
}

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
