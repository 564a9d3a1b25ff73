package testservers

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSnmpdWritableSystemGroup(t *testing.T) {
	d := StartSnmpd(t, SnmpdOptions{
		ReadCommunity:  "ro-test",
		WriteCommunity: "rw-test",
		V3Users: []V3User{{Name: "alice", AuthProtocol: "SHA-256", AuthPass: "alice-auth-pass",
			PrivProtocol: "AES", PrivPass: "alice-priv-pass", ReadWrite: true}},
	})
	got := SnmpGet(t, "-v2c", "-c", "ro-test", "-Oqv", d.Addr, "1.3.6.1.2.1.1.3.0")
	if got == "" {
		t.Fatalf("sysUpTime is empty")
	}
	got = SnmpGet(t, "-v3", "-l", "authPriv", "-u", "alice", "-a", "SHA-256", "-A", "alice-auth-pass",
		"-x", "AES", "-X", "alice-priv-pass", "-Oqv", d.Addr, "1.3.6.1.2.1.1.5.0")
	if got == "" {
		t.Fatalf("sysName over v3 is empty")
	}
}

func TestSnmpdV3OnlyReady(t *testing.T) {
	d := StartSnmpd(t, SnmpdOptions{V3Users: []V3User{{Name: "bob", AuthProtocol: "MD5", AuthPass: "bob-auth-pass"}}})
	got := SnmpGet(t, "-v3", "-l", "authNoPriv", "-u", "bob", "-a", "MD5", "-A", "bob-auth-pass", "-Oqv", d.Addr, "1.3.6.1.2.1.1.3.0")
	if got == "" {
		t.Fatalf("sysUpTime over v3 is empty")
	}
}

func TestSnmpsimServesRecordings(t *testing.T) {
	dir := InteropDir(t)
	s := StartSnmpsim(t, filepath.Join(dir, "ricoh_mpc3002.snmprec"), filepath.Join(dir, "brother_hl5370dw.snmprec"))
	got := SnmpGet(t, "-v2c", "-c", "ricoh_mpc3002", "-Oqv", s.Addr, "1.3.6.1.2.1.43.5.1.1.17.1")
	if !strings.Contains(got, "W492KB03439") {
		t.Fatalf("ricoh serial = %q", got)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	for _, o := range []SnmpdOptions{
		{},
		{V3Users: []V3User{{Name: "a b"}}},
		{V3Users: []V3User{{Name: "x", AuthProtocol: "ROT13", AuthPass: "12345678"}}},
		{V3Users: []V3User{{Name: "x", AuthProtocol: "SHA", AuthPass: `ab"cdefgh`}}},
	} {
		if _, err := o.config(); err == nil {
			t.Errorf("config(%+v) accepted", o)
		}
	}
}

func TestFreePorts(t *testing.T) {
	if p := FreeUDPPort(t); p <= 0 {
		t.Fatalf("FreeUDPPort = %d", p)
	}
	if p := FreeTCPPort(t); p <= 0 {
		t.Fatalf("FreeTCPPort = %d", p)
	}
}

// TestInteropRecordingsMatchSums keeps the vendored recordings the bytes
// their SOURCES.md describes.
func TestInteropRecordingsMatchSums(t *testing.T) {
	dir := InteropDir(t)
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: malformed line %q", line)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != want {
			t.Errorf("%s: sha256 %s, SHA256SUMS says %s", name, got, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("SHA256SUMS lists no file")
	}
}
