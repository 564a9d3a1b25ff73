package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
	"github.com/inkform/inkform/state/memstate"
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

// stateFlags locate the state: -state or $INKFORM_STATE_DSN, else the
// state block of the configuration the embedded flags name.
type stateFlags struct {
	configFlags
	Location string // -state
}

// register adds the configuration and state flags.
func (f *stateFlags) register(fs *pflag.FlagSet) {
	f.configFlags.register(fs)
	fs.StringVar(&f.Location, "state", "", "state location, overriding the state block and "+stateEnv+": "+backend.Syntax())
}

// overridden reports whether the state is named outside the
// configuration, so that state commands need not load it.
func (f *stateFlags) overridden(io streams) bool {
	return f.Location != "" || io.getenv(stateEnv) != ""
}

// location picks where state is: -state, else $INKFORM_STATE_DSN, else
// the configuration's state block (cfg may be nil when the caller has not
// loaded one because an override is set).
func (f *stateFlags) location(io streams, cfg *hcl.Config) (backend.Location, error) {
	override := f.Location
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

// open opens the state for a command that talks to no printer: it loads
// only the configuration's state block (when that is what names the
// state), so that no credentials are needed. A state file that does not
// exist is not created: a noState stands in for it.
func (f *stateFlags) open(ctx context.Context, io streams, open storeOpener) (state.Store, error) {
	loc, err := f.locate(io)
	if err != nil {
		return nil, err
	}
	return openExisting(ctx, io, open, loc)
}

// locate is where the state is for a command that talks to no printer:
// -state, $INKFORM_STATE_DSN, or the configuration's state block, read
// alone (no credentials needed).
func (f *stateFlags) locate(io streams) (backend.Location, error) {
	var cfg *hcl.Config
	if !f.overridden(io) {
		var err error
		if cfg, err = f.loadStateOnly(io); err != nil {
			return backend.Location{}, err
		}
	}
	return f.location(io, cfg)
}

// openExisting opens the state at loc, or returns a noState when it is a
// file that does not exist yet.
func openExisting(ctx context.Context, io streams, open storeOpener, loc backend.Location) (state.Store, error) {
	st, err := openStateWith(ctx, io, open, loc, true)
	if errors.Is(err, state.ErrNoState) {
		return noState{Store: memstate.New(), where: loc.String()}, nil
	}
	return st, err
}

// noState stands in for a state file that does not exist yet: it is empty,
// and commands that only read say "No state yet" instead of creating it.
type noState struct {
	*memstate.Store
	where string
}

// sayNoState prints, when st stands in for a missing state, that there is
// none yet, and reports whether it did.
func sayNoState(io streams, st state.Store) bool {
	ns, ok := st.(noState)
	if ok {
		fmt.Fprintf(io.Out, "No state yet: %s does not exist. inkform apply creates it.\n", ns.where)
	}
	return ok
}

// openState opens the store at loc with the lease from $INKFORM_LOCK_LEASE.
// Errors name loc without its password.
func openState(ctx context.Context, io streams, open storeOpener, loc backend.Location) (state.Store, error) {
	return openStateWith(ctx, io, open, loc, false)
}

func openStateWith(ctx context.Context, io streams, open storeOpener, loc backend.Location, mustExist bool) (state.Store, error) {
	opts := backend.Options{MustExist: mustExist}
	if v := io.getenv(leaseEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s=%q is not a positive duration such as 30s", leaseEnv, v)
		}
		opts.Lease = d
	}
	opts.Key = stateKey(io, loc)
	// The backends' errors name the database already, never the password.
	return open(ctx, loc, opts)
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
