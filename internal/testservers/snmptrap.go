package testservers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Snmptrap sends traps with net-snmp's snmptrap, a real trap sender.
type Snmptrap struct {
	bin string
	dir string // persistent state (v3 engine boots) of this test only
}

// FindSnmptrap returns the snmptrap command, or skips the test (fails it
// under INKFORM_REQUIRE_INTEGRATION=1) when it is not installed.
func FindSnmptrap(t testing.TB) *Snmptrap {
	t.Helper()
	return &Snmptrap{bin: lookPath(t, "snmptrap"), dir: t.TempDir()}
}

// Send runs snmptrap with args (e.g. "-v", "2c", "-c", "public",
// "--clientaddr=127.0.0.2", "127.0.0.1:PORT", "", OID, varbinds…) and
// fails the test when it does not succeed within ten seconds. MIBs are
// not loaded: OIDs and types are given numerically.
func (s *Snmptrap) Send(t testing.TB, args ...string) {
	t.Helper()
	if err := s.Run(t.Context(), args...); err != nil {
		t.Fatal(err)
	}
}

// Run is Send returning the error.
func (s *Snmptrap) Run(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"-m", "", "-M", "/nonexistent"}, args...)...)
	// Keep net-snmp's per-user and persistent files out of the system's.
	cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+s.dir, "SNMPCONFPATH="+s.dir, "HOME="+s.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("snmptrap %s: %v; output:\n%s", strings.Join(redact(args), " "), err, tail(string(out)))
	}
	return nil
}

// redact hides the values of the secret flags in error messages.
func redact(args []string) []string {
	out := make([]string, len(args))
	hide := false
	for i, a := range args {
		switch {
		case hide:
			out[i] = "***"
		default:
			out[i] = a
		}
		hide = a == "-c" || a == "-A" || a == "-X"
	}
	return out
}
