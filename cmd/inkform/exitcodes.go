package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/views"
)

// What printers that were not checked or not applied do to the exit code:
// CI must never go green having checked nothing.

// registerRequireAll adds -require-all to plan or apply.
func registerRequireAll(fs *pflag.FlagSet, requireAll *bool) {
	fs.BoolVar(requireAll, "require-all", false, "exit 1 unless every printer was checked (and, for apply, applied or found unchanged)")
}

// checkedError is the error a plan's coverage calls for, nil when none:
// a plan that could check none of its printers failed, and with
// requireAll so did one that could not check them all. A plan of no
// printer at all (an empty configuration, or only printers to forget)
// checked nothing and failed nothing.
func checkedError(p *plans.Plan, requireAll bool) error {
	s := p.Summary()
	switch {
	case s.NotChecked == 0:
		return nil
	case s.Checked == 0:
		return &exitError{code: ExitError, msg: "no printer could be checked: " + views.NotCheckedText(s)}
	case requireAll:
		return &exitError{code: ExitError, msg: "-require-all: " + views.NotCheckedText(s)}
	}
	return nil
}

// appliedError is the error an apply's result calls for with requireAll,
// nil when none: every printer must have been applied or found unchanged.
// (Failed and stale printers fail an apply anyway.)
func appliedError(r *plans.ApplyResult, requireAll bool) error {
	if !requireAll {
		return nil
	}
	n := 0
	for _, p := range r.Printers {
		if p.Status != plans.ResultApplied && p.Status != plans.ResultUnchanged {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	what := "printers were"
	if n == 1 {
		what = "printer was"
	}
	return &exitError{code: ExitError, msg: fmt.Sprintf("-require-all: %d %s not applied", n, what)}
}
