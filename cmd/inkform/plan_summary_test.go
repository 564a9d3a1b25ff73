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

// With the wrong community no printer can be checked: plan and apply fail
// whatever the flags, and no rendering says "no changes" or that the
// printers match; each says how many were not checked.
func TestNothingCheckedFails(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	env := []string{"INKFORM_VAR_community=wrong"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan"}, "No printer could be checked"},
		{[]string{"plan", "-detailed-exitcode"}, "No printer could be checked"},
		{[]string{"plan", "-markdown"}, "### inkform plan: no printer could be checked\n"},
		{[]string{"plan", "-json"}, `"not_checked": 2,`},
		{[]string{"apply", "-auto-approve"}, "No printer could be checked"},
	} {
		cmd := strings.Join(tc.args, " ")
		r := f.runEnv(env, tc.args...)
		if r.code != ExitError || !strings.Contains(r.err, "no printer could be checked: 2 printers not checked (") {
			t.Errorf("inkform %s: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", cmd, r.code, r.out, r.err)
		}
		if !strings.Contains(r.out, tc.want) {
			t.Errorf("inkform %s does not say %q:\n%s", cmd, tc.want, r.out)
		}
		for _, never := range []string{"No changes", "no changes", "match the configuration"} {
			if strings.Contains(r.out, never) {
				t.Errorf("inkform %s says %q:\n%s", cmd, never, r.out)
			}
		}
	}
}

// -require-all: any printer not checked, or not applied, fails plan and
// apply; without it they are counted, and the printers checked go on.
func TestRequireAll(t *testing.T) {
	f := newFixture(t, 3, simulator.Options{})
	f.sim.Printers()[1].SetOffline(true)
	f.mustRun(ExitChanges, "plan", "-detailed-exitcode")
	r := f.mustRun(ExitError, "plan", "-detailed-exitcode", "-require-all")
	if !strings.Contains(r.err, "-require-all: 1 printer not checked (1 unreachable)") {
		t.Errorf("plan -require-all:\n%s", r.err)
	}
	r = f.mustRun(ExitError, "apply", "-auto-approve", "-require-all")
	if !strings.Contains(r.err, "-require-all: 1 printer was not applied") {
		t.Errorf("apply -require-all:\n%s", r.err)
	}
	for _, i := range []int{0, 2} {
		if got := f.get(i, oidContact); got != "IT Service Desk x4000" {
			t.Errorf("printer %d not applied: %q", i, got)
		}
	}

	r = f.mustRun(ExitOK, "plan", "-detailed-exitcode")
	if !strings.Contains(r.out, "No changes to the 2 printers checked;") || strings.Contains(r.out, "match the configuration") {
		t.Errorf("plan with a printer not checked:\n%s", r.out)
	}
	f.mustRun(ExitError, "plan", "-require-all")
	f.mustRun(ExitError, "apply", "-auto-approve", "-require-all")

	f.sim.Printers()[1].SetOffline(false)
	f.mustRun(ExitOK, "apply", "-auto-approve", "-require-all")
	r = f.mustRun(ExitOK, "plan", "-detailed-exitcode", "-require-all")
	if !strings.HasPrefix(r.out, "No changes. Your printers match the configuration.") {
		t.Errorf("plan of a converged fleet:\n%s", r.out)
	}
	for _, cmd := range []string{"plan", "apply"} {
		if h := f.mustRun(ExitOK, cmd, "--help").out; !strings.Contains(h, "--require-all") || !strings.Contains(h, "no printer could be checked; with -require-all") {
			t.Errorf("%s --help does not document -require-all with the exit codes:\n%s", cmd, h)
		}
	}
}
