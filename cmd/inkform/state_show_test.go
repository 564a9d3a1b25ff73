package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/state"
)

// Deployed files are shown as files, apart from the settings.
func TestStateShowsFiles(t *testing.T) {
	loc := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	st := openLoc(t, loc)
	ca := state.HashValue("3a7bd3e2")
	err := st.PutPrinter(context.Background(), state.Printer{Name: "lobby", Address: "10.0.0.7",
		Settings: map[string]string{"system.contact": state.HashValue("IT")}, Values: map[string]string{"system.contact": "IT"},
		Files: map[string]string{"ca.pem": ca}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		io := streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: []string{"NO_COLOR=1"}}
		if code := runContext(context.Background(), append(args, "-state", loc), io); code != ExitOK {
			t.Fatalf("inkform %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}

	var js struct {
		Printers []struct {
			Settings map[string]struct {
				Value *string `json:"value"`
			} `json:"settings"`
			Files map[string]string `json:"file_hashes"`
		} `json:"printers"`
	}
	if err := json.Unmarshal([]byte(run("show", "-json")), &js); err != nil {
		t.Fatal(err)
	}
	if p := js.Printers; len(p) != 1 || len(p[0].Settings) != 1 || *p[0].Settings["system.contact"].Value != "IT" || p[0].Files["ca.pem"] != ca {
		t.Errorf("show -json = %+v", p)
	}
	out := run("state", "show", "printer.lobby")
	if !strings.Contains(out, "managed settings  1\n  system.contact ") || !strings.Contains(out, "deployed files    1\n  ca.pem          "+ca+"\n") {
		t.Errorf("state show:\n%s", out)
	}
}
