package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
)

// Environment variables of the state.
const (
	// stateEnv holds a state location, so that CI can pass credentials
	// without a flag (visible to every user of the machine) or a file.
	stateEnv = "INKFORM_STATE_DSN"
	// leaseEnv overrides the lock lease (a Go duration). A killed run
	// blocks others until its lease runs out; tests and impatient
	// operators shorten it. Holders renew every third of it.
	leaseEnv = "INKFORM_LOCK_LEASE"
)

// stateLocation picks where state is: -state, else $INKFORM_STATE_DSN,
// else the configuration's state block (cfg may be nil when the caller
// has not loaded one because an override is set).
func stateLocation(io streams, f *configFlags, cfg *hcl.Config) (backend.Location, error) {
	override := f.state
	if override == "" {
		override = io.getenv(stateEnv)
	}
	if override != "" {
		l, err := backend.Parse(override)
		if err != nil {
			return backend.Location{}, fmt.Errorf("-state / %s: %w", stateEnv, err)
		}
		return l, nil
	}
	if cfg == nil {
		return backend.Location{}, errors.New("no state location: load the configuration first")
	}
	sc := cfg.State
	if b, _ := backend.Lookup(sc.Backend); b.File {
		path := sc.Path
		if path == "" {
			path = hcl.DefaultStatePath
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Dir, path)
		}
		return backend.Location{Backend: b.Name}.WithPath(path), nil
	}
	// hcl checked the scheme; Parse checks the rest.
	l, err := backend.Parse(sc.DSN)
	if err != nil {
		return backend.Location{}, fmt.Errorf("state block: %w", err)
	}
	if l.Backend != sc.Backend {
		return backend.Location{}, fmt.Errorf("state block %q: dsn is for %s", sc.Backend, l.Backend)
	}
	return l, nil
}

// hasStateOverride reports whether the state is named outside the
// configuration, so that state commands need not load it.
func hasStateOverride(io streams, f *configFlags) bool {
	return f.state != "" || io.getenv(stateEnv) != ""
}

// openState opens the store at loc with the lease from $INKFORM_LOCK_LEASE.
// Errors name loc without its password.
func openState(ctx context.Context, io streams, loc backend.Location) (state.Store, error) {
	var opts backend.Options
	if v := io.getenv(leaseEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s=%q is not a positive duration such as 30s", leaseEnv, v)
		}
		opts.Lease = d
	}
	// The backends' errors name the database already, never the password.
	return loc.Open(ctx, opts)
}

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
