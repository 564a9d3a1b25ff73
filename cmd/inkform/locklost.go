package main

import (
	"errors"
	"fmt"

	"github.com/inkform/inkform/state"
)

// lockLost turns an apply's error into the command's when apply stopped
// because the state lock was lost, and returns nil for any other error.
func (ws *workspace) lockLost(err error) error {
	if !errors.Is(err, state.ErrLockLost) {
		return nil
	}
	ws.lockReported = true
	return &exitError{code: ExitError, msg: fmt.Sprintf("%v\n"+
		"Apply started no printer and recorded nothing after that (the results above say which were written);\n"+
		"another run may be applying now. Run inkform plan once it is done to see what is left.", err)}
}

// warnUnlock says on stderr why releasing the lock failed, unless the
// command said so already: the command's work is done by then, but a lock
// lost meanwhile means another run may have used the state at the same time.
func (ws *workspace) warnUnlock(err error) {
	if err == nil || ws.lockReported && errors.Is(err, state.ErrLockLost) {
		return
	}
	fmt.Fprintf(ws.io.Err, "Warning: %v\n", err)
}
