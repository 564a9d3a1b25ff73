package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A silence set before watch ever ran (maintenance planned ahead) is kept:
// it creates the state rather than being stored in a throwaway one; the
// commands that only read do not create it.
func TestAlertsSilenceBeforeWatch(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("printer \"lab-1\" {\n  address = \"127.0.0.1\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, ExitCode) {
		var out bytes.Buffer
		code := runContext(context.Background(), append(args, "-config", dir), streams{In: strings.NewReader(""), Out: &out, Err: &out})
		return out.String(), code
	}
	if out, code := run("alerts", "silences"); code != ExitOK || !strings.Contains(out, "No state yet") {
		t.Errorf("alerts silences without state: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "inkform.db")); !os.IsNotExist(err) {
		t.Errorf("reading made the state: %v", err)
	}
	if out, code := run("alerts", "silence", "printer.lab-1", "--for", "2h", "--comment", "move"); code != ExitOK || !strings.HasPrefix(out, "Silence 1 until") {
		t.Fatalf("alerts silence: exit %d\n%s", code, out)
	}
	if out, code := run("alerts", "silences"); code != ExitOK || !strings.Contains(out, "lab-1") || !strings.Contains(out, "move") {
		t.Errorf("the silence was not kept: exit %d\n%s", code, out)
	}
}

// alerts test without any route says so, rather than listing no names.
func TestAlertsTestNoRoutes(t *testing.T) {
	dir := t.TempDir()
	src := "smtp {\n  host = \"127.0.0.1\"\n  port = 2525\n  encryption = \"none\"\n  from = \"a@example.test\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := runContext(context.Background(), []string{"alerts", "test", "jams", "-config", dir}, streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != ExitError || !strings.Contains(errb.String(), `no alert_route "jams": the configuration has no alert_route blocks`) {
		t.Errorf("exit %d: %s%s", code, out.String(), errb.String())
	}
}
