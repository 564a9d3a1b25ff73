package apply_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
	"github.com/inkform/inkform/views"
)

// stuckUpload is a session whose uploads never finish, as with a server
// that trickles its greeting: SendFile returns only when ctx ends, as the
// transports do.
type stuckUpload struct {
	*deploySession
	entered chan struct{} // closed when the first upload starts
}

func (s *stuckUpload) SendFile(ctx context.Context, f fleet.File, _ func(int64)) (string, error) {
	select {
	case <-s.entered:
	default:
		close(s.entered)
	}
	<-ctx.Done()
	return "ftp", fmt.Errorf("printer %s (%s:21): ftp: greeting: %w", s.p.Name, s.p.Host, ctx.Err())
}

// stuckFixture is p1 and p2, each due a file and a setting; p1's upload
// never finishes.
func stuckFixture(t *testing.T) (*apply.Applier, *memstate.Store, *plans.Plan, []fleet.Printer, chan struct{}) {
	t.Helper()
	df := newDeployFleet()
	st := memstate.New()
	dir := t.TempDir()
	var printers []fleet.Printer
	for i, name := range []string{"p1", "p2"} {
		df.add(name, "Lexmark CX725", "CXTPC.230.037", map[string]string{"system.contact": "old"})
		p := plannertest.Printer(name, fmt.Sprintf("10.0.0.%d", i+1), plannertest.Desired("system.contact", "new")...)
		p.Files = []fleet.File{writeFile(t, dir, name+".pem", "cert of "+name, "ftp")}
		printers = append(printers, p)
	}
	entered := make(chan struct{})
	conn := providers.ConnectorFunc(func(ctx context.Context, p fleet.Printer) (providers.Session, error) {
		s, _ := df.Connect(ctx, p)
		if p.Name == "p1" {
			return &stuckUpload{deploySession: s.(*deploySession), entered: entered}, nil
		}
		return s, nil
	})
	limits := observer.Limits{Parallelism: 1} // p1 first, then p2
	pl := &planner.Planner{Observer: observer.Observer{Connector: conn, Limits: limits}, State: st, Catalog: catalog.Default()}
	plan, err := pl.Plan(context.Background(), printers, planner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ap := &apply.Applier{Connector: conn, State: st, Catalog: catalog.Default(), Limits: limits}
	return ap, st, plan, printers, entered
}

// applyBounded runs Apply and fails the test if it does not return within
// a generous bound: a stuck printer would hold it forever.
func applyBounded(t *testing.T, ctx context.Context, ap *apply.Applier, plan *plans.Plan, printers []fleet.Printer) *plans.ApplyResult {
	t.Helper()
	type outcome struct {
		res *plans.ApplyResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := ap.Apply(ctx, plan, printers, apply.Options{})
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatalf("Apply: %v", o.err)
		}
		return o.res
	case <-time.After(30 * time.Second):
		t.Fatal("Apply still running after 30s: a stuck upload holds it")
	}
	return nil
}

// A printer whose upload never ends fails at its deadline, naming the
// timeout, the printer and the transport; the rest of the fleet applies.
func TestPrinterTimeoutEndsAStuckUpload(t *testing.T) {
	ap, st, plan, printers, _ := stuckFixture(t)
	ap.PrinterTimeout = time.Second
	res := applyBounded(t, context.Background(), ap, plan, printers)
	got := results(res)
	if r := got["p1"]; r.Status != plans.ResultFailed ||
		!strings.Contains(r.Detail, "not done within the printer timeout of 1s") || !strings.Contains(r.Detail, "printer p1") || !strings.Contains(r.Detail, "ftp") {
		t.Errorf("p1: %+v", r)
	}
	if r := got["p2"]; r.Status != plans.ResultApplied {
		t.Errorf("p2: %+v", r)
	}
	if res.Cancelled {
		t.Error("a printer timeout marked the apply cancelled")
	}
	ctx := context.Background()
	if _, ok, _ := st.Printer(ctx, "p1"); ok {
		t.Error("p1 recorded though its file was not sent")
	}
	if runs, _ := st.Runs(ctx, 1); len(runs) != 1 || runs[0].Status != state.RunFailed {
		t.Errorf("runs = %+v", runs)
	}
}

// Cancelling an apply cuts an upload in progress after the grace period:
// Apply returns, says it was cancelled, and records the run as cancelled.
func TestCancelCutsAStuckUpload(t *testing.T) {
	ap, st, plan, printers, entered := stuckFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-entered
		cancel()
	}()
	res := applyBounded(t, ctx, ap, plan, printers)
	got := results(res)
	if r := got["p1"]; r.Status != plans.ResultFailed || !strings.Contains(r.Detail, "cancelled while writing") {
		t.Errorf("p1: %+v", r)
	}
	if r := got["p2"]; r.Status != plans.ResultSkipped || r.Detail != "cancelled" {
		t.Errorf("p2: %+v", r)
	}
	if !res.Cancelled {
		t.Error("result not marked cancelled")
	}
	bg := context.Background()
	if runs, _ := st.Runs(bg, 1); len(runs) != 1 || runs[0].Status != state.RunCancelled {
		t.Errorf("runs = %+v", runs)
	}
	if ps, _ := st.Printers(bg); len(ps) != 0 {
		t.Errorf("state records %+v", ps)
	}
	var b bytes.Buffer
	if err := views.RenderApplyResult(&b, res, views.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "Apply cancelled: 1 failed, 1 skipped.") || strings.Contains(out, "complete") {
		t.Errorf("apply result:\n%s", out)
	}
	b.Reset()
	if err := views.RenderApplyJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"cancelled": true`) {
		t.Errorf("apply -json:\n%s", b.String())
	}
}

// A printer's deadline that comes during its reboot wait says so, not
// that the printer did not come back within the reboot timeout.
func TestPrinterTimeoutDuringRebootWait(t *testing.T) {
	df := newDeployFixture(t, 1, 0, 0)
	plan := df.plan(t)
	df.applier.RebootTimeout = time.Hour
	df.applier.PrinterTimeout = 200 * time.Millisecond
	conn := df.applier.Connector
	df.applier.Connector = providers.ConnectorFunc(func(ctx context.Context, p fleet.Printer) (providers.Session, error) {
		s, _ := conn.Connect(ctx, p)
		return &stuckAfterFirmware{deploySession: s.(*deploySession)}, nil
	})
	res := applyBounded(t, context.Background(), df.applier, plan, df.printers)
	if r := res.Printers[0]; r.Status != plans.ResultFailed || r.Firmware != plans.FirmwareFailed ||
		!strings.Contains(r.Detail, "not done within the printer timeout of 200ms") || strings.Contains(r.Detail, "1h0m0s") {
		t.Errorf("result = %+v", r)
	}
}
