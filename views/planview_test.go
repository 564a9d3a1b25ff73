package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
)

// viewOf lists, per golden file, the view that renders it.
var viewOf = map[string]func() *PlanView{
	"rich.txt":       func() *PlanView { return NewPlanView(Human, RenderOptions{}) },
	"rich-color.txt": func() *PlanView { return NewPlanView(Human, RenderOptions{Color: true}) },
	"rich.json":      func() *PlanView { return NewPlanView(JSON, RenderOptions{}) },
	"rich.md":        func() *PlanView { return NewPlanView(Markdown, RenderOptions{}) },
}

func TestPlanViewGolden(t *testing.T) {
	for name, newView := range viewOf {
		t.Run(name, func(t *testing.T) {
			v := newView()
			p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{ConfigHash: "sha256:cafe", OnPrinter: v.OnPrinter})
			if len(v.parts) == 0 && v.format != Markdown {
				t.Fatal("the view prepared no parts")
			}
			var b bytes.Buffer
			if err := v.Render(&b, p); err != nil {
				t.Fatal(err)
			}
			golden(t, name, b.Bytes())
		})
	}
}

// The parts are really what is written: a marked part shows up.
func TestPlanViewPartsAreUsed(t *testing.T) {
	v := NewPlanView(Human, RenderOptions{})
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{OnPrinter: v.OnPrinter})
	v.parts["hq-3f"] = []byte("  MARK\n")
	var b bytes.Buffer
	if err := v.Render(&b, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte("  MARK\n")) || bytes.Contains(b.Bytes(), []byte(`printer "hq-3f"`)) {
		t.Fatalf("prepared part not used:\n%s", b.Bytes())
	}
	// The plan itself holds no rendering.
	b.Reset()
	if err := RenderHuman(&b, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("MARK")) {
		t.Error("RenderHuman used a view's part")
	}
}

// A view renders the printers it was not handed from the model: those of
// a plan changed since, and printers only in state.
func TestPlanViewRendersTheRestFromTheModel(t *testing.T) {
	for _, f := range []Format{Human, JSON} {
		v := NewPlanView(f, RenderOptions{})
		got := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{OnPrinter: v.OnPrinter})
		want := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})
		if _, ok := v.parts["old-lobby"]; ok {
			t.Errorf("format %d: a part for a printer only in state", f)
		}
		if _, ok := v.parts["hq-3f"]; !ok {
			t.Errorf("format %d: no part for an observed printer", f)
		}
		// Printers dropped and one only in the model.
		got.Printers, want.Printers = got.Printers[2:], want.Printers[2:]
		extra := plans.PrinterPlan{Name: "zz-new", Address: "10.9.9.9:161", Action: plans.Adopt, Status: plans.StatusReady, Observed: &plans.Observed{Errors: []string{}, Supplies: []fleet.Supply{}}}
		got.Printers, want.Printers = append(got.Printers, extra), append(want.Printers, extra)
		var g, w bytes.Buffer
		if err := v.Render(&g, got); err != nil {
			t.Fatal(err)
		}
		if err := NewPlanView(f, RenderOptions{}).Render(&w, want); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(w.String(), g.String()); d != "" {
			t.Errorf("format %d (-want +got):\n%s", f, d)
		}
	}
}

// A refresh-only plan shows no printer blocks, so the human view prepares
// none; with targets, only the observed printers are prepared.
func TestPlanViewRefreshOnlyAndTargets(t *testing.T) {
	v := NewPlanView(Human, RenderOptions{})
	plannertest.RichFleet(t).Plan(t, planner.PlanOptions{OnPrinter: v.OnPrinter, RefreshOnly: true})
	if len(v.parts) != 0 {
		t.Errorf("refresh-only plan prepared %d human blocks", len(v.parts))
	}
	for _, f := range []Format{Human, JSON} {
		v := NewPlanView(f, RenderOptions{})
		o := planner.PlanOptions{OnPrinter: v.OnPrinter, Targets: []string{"printer.old-*", "printer.hq-*"}}
		got := plannertest.RichFleet(t).Plan(t, o)
		want := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{Targets: o.Targets})
		if len(v.parts) != 2 {
			t.Errorf("format %d: %d parts, want hq-2f-east and hq-3f only", f, len(v.parts))
		}
		var g, w bytes.Buffer
		if err := v.Render(&g, got); err != nil {
			t.Fatal(err)
		}
		if err := NewPlanView(f, RenderOptions{}).Render(&w, want); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(w.String(), g.String()); d != "" {
			t.Errorf("format %d (-want +got):\n%s", f, d)
		}
	}
}

// RenderJSON writes piece by piece what encoding/json writes for the
// whole jsonPlan, for plans of any size, including none.
func TestRenderJSONMatchesEncoder(t *testing.T) {
	rich := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{ConfigHash: "sha256:cafe", Targets: nil})
	targeted := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{Targets: []string{"printer.lab-1"}})
	empty := &plans.Plan{FormatVersion: plans.FormatVersion, Targets: []string{"printer.<&>"}}
	for name, p := range map[string]*plans.Plan{"rich": rich, "targeted": targeted, "empty": empty} {
		var got, want bytes.Buffer
		if err := RenderJSON(&got, p); err != nil {
			t.Fatal(err)
		}
		out := jsonPlan{
			FormatVersion: plans.FormatVersion, CreatedAt: p.CreatedAt, ConfigHash: p.ConfigHash,
			RefreshOnly: p.RefreshOnly, Targets: p.Targets, Printers: []jsonPrinter{},
			Summary: p.Summary(), HasChanges: p.HasChanges(),
		}
		for i := range p.Printers {
			out.Printers = append(out.Printers, jsonPrinterOf(&p.Printers[i]))
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want.String(), got.String()); d != "" {
			t.Errorf("%s (-encoder +RenderJSON):\n%s", name, d)
		}
	}
}

// BenchmarkRenderHuman10k renders a 10,000-printer plan of 21 adoptions
// each, from the model and from the parts a PlanView prepared.
func BenchmarkRenderHuman10k(b *testing.B) {
	f := plannertest.NewFleet()
	for i := range 10000 {
		name := fmt.Sprintf("p%05d", i)
		var want []fleet.Desired
		got := map[string]string{}
		for s := range 21 {
			want = append(want, fleet.Desired{Name: fmt.Sprintf("s.%02d", s), Value: "v"})
			got[fmt.Sprintf("s.%02d", s)] = "v"
		}
		f.Printers = append(f.Printers, plannertest.Printer(name, fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&0xff, i&0xff), want...))
		f.Conn.Add(name, plannertest.NewDevice("S"+name, got))
	}
	for _, prepare := range []bool{false, true} {
		v := NewPlanView(Human, RenderOptions{})
		o := planner.PlanOptions{}
		if prepare {
			o.OnPrinter = v.OnPrinter
		}
		p, err := f.Planner.Plan(b.Context(), f.Printers, o)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("prepared=%v", prepare), func(b *testing.B) {
			for b.Loop() {
				var out bytes.Buffer
				if err := v.Render(&out, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
