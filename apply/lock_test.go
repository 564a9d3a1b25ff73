package apply_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
)

// A run whose lock is taken over while it writes printer b stops: b is
// written (the write was under way) but not recorded, c and d are neither
// written nor recorded, and the run is recorded as "lock lost".
func TestApplyStopsWhenTheLockIsLost(t *testing.T) {
	ctx := context.Background()
	f := plannertest.NewFleet()
	lock, err := f.Store.Lock(ctx, state.LockInfo{User: "ci", Command: "inkform apply"})
	if err != nil {
		t.Fatal(err)
	}
	var other *state.Lock
	for i, n := range []string{"a", "b", "c", "d"} {
		f.Printers = append(f.Printers, plannertest.Printer(n, fmt.Sprintf("10.0.0.%d", i+1), plannertest.Desired("system.contact", "new")...))
		d := plannertest.NewDevice("S-"+n, map[string]string{"system.contact": "old"})
		if n == "b" {
			// Another run takes the lock over while b is written, as when
			// this one was stopped past its lease.
			d.OnSet = func(context.Context) error {
				if err := f.Store.ForceUnlock(ctx, lock.Info.ID); err != nil {
					return err
				}
				other, err = f.Store.Lock(ctx, state.LockInfo{User: "other", Command: "inkform apply"})
				return err
			}
		}
		f.Conn.Add(n, d)
	}
	p := f.Plan(t, planner.PlanOptions{})
	ap := newApplier(f)
	ap.Parallelism = 1 // printers start in order, one at a time

	res, err := ap.Apply(ctx, p, f.Printers, apply.Options{Run: state.Run{User: "ci"}, Lock: lock})
	if !errors.Is(err, state.ErrLockLost) {
		t.Fatalf("Apply = %v, want an error wrapping ErrLockLost", err)
	}
	if other == nil || other.Err() != nil {
		t.Fatalf("the other run does not hold the lock: %v", other)
	}

	var written []string
	for _, s := range f.Conn.Sets() {
		written = append(written, s.Printer)
	}
	if !slices.Equal(written, []string{"a", "b"}) {
		t.Errorf("printers written = %q, want a and b only", written)
	}
	got := results(res)
	if r := got["a"]; r.Status != plans.ResultApplied {
		t.Errorf("a: %+v", r)
	}
	if r := got["b"]; r.Status != plans.ResultFailed || !strings.Contains(r.Detail, "not recorded") || !strings.Contains(r.Detail, "lock was lost") {
		t.Errorf("b: %+v, want failed, not recorded", r)
	}
	for _, n := range []string{"c", "d"} {
		if r := got[n]; r.Status != plans.ResultSkipped || !strings.Contains(r.Detail, "lock was lost") {
			t.Errorf("%s: %+v, want skipped for the lost lock", n, r)
		}
	}

	recorded, _ := f.Store.Printers(ctx)
	var names []string
	for _, r := range recorded {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"a"}) {
		t.Errorf("state records %q, want only a", names)
	}
	runs, _ := f.Store.Runs(ctx, 1)
	if len(runs) != 1 || runs[0].Status != state.RunLockLost {
		t.Errorf("run = %+v, want status %q", runs, state.RunLockLost)
	}
	var withOutcome []string
	for _, o := range outcomes(t, f.Store, res.RunID) {
		withOutcome = append(withOutcome, o.Printer)
	}
	if !slices.Equal(withOutcome, []string{"a"}) {
		t.Errorf("outcomes recorded for %q, want a only", withOutcome)
	}
}

// A lock lost before a forgotten printer is dropped from state leaves it
// recorded.
func TestApplyForgetsNothingWithoutTheLock(t *testing.T) {
	ctx := context.Background()
	f := plannertest.NewFleet()
	f.Put(t, plannertest.Managed("gone", "10.0.0.9:161", "system.contact"))
	p := f.Plan(t, planner.PlanOptions{})
	lock, err := f.Store.Lock(ctx, state.LockInfo{User: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Store.ForceUnlock(ctx, lock.Info.ID); err != nil {
		t.Fatal(err)
	}
	res, err := newApplier(f).Apply(ctx, p, f.Printers, apply.Options{Lock: lock})
	if !errors.Is(err, state.ErrLockLost) {
		t.Fatalf("Apply = %v, want ErrLockLost", err)
	}
	if r := results(res)["gone"]; r.Status != plans.ResultSkipped {
		t.Errorf("gone: %+v", r)
	}
	if _, ok, _ := f.Store.Printer(ctx, "gone"); !ok {
		t.Error("a printer was forgotten without the lock")
	}
}
