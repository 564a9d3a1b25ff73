package planner_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
)

// A setting recorded in a form other than its sensitivity asks (by an
// older inkform, whose hashes an upgrade dropped, or while it was marked
// otherwise) is planned as adopted, so that apply records it again; the
// device, already as desired, is not written. One in the right form is
// unchanged.
func TestRecordInAnOlderFormIsRecordedAgain(t *testing.T) {
	f := plannertest.NewFleet()
	desired := []fleet.Desired{
		{Name: "system.contact", Value: "IT"},                        // recorded before values were kept
		{Name: "system.location", Value: "HQ"},                       // current
		{Name: "system.name", Value: "4711", Sensitive: true},        // recorded before keys
		{Name: "printer.default_input", Value: "1", Sensitive: true}, // keyed: current
	}
	f.Printers = []fleet.Printer{plannertest.Printer("p", "10.0.0.1", desired...)}
	f.Conn.Add("p", plannertest.NewDevice("S-p", map[string]string{
		"system.contact": "IT", "system.location": "HQ", "system.name": "4711", "printer.default_input": "1",
	}))
	rec := plannertest.Managed("p", "10.0.0.1:161", "system.contact", "system.location", "system.name", "printer.default_input")
	rec = f.Sensitive(t, rec, "printer.default_input")
	rec.Settings["system.contact"] = "" // its hash dropped by the upgrade
	delete(rec.Values, "system.contact")
	rec.Settings["system.name"] = state.HashValue("4711") // plain: no longer trusted
	delete(rec.Values, "system.name")
	f.Put(t, rec)

	pp := f.Plan(t, planner.PlanOptions{}).Printers[0]
	if pp.Action != plans.Update || pp.Unchanged != 2 || pp.Writes() != 0 {
		t.Fatalf("plan = %s, %d unchanged, %d writes; want an update of the record only, 2 unchanged", pp.Action, pp.Unchanged, pp.Writes())
	}
	var again []string
	for _, c := range pp.Changes {
		if c.Action != plans.Adopt || c.Write() {
			t.Errorf("%s: %s, write %v; want adopt without a write", c.Setting, c.Action, c.Write())
		}
		again = append(again, c.Setting)
	}
	if strings.Join(again, " ") != "system.contact system.name" {
		t.Errorf("recorded again: %v", again)
	}
	if len(pp.Notes) != 1 || !strings.Contains(pp.Notes[0], "system.contact, system.name") {
		t.Errorf("notes = %q, want one naming the settings recorded again", pp.Notes)
	}

	// Marked sensitive since: its value in clear must leave the state.
	for i, d := range f.Printers[0].Settings {
		if d.Name == "system.location" {
			f.Printers[0].Settings[i].Sensitive = true
		}
	}
	pp = f.Plan(t, planner.PlanOptions{}).Printers[0]
	found := false
	for _, c := range pp.Changes {
		found = found || c.Setting == "system.location" && c.Action == plans.Adopt
	}
	if !found {
		t.Errorf("a setting newly sensitive, recorded in clear, is not recorded again: %+v", pp.Changes)
	}
}

// A plan never holds a plain hash of a sensitive value, which a guess
// could undo: its changes and observations are keyed with the state's
// key; and a forgotten setting carries no hash at all.
func TestPlanHashesOfSensitiveValuesAreKeyed(t *testing.T) {
	f := plannertest.RichFleet(t)
	p := f.Plan(t, planner.PlanOptions{})
	plain := map[string]bool{state.HashValue(plannertest.SecretDesired): true, state.HashValue(plannertest.SecretObserved): true}
	seen := 0
	for _, pp := range p.Printers {
		for _, c := range pp.Changes {
			switch {
			case c.Action == plans.Forget && (c.BeforeHash != "" || c.AfterHash != ""):
				t.Errorf("%s: forgotten %s carries a hash", pp.Name, c.Setting)
			case c.Sensitive:
				seen++
				if !state.IsKeyedHash(c.BeforeHash) || !state.IsKeyedHash(c.AfterHash) {
					t.Errorf("%s: sensitive %s hashed %q, %q; want keyed hashes", pp.Name, c.Setting, c.BeforeHash, c.AfterHash)
				}
			}
		}
		for name, h := range pp.ObservedHashes {
			if plain[h] {
				t.Errorf("%s: observed %s has the plain hash of a secret", pp.Name, name)
			}
		}
	}
	if seen == 0 {
		t.Fatal("the rich fleet plans no sensitive change")
	}
}

// A state without a key cannot plan a configuration with a sensitive
// setting; the error says which.
func TestPlanWithoutAKey(t *testing.T) {
	f := plannertest.RichFleet(t)
	f.Planner.State = plannertest.WithoutKey(f.Store)
	_, err := f.Planner.Plan(context.Background(), f.Printers, planner.PlanOptions{})
	if !errors.Is(err, state.ErrNoKey) || !strings.Contains(err.Error(), "system.name is sensitive") || strings.Contains(err.Error(), plannertest.SecretDesired) {
		t.Errorf("Plan = %v", err)
	}
}
