package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
)

// What apply records of a sensitive value, in the printer's record and in
// the run's history, is keyed with the state's key: never its plain hash.
func TestApplyRecordsSensitiveValuesKeyed(t *testing.T) {
	ctx := context.Background()
	f := plannertest.RichFleet(t)
	res := applyPlan(t, f, ctx, f.Plan(t, planner.PlanOptions{}))
	key, err := f.Store.ValueKey()
	if err != nil {
		t.Fatal(err)
	}
	var changed map[string]string
	for _, o := range outcomes(t, f.Store, res.RunID) {
		if o.Printer == "hq-2f-east" {
			changed = o.Changed
		}
	}
	if h := changed["system.name"]; h != key.Hash(plannertest.SecretDesired) {
		t.Errorf("history records system.name as %q, want its keyed hash", h)
	}
	if h := changed["system.contact"]; h != state.HashValue("IT Service Desk x4000") {
		t.Errorf("history records system.contact as %q, want its plain hash", h)
	}
}

// A state upgraded from before keys and values in clear is recorded again
// by the next apply, without writing the devices, after which nothing is
// left to do.
func TestApplyRecordsAnOlderStateAgain(t *testing.T) {
	ctx := context.Background()
	f := plannertest.NewFleet()
	f.Printers = []fleet.Printer{plannertest.Printer("p", "10.0.0.1",
		fleet.Desired{Name: "system.contact", Value: "IT"}, fleet.Desired{Name: "system.name", Value: "4711", Sensitive: true})}
	f.Conn.Add("p", plannertest.NewDevice("S-p", map[string]string{"system.contact": "IT", "system.name": "4711"}))
	f.Put(t, state.Printer{Name: "p", Address: "10.0.0.1:161", Settings: map[string]string{"system.contact": "", "system.name": ""}})

	r := results(applyPlan(t, f, ctx, f.Plan(t, planner.PlanOptions{})))["p"]
	if r.Status != plans.ResultApplied {
		t.Fatalf("p: %+v", r)
	}
	if sets := f.Conn.Sets(); len(sets) != 0 {
		t.Errorf("devices written: %+v", sets)
	}
	key, _ := f.Store.ValueKey()
	got, _, _ := f.Store.Printer(ctx, "p")
	if got.Settings["system.name"] != key.Hash("4711") || got.Values["system.contact"] != "IT" || len(got.Values) != 1 {
		t.Errorf("recorded again = %+v", got)
	}
	if again := f.Plan(t, planner.PlanOptions{}); again.HasChanges() {
		t.Errorf("the plan after recording again has changes: %+v", again.Printers)
	}
}

// A plan that observed a setting no longer declared was made from another
// configuration: refused as such, not as a device changed.
func TestApplyRefusesAPlanOfASettingNoLongerDeclared(t *testing.T) {
	f := plannertest.NewFleet()
	f.Printers = []fleet.Printer{plannertest.Printer("p", "10.0.0.1", plannertest.Desired("system.contact", "new", "system.location", "HQ")...)}
	f.Conn.Add("p", plannertest.NewDevice("S-p", map[string]string{"system.contact": "old", "system.location": "HQ"}))
	p := f.Plan(t, planner.PlanOptions{})
	f.Printers[0].Settings = plannertest.Desired("system.contact", "new")
	r := results(applyPlan(t, f, context.Background(), p))["p"]
	if r.Status != plans.ResultFailed || !strings.Contains(r.Detail, "system.location is no longer declared") {
		t.Errorf("p: %+v", r)
	}
	if len(f.Conn.Sets()) != 0 {
		t.Error("device written")
	}
}

// Without a key, a configuration with a sensitive setting is refused
// before anything is recorded.
func TestApplyWithoutAKey(t *testing.T) {
	ctx := context.Background()
	f := plannertest.RichFleet(t)
	p := f.Plan(t, planner.PlanOptions{})
	ap := newApplier(f)
	ap.State = plannertest.WithoutKey(f.Store)
	_, err := ap.Apply(ctx, p, f.Printers, apply.Options{})
	if !errors.Is(err, state.ErrNoKey) || !strings.Contains(err.Error(), "system.name is sensitive") {
		t.Errorf("Apply = %v", err)
	}
	if runs, _ := f.Store.Runs(ctx, 0); len(runs) != 0 || len(f.Conn.Sets()) != 0 {
		t.Errorf("runs %+v recorded, %d writes", runs, len(f.Conn.Sets()))
	}
}
