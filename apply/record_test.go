package apply_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
)

// fleetFixture declares n printers whose system.contact must change.
func fleetFixture(t *testing.T, n int) *plannertest.Fleet {
	f := plannertest.NewFleet()
	for i := range n {
		name := fmt.Sprintf("p%04d", i)
		f.Printers = append(f.Printers, plannertest.Printer(name, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), plannertest.Desired("system.contact", "new")...))
		f.Conn.Add(name, plannertest.NewDevice("S-"+name, map[string]string{"system.contact": "old"}))
	}
	return f
}

func TestApplyBatchesStateWrites(t *testing.T) {
	const n = 300
	f := fleetFixture(t, n)
	p := f.Plan(t, planner.PlanOptions{})
	ap := newApplier(f)
	ap.Parallelism = n
	// Hold the first write until every printer was written to its device
	// and verified: the rest then wait together and are written in few
	// transactions.
	var once sync.Once
	f.Store.BeforePut = func() {
		once.Do(func() {
			deadline := time.Now().Add(10 * time.Second)
			for len(f.Conn.Sets()) < n && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond) // polling the fake, bounded by the deadline
			}
		})
	}
	before := f.Store.WriteCount()
	res, err := ap.Apply(context.Background(), p, f.Printers, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Printers {
		if r.Status != plans.ResultApplied {
			t.Fatalf("printer %s: %+v", r.Name, r)
		}
	}
	recorded, _ := f.Store.Printers(context.Background())
	if len(recorded) != n {
		t.Errorf("%d printers in state, want %d", len(recorded), n)
	}
	if got := len(outcomes(t, f.Store, res.RunID)); got != n {
		t.Errorf("%d outcomes, want %d", got, n)
	}
	// One write per printer and per outcome would be 600.
	if w := f.Store.WriteCount() - before; w > n/5 {
		t.Errorf("%d state writes for %d printers: not batched", w, n)
	}
}

// plainStore hides the batch methods of the store it wraps.
type plainStore struct{ state.Store }

func TestApplyWithoutBatchWritesOnePrinterAtATime(t *testing.T) {
	const n = 20
	f := fleetFixture(t, n)
	p := f.Plan(t, planner.PlanOptions{})
	ap := newApplier(f)
	ap.State = plainStore{f.Store}
	before := f.Store.WriteCount()
	res, err := ap.Apply(context.Background(), p, f.Printers, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() {
		t.Fatalf("result %+v", res)
	}
	if w := f.Store.WriteCount() - before; w != 2*n {
		t.Errorf("%d state writes, want %d (a record and an outcome per printer)", w, 2*n)
	}
	recorded, _ := f.Store.Printers(context.Background())
	if len(recorded) != n {
		t.Errorf("%d printers in state, want %d", len(recorded), n)
	}
}

func TestApplyBatchFailureFailsEveryPrinterOfTheBatch(t *testing.T) {
	f := fleetFixture(t, 10)
	p := f.Plan(t, planner.PlanOptions{})
	f.Store.PutErr = errors.New("disk full")
	res, err := newApplier(f).Apply(context.Background(), p, f.Printers, apply.Options{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	for _, r := range res.Printers {
		if r.Status == plans.ResultApplied || r.Status == plans.ResultUnchanged {
			t.Errorf("printer %s counted as %s though its record was not written", r.Name, r.Status)
		}
		if r.Status == plans.ResultFailed && !strings.Contains(r.Detail, "disk full") {
			t.Errorf("printer %s: detail %q does not say why", r.Name, r.Detail)
		}
	}
	// Printers not started after the failure are recorded as skipped;
	// none whose own record failed has an outcome.
	for _, o := range outcomes(t, f.Store, res.RunID) {
		if o.Status != plans.ResultSkipped {
			t.Errorf("outcome %+v recorded though the printer's record failed", o)
		}
	}
	runs, _ := f.Store.Runs(context.Background(), 1)
	if len(runs) != 1 || runs[0].Status != "failed" {
		t.Errorf("run = %+v", runs)
	}
}

// A verified printer is written within recordDelay even while others are
// still in flight, so a kill loses at most that much.
func TestApplyWritesAFinishedPrinterWhileOthersAreInFlight(t *testing.T) {
	f := fleetFixture(t, 2)
	release := make(chan struct{})
	p := f.Plan(t, planner.PlanOptions{})
	f.Conn.Update("p0001", func(d *plannertest.Device) {
		d.OnSet = func(ctx context.Context) error {
			<-release
			return nil
		}
	})
	done := make(chan *plans.ApplyResult, 1)
	go func() {
		res, err := newApplier(f).Apply(context.Background(), p, f.Printers, apply.Options{})
		if err != nil {
			t.Errorf("Apply: %v", err)
		}
		done <- res
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok, _ := f.Store.Printer(context.Background(), "p0000"); ok {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("p0000 not recorded while p0001 was still being written")
		}
		select {
		case <-done:
			t.Fatal("apply finished while p0001 was held")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if _, ok, _ := f.Store.Printer(context.Background(), "p0001"); ok {
		t.Error("p0001 recorded before its write finished")
	}
	close(release)
	res := <-done
	if res == nil || res.Failed() {
		t.Fatalf("result %+v", res)
	}
	if _, ok, _ := f.Store.Printer(context.Background(), "p0001"); !ok {
		t.Error("p0001 not recorded at the end")
	}
}

// outcomes returns the outcomes recorded for a run.
func outcomes(t *testing.T, st *memstate.Store, runID int64) []state.Outcome {
	t.Helper()
	out, err := st.Outcomes(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
