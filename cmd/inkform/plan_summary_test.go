package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
)

// editConfig replaces old with new in the fixture's configuration.
func (f *fixture) editConfig(old, new string) {
	f.t.Helper()
	path := filepath.Join(f.dir, "fleet.hcl")
	b, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		f.t.Fatalf("the configuration has no %q", old)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(b), old, new)), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// A value the device already holds writes nothing: it is no change in the
// plan's count, its Markdown table or its exit code, and apply counts the
// settings it wrote as state history lists them.
func TestValuesAlreadySetAreNoChanges(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	const location = `  location = "HQ 2F"` + "\n"
	// Adopted with the contact already set on the device by hand.
	if err := f.sim.Printers()[0].Set(oidContact, "IT Service Desk x4000"); err != nil {
		t.Fatal(err)
	}
	f.editConfig(location, "")
	r := f.mustRun(ExitChanges, "plan", "-detailed-exitcode")
	if !strings.Contains(r.out, "(already set on the device)") || !strings.Contains(r.out, "1 setting change.") {
		t.Errorf("plan does not show the contact as already set, counted as no change:\n%s", r.out)
	}
	md := f.mustRun(ExitOK, "plan", "-markdown").out
	if !strings.Contains(md, "| p00 | adopt | +system.name |") {
		t.Errorf("Markdown lists other settings changed than the name:\n%s", md)
	}
	r = f.mustRun(ExitOK, "apply", "-auto-approve")
	if !strings.Contains(r.out, "printer.p00: applied (1 change)") {
		t.Errorf("apply does not count the one setting it wrote:\n%s", r.out)
	}
	if h := f.mustRun(ExitOK, "state", "history", "printer.p00").out; !strings.Contains(h, " system.name ") {
		t.Errorf("state history does not list the one setting written:\n%s", h)
	}

	// Managed, and a setting newly declared with the value the device
	// already holds: nothing to do.
	if err := f.sim.Printers()[0].Set(oidLocation, "HQ 2F"); err != nil {
		t.Fatal(err)
	}
	f.editConfig(`  contact  = "IT Service Desk x4000"`+"\n", `  contact  = "IT Service Desk x4000"`+"\n"+location)
	r = f.mustRun(ExitOK, "plan", "-detailed-exitcode")
	if !strings.HasPrefix(r.out, "No changes.") {
		t.Errorf("plan of a value already set:\n%s", r.out)
	}
	if md := f.mustRun(ExitOK, "plan", "-markdown").out; !strings.HasPrefix(md, "### inkform plan: no changes\n") {
		t.Errorf("Markdown of a value already set:\n%s", md)
	}
}
