//go:build unix

package hcl

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadWithin runs Load and fails the test, instead of hanging it, when Load
// does not return: reading a fifo or a device must never block.
func loadWithin(t *testing.T, path string, opts LoadOptions) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		_, diags := Load(path, opts)
		done <- diagText(diags)
	}()
	select {
	case got := <-done:
		return got
	case <-time.After(30 * time.Second):
		t.Fatalf("Load(%s) did not return", path)
		return ""
	}
}

const minimalPrinter = "printer \"p\" {\n  address = \"127.0.0.1\"\n}\n"

func TestLoadRefusesSpecialFiles(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	tests := []struct {
		name  string
		setup func(dir string) (path string, opts LoadOptions)
		want  string
	}{
		{"config symlinked to a device", func(dir string) (string, LoadOptions) {
			must(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.hcl")))
			return dir, LoadOptions{}
		}, "zero.hcl is a device, not a regular file"},
		{"config that is a fifo", func(dir string) (string, LoadOptions) {
			must(t, syscall.Mkfifo(filepath.Join(dir, "pipe.hcl"), 0o600))
			return dir, LoadOptions{}
		}, "pipe.hcl is a named pipe, not a regular file"},
		{"var file that is a fifo", func(dir string) (string, LoadOptions) {
			must(t, syscall.Mkfifo(filepath.Join(dir, "vars.pipe"), 0o600))
			return dir, LoadOptions{VarFiles: []string{filepath.Join(dir, "vars.pipe")}}
		}, "vars.pipe is a named pipe, not a regular file"},
		{"var file symlinked to a device", func(dir string) (string, LoadOptions) {
			must(t, os.Symlink("/dev/zero", filepath.Join(dir, "vars.zero")))
			return dir, LoadOptions{VarFiles: []string{filepath.Join(dir, "vars.zero")}}
		}, "vars.zero is a device, not a regular file"},
		{"file() of a device", func(dir string) (string, LoadOptions) {
			must(t, os.WriteFile(filepath.Join(dir, "c.hcl"), []byte("locals {\n  z = file(\"/dev/zero\")\n}\n"), 0o600))
			return dir, LoadOptions{}
		}, "/dev/zero is a device, not a regular file"},
		{"config larger than the limit", func(dir string) (string, LoadOptions) {
			must(t, os.WriteFile(filepath.Join(dir, "big.hcl"), []byte(minimalPrinter+strings.Repeat("# padding\n", 100)), 0o600))
			return dir, LoadOptions{MaxFileSize: 512}
		}, "big.hcl is larger than the limit of 512 bytes"},
		{"firmware image that is a fifo", func(dir string) (string, LoadOptions) {
			must(t, syscall.Mkfifo(filepath.Join(dir, "fw.fls"), 0o600))
			must(t, os.WriteFile(filepath.Join(dir, "c.hcl"), []byte(`firmware "f" {
  models  = ["X*"]
  version = "1"
  file    = "fw.fls"
  sha256  = "`+strings.Repeat("0", 64)+`"
}
`), 0o600))
			return dir, LoadOptions{}
		}, "fw.fls is a named pipe, not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(minimalPrinter), 0o600))
			path, opts := tc.setup(dir)
			got := loadWithin(t, path, opts)
			if !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics do not say %q:\n%s", tc.want, got)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
