package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
)

// sim --from-recording serves printers answering like a real device, each
// with its own serial, and a plan of the configuration it writes reads
// them as that device.
func TestSimFromRecording(t *testing.T) {
	rec := filepath.Join(testservers.InteropDir(t), "ricoh_mpc3002.snmprec")
	dir := t.TempDir()
	hclPath := filepath.Join(dir, "fleet.hcl")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan ExitCode, 1)
	go func() {
		done <- runContext(ctx, []string{"sim", "--from-recording", rec, "--printers", "3", "--base-port", "0",
			"--services", "none", "--print-rate", "0", "--write-hcl", hclPath}, streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if !out.waitFor("ready\n", 30*time.Second) {
		t.Fatalf("sim is not ready:\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	for _, want := range []string{"W492KB034390001", "W492KB034390002", "W492KB034390003", "RICOH Aficio MP C3002"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sim output lacks %q:\n%s", want, out.String())
		}
	}

	var pout, perr strings.Builder
	code := runContext(context.Background(), []string{"plan", "-json", "-config", dir},
		streams{In: strings.NewReader(""), Out: &pout, Err: &perr, Env: []string{"NO_COLOR=1"}})
	if code != ExitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, pout.String(), perr.String())
	}
	var plan struct {
		Printers []struct {
			Observed struct {
				Vendor, Model, Firmware, Serial, Status string
				Supplies                                []json.RawMessage
			} `json:"observed"`
		} `json:"printers"`
	}
	if err := json.Unmarshal([]byte(pout.String()), &plan); err != nil {
		t.Fatalf("plan -json: %v\n%s", err, pout.String())
	}
	if len(plan.Printers) != 3 {
		t.Fatalf("%d printers planned", len(plan.Printers))
	}
	seen := map[string]bool{}
	for _, p := range plan.Printers {
		o := p.Observed
		if o.Vendor != "Ricoh" || o.Model != "RICOH Aficio MP C3002" || o.Firmware != "2.20" || o.Status != "warning" || len(o.Supplies) == 0 {
			t.Errorf("observed %+v", o)
		}
		seen[o.Serial] = true
	}
	if len(seen) != 3 {
		t.Errorf("serials %v: not one per printer", seen)
	}
}
