package main

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	// The SQLite driver, to hold the state database's write lock.
	_ "modernc.org/sqlite"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/state"
)

// waitExit waits up to d for the child to exit and returns its exit code:
// -1 when a signal killed it.
func waitExit(t *testing.T, p *cliProcess, d time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("inkform still running after %s\nstdout:\n%s\nstderr:\n%s", d, p.out.String(), p.err.String())
	}
	return 0
}

// waitConnected waits until the child has connected to peer.
func waitConnected(t *testing.T, p *cliProcess, peer *testservers.Trickler) {
	t.Helper()
	select {
	case <-peer.Accepted():
	case err := <-p.done:
		p.done <- err
		t.Fatalf("inkform ended before it connected: %v\nstdout:\n%s\nstderr:\n%s", err, p.out.String(), p.err.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("inkform did not connect within 2 minutes\nstderr:\n%s", p.err.String())
	}
}

// stuckApply starts a child apply of two printers whose first sends a
// large file to crawlingPJL, and returns once the child is sending it,
// holding the state lock, with the state's location.
func stuckApply(t *testing.T) (*cliProcess, string) {
	t.Helper()
	sim, dir := startFleet(t, simulator.Options{Printers: 2})
	peer := crawlingPJL(t)
	writeData(t, dir, "image.bin", bigImage)
	writeDeployConfig(t, sim, dir, map[int]string{0: fileVia("pjl", peer.Port, "image.bin")})
	child := startCLI(t, []string{adminEnv}, "apply", "-config", dir, "-auto-approve")
	waitConnected(t, child, peer)
	return child, filepath.Join(dir, "inkform.db")
}

// SIGTERM stops an apply stuck on a crawling peer within seconds: it says
// it was cancelled, releases the lock and records the run as cancelled.
func TestSIGTERMStopsAStuckApply(t *testing.T) {
	child, db := stuckApply(t)
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := waitExit(t, child, 30*time.Second)
	out, errs := child.out.String(), child.err.String()
	if code != int(ExitError) {
		t.Fatalf("exit %d, want %d (-1: killed)\nstdout:\n%s\nstderr:\n%s", code, ExitError, out, errs)
	}
	if !strings.Contains(out, "Apply cancelled:") || strings.Contains(out, "Apply complete") || !strings.Contains(errs, "SIGTERM received: stopping") {
		t.Errorf("output does not say the apply was cancelled:\nstdout:\n%s\nstderr:\n%s", out, errs)
	}
	st := openLoc(t, "sqlite:"+db)
	defer st.Close()
	ctx := context.Background()
	if h, held, err := st.LockHolder(ctx); held || err != nil {
		t.Errorf("lock left behind: %+v, %v", h, err)
	}
	if runs, err := st.Runs(ctx, 1); err != nil || len(runs) != 1 || runs[0].Status != state.RunCancelled {
		t.Errorf("runs = %+v, %v; want one, cancelled", runs, err)
	}
}

// holdWriteLock takes the SQLite database's write lock until the returned
// func (or the test's end) releases it.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("lock the state database: %v", err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// A second SIGINT exits at once, even while the orderly stop waits (here
// on the state database, which the test keeps locked), leaving the state
// lock to its lease.
func TestSecondSIGINTExitsAtOnce(t *testing.T) {
	child, db := stuckApply(t)
	release := holdWriteLock(t, db)
	if err := child.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if !child.err.waitFor("Press Ctrl-C again", 30*time.Second) {
		t.Fatalf("no word of stopping after the first SIGINT:\n%s", child.err.String())
	}
	if err := child.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// The orderly stop cannot finish while the database is locked: only
	// the second signal can end the child.
	code := waitExit(t, child, 20*time.Second)
	if code != 128+int(syscall.SIGINT) || !strings.Contains(child.err.String(), "exiting at once") {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, 128+int(syscall.SIGINT), child.err.String())
	}
	release()
	st := openLoc(t, "sqlite:"+db)
	defer st.Close()
	if h, held, err := st.LockHolder(context.Background()); err != nil || !held || h.PID != child.cmd.Process.Pid {
		t.Errorf("lock %+v (held %v, %v): want the child's, left to its lease", h, held, err)
	}
}

// A plan whose stdout is closed (plan -json | head) stops in order: it
// exits 1, not killed by SIGPIPE, and the next plan gets the lock at once.
func TestClosedStdoutStopsPlanAndReleasesTheLock(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody will read: the first write fails
	child := startCLIWith(t, w, []string{"INKFORM_VAR_community=private"}, "plan", "-json", "-config", f.dir)
	w.Close()
	code := waitExit(t, child, time.Minute)
	if code != int(ExitError) || !strings.Contains(child.err.String(), "broken pipe") {
		t.Fatalf("exit %d, want %d (-1: killed by SIGPIPE)\nstderr:\n%s", code, ExitError, child.err.String())
	}
	// The default -lock-timeout tries once: a lock left behind fails it.
	f.mustRun(ExitOK, "plan")
}

// The apply prompt gives way to a signal: it must not wait for a line.
func TestApplyPromptStopsOnSignal(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	stdin, never := io.Pipe()
	defer never.Close()
	var out, errb lockedBuffer
	s := streams{In: stdin, Out: &out, Err: &errb, Terminal: true, Env: []string{"INKFORM_VAR_community=private", "NO_COLOR=1"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan ExitCode, 1)
	go func() { done <- runContext(ctx, []string{"apply", "-config", f.dir}, s) }()
	if !out.waitFor("Enter a value:", time.Minute) {
		t.Fatalf("no prompt:\n%s\n%s", out.String(), errb.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitError || !strings.Contains(out.String(), "Apply cancelled.") {
			t.Fatalf("exit %d\n%s", code, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the prompt still waits for a line after the signal")
	}
	if f.get(0, oidContact) == "IT Service Desk x4000" {
		t.Error("the printer was written")
	}
}

// The first signal cancels with a cause naming it, the second exits with
// 128 plus its number.
func TestWatchSignals(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	done := make(chan struct{})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	exited := make(chan ExitCode, 1)
	var msgs lockedBuffer
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchSignals(sigs, done, &msgs, cancel, func(c ExitCode) { exited <- c })
	}()
	sigs <- syscall.SIGTERM
	<-ctx.Done()
	if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), "SIGTERM") {
		t.Errorf("cause = %v", cause)
	}
	sigs <- syscall.SIGTERM
	if code := <-exited; code != 128+ExitCode(syscall.SIGTERM) {
		t.Errorf("exit code %d, want %d", code, 128+int(syscall.SIGTERM))
	}
	close(done)
	<-watched
	if m := msgs.String(); !strings.Contains(m, "SIGTERM received: stopping") || !strings.Contains(m, "exiting at once") {
		t.Errorf("messages:\n%s", m)
	}
}
