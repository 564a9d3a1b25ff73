// Package testservers starts real daemons (net-snmp's snmpd, snmpsim,
// vsftpd, Firebird, Mailpit, OpenLDAP's slapd, MIT's krb5kdc) for
// integration tests and stops them when the test ends.
//
// A test that needs a daemon which is not installed is skipped, unless
// INKFORM_REQUIRE_INTEGRATION=1 is set: then it fails, so CI cannot pass by
// silently skipping everything.
package testservers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startupTimeout bounds how long a daemon may take to answer its first request.
const startupTimeout = 20 * time.Second

// stopTimeout bounds how long a daemon may take to exit after SIGTERM
// before it is killed.
const stopTimeout = 5 * time.Second

// RequireIntegration reports whether integration tests must run rather than
// skip (INKFORM_REQUIRE_INTEGRATION=1).
func RequireIntegration() bool {
	return os.Getenv("INKFORM_REQUIRE_INTEGRATION") == "1"
}

// Skip skips the test, or fails it when RequireIntegration is true.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if RequireIntegration() {
		t.Fatalf("integration required (INKFORM_REQUIRE_INTEGRATION=1): "+format, args...)
	}
	t.Skipf(format, args...)
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before it is used; callers that start a
// daemon on it retry on a bind failure.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free UDP port: %v", err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if err := c.Close(); err != nil {
		t.Fatalf("find a free UDP port: %v", err)
	}
	return port
}

// FreeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free TCP port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("find a free TCP port: %v", err)
	}
	return port
}

// lookPath returns the absolute path of a program, or skips the test.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Skip(t, "%s is not installed", name)
	}
	return p
}

// InteropDir returns the folder of recorded real printers vendored into
// the module (testdata/interop at the module root; see its SOURCES.md).
func InteropDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above %s: the recordings live in the module's testdata/interop", dir)
		}
		dir = parent
	}
	interop := filepath.Join(dir, "testdata", "interop")
	if fi, err := os.Stat(interop); err != nil || !fi.IsDir() {
		t.Fatalf("recorded printers not found at %s: they are part of the module", interop)
	}
	return interop
}

// syncBuffer collects a daemon's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the output bounded: daemons can be chatty.
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// daemon is a started process with a channel closed when it exits.
type daemon struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // set before exited is closed
}

func startDaemon(name string, cmd *exec.Cmd) (*daemon, error) {
	d := &daemon{name: name, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = d.out
	cmd.Stderr = d.out
	// Its own process group, so a terminal's Ctrl-C reaches the test binary
	// first and the cleanup still runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		d.err = cmd.Wait()
		close(d.exited)
	}()
	return d, nil
}

// waitReady polls ready until it returns nil, the daemon exits or the
// startup deadline passes.
func (d *daemon) waitReady(ready func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), startupTimeout)
	defer cancel()
	var last error
	for {
		select {
		case <-d.exited:
			return fmt.Errorf("%s exited before answering (%v); output:\n%s", d.name, d.err, tail(d.out.String()))
		default:
		}
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		last = ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer within %s (last error: %v); output:\n%s", d.name, startupTimeout, last, tail(d.out.String()))
		case <-d.exited:
		case <-time.After(50 * time.Millisecond): // poll interval, not synchronisation
		}
	}
}

// stop ends the daemon by its PID: SIGTERM, then SIGKILL after stopTimeout.
func (d *daemon) stop() {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(stopTimeout):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}

// bindFailed reports whether the daemon's output says its port was taken.
func (d *daemon) bindFailed() bool {
	out := d.out.String()
	return bytes.Contains([]byte(out), []byte("Error opening specified endpoint")) ||
		bytes.Contains([]byte(out), []byte("Address already in use"))
}

func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

// errBindFailed marks a start that lost its port to another process.
var errBindFailed = errors.New("port taken")

// startOnFreePort starts a daemon on a port chosen by pick, waits until
// ready answers and stops the daemon when the test ends. A free port may be
// taken between choosing and binding it, so a bind failure is retried with
// another port, three times in all. It returns the port.
func startOnFreePort(t testing.TB, name string, pick func(testing.TB) int, command func(port int) *exec.Cmd, ready func(ctx context.Context, port int) error) int {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		port := pick(t)
		d, err := startDaemon(name, command(port))
		if err != nil {
			t.Fatalf("%v", err)
		}
		if err := d.waitReady(func(ctx context.Context) error { return ready(ctx, port) }); err != nil {
			d.stop()
			if d.bindFailed() {
				continue
			}
			t.Fatalf("%v", err)
		}
		t.Cleanup(d.stop)
		return port
	}
	t.Fatalf("%s: %v three times", name, errBindFailed)
	return 0
}

// LookPath finds a program the test needs, skipping the test when it is
// missing (failing it when integration is required).
func LookPath(t testing.TB, name string) string {
	t.Helper()
	return lookPath(t, name)
}
