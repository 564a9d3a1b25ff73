package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
)

func TestNormalizeArgsAcceptsSingleDashLongFlags(t *testing.T) {
	root := newRootCommand(newFactory(streams{}))
	got := normalizeArgs(root, []string{"plan", "-out", "p.out", "-detailed-exitcode", "-var=a=-1", "-x", "--json", "--", "-out"})
	want := []string{"plan", "--out", "p.out", "--detailed-exitcode", "--var=a=-1", "-x", "--json", "--", "-out"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("normalizeArgs = %q, want %q", got, want)
	}
}

func TestApplyAsksOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		answer string
		code   ExitCode
		wrote  bool
	}{
		{"no\n", ExitError, false},
		{"yes\n", ExitOK, true},
	} {
		f := newFixture(t, 1, simulator.Options{})
		var out, errb bytes.Buffer
		io := streams{In: strings.NewReader(tc.answer), Out: &out, Err: &errb, Terminal: true,
			Env: []string{"INKFORM_VAR_community=private", "NO_COLOR=1"}}
		code := runContext(context.Background(), []string{"apply", "-config", f.dir}, io)
		if code != tc.code || !strings.Contains(out.String(), "Only 'yes' will be accepted") {
			t.Fatalf("answer %q: exit %d\n%s%s", tc.answer, code, out.String(), errb.String())
		}
		if strings.Contains(out.String(), "\033[") {
			t.Fatalf("NO_COLOR set but output has colour codes")
		}
		if wrote := f.get(0, oidContact) == "IT Service Desk x4000"; wrote != tc.wrote {
			t.Fatalf("answer %q: printer written = %v", tc.answer, wrote)
		}
	}
}

func TestApplyWithoutTerminalNeedsAutoApprove(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	r := f.mustRun(ExitError, "apply")
	if !strings.Contains(r.err, "-auto-approve") {
		t.Fatalf("stderr: %s", r.err)
	}
}

func TestShowPlanFileAndState(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	planFile := filepath.Join(t.TempDir(), "plan.out")
	f.mustRun(ExitOK, "plan", "-out", planFile)
	human := f.mustRun(ExitOK, "show", planFile)
	if !strings.Contains(human.out, "system.contact") {
		t.Fatalf("show PLANFILE:\n%s", human.out)
	}
	js := f.mustRun(ExitOK, "show", planFile, "-json")
	if !strings.Contains(js.out, `"format_version"`) {
		t.Fatalf("show -json PLANFILE:\n%s", js.out)
	}
	f.mustRun(ExitOK, "apply", planFile)
	st := f.mustRun(ExitOK, "state", "show", "printer.p01")
	// What was applied, in clear but for the secret; never a hash.
	for _, want := range []string{"printer.p01", f.sim.Printers()[1].Serial(), `system.contact   "IT Service Desk x4000"`, "system.name      (sensitive)"} {
		if !strings.Contains(st.out, want) {
			t.Fatalf("state show lacks %q:\n%s", want, st.out)
		}
	}
	if strings.Contains(st.out, "sha256:") {
		t.Fatalf("state show shows a hash:\n%s", st.out)
	}
	if all := f.mustRun(ExitOK, "show", "-json"); !strings.Contains(all.out, `"p00"`) {
		t.Fatalf("show -json:\n%s", all.out)
	}
	f.mustRun(ExitError, "state", "show", "printer.nope")
}

func TestFmtCheckDiffAndRewrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.hcl")
	ugly := "printer \"a\" {\naddress=\"10.0.0.1\"\n    keywords = [\"x\"]\n}\n"
	if err := os.WriteFile(path, []byte(ugly), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (ExitCode, string) {
		var out bytes.Buffer
		code := runContext(context.Background(), args, streams{In: strings.NewReader(""), Out: &out, Err: &out})
		return code, out.String()
	}
	code, out := run("fmt", "-check", "-diff", dir)
	if code != ExitUnformatted || !strings.Contains(out, "+  address  = \"10.0.0.1\"") {
		t.Fatalf("fmt -check -diff: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(path); string(b) != ugly {
		t.Fatal("fmt -check changed the file")
	}
	if code, out := run("fmt", dir); code != ExitOK {
		t.Fatalf("fmt: exit %d\n%s", code, out)
	}
	if code, out := run("fmt", "-check", dir); code != ExitOK || out != "" {
		t.Fatalf("fmt -check after fmt: exit %d\n%s", code, out)
	}
}

// TestFmtWritesThroughSymlinks: a configuration file that is a link to a
// shared file stays a link, and the shared file is what gets formatted.
func TestFmtWritesThroughSymlinks(t *testing.T) {
	dir, shared := t.TempDir(), t.TempDir()
	target := filepath.Join(shared, "common.hcl")
	if err := os.WriteFile(target, []byte("printer \"a\" {\naddress=\"10.0.0.1\"\n}\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "common.hcl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := runContext(context.Background(), []string{"fmt", dir}, streams{In: strings.NewReader(""), Out: &out, Err: &out}); code != ExitOK {
		t.Fatalf("fmt: exit %d\n%s", code, out.String())
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symlink (%v)", link, err)
	}
	b, err := os.ReadFile(target)
	if err != nil || !strings.Contains(string(b), "  address = \"10.0.0.1\"") {
		t.Fatalf("target not formatted (%v):\n%s", err, b)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Errorf("target mode %v, want 0640", fi.Mode().Perm())
	}
}

// TestFmtSyntaxErrorShowsSource: fmt's syntax errors quote the line.
func TestFmtSyntaxErrorShowsSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.hcl"), []byte("printer \"a\" {\n  address = = 1\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := runContext(context.Background(), []string{"fmt", dir}, streams{In: strings.NewReader(""), Out: &out, Err: &out})
	if code != ExitError || strings.Contains(out.String(), "source code not available") || !strings.Contains(out.String(), "address = = 1") {
		t.Fatalf("fmt on a syntax error: exit %d\n%s", code, out.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := runContext(context.Background(), []string{"version"}, streams{Out: &out, Err: &out}); code != ExitOK || !strings.HasPrefix(out.String(), "inkform ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
}
