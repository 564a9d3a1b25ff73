package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "65536": 65536, "64k": 64 << 10, "64K": 64 << 10, "3M": 3 << 20, "2G": 2 << 30, " 5M ": 5 << 20,
	} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5M", "M", "12T", "10 M", "9999999999G"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, b)
		}
	}
	for n, want := range map[byteSize]string{64 << 20: "64M", 1536: "1536", 1 << 30: "1G", 1000: "1000", 3 << 10: "3k"} {
		if got := n.String(); got != want {
			t.Errorf("String(%d) = %q, want %q", n, got, want)
		}
	}
}

// -max-file-size bounds the files the configuration reads.
func TestMaxFileSizeFlag(t *testing.T) {
	dir := t.TempDir()
	cfg := "printer \"a\" {\n  address = \"192.0.2.1\"\n}\n" + strings.Repeat("# padding\n", 200)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (ExitCode, string) {
		var out bytes.Buffer
		code := runContext(context.Background(), append([]string{"validate", "-config", dir}, args...), streams{Out: &out, Err: &out})
		return code, out.String()
	}
	if code, out := run(); code != ExitOK {
		t.Fatalf("validate: exit %d\n%s", code, out)
	}
	if code, out := run("-max-file-size", "1k"); code != ExitError || !strings.Contains(out, "larger than the limit of 1024 bytes") {
		t.Errorf("validate -max-file-size 1k: exit %d\n%s", code, out)
	}
	if code, out := run("-max-file-size", "1x"); code != ExitError || !strings.Contains(out, "max-file-size") {
		t.Errorf("validate -max-file-size 1x: exit %d\n%s", code, out)
	}
}
