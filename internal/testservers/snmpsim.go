package testservers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Snmpsim is a running snmpsimd serving recorded devices on 127.0.0.1.
// Each recording NAME.snmprec answers to community NAME.
type Snmpsim struct {
	Addr string // 127.0.0.1:port
	Host string
	Port int
}

// StartSnmpsim serves the given .snmprec files with snmpsimd, waits until
// each community answers and stops the daemon when the test ends. It skips
// the test when snmpsimd is not installed.
func StartSnmpsim(t testing.TB, recordings ...string) *Snmpsim {
	t.Helper()
	bin := lookPath(t, "snmpsimd")
	if len(recordings) == 0 {
		t.Fatalf("snmpsimd: no recordings given")
	}
	// Not t.TempDir: its parent folder is private to root, and snmpsimd
	// runs as nobody.
	dir, err := os.MkdirTemp("", "inkform-snmpsim-")
	if err != nil {
		t.Fatalf("snmpsimd dir: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	cache := filepath.Join(dir, "cache")
	var communities []string
	for _, p := range []string{data, cache} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatalf("snmpsimd dir: %v", err)
		}
	}
	// snmpsimd drops privileges to nobody, which must reach the data (and
	// write the index beside it) and its cache.
	for _, p := range []string{dir, data, cache} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatalf("snmpsimd dir: %v", err)
		}
	}
	for _, rec := range recordings {
		b, err := os.ReadFile(rec)
		if err != nil {
			t.Fatalf("snmpsimd recording: %v", err)
		}
		name := filepath.Base(rec)
		if err := os.WriteFile(filepath.Join(data, name), b, 0o644); err != nil {
			t.Fatalf("snmpsimd recording: %v", err)
		}
		communities = append(communities, strings.TrimSuffix(name, ".snmprec"))
	}
	port := startOnFreePort(t, "snmpsimd", FreeUDPPort, func(port int) *exec.Cmd {
		return exec.Command(bin,
			"--data-dir="+data,
			"--cache-dir="+cache,
			"--agent-udpv4-endpoint=127.0.0.1:"+strconv.Itoa(port),
			"--process-user=nobody", "--process-group=nogroup",
			"--logging-method=stderr")
	}, func(ctx context.Context, port int) error {
		for _, c := range communities {
			g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Community: c,
				Version: gosnmp.Version2c, Timeout: 250 * time.Millisecond, Retries: 0, Context: ctx}
			if err := g.Connect(); err != nil {
				return err
			}
			_, err := g.Get([]string{".1.3.6.1.2.1.1.1.0"})
			g.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	return &Snmpsim{Addr: "127.0.0.1:" + strconv.Itoa(port), Host: "127.0.0.1", Port: port}
}
