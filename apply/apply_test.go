package apply_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
)

// newApplier applies plans to f's devices and records them in f's state.
func newApplier(f *plannertest.Fleet) *apply.Applier {
	return &apply.Applier{
		Connector: f.Conn, State: f.Store, Catalog: catalog.Default(),
		Now: func() time.Time { return plannertest.Now },
	}
}

// applyPlan applies p to f.
func applyPlan(t *testing.T, f *plannertest.Fleet, ctx context.Context, p *plans.Plan) *plans.ApplyResult {
	t.Helper()
	res, err := newApplier(f).Apply(ctx, p, f.Printers, apply.Options{Run: state.Run{User: "ci"}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

func results(r *plans.ApplyResult) map[string]plans.PrinterResult {
	out := map[string]plans.PrinterResult{}
	for _, p := range r.Printers {
		out[p.Name] = p
	}
	return out
}

func TestApplyRichThenPlanIsEmpty(t *testing.T) {
	f := plannertest.RichFleet(t)
	p := f.Plan(t, planner.PlanOptions{})
	res := applyPlan(t, f, context.Background(), p)
	got := results(res)
	want := map[string]string{
		"hq-2f-east": plans.ResultApplied, "hq-3f": plans.ResultApplied, "lab-1": plans.ResultSkipped, "lab-2": plans.ResultSkipped,
		"lab-3": plans.ResultApplied, "lab-4": plans.ResultSkipped, "old-lobby": plans.ResultApplied, "quiet": plans.ResultUnchanged,
	}
	for name, st := range want {
		if got[name].Status != st {
			t.Errorf("%s: %s (%s), want %s", name, got[name].Status, got[name].Detail, st)
		}
	}
	if res.Failed() {
		t.Error("Failed() = true")
	}

	// Devices hold the desired values; only what differed was written.
	if v, _ := f.Conn.Value("hq-2f-east", "system.name"); v != plannertest.SecretDesired {
		t.Errorf("system.name = %q", v)
	}
	var writes []string
	for _, s := range f.Conn.Sets() {
		for _, v := range s.Values {
			writes = append(writes, s.Printer+" "+v.Name)
		}
	}
	slices.Sort(writes)
	wantWrites := []string{"hq-2f-east system.contact", "hq-2f-east system.location", "hq-2f-east system.name", "hq-3f system.location"}
	if !slices.Equal(writes, wantWrites) {
		t.Errorf("writes = %q, want %q", writes, wantWrites)
	}
	// A written printer is observed once by the plan, then checked before
	// and after the write (status and supplies are not read again); one
	// with nothing to write is not read again at all.
	if o, c := f.Conn.Observes("hq-2f-east"), f.Conn.Checks("hq-2f-east"); o != 3 || c != 2 {
		t.Errorf("hq-2f-east: %d observations of which %d checks; want 3 and 2", o, c)
	}
	if o := f.Conn.Observes("quiet"); o != 1 {
		t.Errorf("quiet: %d observations; want 1", o)
	}

	// State: forgotten printer gone, every declared setting hashed.
	ctx := context.Background()
	if _, ok, _ := f.Store.Printer(ctx, "old-lobby"); ok {
		t.Error("old-lobby still in state")
	}
	east, ok, _ := f.Store.Printer(ctx, "hq-2f-east")
	key, _ := f.Store.ValueKey()
	if !ok || east.Settings["system.name"] != key.Hash(plannertest.SecretDesired) || len(east.Settings) != 3 || east.Serial != "7531A2B" {
		t.Errorf("hq-2f-east state = %+v", east)
	}
	// Values in clear, but the sensitive one.
	if want := map[string]string{"system.contact": "IT Service Desk x4000", "system.location": "HQ 2F East"}; !maps.Equal(east.Values, want) {
		t.Errorf("hq-2f-east values = %v, want %v", east.Values, want)
	}
	lab3, _, _ := f.Store.Printer(ctx, "lab-3")
	if _, ok := lab3.Settings["system.location"]; ok {
		t.Error("lab-3 still records system.location")
	}
	if _, ok := lab3.Settings["paper.default_size"]; ok {
		t.Error("lab-3 records an unsupported setting")
	}
	runs, _ := f.Store.Runs(ctx, 1)
	if len(runs) != 1 || runs[0].Status != "ok" || runs[0].Command != "apply" || runs[0].User != "ci" {
		t.Errorf("run = %+v", runs)
	}
	if n := len(outcomes(t, f.Store, res.RunID)); n != len(p.Printers) {
		t.Errorf("%d outcomes recorded, want %d", n, len(p.Printers))
	}

	// The next plan has nothing left to do for the reachable printers.
	again := f.Plan(t, planner.PlanOptions{})
	if again.HasChanges() {
		var b bytes.Buffer
		_ = views.RenderHuman(&b, again, views.RenderOptions{})
		t.Errorf("plan after apply has changes:\n%s", b.String())
	}
}

func TestApplyVerifyFailure(t *testing.T) {
	f := plannertest.NewFleet()
	plain := plannertest.Printer("plain", "10.0.0.1", plannertest.Desired("system.contact", "new")...)
	secret := plannertest.Printer("secret", "10.0.0.2", fleet.Desired{Name: "system.name", Value: plannertest.SecretDesired, Sensitive: true})
	f.Printers = []fleet.Printer{plain, secret}
	for _, n := range []string{"plain", "secret"} {
		d := plannertest.NewDevice("S-"+n, map[string]string{"system.contact": "old", "system.name": plannertest.SecretObserved})
		d.Ignore = map[string]bool{"system.contact": true, "system.name": true}
		f.Conn.Add(n, d)
	}
	res := applyPlan(t, f, context.Background(), f.Plan(t, planner.PlanOptions{}))
	got := results(res)
	if r := got["plain"]; r.Status != plans.ResultFailed || r.Detail != `system.contact reads back "old", expected "new"` {
		t.Errorf("plain: %+v", r)
	}
	if r := got["secret"]; r.Status != plans.ResultFailed || strings.Contains(r.Detail, "s3cr3t") || !strings.Contains(r.Detail, "(sensitive)") {
		t.Errorf("secret: %+v", r)
	}
	if !res.Failed() {
		t.Error("Failed() = false")
	}
	// Nothing unverified is recorded.
	if ps, _ := f.Store.Printers(context.Background()); len(ps) != 0 {
		t.Errorf("state holds %d printers", len(ps))
	}
	var b bytes.Buffer
	if err := views.RenderApplyResult(&b, res, views.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "s3cr3t") || !strings.Contains(b.String(), "Apply finished with failures: 2 failed.") {
		t.Errorf("apply result:\n%s", b.String())
	}
}

func TestApplyStaleRefusesOnlyChangedPrinter(t *testing.T) {
	f := plannertest.NewFleet()
	for i, n := range []string{"a", "b"} {
		f.Printers = append(f.Printers, plannertest.Printer(n, fmt.Sprintf("10.0.0.%d", i+1), plannertest.Desired("system.contact", "new", "system.location", "here")...))
		f.Conn.Add(n, plannertest.NewDevice("S-"+n, map[string]string{"system.contact": "old", "system.location": "here"}))
	}
	p := f.Plan(t, planner.PlanOptions{})
	// Someone edits b's location (a no-op in the plan) after the plan.
	f.Conn.Update("b", func(d *plannertest.Device) { d.Observation.Settings["system.location"] = "elsewhere" })

	got := results(applyPlan(t, f, context.Background(), p))
	if got["a"].Status != plans.ResultApplied {
		t.Errorf("a: %+v", got["a"])
	}
	if r := got["b"]; r.Status != plans.ResultStale || r.Detail != "observed system.location changed since the plan; run plan again" {
		t.Errorf("b: %+v", r)
	}
	for _, s := range f.Conn.Sets() {
		if s.Printer == "b" {
			t.Error("stale printer was written")
		}
	}
	if v, _ := f.Conn.Value("b", "system.contact"); v != "old" {
		t.Errorf("b contact = %q", v)
	}

	// A different device now answers for a.
	f2 := plannertest.NewFleet()
	f2.Printers = f.Printers[:1]
	f2.Conn.Add("a", plannertest.NewDevice("S-a", map[string]string{"system.contact": "old", "system.location": "here"}))
	p2 := f2.Plan(t, planner.PlanOptions{})
	f2.Conn.Update("a", func(d *plannertest.Device) { d.Observation.Serial = "OTHER" })
	if r := results(applyPlan(t, f2, context.Background(), p2))["a"]; r.Status != plans.ResultStale || !strings.Contains(r.Detail, "serial") {
		t.Errorf("swapped device: %+v", r)
	}
}

func TestApplyConfigChanged(t *testing.T) {
	tests := []struct {
		name   string
		change func(ps []fleet.Printer) []fleet.Printer
	}{
		{"value edited", func(ps []fleet.Printer) []fleet.Printer {
			ps[0].Settings = plannertest.Desired("system.contact", "newer", "system.location", "here")
			return ps
		}},
		{"no-op setting edited", func(ps []fleet.Printer) []fleet.Printer {
			ps[0].Settings = plannertest.Desired("system.contact", "new", "system.location", "there")
			return ps
		}},
		{"setting added", func(ps []fleet.Printer) []fleet.Printer {
			ps[0].Settings = plannertest.Desired("system.contact", "new", "system.location", "here", "system.name", "n")
			return ps
		}},
		{"printer removed", func(ps []fleet.Printer) []fleet.Printer { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := plannertest.NewFleet()
			f.Printers = []fleet.Printer{plannertest.Printer("a", "10.0.0.1", plannertest.Desired("system.contact", "new", "system.location", "here")...)}
			f.Conn.Add("a", plannertest.NewDevice("S", map[string]string{"system.contact": "old", "system.location": "here", "system.name": ""}))
			p := f.Plan(t, planner.PlanOptions{})
			f.Printers = tt.change(f.Printers)
			r := results(applyPlan(t, f, context.Background(), p))["a"]
			if r.Status != plans.ResultFailed || !strings.Contains(r.Detail, "configuration changed since the plan was made") {
				t.Errorf("result %+v", r)
			}
			if len(f.Conn.Sets()) != 0 {
				t.Error("device written")
			}
		})
	}
}

func TestApplyCancelMidway(t *testing.T) {
	f := plannertest.NewFleet()
	names := []string{"a", "b", "c", "d"}
	entered := make(chan struct{})
	release := make(chan struct{})
	for i, n := range names {
		f.Printers = append(f.Printers, plannertest.Printer(n, fmt.Sprintf("10.0.0.%d", i+1), plannertest.Desired("system.contact", "new")...))
		d := plannertest.NewDevice("S-"+n, map[string]string{"system.contact": "old"})
		if n == "c" {
			d.OnSet = func(ctx context.Context) error {
				close(entered)
				<-release
				return nil
			}
		}
		f.Conn.Add(n, d)
	}
	p := f.Plan(t, planner.PlanOptions{})
	ap := newApplier(f)
	ap.Parallelism = 1 // printers start in order, one at a time

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *plans.ApplyResult, 1)
	errc := make(chan error, 1)
	go func() {
		res, err := ap.Apply(ctx, p, f.Printers, apply.Options{})
		errc <- err
		done <- res
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("write to c never started")
	}
	cancel()
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := results(<-done)
	for _, n := range []string{"a", "b", "c"} {
		if got[n].Status != plans.ResultApplied {
			t.Errorf("%s: %+v", n, got[n])
		}
	}
	if r := got["d"]; r.Status != plans.ResultSkipped || r.Detail != "cancelled" {
		t.Errorf("d: %+v", r)
	}

	bg := context.Background()
	recorded, _ := f.Store.Printers(bg)
	var inState []string
	for _, r := range recorded {
		inState = append(inState, r.Name)
	}
	if !slices.Equal(inState, []string{"a", "b", "c"}) {
		t.Errorf("state holds %q", inState)
	}
	runs, _ := f.Store.Runs(bg, 1)
	if runs[0].Status != "cancelled" {
		t.Errorf("run status %q", runs[0].Status)
	}

	// The next plan shows exactly what is left.
	next := f.Plan(t, planner.PlanOptions{})
	var left []string
	for _, pp := range next.Printers {
		if pp.Action != plans.NoOp {
			left = append(left, pp.Name)
		}
	}
	if !slices.Equal(left, []string{"d"}) {
		t.Errorf("left to do: %q", left)
	}
}

func TestApplySetFailureRecordsNothing(t *testing.T) {
	f := plannertest.NewFleet()
	f.Printers = []fleet.Printer{plannertest.Printer("a", "10.0.0.1", plannertest.Desired("system.contact", "new")...)}
	d := plannertest.NewDevice("S", map[string]string{"system.contact": "old"})
	d.SetErr = errors.New("snmp set: notWritable")
	f.Conn.Add("a", d)
	r := results(applyPlan(t, f, context.Background(), f.Plan(t, planner.PlanOptions{})))["a"]
	if r.Status != plans.ResultFailed || !strings.Contains(r.Detail, "notWritable") {
		t.Errorf("result %+v", r)
	}
	if _, ok, _ := f.Store.Printer(context.Background(), "a"); ok {
		t.Error("failed printer recorded")
	}
}

func TestApplyStateUnusable(t *testing.T) {
	f := plannertest.NewFleet()
	f.Printers = []fleet.Printer{plannertest.Printer("a", "10.0.0.1", plannertest.Desired("system.contact", "new")...)}
	f.Conn.Add("a", plannertest.NewDevice("S", map[string]string{"system.contact": "old"}))
	p := f.Plan(t, planner.PlanOptions{})
	f.Store.PutErr = errors.New("disk full")
	res, err := newApplier(f).Apply(context.Background(), p, f.Printers, apply.Options{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if res == nil || res.Printers[0].Status != plans.ResultFailed {
		t.Errorf("result %+v", res)
	}
}

func TestApplyRefreshOnly(t *testing.T) {
	f := plannertest.NewFleet()
	f.Printers = []fleet.Printer{
		plannertest.Printer("a", "10.0.0.1", plannertest.Desired("system.contact", "new")...),
		plannertest.Printer("b", "10.0.0.2", plannertest.Desired("system.contact", "new")...),
	}
	d := plannertest.NewDevice("S-a", map[string]string{"system.contact": "old"})
	d.Observation.Firmware = "NEW.FW"
	f.Conn.Add("a", d)
	f.Conn.Add("b", plannertest.NewDevice("S-b", map[string]string{"system.contact": "old"}))
	prior := plannertest.Managed("a", "10.0.0.1:161", "system.contact")
	f.Put(t, prior)

	res := applyPlan(t, f, context.Background(), f.Plan(t, planner.PlanOptions{RefreshOnly: true}))
	if len(f.Conn.Sets()) != 0 {
		t.Error("refresh-only apply wrote a device")
	}
	got, _, _ := f.Store.Printer(context.Background(), "a")
	if got.Firmware != "NEW.FW" || got.Serial != "S-a" || got.Settings["system.contact"] != prior.Settings["system.contact"] {
		t.Errorf("state = %+v", got)
	}
	if _, ok, _ := f.Store.Printer(context.Background(), "b"); ok {
		t.Error("refresh-only apply adopted b")
	}
	if res.Failed() {
		t.Error("Failed() = true")
	}
}

func TestRenderApplyResult(t *testing.T) {
	r := &plans.ApplyResult{Printers: []plans.PrinterResult{
		{Name: "a", Status: plans.ResultApplied, Changes: 2},
		{Name: "b", Status: plans.ResultUnchanged},
		{Name: "c", Status: plans.ResultStale, Detail: "observed system.contact changed since the plan; run plan again"},
		{Name: "d", Status: plans.ResultSkipped, Detail: "cancelled\x1b[2J"},
	}}
	var b bytes.Buffer
	if err := views.RenderApplyResult(&b, r, views.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `printer.a: applied (2 changes)
printer.c: stale: observed system.contact changed since the plan; run plan again
printer.d: skipped: cancelled\x1b[2J

Apply finished with failures: 1 applied, 1 unchanged, 1 stale, 1 skipped.
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// A printer's count of changes is the settings written, as its run's
// history lists them: a value already set on the device, a setting
// forgotten and a printer forgotten write nothing.
func TestApplyCountsWhatHistoryLists(t *testing.T) {
	f := plannertest.RichFleet(t)
	res := applyPlan(t, f, context.Background(), f.Plan(t, planner.PlanOptions{}))
	got := results(res)
	for name, want := range map[string]int{"hq-2f-east": 3, "hq-3f": 1, "lab-3": 0, "old-lobby": 0, "quiet": 0} {
		if got[name].Changes != want {
			t.Errorf("%s: %d changes, want %d", name, got[name].Changes, want)
		}
	}
	for _, o := range outcomes(t, f.Store, res.RunID) {
		if o.Changes != len(o.Changed) {
			t.Errorf("%s: outcome counts %d changes and lists %d: %v", o.Printer, o.Changes, len(o.Changed), o.Changed)
		}
	}
}
