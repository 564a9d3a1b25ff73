package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
)

// configFlags are the flags of every command that reads the configuration.
type configFlags struct {
	dir      string
	vars     []string
	varFiles []string
	state    string // state location overriding the configuration's
}

// register adds the configuration and state flags.
func (f *configFlags) register(cmd *cobra.Command) {
	f.registerConfig(cmd)
	cmd.Flags().StringVar(&f.state, "state", "", "state location, overriding the state block and "+stateEnv+": "+backend.Syntax())
}

// registerConfig adds only the configuration flags, for commands that
// never open state.
func (f *configFlags) registerConfig(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "config", ".", "configuration directory (every *.hcl file in it) or one file")
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "set a variable: -var name=value (repeatable)")
	cmd.Flags().StringArrayVar(&f.varFiles, "var-file", nil, "read variables from an HCL file of name = value lines (repeatable)")
}

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

// load reads and validates the configuration, printing diagnostics.
func (f *configFlags) load(io streams) (*hcl.Config, error) {
	files := map[string]*hhcl.File{}
	cfg, diags := hcl.Load(f.dir, hcl.LoadOptions{
		Vars:     f.vars,
		VarFiles: f.varFiles,
		Env:      io.Env,
		Catalog:  catalog.Default(),
		Files:    files,
	})
	if len(diags) > 0 {
		_ = hcl.WriteDiagnostics(io.Err, files, diags, io.color())
	}
	if diags.HasErrors() || cfg == nil {
		return nil, &exitError{code: ExitError}
	}
	return cfg, nil
}

// workspace is a loaded configuration with its state store, locked.
type workspace struct {
	cfg   *hcl.Config
	store state.Store
	lock  *state.Lock
	// warnedFiles: the open-files warning was shown (apply plans first).
	warnedFiles bool
	io          streams
	// lockReported: the command said the lock was lost; close need not.
	lockReported bool
}

// openWorkspace loads the configuration, opens its state and takes the lock.
func openWorkspace(ctx context.Context, io streams, f *configFlags, command string, lockTimeout time.Duration) (*workspace, error) {
	cfg, err := f.load(io)
	if err != nil {
		return nil, err
	}
	loc, err := stateLocation(io, f, cfg)
	if err != nil {
		return nil, err
	}
	st, err := openState(ctx, io, loc)
	if err != nil {
		return nil, err
	}
	lock, err := lockState(ctx, st, command, lockTimeout)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &workspace{cfg: cfg, store: st, lock: lock, io: io}, nil
}

func (ws *workspace) close(ctx context.Context) {
	ws.warnUnlock(ws.lock.Unlock(context.WithoutCancel(ctx)))
	_ = ws.store.Close()
}

// openState opens the store at loc with the lease from $INKFORM_LOCK_LEASE
// and its key (stateKey).
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
	opts.Key = stateKey(io, loc)
	// The backends' errors name the database already, never the password.
	return loc.Open(ctx, opts)
}

// lockState takes the state lock, waiting up to timeout for another holder.
func lockState(ctx context.Context, st state.Store, command string, timeout time.Duration) (*state.Lock, error) {
	if timeout <= 0 {
		// One attempt: a short deadline still lets Lock take an expired lease.
		timeout = time.Second
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	l, err := st.Lock(lctx, owner(command))
	if err != nil {
		var locked *state.LockedError
		if errors.As(err, &locked) {
			return nil, fmt.Errorf("%w\nWait for it to finish, or if its holder died, the lease expires by itself; -lock-timeout waits longer", err)
		}
		return nil, fmt.Errorf("lock state: %w", err)
	}
	return l, nil
}

func owner(command string) state.LockInfo {
	info := state.LockInfo{Command: command, PID: os.Getpid(), CreatedAt: time.Now().UTC()}
	if u, err := user.Current(); err == nil {
		info.User = u.Username
	}
	info.Host, _ = os.Hostname()
	return info
}

// progress draws one self-overwriting line on a terminal; it is silent
// otherwise. Safe for concurrent calls.
type progress struct {
	mu    sync.Mutex
	io    streams
	verb  string
	shown bool
	last  time.Time
}

func newProgress(io streams, verb string, quiet bool) *progress {
	if quiet || !io.Terminal {
		return nil
	}
	return &progress{io: io, verb: verb}
}

// update is a progress callback of observing or applying.
func (p *progress) update(done, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if done < total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	p.shown = true
	fmt.Fprintf(p.io.Err, "\r%s printers: %d/%d", p.verb, done, total)
}

// clear erases the progress line before real output is written.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.io.Err, "\r\033[K")
		p.shown = false
	}
}

func callback(p *progress) func(int, int) {
	if p == nil {
		return nil
	}
	return p.update
}

func gitCommit(dir string) string {
	// Read .git/HEAD directly: the git binary may be absent on CI images.
	for d := dir; ; {
		head, err := os.ReadFile(filepath.Join(d, ".git", "HEAD"))
		if err == nil {
			ref, isRef := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
			if !isRef {
				return ref
			}
			if b, err := os.ReadFile(filepath.Join(d, ".git", ref)); err == nil {
				return strings.TrimSpace(string(b))
			}
			packed, _ := os.ReadFile(filepath.Join(d, ".git", "packed-refs"))
			for _, line := range strings.Split(string(packed), "\n") {
				if hash, name, ok := strings.Cut(line, " "); ok && name == ref {
					return hash
				}
			}
			return ""
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}
