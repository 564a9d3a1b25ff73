package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
)

// asCLIEnv makes the test binary run as the inkform command instead of
// running tests, so that a test can start (and kill -9) a real process.
const asCLIEnv = "INKFORM_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) == "1" {
		os.Exit(int(run(os.Args[1:], defaultStreams())))
	}
	os.Exit(m.Run())
}

// cliProcess is inkform running in a child process.
type cliProcess struct {
	cmd      *exec.Cmd
	out, err lockedBuffer
	done     chan error
	exited   chan struct{} // closed once the process is waited for, whoever reads done
}

// lockedBuffer is a buffer output is copied to while the test reads it.
type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed, and replaced, by each Write
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written != nil {
		close(l.written)
		l.written = nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits up to d for the output to contain s and reports whether it
// does.
func (l *lockedBuffer) waitFor(s string, d time.Duration) bool {
	timeout := time.After(d)
	for {
		l.mu.Lock()
		if strings.Contains(l.b.String(), s) {
			l.mu.Unlock()
			return true
		}
		if l.written == nil {
			l.written = make(chan struct{})
		}
		written := l.written
		l.mu.Unlock()
		select {
		case <-written:
		case <-timeout:
			return false
		}
	}
}

// startCLI starts the test binary as inkform with args and env (added to
// a minimal environment). The process is killed if the test ends first.
func startCLI(t *testing.T, env []string, args ...string) *cliProcess {
	t.Helper()
	return startCLIWith(t, nil, env, args...)
}

// startCLIWith is startCLI writing to stdout, when not nil, instead of a
// buffer.
func startCLIWith(t *testing.T, stdout *os.File, env []string, args ...string) *cliProcess {
	t.Helper()
	p := &cliProcess{cmd: exec.Command(os.Args[0], args...), done: make(chan error, 1), exited: make(chan struct{})}
	p.cmd.Env = append([]string{asCLIEnv + "=1", "NO_COLOR=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if stdout != nil {
		p.cmd.Stdout = stdout
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start inkform: %v", err)
	}
	go func() {
		p.done <- p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// inspected is what the tests use of a state: every backend here has lock
// administration and a lease that can be changed.
type inspected interface {
	state.Store
	state.LockAdmin
	SetLease(lease, renewEvery time.Duration)
}

// openLoc opens a state location for inspection from the test.
func openLoc(t *testing.T, loc string) inspected {
	t.Helper()
	l, err := backend.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := l.Open(ctx, backend.Options{})
	if err != nil {
		t.Fatalf("open state: %v", err)
	}
	return st.(inspected)
}

// appliedIn returns the printers recorded as applied at loc.
func appliedIn(t *testing.T, loc string) map[string]bool {
	t.Helper()
	st := openLoc(t, loc)
	defer st.Close()
	ps, err := st.Printers(context.Background())
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	out := map[string]bool{}
	for _, p := range ps {
		if !p.AppliedAt.IsZero() {
			out[p.Name] = true
		}
	}
	return out
}

// firebirdLoc starts a private Firebird server (or skips) and returns the
// location of a new database on it.
func firebirdLoc(t *testing.T, name string) string {
	t.Helper()
	fb := testservers.StartFirebird(t)
	return fbLocOn(fb, name)
}

func fbLocOn(fb *testservers.Firebird, name string) string {
	u := url.UserPassword(fb.User, fb.Password)
	return fmt.Sprintf("firebird://%s@%s:%d%s", u.String(), fb.Host, fb.Port, filepath.Join(fb.Dir, name+".fdb"))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool, failEarly <-chan error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case err := <-failEarly:
			t.Fatalf("waiting for %s: the process ended first: %v", what, err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func noSecrets(t *testing.T, secrets []string, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(o, s) {
				t.Fatalf("output reveals a secret:\n%s", o)
			}
		}
	}
}
