package memstate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func raised(printer, name string, at time.Time) alerts.Event {
	return alerts.Event{Printer: printer, Key: alerts.KeyFor(printer, name, ""), Kind: alerts.Raised, Name: name,
		Severity: alerts.DefaultSeverity(name), Source: alerts.SourceTrap, At: at}
}

func cleared(ev alerts.Event, at time.Time) alerts.Event {
	ev.Kind, ev.At = alerts.Cleared, at
	return ev
}

func ids(ds []state.Delivery) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func TestActiveSetKeepsAckOnReraise(t *testing.T) {
	ctx := context.Background()
	s := memstate.New()
	jam := raised("lab-1", alerts.Jam, t0)
	if _, err := s.AppendEvents(ctx, []alerts.Event{jam, raised("lab-2", alerts.DoorOpen, t0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, jam.Key, "ann", "on it", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, "lab-9/jam", "ann", "", t0); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("ack of an inactive key: %v, want ErrNotFound", err)
	}
	again := jam
	again.At = t0.Add(2 * time.Minute)
	ids, err := s.AppendEvents(ctx, []alerts.Event{again, cleared(raised("lab-2", alerts.DoorOpen, t0), t0.Add(3*time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	act, err := s.ActiveAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(act) != 1 || act[0].Event.ID != ids[0] || act[0].AckedBy != "ann" || act[0].Comment != "on it" {
		t.Fatalf("active = %+v, want lab-1/jam raised by event %d, acked by ann", act, ids[0])
	}
	if _, err := s.AppendEvents(ctx, []alerts.Event{jam, {Key: "x/y", Kind: "bogus"}}); err == nil {
		t.Fatal("an event of unknown kind was accepted")
	}
	if evs, _ := s.Events(ctx, state.EventFilter{}); len(evs) != 4 {
		t.Fatalf("a refused batch recorded something: %d events, want 4", len(evs))
	}
}

func TestEventsFilterAndOrder(t *testing.T) {
	ctx := context.Background()
	s := memstate.New()
	got, err := s.AppendEvents(ctx, []alerts.Event{raised("a", alerts.Jam, t0), raised("b", alerts.Jam, t0.Add(time.Second)), raised("a", alerts.TonerLow, t0.Add(2*time.Second))})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := s.Events(ctx, state.EventFilter{Printer: "a"})
	if len(evs) != 2 || evs[0].ID != got[2] || evs[1].ID != got[0] {
		t.Fatalf("printer a, most recent first: %+v", evs)
	}
	evs, _ = s.Events(ctx, state.EventFilter{IDs: []int64{got[1], 99}})
	if len(evs) != 1 || evs[0].Printer != "b" {
		t.Fatalf("by id: %+v", evs)
	}
	evs, _ = s.Events(ctx, state.EventFilter{Since: t0.Add(time.Second), Limit: 1})
	if len(evs) != 1 || evs[0].ID != got[2] {
		t.Fatalf("since, limit 1: %+v", evs)
	}
}

func TestRouteEventOnce(t *testing.T) {
	ctx := context.Background()
	s := memstate.New()
	id, _ := s.AppendEvents(ctx, []alerts.Event{raised("a", alerts.Jam, t0)})
	un, _ := s.UnroutedEvents(ctx, 10)
	if len(un) != 1 {
		t.Fatalf("unrouted = %d, want 1", len(un))
	}
	d := state.Delivery{Route: "jams", Kind: state.DeliveryNotify, Dedupe: "event:1", To: []string{"x@example.test"}, DueAt: t0}
	for i, want := range []bool{true, false} {
		ok, err := s.RouteEvent(ctx, id[0], []state.Delivery{d})
		if err != nil || ok != want {
			t.Fatalf("route #%d: %v, %v; want %v", i+1, ok, err, want)
		}
	}
	ds, _ := s.Deliveries(ctx, state.DeliveryFilter{})
	if len(ds) != 1 || ds[0].EventID != id[0] || ds[0].Status != state.DeliveryPending {
		t.Fatalf("deliveries = %+v", ds)
	}
	if un, _ := s.UnroutedEvents(ctx, 10); len(un) != 0 {
		t.Fatalf("routed event still unrouted")
	}
	// A delivery that exists already fails the whole routing, as a
	// unique index would: the second event stays unrouted.
	id2, _ := s.AppendEvents(ctx, []alerts.Event{raised("b", alerts.Jam, t0)})
	clash := []state.Delivery{{Route: "other", Dedupe: "event:2", DueAt: t0}, d}
	if ok, err := s.RouteEvent(ctx, id2[0], clash); ok || err == nil {
		t.Fatalf("routing with a clashing delivery: %v, %v", ok, err)
	}
	if un, _ := s.UnroutedEvents(ctx, 0); len(un) != 1 || un[0].ID != id2[0] {
		t.Fatalf("unrouted after a failed routing: %+v", un)
	}
	if ds, _ := s.Deliveries(ctx, state.DeliveryFilter{Route: "other"}); len(ds) != 0 {
		t.Fatalf("a failed routing added %+v", ds)
	}
	if _, err := s.RouteEvent(ctx, 42, nil); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("unknown event: %v", err)
	}
	n, err := s.AddDeliveries(ctx, []state.Delivery{d, {Route: "jams", Dedupe: "repeat:a/jam:1", DueAt: t0}, {Route: "other", Dedupe: "event:1", DueAt: t0}, {Route: "other", Dedupe: "event:1", DueAt: t0}})
	if err != nil || n != 2 {
		t.Fatalf("add deliveries = %d, %v; want 2 new of 4", n, err)
	}
}

func TestClaimsAndLeases(t *testing.T) {
	ctx := context.Background()
	s := memstate.New()
	var ds []state.Delivery
	for i, due := range []time.Duration{2 * time.Second, 0, time.Second, time.Hour} {
		ds = append(ds, state.Delivery{Route: "r", Dedupe: string(rune('a' + i)), DueAt: t0.Add(due)})
	}
	if _, err := s.AddDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(10 * time.Second)
	a, err := s.ClaimDeliveries(ctx, "A", now, time.Minute, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(a); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("A claimed %v, want [2 3] (earliest due first)", got)
	}
	b, _ := s.ClaimDeliveries(ctx, "B", now, time.Minute, 10)
	if got := ids(b); len(got) != 1 || got[0] != 1 {
		t.Fatalf("B claimed %v, want [1]: 2 and 3 are A's, 4 is not due", got)
	}
	again, _ := s.ClaimDeliveries(ctx, "A", now.Add(time.Second), time.Minute, 10)
	if got := ids(again); len(got) != 2 {
		t.Fatalf("A's live claims are returned again: %v", got)
	}
	// A hangs: its lease runs out and B takes delivery 2 over.
	late := now.Add(2 * time.Minute)
	b2, _ := s.ClaimDeliveries(ctx, "B", late, time.Minute, 1)
	if got := ids(b2); len(got) != 1 || got[0] != 2 {
		t.Fatalf("B claimed %v, want [2]: earliest due, A's lease ran out", got)
	}
	b3, _ := s.ClaimDeliveries(ctx, "B", late, time.Minute, 10)
	if got := ids(b3); len(got) != 3 {
		t.Fatalf("B claimed %v after A's lease ran out, want 1, 2, 3", got)
	}
	err = s.FinishDeliveries(ctx, "A", []int64{2}, state.DeliverySent, late, "")
	if !errors.Is(err, state.ErrClaimLost) {
		t.Fatalf("A finishing a taken-over delivery: %v, want ErrClaimLost", err)
	}
	if err := s.ReleaseDeliveries(ctx, "A", []int64{3}, late, true, "x"); !errors.Is(err, state.ErrClaimLost) {
		t.Fatalf("A releasing a taken-over delivery: %v, want ErrClaimLost", err)
	}
	// all or none: 2 is B's, 4 is nobody's.
	if err := s.FinishDeliveries(ctx, "B", []int64{2, 4}, state.DeliverySent, late, ""); !errors.Is(err, state.ErrClaimLost) {
		t.Fatalf("finishing an unclaimed delivery: %v", err)
	}
	// Past its lease a claim nobody took is still its owner's: a mail
	// accepted late is recorded once.
	if err := s.FinishDeliveries(ctx, "B", []int64{2}, state.DeliverySent, late.Add(2*time.Minute), ""); err != nil {
		t.Fatalf("finishing after the lease ran out, nobody having taken it: %v", err)
	}
	if err := s.FinishDeliveries(ctx, "B", []int64{1}, state.DeliverySent, late, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishDeliveries(ctx, "B", []int64{1}, state.DeliverySent, late, ""); !errors.Is(err, state.ErrClaimLost) {
		t.Fatalf("finishing twice: %v", err)
	}
	if err := s.ReleaseDeliveries(ctx, "B", []int64{3}, late.Add(time.Hour), true, "451 try later"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimDeliveries(ctx, "A", late.Add(time.Minute), time.Minute, 10); len(c) != 0 {
		t.Fatalf("released delivery claimed before its next time: %v", ids(c))
	}
	c, _ := s.ClaimDeliveries(ctx, "A", late.Add(2*time.Hour), time.Minute, 10)
	if len(c) != 2 || c[1].ID != 3 || c[1].Attempts != 1 || c[1].Detail != "451 try later" {
		t.Fatalf("after backoff: %+v", c)
	}
	if err := s.ReleaseDeliveries(ctx, "A", []int64{3}, late.Add(3*time.Hour), false, "group_interval"); err != nil {
		t.Fatal(err)
	}
	d3, _ := s.Deliveries(ctx, state.DeliveryFilter{Status: state.DeliveryPending, Limit: 2})
	if len(d3) != 2 || d3[1].ID != 3 || d3[1].Attempts != 1 || d3[1].Detail != "451 try later" {
		t.Fatalf("a postponement counted as an attempt: %+v", d3)
	}
	last, _ := s.LastSent(ctx, "r")
	if want := late.Add(2 * time.Minute); !last.Equal(want) {
		t.Fatalf("last sent = %v, want %v", last, want)
	}
	if last, _ := s.LastSent(ctx, "other"); !last.IsZero() {
		t.Fatalf("last sent of a route that sent nothing: %v", last)
	}
}

func TestSilences(t *testing.T) {
	ctx := context.Background()
	s := memstate.New()
	id, err := s.AddSilence(ctx, state.Silence{Printer: "lab-*", Starts: t0, Ends: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSilence(ctx, state.Silence{Printer: "[", Starts: t0, Ends: t0.Add(time.Hour)}); err == nil {
		t.Fatal("a bad glob was accepted")
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{{t0.Add(-time.Second), 0}, {t0, 1}, {t0.Add(59 * time.Minute), 1}, {t0.Add(time.Hour), 0}, {time.Time{}, 1}} {
		if got, _ := s.Silences(ctx, c.at); len(got) != c.want {
			t.Errorf("silences at %v: %d, want %d", c.at, len(got), c.want)
		}
	}
	if err := s.ExpireSilence(ctx, id, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Silences(ctx, t0.Add(2*time.Minute)); len(got) != 0 {
		t.Fatalf("expired silence still active")
	}
	if err := s.ExpireSilence(ctx, 7, t0); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("expire unknown: %v", err)
	}
}
