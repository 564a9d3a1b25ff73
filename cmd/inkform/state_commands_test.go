package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/state"
)

// Two applies at once on one state: the second either fails at once,
// naming the holder, or waits for the first and then finds nothing to do.
func TestConcurrentApplies(t *testing.T) {
	f := newFixture(t, 20, simulator.Options{Latency: 10 * time.Millisecond})
	loc := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	env := []string{"INKFORM_VAR_community=private", stateEnv + "=" + loc}

	first := make(chan result, 1)
	go func() { first <- runIn(t, f.dir, env, "apply", "-auto-approve", "-parallelism", "1") }()
	waitFor(t, "the first apply to hold the lock", time.Minute, func() bool {
		st := openLoc(t, loc)
		defer st.Close()
		h, held, _ := st.LockHolder(context.Background())
		return held && h.Command == "inkform apply"
	}, nil)

	r := runIn(t, f.dir, env, "apply", "-auto-approve", "-lock-timeout", "200ms")
	if r.code != ExitError || !strings.Contains(r.err, "state is locked by") || !strings.Contains(r.err, `running "inkform apply"`) ||
		!strings.Contains(r.err, "pid") {
		t.Fatalf("second apply: exit %d, stderr:\n%s\nwant a failure naming the holder", r.code, r.err)
	}
	waiting := runIn(t, f.dir, env, "apply", "-auto-approve", "-lock-timeout", "2m")
	if a := <-first; a.code != ExitOK {
		t.Fatalf("first apply: exit %d\n%s", a.code, a.err)
	}
	if waiting.code != ExitOK {
		t.Fatalf("waiting apply: exit %d\n%s", waiting.code, waiting.err)
	}
	if got := appliedIn(t, loc); len(got) != 20 {
		t.Errorf("%d printers recorded, want 20", len(got))
	}
	if r := runIn(t, f.dir, env, "plan", "-detailed-exitcode"); r.code != ExitOK {
		t.Errorf("plan after both: exit %d\n%s", r.code, r.out)
	}
	st := openLoc(t, loc)
	defer st.Close()
	if _, held, _ := st.LockHolder(context.Background()); held {
		t.Error("lock left behind")
	}
	runs, _ := st.Runs(context.Background(), 0)
	for _, run := range runs {
		if run.Status == "running" {
			t.Errorf("run %d left unfinished: %+v", run.ID, run)
		}
	}
}

// migrate copies a whole state, and the copy reads back the same through
// every state command, here SQLite -> Firebird -> SQLite.
func TestStateMigrateRoundTrip(t *testing.T) {
	f := newFixture(t, 3, simulator.Options{})
	dir := t.TempDir()
	a, c := "sqlite:"+filepath.Join(dir, "a.db"), "sqlite:"+filepath.Join(dir, "c.db")
	fb := firebirdLoc(t, "migrate")
	env := []string{"INKFORM_VAR_community=private", "TARGET=" + fb}
	f.mustRunEnv(env, "apply", "-auto-approve", "-state", a)
	f.mustRunEnv(env, "plan", "-state", a) // a plan run with no outcomes

	r := f.mustRunEnv(env, "state", "migrate", "-state", a, "--to", "env:TARGET")
	if !strings.Contains(r.out, "Verified") || !strings.Contains(r.out, "3 printers") {
		t.Fatalf("migrate output:\n%s", r.out)
	}
	if strings.Contains(r.out, fbPassword(t, fb)) {
		t.Fatalf("migrate output reveals the password:\n%s", r.out)
	}
	f.mustRunEnv(env, "state", "migrate", "-state", fb, "--to", c)
	// A second copy into a non-empty target is refused.
	if r := f.runEnv(env, "state", "migrate", "-state", a, "--to", c); r.code != ExitError || !strings.Contains(r.err, "empty") {
		t.Errorf("migrate into a used state: exit %d\n%s", r.code, r.err)
	}

	for _, args := range [][]string{
		{"show", "-json"},
		{"state", "list"},
		{"state", "history"},
		{"state", "history", "printer.p01"},
		{"state", "show", "printer.p02"},
	} {
		want := f.mustRunEnv(env, append(args, "-state", a)...).out
		got := f.mustRunEnv(env, append(args, "-state", c)...).out
		if got != want {
			t.Errorf("inkform %s after the round trip:\n%s\nwant:\n%s", strings.Join(args, " "), got, want)
		}
	}
}

func fbPassword(t *testing.T, loc string) string {
	t.Helper()
	_, rest, _ := strings.Cut(loc, ":") // firebird
	user, _, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "@")
	_, pass, _ := strings.Cut(user, ":")
	if pass == "" {
		t.Fatal("no password in the firebird location")
	}
	return pass
}

func TestStateHistoryRmUnlock(t *testing.T) {
	f := newFixture(t, 3, simulator.Options{})
	loc := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	env := []string{"INKFORM_VAR_community=private", stateEnv + "=" + loc}
	f.mustRunEnv(env, "apply", "-auto-approve")

	r := f.mustRunEnv(env, "state", "history")
	if !strings.Contains(r.out, "apply") || !strings.Contains(r.out, "3 applied") || !strings.Contains(r.out, " ok ") {
		t.Errorf("state history:\n%s", r.out)
	}
	r = f.mustRunEnv(env, "state", "history", "printer.p01")
	if !strings.Contains(r.out, "# printer.p01") || !strings.Contains(r.out, "applied") {
		t.Errorf("state history printer.p01:\n%s", r.out)
	}

	// rm checks every name before removing any.
	if r := f.runEnv(env, "state", "rm", "printer.p00", "printer.nope"); r.code != ExitError || !strings.Contains(r.err, `"nope"`) {
		t.Errorf("rm with an unknown printer: exit %d\n%s", r.code, r.err)
	}
	if got := f.mustRunEnv(env, "state", "list").out; got != "printer.p00\nprinter.p01\nprinter.p02\n" {
		t.Errorf("state list after a refused rm:\n%s", got)
	}
	f.mustRunEnv(env, "state", "rm", "printer.p00")
	if got := f.mustRunEnv(env, "state", "list").out; got != "printer.p01\nprinter.p02\n" {
		t.Errorf("state list after rm:\n%s", got)
	}

	// A lock left by a dead run: unlock needs its id, and then it is gone.
	st := openLoc(t, loc)
	st.SetLease(time.Hour, -1)
	dead, err := st.Lock(context.Background(), state.LockInfo{User: "ana", Host: "ci-9", PID: 4242, Command: "inkform apply"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close() // stops renewal, leaves the row: as if killed
	if r := f.runEnv(env, "plan", "-lock-timeout", "100ms"); r.code != ExitError || !strings.Contains(r.err, "ana@ci-9 (pid 4242)") || !strings.Contains(r.err, dead.Info.ID) {
		t.Errorf("plan under a dead lock: exit %d\n%s", r.code, r.err)
	}
	if r := f.runEnv(env, "state", "unlock", "0123"); r.code != ExitError || !strings.Contains(r.err, dead.Info.ID) {
		t.Errorf("unlock of a wrong id: exit %d\n%s", r.code, r.err)
	}
	f.mustRunEnv(env, "state", "unlock", dead.Info.ID)
	f.mustRunEnv(env, "plan", "-lock-timeout", "100ms")
	if r := f.runEnv(env, "state", "unlock", dead.Info.ID); r.code != ExitError || !strings.Contains(r.err, "not locked") {
		t.Errorf("second unlock: exit %d\n%s", r.code, r.err)
	}
}

func TestLeaseEnvIsChecked(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	env := []string{"INKFORM_VAR_community=private", leaseEnv + "=soon"}
	if r := f.runEnv(env, "plan"); r.code != ExitError || !strings.Contains(r.err, leaseEnv) {
		t.Errorf("bad lease: exit %d\n%s", r.code, r.err)
	}
}

// runEnv runs inkform in-process with env; -config goes last, so that
// subcommands (state list) parse.
func (f *fixture) runEnv(env []string, args ...string) result {
	f.t.Helper()
	var out, errb bytes.Buffer
	io := streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: append([]string{"NO_COLOR=1"}, env...)}
	args = append(args[:len(args):len(args)], "-config", f.dir)
	return result{runContext(context.Background(), args, io), out.String(), errb.String()}
}

// mustRunEnv runs inkform, wanting success and no secret in the output.
func (f *fixture) mustRunEnv(env []string, args ...string) result {
	f.t.Helper()
	r := f.runEnv(env, args...)
	if r.code != ExitOK {
		f.t.Fatalf("inkform %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	noSecrets(f.t, []string{secretName, "private"}, r.out, r.err)
	return r
}
