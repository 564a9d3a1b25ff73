package observer_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/providers"
)

// Each printer's observation reaches fn once, with its index, its declared
// settings and the session's transport; an unreachable printer comes with
// its error.
func TestObserve(t *testing.T) {
	conn := plannertest.NewConnector()
	var printers []fleet.Printer
	for i := range 20 {
		name := fmt.Sprintf("p%02d", i)
		printers = append(printers, fleet.Printer{Name: name, Settings: []fleet.Desired{{Name: "system.contact"}}})
		if i != 7 {
			conn.Add(name, plannertest.Device{Observation: fleet.Observation{Serial: "S-" + name, Settings: map[string]string{"system.contact": name}}})
		}
	}
	var mu sync.Mutex
	got := map[int]observer.Result{}
	var progress []int
	o := &observer.Observer{Connector: conn, Limits: observer.Limits{Parallelism: 3}, Progress: func(done, total int) {
		if total != len(printers) {
			t.Errorf("progress total %d, want %d", total, len(printers))
		}
		progress = append(progress, done) // serialised by Observe
	}}
	o.Observe(context.Background(), printers, func(i int, r observer.Result) {
		mu.Lock()
		defer mu.Unlock()
		if _, seen := got[i]; seen {
			t.Errorf("printer %d handed over twice", i)
		}
		got[i] = r
	})
	if len(got) != len(printers) || len(progress) != len(printers) || progress[len(progress)-1] != len(printers) {
		t.Fatalf("%d results, progress %v; want %d of each", len(got), progress, len(printers))
	}
	for i, r := range got {
		name := printers[i].Name
		if i == 7 {
			if !errors.Is(r.Err, providers.ErrUnreachable) {
				t.Errorf("%s: err = %v, want unreachable", name, r.Err)
			}
			continue
		}
		if r.Err != nil || r.Transport != "snmp" || r.Observation.Serial != "S-"+name || r.Observation.Settings["system.contact"] != name {
			t.Errorf("%s: %+v", name, r)
		}
	}
}

// Once ctx ends no printer is started.
func TestObserveCancelled(t *testing.T) {
	conn := plannertest.NewConnector()
	printers := make([]fleet.Printer, 10)
	for i := range printers {
		printers[i].Name = fmt.Sprint(i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := &observer.Observer{Connector: conn}
	o.Observe(ctx, printers, func(i int, r observer.Result) { t.Errorf("printer %d observed after cancellation", i) })
	for _, p := range printers {
		if n := conn.Observes(p.Name); n != 0 {
			t.Errorf("%s observed %d times", p.Name, n)
		}
	}
}

// alertSession reads the alert table only when asked through
// ObserveAlerts.
type alertSession struct{ providers.Session }

func (alertSession) Observe(context.Context, []string) (fleet.Observation, error) {
	return fleet.Observation{Serial: "S"}, nil
}
func (alertSession) ObserveAlerts(context.Context, []string) (fleet.Observation, error) {
	return fleet.Observation{Serial: "S", AlertsRead: true}, nil
}
func (alertSession) Transport() string { return "snmp" }
func (alertSession) Close() error      { return nil }

// With Alerts set the observer asks for the alert table; without, it
// does not (what plans use).
func TestObserveAlerts(t *testing.T) {
	conn := providers.ConnectorFunc(func(context.Context, fleet.Printer) (providers.Session, error) { return alertSession{}, nil })
	for _, want := range []bool{false, true} {
		o := &observer.Observer{Connector: conn, Alerts: want}
		o.Observe(context.Background(), []fleet.Printer{{Name: "p"}}, func(_ int, r observer.Result) {
			if r.Err != nil || r.Observation.AlertsRead != want {
				t.Errorf("Alerts %v: %+v", want, r)
			}
		})
	}
}
