package views

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/state"
)

func historyFixture() ([]RunEntry, []PrinterEvent) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	ok := state.Run{ID: 2, Command: "apply", User: "ana", Host: "ci-9", GitCommit: "0123456789abcdef", ConfigHash: "sha256:fedcba9876543210",
		StartedAt: at, FinishedAt: at.Add(time.Minute), Status: state.RunOK}
	dead := state.Run{ID: 1, Command: "apply", User: "bo", Host: "lab", StartedAt: at.Add(-time.Hour), Status: state.RunRunning}
	applied := state.Outcome{Printer: "lobby", Status: "applied", Changes: 2, At: at.Add(time.Second),
		Changed: map[string]string{"system.location": "sha256:2", "system.contact": "sha256:1"}}
	failed := state.Outcome{Printer: "lobby", Status: "failed", Detail: "timeout\n  after 3 tries", At: at.Add(-time.Hour)}
	runs := []RunEntry{
		{Run: ok, Status: state.RunOK, Outcomes: []state.Outcome{applied, {Printer: "hall", Status: "unchanged"}}},
		{Run: dead, Status: state.RunAbandoned, Outcomes: []state.Outcome{failed}},
	}
	events := []PrinterEvent{
		{PrinterEvent: state.PrinterEvent{Run: ok, Outcome: applied}, RunStatus: state.RunOK},
		{PrinterEvent: state.PrinterEvent{Run: dead, Outcome: failed}, RunStatus: state.RunAbandoned},
	}
	return runs, events
}

func TestRenderHistory(t *testing.T) {
	runs, events := historyFixture()
	var b bytes.Buffer
	if err := RenderRuns(&b, runs); err != nil {
		t.Fatal(err)
	}
	want := "RUN  STARTED               FINISHED              COMMAND  STATUS     BY        COMMIT      CONFIG        PRINTERS\n" +
		"2    2025-03-04T05:06:07Z  2025-03-04T05:07:07Z  apply    ok         ana@ci-9  0123456789  fedcba987654  1 applied, 1 unchanged\n" +
		"1    2025-03-04T04:06:07Z  -                     apply    abandoned  bo@lab    -           -             1 failed\n"
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("runs (-want +got):\n%s", d)
	}
	b.Reset()
	if err := RenderPrinterHistory(&b, "lobby", events); err != nil {
		t.Fatal(err)
	}
	want = "# printer.lobby\n" +
		"RUN  AT                    COMMAND            RESULT   BY        COMMIT      CHANGED                         DETAIL\n" +
		"2    2025-03-04T05:06:08Z  apply              applied  ana@ci-9  0123456789  system.contact,system.location  -\n" +
		"1    2025-03-04T04:06:07Z  apply (abandoned)  failed   bo@lab    -           -                               timeout after 3 tries\n"
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("printer history (-want +got):\n%s", d)
	}
	b.Reset()
	if err := RenderRuns(&b, nil); err != nil || b.String() != "No runs recorded.\n" {
		t.Errorf("no runs: %q, %v", b.String(), err)
	}
}

func TestRenderHistoryJSON(t *testing.T) {
	runs, events := historyFixture()
	var b bytes.Buffer
	if err := RenderRunsJSON(&b, runs[1:]); err != nil {
		t.Fatal(err)
	}
	want := `{
  "format_version": "1.0",
  "runs": [
    {
      "id": 1,
      "command": "apply",
      "status": "abandoned",
      "user": "bo",
      "host": "lab",
      "git_commit": "",
      "config_hash": "",
      "started_at": "2025-03-04T04:06:07Z",
      "printers": {
        "failed": 1
      }
    }
  ]
}
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("runs (-want +got):\n%s", d)
	}
	b.Reset()
	if err := RenderPrinterHistoryJSON(&b, "lobby", events[:1]); err != nil {
		t.Fatal(err)
	}
	want = `{
  "format_version": "1.0",
  "printer": "lobby",
  "events": [
    {
      "run_id": 2,
      "at": "2025-03-04T05:06:08Z",
      "command": "apply",
      "run_status": "ok",
      "status": "applied",
      "user": "ana",
      "host": "ci-9",
      "git_commit": "0123456789abcdef",
      "changes": 2,
      "changed": [
        "system.contact",
        "system.location"
      ],
      "detail": ""
    }
  ]
}
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("printer history (-want +got):\n%s", d)
	}
	b.Reset()
	if err := RenderRunsJSON(&b, nil); err != nil || b.String() != "{\n  \"format_version\": \"1.0\",\n  \"runs\": []\n}\n" {
		t.Errorf("no runs: %q, %v", b.String(), err)
	}
}
