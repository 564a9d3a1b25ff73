package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
)

// stateMigrateOptions are the options of state migrate.
type stateMigrateOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
	Lock      lockFlags
	To        string // target location, or env:NAME
}

func newStateMigrateCommand(f *factory) *cobra.Command {
	opts := &stateMigrateOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "migrate --to DSN",
		Short: "Copy the whole state to another backend and verify the copy",
		Long: `Copy everything the state holds (printers, their settings, runs, per-printer
outcomes and changes; not the lock) into another, empty, state, then read the
copy back and compare counts and a checksum with the source. Both states are
locked meanwhile. Runs are renumbered in the same order.

Sensitive values are recorded as hashes keyed with the source's key, which is
not copied: use the copy with the same key (` + keyEnv + `, or for SQLite a
copy of the key file beside the source database, next to the target's).

--to takes a state location (sqlite:PATH, firebird://..., sqlserver://...), or
env:NAME to read it from the environment variable NAME, which keeps its
password out of the process list. The source stays as it was: point the
configuration's state block (or ` + stateEnv + `) at the copy when done.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStateMigrate(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	opts.Lock.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.To, "to", "", "the target state location, or env:NAME (required)")
	return cmd
}

func runStateMigrate(ctx context.Context, opts *stateMigrateOptions) error {
	io, to := opts.IO, opts.To
	if name, ok := strings.CutPrefix(to, "env:"); ok {
		if to = io.getenv(name); to == "" {
			return &exitError{code: ExitError, msg: fmt.Sprintf("--to env:%s: the variable is empty or not set", name)}
		}
	}
	if to == "" {
		return &exitError{code: ExitError, msg: "--to is required"}
	}
	dstLoc, err := backend.Parse(to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	src, srcLock, err := openLocked(ctx, io, opts.OpenStore, &opts.State, opts.Lock.Timeout, "inkform state migrate")
	if err != nil {
		return err
	}
	defer src.Close()
	defer srcLock.Unlock(ctx)
	source, err := capability[state.Exporter](src, "export the state")
	if err != nil {
		return err
	}
	dst, err := openState(ctx, io, opts.OpenStore, dstLoc)
	if err != nil {
		return err
	}
	defer dst.Close()
	target, err := capability[interface {
		state.Importer
		state.Exporter
	}](dst, "import a state")
	if err != nil {
		return fmt.Errorf("target %s: %w", dstLoc, err)
	}
	dstLock, err := lockState(ctx, dst, "inkform state migrate", opts.Lock.Timeout)
	if err != nil {
		return fmt.Errorf("target %s: %w", dstLoc, err)
	}
	defer dstLock.Unlock(ctx)

	snap, err := source.Export(ctx)
	if err != nil {
		return err
	}
	want, wantSum := snap.Counts(), snap.Checksum()
	prog := newProgress(io, "Copying", false)
	if prog != nil {
		prog.noun = "records"
	}
	if pi, ok := target.(state.ProgressImporter); ok && prog != nil {
		err = pi.ImportProgress(ctx, snap, prog.update)
	} else {
		err = target.Import(ctx, snap)
	}
	prog.clear()
	if err != nil {
		return fmt.Errorf("target %s: %w", dstLoc, err)
	}
	copied, err := target.Export(ctx)
	if err != nil {
		return fmt.Errorf("target %s: read back: %w", dstLoc, err)
	}
	if got, gotSum := copied.Counts(), copied.Checksum(); got != want || gotSum != wantSum {
		return fmt.Errorf("target %s: the copy differs from the source: %v (checksum %s), want %v (checksum %s); the target is not fit for use",
			dstLoc, got, gotSum, want, wantSum)
	}
	fmt.Fprintf(io.Out, "Copied %v to %s.\nVerified: counts match and checksum %s matches the source.\n", want, dstLoc, wantSum)
	if err := dstLock.Unlock(ctx); err != nil {
		return err
	}
	return srcLock.Unlock(ctx)
}
