package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/spf13/pflag"

	"github.com/inkform/inkform/state"
)

// lockFlags are the flags of the commands that write the state.
type lockFlags struct {
	Timeout time.Duration
}

func (f *lockFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.Timeout, "lock-timeout", 0, "how long to wait for the state lock (e.g. 30s)")
}

// openLocked opens the state and takes its lock for command.
func openLocked(ctx context.Context, io streams, open storeOpener, f *stateFlags, timeout time.Duration, command string) (state.Store, *state.Lock, error) {
	st, err := f.open(ctx, io, open)
	if err != nil {
		return nil, nil, err
	}
	if ns, ok := st.(noState); ok {
		return nil, nil, &exitError{code: ExitError, msg: fmt.Sprintf("No state yet: %s does not exist.", ns.where)}
	}
	lock, err := lockState(ctx, st, command, timeout)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, lock, nil
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
		if errors.As(err, &locked) && ctx.Err() != nil {
			// Interrupted while waiting: say that, not that the wait ran out.
			return nil, fmt.Errorf("stopped while waiting for the state lock, held by %s", locked.Holder)
		}
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
