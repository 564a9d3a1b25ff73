package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/state"
)

func TestRenderState(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	key, err := state.NewKey(strings.Repeat("k", state.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	printers := []state.Printer{
		{Name: "a", Address: "10.0.0.1:161", Serial: "S1", Model: "M", Firmware: "F", ObservedAt: at, AppliedAt: at,
			// In clear, sensitive, and recorded by an inkform that kept hashes only.
			Settings: map[string]string{"system.location": state.HashValue("HQ \x1b[31m"), "system.contact": "", "system.name": key.Hash("4711")},
			Values:   map[string]string{"system.location": "HQ \x1b[31m"}},
		{Name: "b", Address: "10.0.0.2:161"},
	}
	var human, js bytes.Buffer
	if err := RenderState(&human, printers); err != nil {
		t.Fatal(err)
	}
	if err := RenderStateJSON(&js, printers); err != nil {
		t.Fatal(err)
	}
	// Each record is aligned on its own.
	wantHuman := "# printer.a\naddress            10.0.0.1:161\nserial             S1\nmodel              M\nfirmware           F\n" +
		"observed           2025-03-04T04:06:07Z\napplied            2025-03-04T04:06:07Z\nmanaged settings   3\n" +
		"  system.contact   (not recorded)\n  system.location  \"HQ \\x1b[31m\"\n  system.name      (sensitive)\n" +
		"\n" +
		"# printer.b\naddress           10.0.0.2:161\nserial            \nmodel             \nfirmware          \n" +
		"observed          never\napplied           never\nmanaged settings  0\n"
	if d := cmp.Diff(wantHuman, human.String()); d != "" {
		t.Errorf("human (-want +got):\n%s", d)
	}
	wantJSON := `{
  "format_version": "1.2",
  "printers": [
    {
      "name": "a",
      "address": "10.0.0.1:161",
      "serial": "S1",
      "model": "M",
      "firmware": "F",
      "observed_at": "2025-03-04T04:06:07Z",
      "applied_at": "2025-03-04T04:06:07Z",
      "settings": {
        "system.contact": {
          "value": null,
          "sensitive": false
        },
        "system.location": {
          "value": "HQ \u001b[31m",
          "sensitive": false
        },
        "system.name": {
          "value": null,
          "sensitive": true
        }
      }
    },
    {
      "name": "b",
      "address": "10.0.0.2:161",
      "serial": "",
      "model": "",
      "firmware": "",
      "observed_at": "never",
      "applied_at": "never",
      "settings": {}
    }
  ]
}
`
	if d := cmp.Diff(wantJSON, js.String()); d != "" {
		t.Errorf("JSON (-want +got):\n%s", d)
	}
	for _, out := range []string{human.String(), js.String()} {
		if strings.Contains(out, "sha256:") {
			t.Errorf("a setting's hash is shown:\n%s", out)
		}
	}
}

func TestRenderRecordAndListJSON(t *testing.T) {
	p := state.Printer{Name: "lobby", Address: "10.0.0.7", Settings: map[string]string{"system.contact": "sha256:1"},
		Values: map[string]string{"system.contact": "IT x4000"}}
	var b bytes.Buffer
	if err := RenderRecordJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	want := `{
  "format_version": "1.2",
  "printer": {
    "name": "lobby",
    "address": "10.0.0.7",
    "serial": "",
    "model": "",
    "firmware": "",
    "observed_at": "never",
    "applied_at": "never",
    "settings": {
      "system.contact": {
        "value": "IT x4000",
        "sensitive": false
      }
    }
  }
}
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("state show -json (-want +got):\n%s", d)
	}
	b.Reset()
	if err := RenderPrinterListJSON(&b, []state.Printer{p}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"format_version\": \"1.2\",\n  \"printers\": [\n    {\n      \"name\": \"lobby\"\n    }\n  ]\n}\n"; b.String() != want {
		t.Errorf("state list -json:\n%s", b.String())
	}
	b.Reset()
	if err := RenderPrinterList(&b, []state.Printer{p, {Name: "hall"}}); err != nil || b.String() != "printer.lobby\nprinter.hall\n" {
		t.Errorf("state list: %q, %v", b.String(), err)
	}
}
