package main

// ExitCode is what inkform returns to the shell.
type ExitCode int

// Exit codes, documented in `inkform --help`.
const (
	// ExitOK: success; with plan -detailed-exitcode, success and no changes.
	ExitOK ExitCode = 0
	// ExitError: the command failed (bad configuration, state error, at
	// least one printer failed to apply, no printer could be checked, or
	// with -require-all a printer was not checked or not applied).
	ExitError ExitCode = 1
	// ExitChanges: plan -detailed-exitcode succeeded and there are changes.
	ExitChanges ExitCode = 2
	// ExitUnformatted: fmt -check found files that are not formatted.
	ExitUnformatted ExitCode = 3
)

const exitCodesHelp = `Exit codes:
  0  success (plan -detailed-exitcode: no changes)
  1  error: invalid configuration, state problem, a printer failed to apply,
     or no printer could be checked; with -require-all, also any printer
     not checked (or, for apply, not applied)
  2  plan -detailed-exitcode: success, and there are changes to apply
  3  fmt -check: some files are not formatted
  130  a second SIGINT (Ctrl-C) stopped it at once (143: a second SIGTERM);
       the first stops in order: releases the state lock and exits 1

Printers not checked (unreachable, another serial, or not observable) are
reported, counted in the summary and skipped; on their own they change the
exit code only with -require-all, or when no printer could be checked.`

// exitError carries an exit code through cobra's error return. Its message
// has already been printed when msg is empty.
type exitError struct {
	code ExitCode
	msg  string
}

func (e *exitError) Error() string { return e.msg }
