package simulator

import (
	"slices"
	"testing"
	"time"
)

func TestAlertTableInStep(t *testing.T) {
	p := newPrinter(0, 3, time.Now(), nil)
	if _, ok := p.Get(".1.3.6.1.2.1.43.18.1.1.7.1.1"); ok {
		t.Fatal("a new printer has an alert row")
	}
	jam := Alert{Severity: SeverityCritical, Group: GroupInput, GroupIndex: 2, Code: CodeJam, Description: "Paper jam in Tray 2"}
	p.RaiseAlert(jam)
	p.RaiseAlert(jam) // the same jam again is still one alert
	for oid, want := range map[string]any{
		".1.3.6.1.2.1.43.18.1.1.1.1.1": 1,
		".1.3.6.1.2.1.43.18.1.1.2.1.1": SeverityCritical,
		".1.3.6.1.2.1.43.18.1.1.4.1.1": GroupInput,
		".1.3.6.1.2.1.43.18.1.1.5.1.1": 2,
		".1.3.6.1.2.1.43.18.1.1.7.1.1": CodeJam,
		".1.3.6.1.2.1.43.5.1.1.19.1":   uint32(1),
		".1.3.6.1.2.1.43.5.1.1.18.1":   uint32(1),
	} {
		got, ok := p.Get(oid)
		if !ok || got.Value != want {
			t.Errorf("%s = %v (%v), want %v", oid, got.Value, ok, want)
		}
	}
	if d, _ := p.Get(".1.3.6.1.2.1.43.18.1.1.8.1.1"); string(d.Value.([]byte)) != "Paper jam in Tray 2" {
		t.Errorf("description %q", d.Value)
	}
	if _, ok := p.Get(".1.3.6.1.2.1.43.18.1.1.7.1.2"); ok {
		t.Error("a second row appeared")
	}
	if e, _ := p.Get(OIDHrPrinterErrors); e.Value.([]byte)[0]&0x04 == 0 {
		t.Errorf("error state %x without jammed", e.Value)
	}
	if err := p.Set(".1.3.6.1.2.1.43.18.1.1.7.1.1", 3); err == nil {
		t.Error("the alert table was set directly")
	}

	if !p.ClearAlert(CodeJam, GroupInput, 2) || p.ClearAlert(CodeJam, GroupInput, 2) {
		t.Error("ClearAlert: want true once, then false")
	}
	if _, ok := p.Get(".1.3.6.1.2.1.43.18.1.1.7.1.1"); ok {
		t.Error("the cleared jam is still in the table")
	}
	if e, _ := p.Get(OIDHrPrinterErrors); e.Value.([]byte)[0]&0x04 != 0 {
		t.Errorf("error state %x still jammed", e.Value)
	}
}

// Toner runs low, then out, as pages print: the table and the error bits
// follow.
func TestTonerAlertsAsPagesPrint(t *testing.T) {
	p := newPrinter(1, 3, time.Now(), nil)
	s := p.lay.supplies[0]
	p.mu.Lock()
	capacity := p.vals[s.max].(int)
	p.vals[s.level] = capacity/10 + 2
	p.refreshLocked()
	p.mu.Unlock()
	if len(p.Alerts()) != 0 {
		t.Fatalf("alerts before printing: %+v", p.Alerts())
	}
	p.PrintPages(2)
	if a := p.Alerts(); len(a) != 1 || a[0].Code != CodeTonerLow || a[0].Severity != SeverityWarning || a[0].GroupIndex != 1 {
		t.Fatalf("after printing down to 10%%: %+v", a)
	}
	p.PrintPages(capacity)
	if a := p.Alerts(); len(a) != 1 || a[0].Code != CodeTonerEmpty || a[0].Severity != SeverityCritical {
		t.Fatalf("after printing it out: %+v", a)
	}
	if e, _ := p.Get(OIDHrPrinterErrors); e.Value.([]byte)[0]&0x10 == 0 {
		t.Errorf("error state %x without noToner", e.Value)
	}
}

// The alerts a fleet makes follow from the seed.
func TestAlertStepDeterministic(t *testing.T) {
	run := func(seed int64) [][]Alert {
		s, err := Start(t.Context(), Options{Printers: 4, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var out [][]Alert
		for range 40 {
			s.AlertStep()
		}
		for _, p := range s.Printers() {
			a := p.Alerts()
			for i := range a {
				a[i].at = 0
			}
			out = append(out, a)
		}
		return out
	}
	a, b := run(7), run(7)
	if !slices.EqualFunc(a, b, func(x, y []Alert) bool { return slices.Equal(x, y) }) {
		t.Errorf("two runs with one seed differ:\n%+v\n%+v", a, b)
	}
	total := 0
	for _, x := range a {
		total += len(x)
	}
	if total == 0 {
		t.Error("40 steps left no alert active")
	}
}
