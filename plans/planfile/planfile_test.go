package planfile

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
)

// renderAll renders p in every view; a plan read back must render as the
// plan written.
func renderAll(t *testing.T, p *plans.Plan) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, render := range map[string]func(*bytes.Buffer) error{
		"human":    func(b *bytes.Buffer) error { return views.RenderHuman(b, p, views.RenderOptions{}) },
		"json":     func(b *bytes.Buffer) error { return views.RenderJSON(b, p) },
		"markdown": func(b *bytes.Buffer) error { return views.RenderMarkdown(b, p) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b.Bytes()
	}
	return out
}

func TestPlanFileRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":        "plan",
		"other kind":      `{"kind":"terraform-plan","format_version":"1.0"}`,
		"unknown version": `{"kind":"inkform-plan","format_version":"2.0"}`,
		"bad action":      `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"destroy","status":"ready"}]}`,
		"bad status":      `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"no-op","status":"fine"}]}`,
		"duplicate":       `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"no-op","status":"ready"},{"name":"a","action":"no-op","status":"ready"}]}`,
		"clear secret":    `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"update","status":"ready","changes":[{"setting":"s","action":"update","after":"x","sensitive":true}]}]}`,
		"plain hash of a secret": `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"update","status":"ready","changes":[{"setting":"s","action":"update","sensitive":true,"after_hash":"` +
			state.HashValue("4711") + `"}]}]}`,
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "unknown version" && !strings.Contains(err.Error(), `format version "2.0" is not supported`) {
			t.Errorf("%s: unclear error %v", name, err)
		}
	}
}

func TestPlanFileWithoutPrinters(t *testing.T) {
	var file bytes.Buffer
	if err := Write(&file, &plans.Plan{ConfigHash: "sha256:cafe"}); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(file.Bytes()) {
		t.Fatalf("not JSON: %s", file.Bytes())
	}
	back, err := Read(&file)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Printers) != 0 || back.ConfigHash != "sha256:cafe" {
		t.Errorf("read back %+v", back)
	}
}

func TestPlanFileTooLarge(t *testing.T) {
	defer func(n int64) { maxPlanFile = n }(maxPlanFile)
	maxPlanFile = 64
	var file bytes.Buffer
	if err := Write(&file, &plans.Plan{ConfigHash: "sha256:" + strings.Repeat("0", 64)}); err != nil {
		t.Fatal(err)
	}
	_, err := Read(&file)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v, want a plan file that is too large", err)
	}
}

func TestPlanFileRoundTrip(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{ConfigHash: "sha256:cafe", Targets: nil})
	var file bytes.Buffer
	if err := Write(&file, p); err != nil {
		t.Fatal(err)
	}
	back, err := Read(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, back, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(plans.Plan{})); diff != "" {
		t.Errorf("plan changed through a plan file (-before +after):\n%s", diff)
	}
	before, after := renderAll(t, p), renderAll(t, back)
	for name := range before {
		if !bytes.Equal(before[name], after[name]) {
			t.Errorf("%s renders differently after a plan file round trip", name)
		}
	}
}

func TestPlanFileHoldsNoSecret(t *testing.T) {
	var file bytes.Buffer
	if err := Write(&file, plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{plannertest.SecretDesired, plannertest.SecretObserved} {
		if bytes.Contains(file.Bytes(), []byte(secret)) {
			t.Error("the plan file contains a secret")
		}
		// Nor its plain hash, which trying every value would undo.
		if bytes.Contains(file.Bytes(), []byte(strings.TrimPrefix(state.HashValue(secret), "sha256:"))) {
			t.Error("the plan file contains the plain hash of a secret")
		}
	}
}

// Firmware, files and notes survive a plan file.
func TestPlanFileKeepsDeploys(t *testing.T) {
	plan := plannertest.DeployFleet().Plan(t, planner.PlanOptions{})
	var buf bytes.Buffer
	if err := Write(&buf, plan); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Printers[0].Firmware == nil || len(plan.Printers[0].Files) == 0 || len(plan.Printers[0].Notes) == 0 {
		t.Fatalf("the fixture plans no firmware, file or note: %+v", plan.Printers[0])
	}
	if d := cmp.Diff(plan.Printers[0].Firmware, back.Printers[0].Firmware); d != "" {
		t.Errorf("firmware after a plan file (-want +got):\n%s", d)
	}
	if d := cmp.Diff(plan.Printers[0].Files, back.Printers[0].Files); d != "" {
		t.Errorf("files after a plan file (-want +got):\n%s", d)
	}
	if d := cmp.Diff(plan.Printers[0].Notes, back.Printers[0].Notes); d != "" {
		t.Errorf("notes after a plan file (-want +got):\n%s", d)
	}
}

func FuzzReadPlanFile(f *testing.F) {
	// The seed corpus is the rich plan's file plus broken variants.
	fx := plannertest.RichFleet(f)
	p, err := fx.Planner.Plan(context.Background(), fx.Printers, planner.PlanOptions{})
	if err != nil {
		f.Fatal(err)
	}
	var file bytes.Buffer
	if err := Write(&file, p); err != nil {
		f.Fatal(err)
	}
	f.Add(file.Bytes())
	f.Add(file.Bytes()[:file.Len()/2])
	f.Add([]byte(`{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"update","status":"ready","changes":[{"setting":"s","action":"adopt"}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever is accepted renders and round-trips.
		renderAll(t, p)
		var out bytes.Buffer
		if err := Write(&out, p); err != nil {
			t.Fatal(err)
		}
		again, err := Read(&out)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if diff := cmp.Diff(p, again, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(plans.Plan{})); diff != "" {
			t.Fatalf("round trip changed the plan:\n%s", diff)
		}
	})
}

// A plan file stores an observation in the one JSON form plan -json shows.
func TestPlanFileObservedAsInJSON(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})
	var file, js bytes.Buffer
	if err := Write(&file, p); err != nil {
		t.Fatal(err)
	}
	if err := views.RenderJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	type doc struct {
		Printers []struct {
			Name     string          `json:"name"`
			Observed json.RawMessage `json:"observed"`
		} `json:"printers"`
	}
	var fromFile, fromJSON doc
	if err := json.Unmarshal(file.Bytes(), &fromFile); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	observed := 0
	for i, pr := range fromFile.Printers {
		var compact bytes.Buffer
		if len(fromJSON.Printers[i].Observed) > 0 {
			if err := json.Compact(&compact, fromJSON.Printers[i].Observed); err != nil {
				t.Fatal(err)
			}
			observed++
		}
		if !bytes.Equal(pr.Observed, compact.Bytes()) {
			t.Errorf("%s: observed in the plan file\n%s\nin plan -json\n%s", pr.Name, pr.Observed, compact.Bytes())
		}
	}
	if observed == 0 {
		t.Error("no printer was observed")
	}
}

// A plan file written before observations had one JSON form (empty lists
// left out; the observation's own unsupported settings and transport,
// which the plan keeps elsewhere) still reads.
func TestPlanFileReadsEarlierObservation(t *testing.T) {
	in := `{"kind":"inkform-plan","format_version":"1.0","created_at":"2025-03-04T05:06:07Z","config_hash":"sha256:cafe",` +
		`"printers":[{"name":"a","address":"10.0.0.1:161","action":"no-op","status":"ready","transport":"snmp","unsupported":["x"],` +
		`"observed":{"model":"M","serial":"S","firmware":"F","status":"idle","page_count":7,"observed_at":"2025-03-04T05:06:00Z","unsupported":["x"],"transport":"snmp"}}]}`
	p, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &plans.Observed{
		Model: "M", Serial: "S", Firmware: "F", Status: "idle", Errors: []string{}, Supplies: []fleet.Supply{},
		PageCount: 7, ObservedAt: time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC),
	}
	if d := cmp.Diff(want, p.Printers[0].Observed); d != "" {
		t.Errorf("observed (-want +got):\n%s", d)
	}
}
