package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
)

// plan -out never replaces configuration or any file that is not a plan
// file; it replaces an earlier plan file, and an empty file.
func TestPlanOutRefusesToReplaceOtherFiles(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	config := filepath.Join(f.dir, "fleet.hcl")
	before, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	notes := filepath.Join(other, "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	newHCL := filepath.Join(other, "more.HCL")
	for _, tc := range []struct{ out, want string }{
		{config, "a .hcl file is configuration"},
		{newHCL, "a .hcl file is configuration"},
		{notes, "is not an inkform plan file"},
		{other, "not a regular file"},
	} {
		r := f.mustRun(ExitError, "plan", "-out", tc.out)
		if !strings.Contains(r.err, tc.want) || !strings.Contains(r.err, tc.out) {
			t.Errorf("plan -out %s: stderr does not say %q:\n%s", tc.out, tc.want, r.err)
		}
	}
	if after, _ := os.ReadFile(config); string(after) != string(before) {
		t.Errorf("plan -out replaced the configuration with:\n%.200s", after)
	}
	if b, _ := os.ReadFile(notes); string(b) != "my notes\n" {
		t.Errorf("plan -out replaced another file with:\n%.200s", b)
	}
	if _, err := os.Stat(newHCL); err == nil {
		t.Error("plan -out created a .hcl file")
	}

	empty := filepath.Join(other, "plan.out")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.mustRun(ExitOK, "plan", "-out", empty)
	f.mustRun(ExitOK, "plan", "-out", empty) // an earlier plan is replaced
	f.mustRun(ExitOK, "show", empty)
}

// A plan file edited by hand is refused by show and by apply, and no
// printer is written: show would otherwise show a value apply does not
// write.
func TestEditedPlanFileIsRefused(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	planFile := filepath.Join(t.TempDir(), "plan.out")
	f.mustRun(ExitOK, "plan", "-out", planFile)
	raw, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	const after = `"after":"IT Service Desk x4000"`
	if !strings.Contains(string(raw), after) {
		t.Fatalf("the plan file changes no contact:\n%s", raw)
	}
	edited := strings.Replace(string(raw), after, `"after":"Edited by hand"`, 1)
	if err := os.WriteFile(planFile, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	before := []string{f.get(0, oidContact), f.get(1, oidContact)}
	for _, cmd := range []string{"show", "apply"} {
		r := f.mustRun(ExitError, cmd, planFile)
		if !strings.Contains(r.err, "does not match its digest") || strings.Contains(r.out, "Edited by hand") {
			t.Errorf("%s of an edited plan file:\nstdout:\n%s\nstderr:\n%s", cmd, r.out, r.err)
		}
	}
	if got := []string{f.get(0, oidContact), f.get(1, oidContact)}; fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("apply of an edited plan file wrote the printers: contacts %q, were %q", got, before)
	}
}
