package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
)

// crashFleet is big enough that apply takes a while, so that it can be
// killed midway.
const crashFleet = 200

// testApplyKilledMidway kills -9 an apply through a fleet of 200 printers
// once some are recorded, then checks that the dead run's lock expires,
// that the next plan shows exactly the printers still to do, and that
// apply then finishes the job.
func testApplyKilledMidway(t *testing.T, loc string) {
	f := newFixture(t, crashFleet, simulator.Options{Latency: 3 * time.Millisecond})
	const lease = "2s"
	// A server keeps no key file: the key comes with the environment.
	env := []string{"INKFORM_VAR_community=private", stateEnv + "=" + loc, leaseEnv + "=" + lease, keyEnv + "=" + strings.Repeat("k", 32)}

	child := startCLI(t, env, "apply", "-config", f.dir, "-auto-approve", "-parallelism", "2")
	waitFor(t, "20 printers applied", 2*time.Minute, func() bool { return len(appliedIn(t, loc)) >= 20 }, child.done)
	if err := child.cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup at all
		t.Fatal(err)
	}
	<-child.done
	child.done <- nil // for the cleanup

	// The dead run still holds the lock: nothing released it.
	st := openLoc(t, loc)
	holder, held, err := st.LockHolder(context.Background())
	st.Close()
	if err != nil || !held || holder.PID != child.cmd.Process.Pid {
		t.Fatalf("after kill -9 the lock is %+v (held %v, %v); want the dead apply's (pid %d)", holder, held, err, child.cmd.Process.Pid)
	}
	applied := appliedIn(t, loc)
	if len(applied) >= crashFleet {
		t.Fatalf("the kill came too late: all %d printers applied", len(applied))
	}

	// What is really left: printers whose live values are not all the
	// desired ones. A printer written but killed before it was recorded
	// counts as done: plan observes the printers, not the state.
	left := map[string]bool{}
	for i, p := range f.sim.Printers() {
		if f.get(i, oidContact) != "IT Service Desk x4000" || f.get(i, oidLocation) != "HQ 2F" || f.get(i, oidName) != secretName {
			left[fmt.Sprintf("p%02d", p.Index())] = true
		}
	}
	for name := range applied {
		if left[name] {
			t.Errorf("printer %s is recorded as applied but is not", name)
		}
	}
	if len(left) < crashFleet-len(applied)-2 { // at most -parallelism in flight
		t.Errorf("%d printers left, %d recorded: more done than recorded plus in flight", len(left), len(applied))
	}

	// The next plan waits out the dead lease, then shows exactly those.
	start := time.Now()
	r := runIn(t, f.dir, env, "plan", "-json", "-lock-timeout", "1m", "-parallelism", "16")
	if r.code != ExitOK {
		t.Fatalf("plan after the crash: exit %d\n%s", r.code, r.err)
	}
	if waited := time.Since(start); waited > time.Minute {
		t.Errorf("plan waited %s for the dead lock", waited)
	}
	var plan jsonPlan
	if err := json.Unmarshal([]byte(r.out), &plan); err != nil {
		t.Fatalf("plan -json: %v", err)
	}
	// Printers to write, and printers only to adopt: written by the dead
	// run but not recorded, which plan shows with values already as
	// desired. (Sensitive values show as null either way; the shown ones
	// tell the two apart.)
	got, adopt := map[string]bool{}, map[string]bool{}
	status := map[string]string{}
	for _, p := range plan.Printers {
		status[p.Name] = p.Status
		writes := false
		for _, c := range p.Changes {
			if c.Before != nil && c.After != nil && *c.Before != *c.After {
				writes = true
			}
		}
		switch {
		case writes:
			got[p.Name] = true
		case len(p.Changes) > 0:
			adopt[p.Name] = true
		}
	}
	if len(got) != len(left) {
		t.Errorf("plan writes %d printers, want the %d not applied", len(got), len(left))
	}
	for name := range left {
		if !got[name] {
			t.Errorf("plan misses %s (status %s), not applied yet: %s", name, status[name], dumpPlanPrinter(plan, name))
		}
	}
	for name := range got {
		if !left[name] {
			t.Errorf("plan writes %s, already applied: %s", name, dumpPlanPrinter(plan, name))
		}
	}
	if len(adopt) > 2 {
		t.Errorf("plan adopts %d printers; at most the 2 in flight were written unrecorded", len(adopt))
	}
	for name := range adopt {
		if applied[name] {
			t.Errorf("plan adopts %s, which was recorded", name)
		}
	}

	// Finishing the job leaves nothing to do and no lock.
	if r := runIn(t, f.dir, env, "apply", "-auto-approve", "-lock-timeout", "1m", "-parallelism", "16"); r.code != ExitOK {
		t.Fatalf("apply after the crash: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r := runIn(t, f.dir, env, "plan", "-detailed-exitcode"); r.code != ExitOK {
		t.Fatalf("plan after the second apply: exit %d\n%s", r.code, r.out)
	}
	st = openLoc(t, loc)
	defer st.Close()
	if h, held, err := st.LockHolder(context.Background()); held || err != nil {
		t.Errorf("lock left behind: %+v, %v", h, err)
	}
	runs, err := st.Runs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(runs, func(a, b int) bool { return runs[a].ID < runs[b].ID })
	if len(runs) == 0 || runs[0].Status != "running" || !runs[0].FinishedAt.IsZero() {
		t.Errorf("the killed run should stay recorded as unfinished: %+v", runs)
	}
	// …and is shown as abandoned, since its lock is gone.
	hist := runIn(t, f.dir, env, "state", "history")
	if first := historyRow(hist.out, runs[0].ID); !strings.Contains(first, " abandoned ") {
		t.Errorf("state history does not show the killed run %d as abandoned:\n%s", runs[0].ID, hist.out)
	}
	if len(appliedIn(t, loc)) != crashFleet {
		t.Errorf("%d printers recorded after finishing, want %d", len(appliedIn(t, loc)), crashFleet)
	}
}

func TestApplyKilledMidwaySQLite(t *testing.T) {
	testApplyKilledMidway(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"))
}

func TestApplyKilledMidwayFirebird(t *testing.T) {
	testApplyKilledMidway(t, firebirdLoc(t, "crash"))
}

func dumpPlanPrinter(p jsonPlan, name string) string {
	for _, pr := range p.Printers {
		if pr.Name == name {
			b, _ := json.Marshal(pr)
			return string(b)
		}
	}
	return "(absent)"
}

// historyRow returns the line of `state history` for run id.
func historyRow(out string, id int64) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == strconv.FormatInt(id, 10) {
			return line + " "
		}
	}
	return ""
}
