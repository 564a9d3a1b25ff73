package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/inkform/inkform/plans"
)

func TestDriftAndForEachNames(t *testing.T) {
	p := &plans.Plan{Printers: []plans.PrinterPlan{{
		Name: `branch["branch-a"]`, Address: "10.0.0.1:161", Transport: "snmp", Action: plans.Update, Status: plans.StatusReady,
		Changes: []plans.Change{{
			Setting: "system.location", Action: plans.Update, Before: "Basement", After: "HQ 2F",
			BeforeHash: "h1", AfterHash: "h2", Transport: "snmp", Drift: true,
		}},
		Unsupported:    []string{"paper.default_size"},
		UnsupportedWhy: map[string]string{"paper.default_size": "no route over snmp; add pjl or http to transports"},
	}}}
	var human, md, js bytes.Buffer
	if err := RenderHuman(&human, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	if err := RenderJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`~ printer.branch["branch-a"] {`,
		`~ system.location = "Basement" -> "HQ 2F" (changed on the device)`,
		`! printer.branch["branch-a"] does not support: paper.default_size (no route over snmp; add pjl or http to transports)`,
	} {
		if !strings.Contains(human.String(), want) {
			t.Errorf("human plan lacks %q:\n%s", want, human.String())
		}
	}
	for _, want := range []string{
		`! printer.branch["branch-a"] {`,
		`!     system.location = "Basement" -> "HQ 2F" (changed on the device)`,
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown plan lacks %q:\n%s", want, md.String())
		}
	}
	if !strings.Contains(md.String(), "| paper.default\\_size (no route over snmp; add pjl or http to transports) |") {
		t.Errorf("Markdown plan lacks the reason:\n%s", md.String())
	}
	if !strings.Contains(js.String(), `"paper.default_size": "no route over snmp; add pjl or http to transports"`) {
		t.Errorf("JSON plan lacks the reason:\n%s", js.String())
	}
	if !strings.Contains(js.String(), `"drift": true`) {
		t.Errorf("JSON plan lacks the drift mark:\n%s", js.String())
	}
}

// A reason that repeats the printer and its address is shown without
// them: the line says them already.
func TestReasonWithoutRepeatedName(t *testing.T) {
	p := &plans.Plan{Printers: []plans.PrinterPlan{{
		Name: `office["sim-001"]`, Address: "127.0.0.1:52426", Status: plans.StatusUnreachable,
		Reason: `printer office["sim-001"] (127.0.0.1:52426): no SNMP answer after 2 attempts of 1s`,
	}}}
	var human, md bytes.Buffer
	if err := RenderHuman(&human, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	want := `! printer.office["sim-001"] (127.0.0.1:52426) is unreachable: no SNMP answer after 2 attempts of 1s (skipped)`
	if !strings.Contains(human.String(), want) {
		t.Errorf("human plan lacks %q:\n%s", want, human.String())
	}
	if strings.Contains(md.String(), "printer office") {
		t.Errorf("Markdown repeats the printer:\n%s", md.String())
	}
}
