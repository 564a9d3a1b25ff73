package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
)

// Under a hard open-files limit of 100, a plan of 300 slow printers keeps
// its sockets within the limit and says so, rather than failing printers
// with "too many open files".
func TestPlanWithinOpenFilesLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sets the limit with the shell's ulimit; Linux only")
	}
	// 20 ms per answer makes printers outlast the observer's stall
	// threshold, so without a bound it keeps hundreds in flight.
	f := newFixture(t, 300, simulator.Options{Latency: 20 * time.Millisecond})
	cmd := exec.Command("sh", "-c", `ulimit -n 100 && exec "$0" "$@"`, os.Args[0], "plan", "-config", f.dir)
	cmd.Env = []string{asCLIEnv + "=1", "NO_COLOR=1", "INKFORM_VAR_community=private", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("plan: %v\n%s%s", err, errOut.String(), out.String())
	}
	if !strings.Contains(out.String(), "Plan: 300 printers to adopt") || strings.Contains(out.String(), "could not be observed") {
		t.Errorf("plan output:\n%s", tail(out.String()))
	}
	if !strings.Contains(errOut.String(), "open-files limit is 100") || !strings.Contains(errOut.String(), "at most 9 printers are in flight") {
		t.Errorf("stderr does not explain the limit:\n%s", errOut.String())
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
