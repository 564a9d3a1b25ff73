package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/simulator"
)

// adminEnv gives the simulator's admin password to credentialsHCL.
const adminEnv = "INKFORM_VAR_admin_pw=inkform-sim"

// writeDeployConfig writes a configuration managing sim's printers from
// dir: each sets its contact, and printer i gets extra[i] (transports,
// ports, files) besides.
func writeDeployConfig(t *testing.T, sim *simulator.Sim, dir string, extra map[int]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(credentialsHCL)
	for _, p := range sim.Printers() {
		fmt.Fprintf(&b, `
printer "p%02d" {
  address     = %q
  serial      = %q
  credentials = credentials.sim
  contact     = "Desk %d"
%s
}
`, p.Index(), p.Addr(), p.Serial(), p.Index(), extra[p.Index()])
	}
	writeFile(t, dir, "fleet.hcl", b.String())
}

// fileVia is the HCL of a printer sending source over transport to a
// server on port.
func fileVia(transport string, port int, source string) string {
	return fmt.Sprintf(`  transports = ["snmp", %q]
  ports      = { %s = %d }
  files      = [{ source = %q, via = %q }]`, transport, transport, port, source, transport)
}

// writeData writes n zero bytes to dir/name.
func writeData(t *testing.T, dir, name string, n int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600); err != nil {
		t.Fatal(err)
	}
}

// crawlingPJL is a PJL peer that takes an upload slowly (about 1 MiB/s)
// but steadily: no write stalls long enough for a transport timeout.
func crawlingPJL(t *testing.T) *testservers.Trickler {
	return testservers.StartTrickler(t, testservers.TrickleOptions{Read: 64 << 10})
}

// bigImage takes crawlingPJL about a minute, far longer than the tests
// wait for a signal to take effect.
const bigImage = 64 << 20

// An FTP server that trickles its greeting and a PJL peer that takes an
// upload at a crawl hold their printers only up to -printer-timeout; each
// fails naming its printer and transport, and the rest of the fleet is
// applied.
func TestTricklingPeersFailAtThePrinterTimeout(t *testing.T) {
	sim, dir := startFleet(t, simulator.Options{Printers: 3})
	ftpPeer := testservers.StartTrickler(t, testservers.TrickleOptions{Send: "220-still starting\r\n"})
	pjlPeer := crawlingPJL(t)
	writeData(t, dir, "bundle.bin", 1<<10)
	writeData(t, dir, "image.bin", bigImage)
	writeDeployConfig(t, sim, dir, map[int]string{
		0: fileVia("ftp", ftpPeer.Port, "bundle.bin"),
		1: fileVia("pjl", pjlPeer.Port, "image.bin"),
	})

	done := make(chan result, 1)
	go func() {
		done <- runIn(t, dir, []string{adminEnv}, "apply", "-auto-approve", "-printer-timeout", "3s")
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("apply still running after 2 minutes: a trickling peer holds it")
	}
	if r.code != ExitError {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitError, r.out, r.err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(r.out, "\n") {
		if name, _, ok := strings.Cut(l, ":"); ok {
			lines[name] = l
		}
	}
	for name, want := range map[string][]string{
		"printer.p00": {"failed", "not done within the printer timeout of 3s", "printer p00", "ftp: greeting"},
		"printer.p01": {"failed", "not done within the printer timeout of 3s", "printer p01", "pjl"},
		"printer.p02": {"applied"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[name], w) {
				t.Errorf("%s: %q lacks %q\n%s", name, lines[name], w, r.out)
			}
		}
	}
	applied := appliedIn(t, "sqlite:"+filepath.Join(dir, "inkform.db"))
	if !applied["p02"] || applied["p00"] || applied["p01"] {
		t.Errorf("recorded as applied: %v, want p02 only", applied)
	}
}
