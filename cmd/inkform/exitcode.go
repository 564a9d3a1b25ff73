package main

// ExitCode is what inkform returns to the shell.
type ExitCode int

// Exit codes, documented in `inkform --help`.
const (
	// ExitOK: success; with plan -detailed-exitcode, success and no changes.
	ExitOK ExitCode = 0
	// ExitError: the command failed (bad configuration, state error, or at
	// least one printer failed to apply).
	ExitError ExitCode = 1
	// ExitChanges: plan -detailed-exitcode succeeded and there are changes.
	ExitChanges ExitCode = 2
	// ExitUnformatted: fmt -check found files that are not formatted.
	ExitUnformatted ExitCode = 3
)

const exitCodesHelp = `Exit codes:
  0  success (plan -detailed-exitcode: no changes)
  1  error: invalid configuration, state problem, or a printer failed to apply
  2  plan -detailed-exitcode: success, and there are changes to apply
  3  fmt -check: some files are not formatted`

// exitError carries an exit code through cobra's error return. Its message
// has already been printed when msg is empty.
type exitError struct {
	code ExitCode
	msg  string
}

func (e *exitError) Error() string { return e.msg }
