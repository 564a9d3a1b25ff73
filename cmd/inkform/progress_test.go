package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
)

func TestProgressShowsCountsAndETA(t *testing.T) {
	var errb bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(streams{Err: &errb, Terminal: true}, "Observing", false)
	p.now = func() time.Time { return now }
	p.update(0, 1000)
	now = now.Add(4 * time.Second)
	p.update(250, 1000)
	if got := errb.String(); !strings.Contains(got, "Observing printers: 250/1000 (25%), about 12s left") {
		t.Errorf("progress line: %q", got)
	}
	now = now.Add(116 * time.Second)
	p.update(500, 1000)
	if got := errb.String(); !strings.Contains(got, "500/1000 (50%), about 2m0s left") {
		t.Errorf("progress line: %q", got)
	}
	p.update(1000, 1000)
	if got := errb.String(); !strings.HasSuffix(got, "Observing printers: 1000/1000 (100%)") {
		t.Errorf("last line: %q", got)
	}
	if newProgress(streams{Err: &errb}, "Observing", false) != nil {
		t.Error("progress drawn off a terminal")
	}
}

// state migrate shows how far the copy got on a terminal.
func TestMigrateShowsProgress(t *testing.T) {
	f := newFixture(t, 3, simulator.Options{})
	dir := t.TempDir()
	a, b := "sqlite:"+filepath.Join(dir, "a.db"), "sqlite:"+filepath.Join(dir, "b.db")
	env := []string{"INKFORM_VAR_community=private"}
	f.mustRunEnv(env, "apply", "-auto-approve", "-state", a)
	var out, errb bytes.Buffer
	io := streams{In: strings.NewReader(""), Out: &out, Err: &errb, Terminal: true, Env: append(env, "NO_COLOR=1")}
	if code := runContext(context.Background(), []string{"state", "migrate", "-config", f.dir, "-state", a, "--to", b}, io); code != ExitOK {
		t.Fatalf("migrate: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "Copying records: 4/4 (100%)") {
		t.Errorf("progress: %q", errb.String())
	}
}
