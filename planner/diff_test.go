package planner_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
)

func TestDiffRules(t *testing.T) {
	const name = "p"
	tests := []struct {
		name       string
		inState    bool     // printer recorded
		recorded   []string // settings recorded
		observed   map[string]string
		desired    []fleet.Desired
		wantAction plans.Action // printer
		want       map[string]plans.Action
		wantWrites int
		unchanged  int
	}{
		{
			name:       "new printer, value differs",
			observed:   map[string]string{"system.contact": "a"},
			desired:    plannertest.Desired("system.contact", "b"),
			wantAction: plans.Adopt, want: map[string]plans.Action{"system.contact": plans.Adopt}, wantWrites: 1,
		},
		{
			name:       "new printer, value already right: adopt without write",
			observed:   map[string]string{"system.contact": "b"},
			desired:    plannertest.Desired("system.contact", "b"),
			wantAction: plans.Adopt, want: map[string]plans.Action{"system.contact": plans.Adopt},
		},
		{
			name:       "new printer with no settings is still adopted",
			wantAction: plans.Adopt, want: map[string]plans.Action{},
		},
		{
			name:    "managed, differs: update",
			inState: true, recorded: []string{"system.contact"},
			observed:   map[string]string{"system.contact": "a"},
			desired:    plannertest.Desired("system.contact", "b"),
			wantAction: plans.Update, want: map[string]plans.Action{"system.contact": plans.Update}, wantWrites: 1,
		},
		{
			name:    "managed, equal: no-op",
			inState: true, recorded: []string{"system.contact"},
			observed:   map[string]string{"system.contact": "b"},
			desired:    plannertest.Desired("system.contact", "b"),
			wantAction: plans.NoOp, want: map[string]plans.Action{}, unchanged: 1,
		},
		{
			name:    "managed printer, new setting: adopt",
			inState: true, recorded: []string{"system.contact"},
			observed:   map[string]string{"system.contact": "b", "system.location": "x"},
			desired:    plannertest.Desired("system.contact", "b", "system.location", "y"),
			wantAction: plans.Update, want: map[string]plans.Action{"system.location": plans.Adopt}, wantWrites: 1, unchanged: 1,
		},
		{
			name:    "managed printer, new setting already right: nothing to do",
			inState: true, recorded: []string{"system.contact"},
			observed:   map[string]string{"system.contact": "b", "system.location": "y"},
			desired:    plannertest.Desired("system.contact", "b", "system.location", "y"),
			wantAction: plans.NoOp, want: map[string]plans.Action{}, unchanged: 2,
		},
		{
			name:    "managed printer, new setting already right beside a write: adopt without write",
			inState: true, recorded: []string{"system.contact"},
			observed:   map[string]string{"system.contact": "a", "system.location": "y"},
			desired:    plannertest.Desired("system.contact", "b", "system.location", "y"),
			wantAction: plans.Update, want: map[string]plans.Action{"system.contact": plans.Update, "system.location": plans.Adopt}, wantWrites: 1,
		},
		{
			name:    "setting removed from configuration: forget, no write",
			inState: true, recorded: []string{"system.contact", "system.location"},
			observed:   map[string]string{"system.contact": "b", "system.location": "x"},
			desired:    plannertest.Desired("system.contact", "b"),
			wantAction: plans.Update, want: map[string]plans.Action{"system.location": plans.Forget}, unchanged: 1,
		},
		{
			name:    "unsupported setting is reported, not changed",
			inState: true, recorded: []string{"system.contact"},
			observed:   map[string]string{"system.contact": "b"},
			desired:    plannertest.Desired("system.contact", "b", "paper.default_size", "A4"),
			wantAction: plans.NoOp, want: map[string]plans.Action{}, unchanged: 1,
		},
		{
			name:       "values compared byte for byte",
			observed:   map[string]string{"system.contact": "IT "},
			desired:    plannertest.Desired("system.contact", "IT"),
			wantAction: plans.Adopt, want: map[string]plans.Action{"system.contact": plans.Adopt}, wantWrites: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := plannertest.NewFleet()
			f.Printers = []fleet.Printer{plannertest.Printer(name, "10.0.0.1", tt.desired...)}
			f.Conn.Add(name, plannertest.NewDevice("S", tt.observed))
			if tt.inState {
				f.Put(t, plannertest.Managed(name, "10.0.0.1:161", tt.recorded...))
			}
			p := f.Plan(t, planner.PlanOptions{})
			if len(p.Printers) != 1 {
				t.Fatalf("got %d printers", len(p.Printers))
			}
			pp := p.Printers[0]
			if pp.Status != plans.StatusReady {
				t.Fatalf("status %s: %s", pp.Status, pp.Reason)
			}
			if pp.Action != tt.wantAction {
				t.Errorf("printer action = %v, want %v", pp.Action, tt.wantAction)
			}
			got := map[string]plans.Action{}
			for _, c := range pp.Changes {
				if c.Action == plans.Adopt && !c.Write() {
					// Adopted without a write: counted as adopt, never written.
					if c.Before != c.After {
						t.Errorf("%s: adopt without write but values differ", c.Setting)
					}
				}
				got[c.Setting] = c.Action
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: action %v, want %v", k, got[k], v)
				}
			}
			for k := range got {
				if _, ok := tt.want[k]; !ok {
					t.Errorf("unexpected change of %s (%v)", k, got[k])
				}
			}
			if w := pp.Writes(); w != tt.wantWrites {
				t.Errorf("writes = %d, want %d", w, tt.wantWrites)
			}
			if pp.Unchanged != tt.unchanged {
				t.Errorf("unchanged = %d, want %d", pp.Unchanged, tt.unchanged)
			}
			if !slices.IsSortedFunc(pp.Changes, func(a, b plans.Change) int { return strings.Compare(a.Setting, b.Setting) }) {
				t.Error("changes not sorted")
			}
		})
	}
}

func TestRichPlanStatuses(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})
	want := map[string]plans.PrinterStatus{
		"hq-2f-east": plans.StatusReady, "hq-3f": plans.StatusReady, "lab-1": plans.StatusUnreachable, "lab-2": plans.StatusMismatch,
		"lab-3": plans.StatusReady, "lab-4": plans.StatusError, "old-lobby": plans.StatusForgotten, "quiet": plans.StatusReady,
	}
	var names []string
	for _, pp := range p.Printers {
		names = append(names, pp.Name)
		if pp.Status != want[pp.Name] {
			t.Errorf("%s: status %s, want %s", pp.Name, pp.Status, want[pp.Name])
		}
		if pp.Status != plans.StatusReady && pp.Status != plans.StatusForgotten && len(pp.Changes) > 0 {
			t.Errorf("%s: %s printer has changes", pp.Name, pp.Status)
		}
	}
	if !slices.IsSorted(names) || len(names) != len(want) {
		t.Errorf("printers = %v", names)
	}
	s := p.Summary()
	// hq-3f's contact, already set on the device, is not counted.
	if s != (plans.Summary{AdoptPrinters: 1, UpdatePrinters: 2, ForgetPrinters: 1, Adopt: 2, Update: 2, Forget: 2, PrintersChanged: 4, Checked: 4, NotChecked: 3, Unreachable: 1, Mismatch: 1, Errors: 1, Unsupported: 1}) {
		t.Errorf("summary = %+v", s)
	}
	if !p.HasChanges() {
		t.Error("HasChanges = false")
	}
}

func TestSerialPin(t *testing.T) {
	tests := []struct {
		pin, observed string
		wantReason    string // "" = ready
	}{
		{"", "anything", ""},
		{"7531A2B", "7531A2B", ""},
		{" 7531a2b", "7531A2B  ", ""},
		{"7531A2B", "99X", `serial mismatch: pinned "7531A2B", device reports "99X"`},
		{"7531A2B", "  ", `serial mismatch: pinned "7531A2B", device reports no serial`},
		{"7531A2B", "99X\x1b[2J", `serial mismatch: pinned "7531A2B", device reports "99X\x1b[2J"`},
	}
	for _, tt := range tests {
		f := plannertest.NewFleet()
		p := plannertest.Printer("p", "10.0.0.1", plannertest.Desired("system.contact", "new")...)
		p.Serial = tt.pin
		f.Printers = []fleet.Printer{p}
		f.Conn.Add("p", plannertest.NewDevice(tt.observed, map[string]string{"system.contact": "old"}))
		pp := f.Plan(t, planner.PlanOptions{}).Printers[0]
		if tt.wantReason == "" {
			if pp.Status != plans.StatusReady {
				t.Errorf("pin %q, device %q: %s %s", tt.pin, tt.observed, pp.Status, pp.Reason)
			}
			continue
		}
		if pp.Status != plans.StatusMismatch || pp.Reason != tt.wantReason || len(pp.Changes) != 0 || pp.Action != plans.NoOp {
			t.Errorf("pin %q, device %q: got %s %q with %d changes", tt.pin, tt.observed, pp.Status, pp.Reason, len(pp.Changes))
		}
	}
}

func TestTargets(t *testing.T) {
	f := plannertest.NewFleet()
	for i, n := range []string{"hq-1", "hq-2", `fleet["a"]`, `fleet["b"]`, "lab"} {
		f.Printers = append(f.Printers, plannertest.Printer(n, fmt.Sprintf("10.0.0.%d", i+1)))
		f.Conn.Add(n, plannertest.NewDevice("S-"+n, nil))
	}
	f.Put(t, plannertest.Managed("hq-old", "10.0.0.9:161", "system.contact"))
	tests := []struct {
		targets []string
		want    []string
		wantErr string
	}{
		{nil, []string{`fleet["a"]`, `fleet["b"]`, "hq-1", "hq-2", "hq-old", "lab"}, ""},
		{[]string{"printer.hq-*"}, []string{"hq-1", "hq-2", "hq-old"}, ""},
		{[]string{`printer.fleet["a"]`}, []string{`fleet["a"]`}, ""},
		{[]string{"printer.fleet*", "printer.lab"}, []string{`fleet["a"]`, `fleet["b"]`, "lab"}, ""},
		{[]string{"printer.nope"}, nil, `target "printer.nope" matches no printer`},
		{[]string{"hq-1"}, nil, "expected printer.NAME; did you mean printer.hq-1?"},
		{[]string{"printer.lbb"}, nil, "did you mean printer.lab?"},
		{[]string{"printer.hq-3"}, nil, "did you mean printer.hq-1 or printer.hq-2?"},
		// What a shell leaves of printer.fleet["a"] written unquoted.
		{[]string{"printer.fleet[a]"}, nil, `quote the whole target, as in -target 'printer.branch["branch-a"]'`},
		{[]string{"printer.[x"}, nil, "syntax error in pattern"},
	}
	for _, tt := range tests {
		p, err := f.Planner.Plan(context.Background(), f.Printers, planner.PlanOptions{Targets: tt.targets})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.targets, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.targets, err)
			continue
		}
		var got []string
		for _, pp := range p.Printers {
			got = append(got, pp.Name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: printers %q, want %q", tt.targets, got, tt.want)
		}
	}
	// Only targeted printers are observed.
	if n := f.Conn.Observes("lab"); n != 2 {
		t.Errorf("lab observed %d times, want 2", n)
	}
}

func TestPlanProgressAndParallelism(t *testing.T) {
	f := plannertest.NewFleet()
	for i, n := range []string{"a", "b", "c", "d", "e"} {
		f.Printers = append(f.Printers, plannertest.Printer(n, fmt.Sprintf("10.0.0.%d", i+1), plannertest.Desired("system.contact", "x")...))
		f.Conn.Add(n, plannertest.NewDevice("S-"+n, map[string]string{"system.contact": "y"}))
	}
	var mu sync.Mutex
	var calls [][2]int
	f.Planner.Observer.Parallelism = 2
	f.Planner.Observer.Progress = func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, [2]int{done, total})
	}
	f.Plan(t, planner.PlanOptions{})
	if len(calls) != 5 {
		t.Fatalf("progress called %d times", len(calls))
	}
	for i, c := range calls {
		if c != [2]int{i + 1, 5} {
			t.Errorf("call %d = %v", i, c)
		}
	}
}

func TestPlanCancelled(t *testing.T) {
	f := plannertest.RichFleet(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Planner.Plan(ctx, f.Printers, planner.PlanOptions{}); err == nil {
		t.Fatal("cancelled plan returned no error")
	}
}

func TestRefreshOnlyPlan(t *testing.T) {
	f := plannertest.RichFleet(t)
	p := f.Plan(t, planner.PlanOptions{RefreshOnly: true})
	if p.HasChanges() {
		t.Error("refresh-only plan has changes")
	}
	for _, pp := range p.Printers {
		if len(pp.Changes) > 0 || pp.Action != plans.NoOp {
			t.Errorf("%s: %v with %d changes", pp.Name, pp.Action, len(pp.Changes))
		}
		if pp.Status == plans.StatusForgotten {
			t.Errorf("%s: forgotten in a refresh-only plan", pp.Name)
		}
	}
}

// The printers are observed while the state is read: the state read here
// finishes only once a printer has been observed.
func TestPlanObservesWhileReadingState(t *testing.T) {
	f := plannertest.NewFleet()
	observed := make(chan struct{})
	var once sync.Once
	f.Printers = append(f.Printers, plannertest.Printer("a", "10.0.0.1", plannertest.Desired("system.contact", "new")...))
	d := plannertest.NewDevice("S-a", map[string]string{"system.contact": "old"})
	d.OnObserve = func() { once.Do(func() { close(observed) }) }
	f.Conn.Add("a", d)
	f.Put(t, plannertest.Managed("a", "10.0.0.1:161", "system.contact"))
	f.Store.BeforePrinters = func(ctx context.Context) error {
		select {
		case <-observed:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("no printer was observed while the state was being read")
		}
	}
	p := f.Plan(t, planner.PlanOptions{})
	if a := p.Printers[0]; a.Action != plans.Update || len(a.Changes) != 1 || a.Changes[0].Action != plans.Update {
		t.Errorf("a: %+v; want an update against the recorded state", a)
	}
}

// A state that cannot be read fails the plan with that error, and stops
// the observation.
func TestPlanStateReadFails(t *testing.T) {
	f := plannertest.NewFleet()
	for i := range 50 {
		name := fmt.Sprintf("p%02d", i)
		f.Printers = append(f.Printers, plannertest.Printer(name, fmt.Sprintf("10.0.0.%d", i+1), plannertest.Desired("system.contact", "new")...))
		f.Conn.Add(name, plannertest.NewDevice("S-"+name, map[string]string{"system.contact": "old"}))
	}
	f.Store.BeforePrinters = func(context.Context) error { return errors.New("disk on fire") }
	_, err := f.Planner.Plan(context.Background(), f.Printers, planner.PlanOptions{})
	if err == nil || err.Error() != "read state: disk on fire" {
		t.Fatalf("Plan = %v, want read state: disk on fire", err)
	}
	// With targets the state is needed first, and the error is the same.
	_, err = f.Planner.Plan(context.Background(), f.Printers, planner.PlanOptions{Targets: []string{"printer.p01"}})
	if err == nil || err.Error() != "read state: disk on fire" {
		t.Fatalf("Plan with targets = %v, want read state: disk on fire", err)
	}
}

// A value changed on the device since inkform applied it is drift; a
// value changed in the configuration is not.
func TestDriftIsMarked(t *testing.T) {
	f := plannertest.NewFleet()
	f.Conn.Add("p", plannertest.NewDevice("S-p", map[string]string{
		"system.contact": "someone at the panel", "system.location": "old",
	}))
	f.Put(t, plannertest.Managed("p", "10.0.0.1:161", "system.contact", "system.location"))
	f.Printers = []fleet.Printer{plannertest.Printer("p", "10.0.0.1",
		plannertest.Desired("system.contact", "recorded system.contact", "system.location", "new")...)}
	p, err := f.Planner.Plan(context.Background(), f.Printers, planner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	drift := map[string]bool{}
	for _, c := range p.Printers[0].Changes {
		drift[c.Setting] = c.Drift
	}
	if !drift["system.contact"] || drift["system.location"] {
		t.Errorf("drift = %v, want system.contact only", drift)
	}
}
