package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/fleet"
)

// prerendered lists, per golden file, the plan options that prepare its view.
var prerendered = map[string]PlanOptions{
	"rich.txt":       {Prerender: ViewHuman},
	"rich-color.txt": {Prerender: ViewHuman, PrerenderOptions: RenderOptions{Color: true}},
	"rich.json":      {Prerender: ViewJSON},
}

func TestPrerenderedGolden(t *testing.T) {
	for _, r := range renderings {
		o, ok := prerendered[r.golden]
		if !ok {
			continue
		}
		t.Run(r.golden, func(t *testing.T) {
			o.ConfigHash = "sha256:cafe"
			p := richFixture(t).plan(t, o)
			if p.prepared(o.Prerender, o.PrerenderOptions) == nil {
				t.Fatal("Plan prepared no pieces")
			}
			var b bytes.Buffer
			if err := r.render(&b, p); err != nil {
				t.Fatal(err)
			}
			golden(t, r.golden, b.Bytes())
		})
	}
}

// The pieces are really what is written: a marked piece shows up.
func TestPrerenderedPiecesAreUsed(t *testing.T) {
	p := richFixture(t).plan(t, PlanOptions{Prerender: ViewHuman})
	pieces := p.prepared(ViewHuman, RenderOptions{})
	i := indexOf(t, p, "hq-3f")
	pieces[i] = []byte("  MARK\n")
	var b bytes.Buffer
	if err := RenderHuman(&b, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte("  MARK\n")) || bytes.Contains(b.Bytes(), []byte(`printer "hq-3f"`)) {
		t.Fatalf("prepared piece not used:\n%s", b.Bytes())
	}
	// Other options or another view render from the model.
	for name, render := range map[string]func(*bytes.Buffer) error{
		"color": func(b *bytes.Buffer) error { return RenderHuman(b, p, RenderOptions{Color: true}) },
		"json":  func(b *bytes.Buffer) error { return RenderJSON(b, p) },
	} {
		b.Reset()
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b.Bytes(), []byte("MARK")) {
			t.Errorf("%s: used pieces prepared for another view", name)
		}
	}
}

// A plan whose printers changed afterwards renders from the model.
func TestPrerenderedInvalidation(t *testing.T) {
	render := func(p *Plan) string {
		var b bytes.Buffer
		if err := RenderHuman(&b, p, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	fresh := func() *Plan { return richFixture(t).plan(t, PlanOptions{Prerender: ViewHuman}) }

	// A printer added or removed: another slice.
	p := fresh()
	p.Printers = p.Printers[1:]
	if p.prepared(ViewHuman, RenderOptions{}) != nil {
		t.Error("pieces kept for a shorter Printers slice")
	}
	p = fresh()
	p.Printers = append([]PrinterPlan(nil), p.Printers...)
	if p.prepared(ViewHuman, RenderOptions{}) != nil {
		t.Error("pieces kept for a copied Printers slice")
	}

	// Edited in place, after DropRendered.
	p = fresh()
	i := indexOf(t, p, "hq-3f")
	p.DropRendered()
	p.Printers[i].Address = "10.99.99.99"
	plain := richFixture(t).plan(t, PlanOptions{})
	plain.Printers[indexOf(t, plain, "hq-3f")].Address = "10.99.99.99"
	if got, want := render(p), render(plain); got != want {
		t.Errorf("edited plan (-want +got):\n%s", cmp.Diff(want, got))
	}
}

// A refresh-only plan prepares no human blocks (it shows none), and a
// plan's forgotten printers (not observed) are rendered at the end.
func TestPrerenderedRefreshOnlyAndTargets(t *testing.T) {
	p := richFixture(t).plan(t, PlanOptions{Prerender: ViewHuman, RefreshOnly: true})
	if p.rendered != nil {
		t.Error("refresh-only plan prepared human blocks")
	}
	for _, view := range []View{ViewHuman, ViewJSON} {
		o := PlanOptions{Prerender: view, Targets: []string{"printer.old-*", "printer.hq-*"}}
		got := richFixture(t).plan(t, o)
		want := richFixture(t).plan(t, PlanOptions{Targets: o.Targets})
		pieces := got.prepared(view, RenderOptions{})
		if pieces == nil || pieces[indexOf(t, got, "old-lobby")] != nil || pieces[indexOf(t, got, "hq-3f")] == nil {
			t.Fatalf("view %d: want pieces for observed printers only", view)
		}
		for _, r := range renderings {
			var g, w bytes.Buffer
			if err := r.render(&g, got); err != nil {
				t.Fatal(err)
			}
			if err := r.render(&w, want); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(w.String(), g.String()); d != "" {
				t.Errorf("view %d, %s (-want +got):\n%s", view, r.golden, d)
			}
		}
	}
}

// RenderJSON writes piece by piece what encoding/json writes for the
// whole jsonPlan, for plans of any size, including none.
func TestRenderJSONMatchesEncoder(t *testing.T) {
	rich := richFixture(t).plan(t, PlanOptions{ConfigHash: "sha256:cafe", Targets: nil})
	targeted := richFixture(t).plan(t, PlanOptions{Targets: []string{"printer.lab-1"}})
	empty := &Plan{FormatVersion: FormatVersion, Targets: []string{"printer.<&>"}}
	for name, p := range map[string]*Plan{"rich": rich, "targeted": targeted, "empty": empty} {
		var got, want bytes.Buffer
		if err := RenderJSON(&got, p); err != nil {
			t.Fatal(err)
		}
		out := jsonPlan{
			FormatVersion: FormatVersion, CreatedAt: p.CreatedAt, ConfigHash: p.ConfigHash,
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

func indexOf(t *testing.T, p *Plan, name string) int {
	t.Helper()
	for i := range p.Printers {
		if p.Printers[i].Name == name {
			return i
		}
	}
	t.Fatalf("no printer %s in the plan", name)
	return -1
}

// BenchmarkRenderHuman10k renders a 10,000-printer plan of 21 adoptions
// each, from the model and from prepared pieces.
func BenchmarkRenderHuman10k(b *testing.B) {
	f := newFixture(b)
	for i := range 10000 {
		name := fmt.Sprintf("p%05d", i)
		var want []fleet.Desired
		got := map[string]string{}
		for s := range 21 {
			want = append(want, fleet.Desired{Name: fmt.Sprintf("s.%02d", s), Value: "v"})
			got[fmt.Sprintf("s.%02d", s)] = "v"
		}
		f.printers = append(f.printers, printer(name, "10.0.0.1", want...))
		f.conn.Add(name, device("S"+name, got))
	}
	for _, view := range []View{ViewNone, ViewHuman} {
		p, err := f.planner.Plan(b.Context(), f.printers, PlanOptions{Prerender: view})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("view=%d", view), func(b *testing.B) {
			for b.Loop() {
				var out bytes.Buffer
				if err := RenderHuman(&out, p, RenderOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
