package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/state"
)

// An apply stopped (SIGSTOP) past its lease while another apply takes the
// lock and finishes must, once resumed, write no further printer, record
// nothing, exit non-zero saying the lock was lost, and leave its run
// recorded as "lock lost".
func TestApplyResumedAfterLosingTheLockStops(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("watches the stopped process in /proc")
	}
	const (
		n        = 200
		contactA = "IT Service Desk x4000" // the fixture's configuration
		contactB = "Facilities x5000"
	)
	f := newFixture(t, n, simulator.Options{Latency: 3 * time.Millisecond})
	path := filepath.Join(t.TempDir(), "state.db")
	loc := "sqlite:" + path
	env := []string{"INKFORM_VAR_community=private", stateEnv + "=" + loc, leaseEnv + "=5s"}
	// Two configurations of the fleet, A (the fixture's) and B, with
	// timeouts no busy machine reaches: every printer must be applied.
	src, err := os.ReadFile(filepath.Join(f.dir, "fleet.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	configA := strings.Replace(string(src), `timeout   = "300ms"`, `timeout   = "10s"`, 1)
	dirA, dirB := t.TempDir(), t.TempDir()
	writeFile(t, dirA, "fleet.hcl", configA)
	writeFile(t, dirB, "fleet.hcl", strings.ReplaceAll(configA, contactA, contactB))

	child := startCLI(t, env, "apply", "-config", dirA, "-auto-approve", "-parallelism", "1")
	t.Cleanup(func() {
		if t.Failed() {
			_ = child.cmd.Process.Kill()
			<-child.exited
			t.Logf("the first apply said:\n%s\n%s", &child.out, &child.err)
		}
	})
	waitFor(t, "5 printers applied", 2*time.Minute, func() bool { return appliedCount(t, path) >= 5 }, child.done)
	stopOutsideWrites(t, child, path)

	// The second run waits out the stopped run's lease, takes the lock
	// and writes every printer.
	if r := runIn(t, dirB, env, "apply", "-auto-approve", "-lock-timeout", "1m"); r.code != ExitOK {
		t.Fatalf("the second apply: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	if err := child.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	select {
	case err := <-child.done:
		child.done <- err // for the cleanup
		if !errors.As(err, &exit) || exit.ExitCode() != int(ExitError) {
			t.Fatalf("the resumed apply ended with %v, want exit 1\nstdout:\n%s\nstderr:\n%s", err, &child.out, &child.err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the resumed apply did not stop")
	}
	if !strings.Contains(child.err.String(), state.ErrLockLost.Error()) {
		t.Errorf("the resumed apply does not say the lock was lost:\n%s", &child.err)
	}
	t.Logf("the resumed apply said:\n%s", &child.err)

	// At most the printer in flight when the run was stopped got A's
	// value after B's: no printer was started after the lock was lost.
	var gotA []int
	for i := range n {
		if f.get(i, oidContact) == contactA {
			gotA = append(gotA, i)
		}
	}
	if len(gotA) > 1 {
		t.Errorf("printers %v hold the resumed run's value; at most the one in flight may", gotA)
	}
	// State holds what the second run applied, and nothing of the first
	// after it resumed.
	st := openLoc(t, loc)
	defer st.Close()
	ps, err := st.Printers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != n {
		t.Errorf("%d printers recorded, want %d", len(ps), n)
	}
	for _, p := range ps {
		if p.Settings["system.contact"] != state.HashValue(contactB) {
			t.Errorf("printer %s: the recorded contact is not the second run's", p.Name)
		}
	}
	runs, err := st.Runs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(runs, func(a, b int) bool { return runs[a].ID < runs[b].ID })
	if len(runs) != 2 || runs[0].Status != state.RunLockLost || runs[1].Status != state.RunOK {
		t.Errorf("runs = %+v; want the resumed one %q, the other %q", runs, state.RunLockLost, state.RunOK)
	}
}

// stopOutsideWrites stops the child (SIGSTOP) at a moment it holds no
// SQLite write transaction, which would block every other run: stopped
// in one, it is resumed until it has recorded one more printer, and
// stopped again.
func stopOutsideWrites(t *testing.T, child *cliProcess, path string) {
	t.Helper()
	pid := child.cmd.Process.Pid
	for attempt := 1; ; attempt++ {
		if err := child.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the apply to stop", time.Minute, func() bool { return stopped(t, pid) }, child.done)
		if !sqliteWriteLocked(t, path) {
			return
		}
		if attempt == 20 {
			t.Fatal("the apply was inside a state write at each of 20 stops")
		}
		if err := child.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		k := appliedCount(t, path)
		waitFor(t, "one more printer applied", time.Minute, func() bool { return appliedCount(t, path) > k }, child.done)
	}
}

// stopped reports whether every thread of process pid is stopped.
func stopped(t *testing.T, pid int) bool {
	t.Helper()
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "stat"))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			return false // a thread that just ended
		}
		// pid (comm) STATE ...: comm may hold spaces, so split after ')'.
		_, rest, _ := strings.Cut(string(b), ") ")
		if !strings.HasPrefix(rest, "T") && !strings.HasPrefix(rest, "t") {
			return false
		}
	}
	return true
}

// sqliteWriteLocked reports whether some process holds the write lock of
// the SQLite database at path.
func sqliteWriteLocked(t *testing.T, path string) bool {
	t.Helper()
	// Ask once, without waiting, and nothing else: the run is stopped
	// meanwhile, and must be resumed well within its lease.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked") {
			return true
		}
		t.Fatalf("probe the write lock: %v", err)
	}
	tx.Rollback()
	return false
}

// appliedCount counts the printers recorded as applied in the SQLite
// state at path. It only reads: opening a store would take the write lock
// (to check the schema) every time it polls, and starve the runs watched.
func appliedCount(t *testing.T, path string) int {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return 0 // not created yet
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT COUNT(*) FROM printers WHERE applied_at IS NOT NULL`).Scan(&n)
	switch {
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return 0 // the schema is being created
	case err != nil:
		t.Fatalf("count applied printers: %v", err)
	}
	return n
}
