package statetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
)

// RunOutbox runs the conformance suite of state.Outbox. open must return
// a fresh, empty store each call; the suite closes it. A store that keeps
// no outbox skips the suite, saying so.
func RunOutbox(t *testing.T, open func(t *testing.T) state.Store) {
	fresh := func(t *testing.T) state.Outbox {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return outboxOf(t, s)
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, o state.Outbox)
	}{
		{"EventRoundTrip", testEventRoundTrip},
		{"ActiveAlerts", testActiveAlerts},
		{"ActiveAlertsOf", testActiveAlertsOf},
		{"AppendAllOrNone", testAppendAllOrNone},
		{"AppendMany", testAppendMany},
		{"EventFilters", testEventFilters},
		{"RouteEvent", testRouteEvent},
		{"AddDeliveries", testAddDeliveries},
		{"DeliveryRoundTrip", testDeliveryRoundTrip},
		{"DeliveryFilters", testDeliveryFilters},
		{"Claim", testClaim},
		{"ClaimExpired", testClaimExpired},
		{"Finish", testFinish},
		{"Release", testRelease},
		{"MarkSending", testMarkSending},
		{"Prune", testPrune},
		{"LastSent", testLastSent},
		{"ConcurrentClaims", func(t *testing.T, o state.Outbox) { testConcurrentClaims(t, o, o) }},
		{"Silences", testSilences},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

// RunOutboxShared checks what two stores on one database (two watch
// processes on one state) must keep: routing, adding and claiming are
// decided once across them. open returns two stores on the same fresh
// database; the suite closes them. Stores that keep no outbox skip.
func RunOutboxShared(t *testing.T, open func(t *testing.T) (s1, s2 state.Store)) {
	pair := func(t *testing.T) (state.Outbox, state.Outbox) {
		t.Helper()
		s1, s2 := open(t)
		for _, s := range []state.Store{s1, s2} {
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
		return outboxOf(t, s1), outboxOf(t, s2)
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, a, b state.Outbox)
	}{
		{"ConcurrentClaims", testConcurrentClaims},
		{"ClaimTakenOver", testClaimTakenOver},
		{"RouteOnce", testRouteOnce},
		{"AddOnce", testAddOnce},
		{"ConcurrentAppend", testConcurrentAppend},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			tc.fn(t, a, b)
		})
	}
}

func outboxOf(t *testing.T, s state.Store) state.Outbox {
	t.Helper()
	o, ok := s.(state.Outbox)
	if !ok {
		t.Skipf("outbox suite NOT RUN: %T does not implement state.Outbox", s)
	}
	return o
}

// base is the time the outbox tests start from: not UTC and with
// nanoseconds, so that a store must keep the instant, and give it back
// in UTC.
var base = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+2", 2*3600))

// cmpMillis compares instants to the millisecond, the precision every
// store keeps at least.
var cmpMillis = cmp.Comparer(func(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Millisecond && d > -time.Millisecond
})

var outboxOpts = cmp.Options{cmpMillis, cmpopts.EquateEmpty()}

// wantUTC fails unless every time given is zero or in UTC.
func wantUTC(t *testing.T, what string, ts ...time.Time) {
	t.Helper()
	for _, tm := range ts {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("%s: time %v is in %v, want UTC", what, tm, tm.Location())
		}
	}
}

func ev(printer, name, index string, kind alerts.Kind, at time.Time) alerts.Event {
	return alerts.Event{
		Printer:     printer,
		Key:         alerts.KeyFor(printer, name, index),
		Kind:        kind,
		Name:        name,
		Severity:    alerts.DefaultSeverity(name),
		Source:      alerts.SourcePoll,
		Description: printer + " " + name + " " + string(kind),
		At:          at,
	}
}

func mustAppend(t *testing.T, o state.Outbox, evs ...alerts.Event) []int64 {
	t.Helper()
	ids, err := o.AppendEvents(ctxFor(t), evs)
	if err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	if len(ids) != len(evs) {
		t.Fatalf("AppendEvents returned %d ids for %d events", len(ids), len(evs))
	}
	return ids
}

func eventIDs(evs []alerts.Event) []int64 {
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

func deliveryIDs(ds []state.Delivery) []int64 {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

func testEventRoundTrip(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	want := alerts.Event{
		Printer: "lab-1", Key: alerts.KeyFor("lab-1", alerts.Other, "7"), Kind: alerts.Raised, Name: alerts.Other,
		Severity: alerts.Info, Source: alerts.SourceTrap, From: "10.0.0.7:162", Code: 40000,
		OID: "1.3.6.1.4.1.641.6.5.2.0.1", Description: "Schacht 2: Papierstau — «ö» \"quoted\" 'single' \n second line",
		At: base,
	}
	ids := mustAppend(t, o, want)
	want.ID = ids[0]
	got, err := o.Events(ctx, state.EventFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("Events = %d events, %v; want 1", len(got), err)
	}
	if diff := cmp.Diff(want, got[0], outboxOpts); diff != "" {
		t.Errorf("event round trip (-want +got):\n%s", diff)
	}
	wantUTC(t, "Events", got[0].At)
	if got[0].ID <= 0 {
		t.Errorf("event id %d, want positive", got[0].ID)
	}
	// A long key (a long alert index) is kept whole.
	long := ev("printer-with-a-long-name-in-a-large-building-of-the-campus", alerts.Jam, fmt.Sprintf("%0400d", 2), alerts.Raised, base)
	long.ID = mustAppend(t, o, long)[0]
	if got, err := o.Events(ctx, state.EventFilter{Key: long.Key}); err != nil || len(got) != 1 || !cmp.Equal(got[0], long, outboxOpts) {
		t.Errorf("Events(long key) = %+v, %v; want %+v", got, err, long)
	}
}

func testActiveAlerts(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	jam := ev("lab-1", alerts.Jam, "1", alerts.Raised, base)
	toner := ev("lab-1", alerts.TonerLow, "", alerts.Raised, base.Add(time.Second))
	door := ev("lab-2", alerts.DoorOpen, "", alerts.Raised, base.Add(2*time.Second))
	ids := mustAppend(t, o, door, jam, toner)
	if !(ids[0] < ids[1] && ids[1] < ids[2]) {
		t.Errorf("ids %v not increasing in the order appended", ids)
	}
	door.ID, jam.ID, toner.ID = ids[0], ids[1], ids[2]
	active := func() []state.ActiveAlert {
		t.Helper()
		a, err := o.ActiveAlerts(ctx)
		if err != nil {
			t.Fatalf("ActiveAlerts: %v", err)
		}
		return a
	}
	want := []state.ActiveAlert{{Event: jam}, {Event: toner}, {Event: door}} // by key
	if diff := cmp.Diff(want, active(), outboxOpts); diff != "" {
		t.Fatalf("active alerts (-want +got):\n%s", diff)
	}

	ackAt := base.Add(time.Minute)
	if err := o.Ack(ctx, jam.Key, "ana", "on it", ackAt); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	// A new raise of the jam replaces the old one but keeps the
	// acknowledgement; clearing the toner ends it.
	jam2 := jam
	jam2.At, jam2.Description = base.Add(2*time.Minute), "jammed again"
	clearToner := ev("lab-1", alerts.TonerLow, "", alerts.Cleared, base.Add(3*time.Minute))
	ids = mustAppend(t, o, jam2, clearToner)
	jam2.ID = ids[0]
	want = []state.ActiveAlert{{Event: jam2, AckedBy: "ana", AckedAt: ackAt, Comment: "on it"}, {Event: door}}
	got := active()
	if diff := cmp.Diff(want, got, outboxOpts); diff != "" {
		t.Errorf("after raise again and clear (-want +got):\n%s", diff)
	}
	for _, a := range got {
		wantUTC(t, "ActiveAlerts", a.Event.At, a.AckedAt)
	}

	if err := o.Ack(ctx, clearToner.Key, "ana", "", ackAt); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Ack of a cleared alert = %v, want ErrNotFound", err)
	}
	if err := o.Ack(ctx, "lab-9/jam", "ana", "", ackAt); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Ack of an unknown alert = %v, want ErrNotFound", err)
	}
	// Cleared and raised again: a new alert, not acknowledged.
	toner3 := ev("lab-1", alerts.TonerLow, "", alerts.Raised, base.Add(4*time.Minute))
	toner3.ID = mustAppend(t, o, toner3)[0]
	got = active()
	if len(got) != 3 || got[1].Event.ID != toner3.ID || got[1].AckedBy != "" || !got[1].AckedAt.IsZero() {
		t.Errorf("toner raised after its clear = %+v, want active and not acknowledged", got)
	}
	// A clear of an alert that is not active changes nothing; the event
	// is recorded all the same.
	mustAppend(t, o, ev("lab-3", alerts.Jam, "", alerts.Cleared, base))
	if a := active(); len(a) != 3 {
		t.Errorf("%d active after clearing an inactive alert, want 3", len(a))
	}
	// Raise and clear in one batch: the clear wins, being later.
	j4 := ev("lab-4", alerts.Jam, "", alerts.Raised, base)
	mustAppend(t, o, j4, ev("lab-4", alerts.Jam, "", alerts.Cleared, base))
	for _, a := range active() {
		if a.Event.Key == j4.Key {
			t.Errorf("alert raised and cleared in one batch is active")
		}
	}
}

// testActiveAlertsOf checks reading the active alerts of given keys
// (state.ActiveAlertsByKey, where the store has it) against ActiveAlerts.
func testActiveAlertsOf(t *testing.T, o state.Outbox) {
	by, ok := o.(state.ActiveAlertsByKey)
	if !ok {
		t.Skip("the store reads active alerts only all at once")
	}
	ctx := ctxFor(t)
	var evs []alerts.Event
	for i := range 1200 { // more keys than one query of the SQL stores takes
		evs = append(evs, ev("lab-1", alerts.Jam, strconv.Itoa(i), alerts.Raised, base))
	}
	evs = append(evs, ev("lab-1", alerts.Jam, "7", alerts.Cleared, base.Add(time.Second)))
	mustAppend(t, o, evs...)
	if err := o.Ack(ctx, evs[5].Key, "ana", "on it", base.Add(time.Minute)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	all, err := o.ActiveAlerts(ctx)
	if err != nil {
		t.Fatalf("ActiveAlerts: %v", err)
	}
	byKey := map[string]state.ActiveAlert{}
	for _, a := range all {
		byKey[a.Event.Key] = a
	}
	var keys []string
	var want []state.ActiveAlert
	for i := 1199; i >= 0; i -= 2 { // unsorted, the cleared 7 and an unknown key among them
		k := alerts.KeyFor("lab-1", alerts.Jam, strconv.Itoa(i))
		keys = append(keys, k)
		if a, ok := byKey[k]; ok {
			want = append(want, a)
		}
	}
	keys = append(keys, "lab-9/jam", keys[0])
	slices.SortFunc(want, func(a, b state.ActiveAlert) int { return strings.Compare(a.Event.Key, b.Event.Key) })
	got, err := by.ActiveAlertsOf(ctx, keys)
	if err != nil {
		t.Fatalf("ActiveAlertsOf: %v", err)
	}
	if len(want) != 599 {
		t.Fatalf("test setup: %d of the keys active, want 599", len(want))
	}
	if diff := cmp.Diff(want, got, outboxOpts); diff != "" {
		t.Errorf("ActiveAlertsOf (-ActiveAlerts +got):\n%s", diff)
	}
	if got, err := by.ActiveAlertsOf(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("ActiveAlertsOf(no keys) = %d alerts, %v; want none", len(got), err)
	}
}

func testAppendAllOrNone(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	good := ev("lab-1", alerts.Jam, "", alerts.Raised, base)
	bad := ev("lab-1", alerts.DoorOpen, "", "", base) // no kind
	if ids, err := o.AppendEvents(ctx, []alerts.Event{good, bad}); err == nil {
		t.Fatalf("AppendEvents with an event of no kind = %v, want an error", ids)
	}
	if evs, err := o.Events(ctx, state.EventFilter{}); err != nil || len(evs) != 0 {
		t.Errorf("after a failed append: %d events, %v; want none", len(evs), err)
	}
	if a, err := o.ActiveAlerts(ctx); err != nil || len(a) != 0 {
		t.Errorf("after a failed append: %d active, %v; want none", len(a), err)
	}
	if ids, err := o.AppendEvents(ctx, nil); err != nil || len(ids) != 0 {
		t.Errorf("AppendEvents(nil) = %v, %v", ids, err)
	}
}

// testAppendMany appends 10,000 events in batches of 500, as a trap
// storm does, and reports the rate.
func testAppendMany(t *testing.T, o state.Outbox) {
	// A server engine takes a round trip an event: more than the usual
	// deadline on a busy machine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const n, batch = 10000, 500
	evs := make([]alerts.Event, 0, batch)
	var last int64
	start := time.Now()
	for i := range n {
		// Printer k's jam is raised by events 2k and 2k+1, but cleared
		// by 2k+1 for odd k: half the printers end with it active.
		kind := alerts.Raised
		if i%4 == 3 {
			kind = alerts.Cleared
		}
		p := fmt.Sprintf("p%05d", i/2)
		evs = append(evs, ev(p, alerts.Jam, "", kind, base.Add(time.Duration(i)*time.Millisecond)))
		if len(evs) < batch {
			continue
		}
		ids, err := o.AppendEvents(ctx, evs)
		if err != nil || len(ids) != len(evs) {
			t.Fatalf("AppendEvents = %d ids, %v; want %d", len(ids), err, len(evs))
		}
		for _, id := range ids {
			if id <= last {
				t.Fatalf("id %d after %d: not increasing", id, last)
			}
			last = id
		}
		evs = evs[:0]
	}
	elapsed := time.Since(start)
	t.Logf("appended %d events in batches of %d: %.0f events/s", n, batch, n/elapsed.Seconds())
	a, err := o.ActiveAlerts(ctx)
	if err != nil || len(a) != n/4 {
		t.Fatalf("ActiveAlerts = %d, %v; want %d", len(a), err, n/4)
	}
	un, err := o.UnroutedEvents(ctx, 0)
	if err != nil || len(un) != n {
		t.Fatalf("UnroutedEvents = %d, %v; want %d", len(un), err, n)
	}
	if !slices.IsSorted(eventIDs(un)) {
		t.Error("UnroutedEvents not oldest first")
	}
}

func testEventFilters(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	e := []alerts.Event{
		ev("lab-1", alerts.Jam, "", alerts.Raised, base),
		ev("lab-2", alerts.Jam, "", alerts.Raised, base.Add(time.Second)),
		ev("lab-1", alerts.Jam, "", alerts.Cleared, base.Add(2*time.Second)),
		ev("lab-1", alerts.TonerLow, "", alerts.Raised, base.Add(2*time.Second)), // same time: later id first
		ev("lab-1", alerts.PaperLow, "", alerts.Raised, base.Add(-time.Hour)),    // appended last, happened first
	}
	ids := mustAppend(t, o, e...)
	for i := range e {
		e[i].ID = ids[i]
	}
	for _, tc := range []struct {
		f    state.EventFilter
		want []alerts.Event
	}{
		{state.EventFilter{}, []alerts.Event{e[3], e[2], e[1], e[0], e[4]}},
		{state.EventFilter{Printer: "lab-1"}, []alerts.Event{e[3], e[2], e[0], e[4]}},
		{state.EventFilter{Key: e[0].Key}, []alerts.Event{e[2], e[0]}},
		{state.EventFilter{Since: base.Add(time.Second)}, []alerts.Event{e[3], e[2], e[1]}},
		{state.EventFilter{Printer: "lab-1", Limit: 2}, []alerts.Event{e[3], e[2]}},
		{state.EventFilter{Printer: "lab-1", Key: e[1].Key}, nil},
		{state.EventFilter{Printer: "nope"}, nil},
		{state.EventFilter{IDs: []int64{e[4].ID, e[1].ID, e[3].ID}}, []alerts.Event{e[3], e[1], e[4]}},
		{state.EventFilter{IDs: []int64{e[4].ID, e[1].ID}, Printer: "lab-1"}, []alerts.Event{e[4]}},
		{state.EventFilter{IDs: []int64{e[0].ID, e[2].ID, e[3].ID}, Limit: 2}, []alerts.Event{e[3], e[2]}},
	} {
		got, err := o.Events(ctx, tc.f)
		if err != nil {
			t.Errorf("Events(%+v): %v", tc.f, err)
			continue
		}
		if diff := cmp.Diff(eventIDs(tc.want), eventIDs(got), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Events(%+v) ids (-want +got):\n%s", tc.f, diff)
		}
	}
}

func delivery(route, dedupe string, due time.Time) state.Delivery {
	return state.Delivery{Route: route, Kind: state.DeliveryNotify, Dedupe: dedupe, To: []string{"helpdesk@example.test"}, DueAt: due}
}

func testRouteEvent(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	ids := mustAppend(t, o,
		ev("lab-1", alerts.Jam, "", alerts.Raised, base),
		ev("lab-2", alerts.Jam, "", alerts.Raised, base.Add(-time.Minute)), // recorded later, happened earlier
		ev("lab-3", alerts.Jam, "", alerts.Raised, base))
	un, err := o.UnroutedEvents(ctx, 2)
	if err != nil || !cmp.Equal(eventIDs(un), ids[:2]) {
		t.Fatalf("UnroutedEvents(2) = %v, %v; want %v (in the order recorded)", eventIDs(un), err, ids[:2])
	}
	ds := []state.Delivery{
		delivery("jams", fmt.Sprintf("event:%d", ids[1]), base),
		delivery("all", fmt.Sprintf("event:%d", ids[1]), base),
	}
	ok, err := o.RouteEvent(ctx, ids[1], ds)
	if err != nil || !ok {
		t.Fatalf("RouteEvent = %v, %v; want true", ok, err)
	}
	got, err := o.Deliveries(ctx, state.DeliveryFilter{EventID: ids[1]})
	if err != nil || len(got) != 2 {
		t.Fatalf("deliveries of the event = %d, %v; want 2", len(got), err)
	}
	for _, d := range got {
		if d.EventID != ids[1] || d.Status != state.DeliveryPending || d.ClaimedBy != "" || d.Attempts != 0 {
			t.Errorf("delivery made by routing = %+v", d)
		}
	}
	// Routed again, by this process or another after a restart: nothing.
	again := append(ds, delivery("other", "event:x", base))
	if ok, err := o.RouteEvent(ctx, ids[1], again); err != nil || ok {
		t.Errorf("second RouteEvent = %v, %v; want false", ok, err)
	}
	if all, err := o.Deliveries(ctx, state.DeliveryFilter{}); err != nil || len(all) != 2 {
		t.Errorf("after a second RouteEvent: %d deliveries, %v; want 2", len(all), err)
	}
	un, err = o.UnroutedEvents(ctx, 0)
	if err != nil || !cmp.Equal(eventIDs(un), []int64{ids[0], ids[2]}) {
		t.Errorf("UnroutedEvents = %v, %v; want %v", eventIDs(un), err, []int64{ids[0], ids[2]})
	}
	// Routing to nobody still marks it routed.
	if ok, err := o.RouteEvent(ctx, ids[0], nil); err != nil || !ok {
		t.Errorf("RouteEvent without deliveries = %v, %v; want true", ok, err)
	}
	if un, err := o.UnroutedEvents(ctx, 0); err != nil || !cmp.Equal(eventIDs(un), []int64{ids[2]}) {
		t.Errorf("UnroutedEvents = %v, %v; want %v", eventIDs(un), err, ids[2:])
	}
	if _, err := o.RouteEvent(ctx, ids[2]+1000, nil); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("RouteEvent of an unknown event = %v, want ErrNotFound", err)
	}
}

func testAddDeliveries(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	n, err := o.AddDeliveries(ctx, []state.Delivery{
		delivery("jams", "repeat:lab-1/jam:1", base),
		delivery("jams", "repeat:lab-1/jam:1", base),  // twice in one call
		delivery("toner", "repeat:lab-1/jam:1", base), // same dedupe, other route
		{Route: "weekly", Kind: state.DeliveryReport, Dedupe: "report:weekly:2026-03-02", To: []string{"a@example.test"}, DueAt: base},
	})
	if err != nil || n != 3 {
		t.Fatalf("AddDeliveries = %d, %v; want 3", n, err)
	}
	n, err = o.AddDeliveries(ctx, []state.Delivery{
		delivery("jams", "repeat:lab-1/jam:1", base.Add(time.Hour)),
		delivery("jams", "repeat:lab-1/jam:2", base.Add(time.Hour)),
	})
	if err != nil || n != 1 {
		t.Fatalf("AddDeliveries again = %d, %v; want 1 (the other is stored)", n, err)
	}
	all, err := o.Deliveries(ctx, state.DeliveryFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("Deliveries = %d, %v; want 4", len(all), err)
	}
	for _, d := range all {
		if d.Route == "jams" && d.Dedupe == "repeat:lab-1/jam:1" && !d.DueAt.Equal(base) {
			t.Errorf("a duplicate replaced the stored delivery: due %v", d.DueAt)
		}
	}
	if n, err := o.AddDeliveries(ctx, nil); err != nil || n != 0 {
		t.Errorf("AddDeliveries(nil) = %d, %v", n, err)
	}
}

func testDeliveryRoundTrip(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	id := mustAppend(t, o, ev("lab-1", alerts.Jam, "", alerts.Raised, base))[0]
	want := state.Delivery{
		EventID: id, Route: "jams", Kind: state.DeliveryNotify, Dedupe: fmt.Sprintf("event:%d", id),
		To: []string{"helpdesk@example.test", "Ops Team <ops@example.test>"}, Cc: []string{"\"odd, name\" <x@example.test>"},
		DueAt: base.Add(30 * time.Second), Status: state.DeliveryPending,
	}
	if ok, err := o.RouteEvent(ctx, id, []state.Delivery{want}); err != nil || !ok {
		t.Fatalf("RouteEvent = %v, %v", ok, err)
	}
	got, err := o.Deliveries(ctx, state.DeliveryFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("Deliveries = %d, %v; want 1", len(got), err)
	}
	want.ID = got[0].ID
	if diff := cmp.Diff(want, got[0], outboxOpts); diff != "" {
		t.Errorf("delivery round trip (-want +got):\n%s", diff)
	}
	wantUTC(t, "Deliveries", got[0].DueAt)
	if want.ID <= 0 {
		t.Errorf("delivery id %d, want positive", want.ID)
	}
}

func testDeliveryFilters(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	ids := mustAppend(t, o, ev("lab-1", alerts.Jam, "", alerts.Raised, base), ev("lab-2", alerts.Jam, "", alerts.Raised, base))
	for i, id := range ids {
		ds := []state.Delivery{delivery("jams", fmt.Sprintf("event:%d", id), base.Add(time.Duration(-i)*time.Hour))}
		if i == 1 {
			ds = append(ds, delivery("all", fmt.Sprintf("event:%d", id), base))
		}
		if _, err := o.RouteEvent(ctx, id, ds); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.AddDeliveries(ctx, []state.Delivery{delivery("jams", "repeat:lab-1/jam:1", base)}); err != nil {
		t.Fatal(err)
	}
	all, err := o.Deliveries(ctx, state.DeliveryFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("Deliveries = %d, %v; want 4", len(all), err)
	}
	// The last added first, whenever they are due.
	byID := slices.Clone(deliveryIDs(all))
	slices.Sort(byID)
	slices.Reverse(byID)
	if !cmp.Equal(deliveryIDs(all), byID) {
		t.Errorf("Deliveries order %v, want the last added first %v", deliveryIDs(all), byID)
	}
	sent := claimAll(t, o, "w1", base.Add(time.Hour), 1)
	if err := o.FinishDeliveries(ctx, "w1", deliveryIDs(sent), state.DeliverySent, base.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    state.DeliveryFilter
		want int
	}{
		{state.DeliveryFilter{Route: "jams"}, 3},
		{state.DeliveryFilter{Route: "all"}, 1},
		{state.DeliveryFilter{EventID: ids[1]}, 2},
		{state.DeliveryFilter{Status: state.DeliverySent}, 1},
		{state.DeliveryFilter{Status: state.DeliveryPending}, 3},
		{state.DeliveryFilter{Route: "jams", Status: state.DeliveryPending, Limit: 1}, 1},
		{state.DeliveryFilter{Limit: 2}, 2},
		{state.DeliveryFilter{Route: "none"}, 0},
	} {
		got, err := o.Deliveries(ctx, tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("Deliveries(%+v) = %d, %v; want %d", tc.f, len(got), err, tc.want)
			continue
		}
		for _, d := range got {
			if (tc.f.Route != "" && d.Route != tc.f.Route) || (tc.f.Status != "" && d.Status != tc.f.Status) || (tc.f.EventID != 0 && d.EventID != tc.f.EventID) {
				t.Errorf("Deliveries(%+v) returned %+v", tc.f, d)
			}
		}
	}
	if got, _ := o.Deliveries(ctx, state.DeliveryFilter{Status: state.DeliverySent}); len(got) == 1 && got[0].ID != sent[0].ID {
		t.Errorf("sent delivery %d, want %d", got[0].ID, sent[0].ID)
	}
	if sent[0].ID != ids2min(all) {
		t.Errorf("first claimed %d, want the earliest due %d", sent[0].ID, ids2min(all))
	}
}

// ids2min returns the id of the earliest due delivery (by due, then id).
func ids2min(ds []state.Delivery) int64 {
	best := ds[0]
	for _, d := range ds[1:] {
		if d.DueAt.Before(best.DueAt) || (d.DueAt.Equal(best.DueAt) && d.ID < best.ID) {
			best = d
		}
	}
	return best.ID
}

// claimAll claims up to limit deliveries for owner at now with a lease of
// a minute.
func claimAll(t *testing.T, o state.Outbox, owner string, now time.Time, limit int) []state.Delivery {
	t.Helper()
	ds, err := o.ClaimDeliveries(ctxFor(t), owner, now, time.Minute, limit)
	if err != nil {
		t.Fatalf("ClaimDeliveries(%s): %v", owner, err)
	}
	return ds
}

// addDue adds n deliveries of route, the i-th due at base+i seconds.
func addDue(t *testing.T, o state.Outbox, route string, n int) []state.Delivery {
	t.Helper()
	ctx := ctxFor(t)
	ds := make([]state.Delivery, n)
	for i := range ds {
		ds[i] = delivery(route, fmt.Sprintf("test:%d", i), base.Add(time.Duration(i)*time.Second))
	}
	if added, err := o.AddDeliveries(ctx, ds); err != nil || added != n {
		t.Fatalf("AddDeliveries = %d, %v; want %d", added, err, n)
	}
	all, err := o.Deliveries(ctx, state.DeliveryFilter{Route: route})
	if err != nil || len(all) != n {
		t.Fatalf("Deliveries = %d, %v", len(all), err)
	}
	slices.Reverse(all) // oldest first: the i-th added
	return all
}

func testClaim(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	ds := addDue(t, o, "jams", 5) // due at base+0s … base+4s
	// Reversed due times must still come back earliest first.
	if _, err := o.AddDeliveries(ctx, []state.Delivery{delivery("jams", "early", base.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	early, _ := o.Deliveries(ctx, state.DeliveryFilter{Limit: 1})

	now := base.Add(2 * time.Second)
	got := claimAll(t, o, "w1", now, 10)
	want := []int64{early[0].ID, ds[0].ID, ds[1].ID, ds[2].ID} // due by now; not those due later
	if !cmp.Equal(deliveryIDs(got), want) {
		t.Fatalf("claimed %v, want %v (due by now, earliest first)", deliveryIDs(got), want)
	}
	for _, d := range got {
		if d.ClaimedBy != "w1" || !d.ClaimUntil.Equal(now.Add(time.Minute)) || d.Status != state.DeliveryPending {
			t.Errorf("claimed delivery %+v, want held by w1 until %v", d, now.Add(time.Minute))
		}
		wantUTC(t, "ClaimDeliveries", d.ClaimUntil, d.DueAt)
	}
	// Another owner gets nothing while the claims live.
	if other := claimAll(t, o, "w2", now, 10); len(other) != 0 {
		t.Errorf("w2 claimed %v held by w1", deliveryIDs(other))
	}
	// The owner's own live claims come back (renewed), with those now due.
	later := now.Add(10 * time.Second)
	again := claimAll(t, o, "w1", later, 10)
	if want := append(want, ds[3].ID, ds[4].ID); !cmp.Equal(deliveryIDs(again), want) {
		t.Errorf("w1 claiming again = %v, want %v", deliveryIDs(again), want)
	}
	for _, d := range again {
		if !d.ClaimUntil.Equal(later.Add(time.Minute)) {
			t.Errorf("claim until %v, want renewed to %v", d.ClaimUntil, later.Add(time.Minute))
		}
	}
	// Limit: at most that many, earliest first.
	if got := claimAll(t, o, "w1", later, 2); !cmp.Equal(deliveryIDs(got), want[:2]) {
		t.Errorf("limit 2 = %v, want %v", deliveryIDs(got), want[:2])
	}
	stored, err := o.Deliveries(ctx, state.DeliveryFilter{Route: "jams"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range stored {
		if d.ClaimedBy != "w1" {
			t.Errorf("stored delivery %d claimed by %q, want w1", d.ID, d.ClaimedBy)
		}
	}
}

func testClaimExpired(t *testing.T, o state.Outbox) {
	ds := addDue(t, o, "jams", 2)
	now := base.Add(time.Minute)
	if got := claimAll(t, o, "w1", now, 10); len(got) != 2 {
		t.Fatalf("w1 claimed %d, want 2", len(got))
	}
	// Just before the lease ends: still w1's; at its end: free.
	if got := claimAll(t, o, "w2", now.Add(time.Minute-time.Millisecond), 10); len(got) != 0 {
		t.Errorf("w2 claimed %v before w1's lease ended", deliveryIDs(got))
	}
	got := claimAll(t, o, "w2", now.Add(time.Minute), 10)
	if !cmp.Equal(deliveryIDs(got), deliveryIDs(ds)) {
		t.Fatalf("w2 claimed %v after w1's lease ended, want %v", deliveryIDs(got), deliveryIDs(ds))
	}
	for _, d := range got {
		if d.ClaimedBy != "w2" {
			t.Errorf("claimed by %q, want w2", d.ClaimedBy)
		}
	}
}

func testFinish(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	ds := addDue(t, o, "jams", 3)
	now := base.Add(time.Minute)
	if got := claimAll(t, o, "w1", now, 10); len(got) != 3 {
		t.Fatalf("w1 claimed %d, want 3", len(got))
	}
	// w1's lease runs out; w2 takes two of them over.
	later := now.Add(2 * time.Minute)
	taken := claimAll(t, o, "w2", later, 2)
	if !cmp.Equal(deliveryIDs(taken), []int64{ds[0].ID, ds[1].ID}) {
		t.Fatalf("w2 took %v, want %v", deliveryIDs(taken), []int64{ds[0].ID, ds[1].ID})
	}
	before, err := o.Deliveries(ctx, state.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// w1 no longer holds ds[1]: finishing fails and changes nothing, not
	// even ds[2], which w1 still holds.
	err = o.FinishDeliveries(ctx, "w1", []int64{ds[2].ID, ds[1].ID}, state.DeliverySent, later, "250 ok")
	if !errors.Is(err, state.ErrClaimLost) {
		t.Fatalf("FinishDeliveries by an owner whose claim was taken = %v, want ErrClaimLost", err)
	}
	if after, err := o.Deliveries(ctx, state.DeliveryFilter{}); err != nil || !cmp.Equal(before, after, outboxOpts) {
		t.Errorf("a failed FinishDeliveries changed deliveries (%v):\n%s", err, cmp.Diff(before, after, outboxOpts))
	}
	if err := o.FinishDeliveries(ctx, "w1", []int64{ds[2].ID + 1000}, state.DeliverySent, later, ""); !errors.Is(err, state.ErrClaimLost) {
		t.Errorf("FinishDeliveries of an unknown delivery = %v, want ErrClaimLost", err)
	}

	sentAt := later.Add(time.Second)
	if err := o.FinishDeliveries(ctx, "w2", []int64{ds[0].ID, ds[1].ID}, state.DeliverySent, sentAt, "250 2.0.0 queued"); err != nil {
		t.Fatalf("FinishDeliveries by the holder: %v", err)
	}
	// A claim whose lease ran out but that nobody took is still its
	// owner's: nobody else can be sending it.
	if err := o.FinishDeliveries(ctx, "w1", []int64{ds[2].ID}, state.DeliverySuppressed, sentAt, "silenced"); err != nil {
		t.Fatalf("FinishDeliveries of an expired claim nobody took: %v", err)
	}
	got, err := o.Deliveries(ctx, state.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		switch d.ID {
		case ds[0].ID, ds[1].ID:
			if d.Status != state.DeliverySent || !d.SentAt.Equal(sentAt) || d.Detail != "250 2.0.0 queued" || d.ClaimedBy != "w2" {
				t.Errorf("sent delivery = %+v", d)
			}
			wantUTC(t, "SentAt", d.SentAt)
		case ds[2].ID:
			if d.Status != state.DeliverySuppressed || d.Detail != "silenced" || !d.SentAt.IsZero() {
				t.Errorf("suppressed delivery = %+v", d)
			}
		}
	}
	// Finished deliveries are never claimed again, nor finished twice.
	if again := claimAll(t, o, "w3", later.Add(time.Hour), 10); len(again) != 0 {
		t.Errorf("claimed finished deliveries %v", deliveryIDs(again))
	}
	if err := o.FinishDeliveries(ctx, "w2", []int64{ds[0].ID}, state.DeliveryFailed, sentAt, "550"); !errors.Is(err, state.ErrClaimLost) {
		t.Errorf("finishing a finished delivery = %v, want ErrClaimLost", err)
	}
	if err := o.FinishDeliveries(ctx, "w2", []int64{ds[0].ID}, state.DeliveryPending, sentAt, ""); err == nil {
		t.Error("FinishDeliveries accepted pending as a final status")
	}
}

func testRelease(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	ds := addDue(t, o, "jams", 2)
	now := base.Add(time.Minute)
	claimAll(t, o, "w1", now, 10)
	next := now.Add(5 * time.Minute)
	if err := o.ReleaseDeliveries(ctx, "w1", []int64{ds[0].ID}, next, true, "451 4.3.0 try again"); err != nil {
		t.Fatalf("ReleaseDeliveries attempt: %v", err)
	}
	if err := o.ReleaseDeliveries(ctx, "w1", []int64{ds[1].ID}, next, false, "group_interval"); err != nil {
		t.Fatalf("ReleaseDeliveries postponed: %v", err)
	}
	got, err := o.Deliveries(ctx, state.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		if d.ClaimedBy != "" || !d.ClaimUntil.IsZero() || !d.DueAt.Equal(next) || d.Status != state.DeliveryPending {
			t.Errorf("released delivery %+v, want unclaimed, pending, due at %v", d, next)
		}
		switch d.ID {
		case ds[0].ID:
			if d.Attempts != 1 || d.Detail != "451 4.3.0 try again" {
				t.Errorf("failed attempt: attempts %d, detail %q", d.Attempts, d.Detail)
			}
		case ds[1].ID:
			if d.Attempts != 0 || d.Detail != "" {
				t.Errorf("postponed: attempts %d, detail %q; want 0 and unchanged", d.Attempts, d.Detail)
			}
		}
	}
	// Not due before next; then anyone may claim them.
	if early := claimAll(t, o, "w2", next.Add(-time.Millisecond), 10); len(early) != 0 {
		t.Errorf("claimed %v before they are due again", deliveryIDs(early))
	}
	if due := claimAll(t, o, "w2", next, 10); len(due) != 2 {
		t.Errorf("claimed %d when due again, want 2", len(due))
	}
	// Released by an owner that does not hold them: lost, nothing changed.
	if err := o.ReleaseDeliveries(ctx, "w1", []int64{ds[0].ID}, next, true, "x"); !errors.Is(err, state.ErrClaimLost) {
		t.Errorf("ReleaseDeliveries by a non-holder = %v, want ErrClaimLost", err)
	}
	if err := o.ReleaseDeliveries(ctx, "w2", []int64{ds[0].ID}, next.Add(time.Minute), true, "451 again"); err != nil {
		t.Fatal(err)
	}
	got, _ = o.Deliveries(ctx, state.DeliveryFilter{})
	for _, d := range got {
		if d.ID == ds[0].ID && (d.Attempts != 2 || d.Detail != "451 again") {
			t.Errorf("second failed attempt: attempts %d, detail %q", d.Attempts, d.Detail)
		}
	}
}

func testMarkSending(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	ds := addDue(t, o, "jams", 3)
	now := base.Add(time.Minute)
	claimAll(t, o, "w1", now, 10)
	const id = "inkform.d1-2.n2.abc@inkform.invalid"
	sending := []int64{ds[0].ID, ds[1].ID}
	if err := o.MarkSending(ctx, "w2", sending, id); !errors.Is(err, state.ErrClaimLost) {
		t.Errorf("MarkSending by a non-holder = %v, want ErrClaimLost", err)
	}
	if err := o.MarkSending(ctx, "w1", sending, id); err != nil {
		t.Fatalf("MarkSending: %v", err)
	}
	// A failed attempt gives them back; they keep the Message-ID, and a
	// new claim (another owner's, after a crash) returns it.
	if err := o.ReleaseDeliveries(ctx, "w1", deliveryIDs(ds), now, true, "421 closing"); err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, o, "w2", now.Add(time.Second), 10)
	if len(got) != 3 {
		t.Fatalf("claimed %d, want 3", len(got))
	}
	for _, d := range got {
		want := id
		if d.ID == ds[2].ID {
			want = ""
		}
		if d.MessageID != want {
			t.Errorf("delivery %d: MessageID %q, want %q", d.ID, d.MessageID, want)
		}
	}
	if err := o.FinishDeliveries(ctx, "w2", sending, state.DeliverySent, now.Add(2*time.Second), ""); err != nil {
		t.Fatal(err)
	}
	sent, err := o.Deliveries(ctx, state.DeliveryFilter{Status: state.DeliverySent})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sent {
		if d.MessageID != id {
			t.Errorf("sent delivery %d: MessageID %q, want %q", d.ID, d.MessageID, id)
		}
	}
}

func testPrune(t *testing.T, o state.Outbox) {
	p, ok := o.(state.Pruner)
	if !ok {
		t.Skipf("%T does not prune", o)
	}
	ctx := ctxFor(t)
	old, cut := base.Add(-48*time.Hour), base.Add(-24*time.Hour)
	ids := mustAppend(t, o,
		ev("lab-1", alerts.Jam, "1", alerts.Raised, old),      // 0: cleared by 1, no email: goes
		ev("lab-1", alerts.Jam, "1", alerts.Cleared, old),     // 1: goes
		ev("lab-2", alerts.Jam, "2", alerts.Raised, old),      // 2: still active: kept
		ev("lab-3", alerts.DoorOpen, "", alerts.Raised, old),  // 3: cleared by 4; its email pending: kept
		ev("lab-3", alerts.DoorOpen, "", alerts.Cleared, old), // 4: its email sent long ago: both go
		ev("lab-4", alerts.Jam, "4", alerts.Raised, base),     // 5: recent: kept
		ev("lab-4", alerts.Jam, "4", alerts.Cleared, base),    // 6: recent: kept
		ev("lab-5", alerts.TonerLow, "", alerts.Raised, old),  // 7: not routed yet: kept
		ev("lab-5", alerts.TonerLow, "", alerts.Cleared, old)) // 8: not routed yet: kept
	for i, id := range ids[:7] {
		var ds []state.Delivery
		switch i {
		case 3, 4:
			ds = []state.Delivery{delivery("r", fmt.Sprintf("event:%d", id), old)}
		}
		if _, err := o.RouteEvent(ctx, id, ds); err != nil {
			t.Fatal(err)
		}
	}
	sent, err := o.Deliveries(ctx, state.DeliveryFilter{EventID: ids[4]})
	if err != nil || len(sent) != 1 {
		t.Fatalf("deliveries of event %d: %v, %v", ids[4], sent, err)
	}
	claimAll(t, o, "w1", old.Add(time.Second), 1) // the one due first: event 3's
	claimed := claimAll(t, o, "w1", old.Add(time.Second), 10)
	if len(claimed) != 2 {
		t.Fatalf("claimed %d deliveries, want 2", len(claimed))
	}
	if err := o.FinishDeliveries(ctx, "w1", []int64{sent[0].ID}, state.DeliverySent, old.Add(time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := o.AddSilence(ctx, state.Silence{Printer: "lab-*", Starts: old, Ends: old.Add(time.Hour), Comment: "ended"}); err != nil {
		t.Fatal(err)
	}
	keep, err := o.AddSilence(ctx, state.Silence{Printer: "lab-*", Starts: old, Ends: base.Add(time.Hour), Comment: "still on"})
	if err != nil {
		t.Fatal(err)
	}

	n, err := p.Prune(ctx, cut)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if want := (state.Pruned{Events: 3, Deliveries: 1, Silences: 1}); n != want {
		t.Errorf("Prune = %+v, want %+v", n, want)
	}
	evs, err := o.Events(ctx, state.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, e := range evs {
		got[e.ID] = true
	}
	for i, id := range ids {
		gone := i == 0 || i == 1 || i == 4
		if got[id] == gone {
			t.Errorf("event %d (the %d-th): kept %v, want %v", id, i, got[id], !gone)
		}
	}
	left, err := o.Deliveries(ctx, state.DeliveryFilter{})
	if err != nil || len(left) != 1 || left[0].EventID != ids[3] || left[0].Status != state.DeliveryPending {
		t.Errorf("deliveries left %+v (%v), want event %d's pending one", left, err, ids[3])
	}
	sl, err := o.Silences(ctx, time.Time{})
	if err != nil || len(sl) != 1 || sl[0].ID != keep {
		t.Errorf("silences left %+v (%v), want %d", sl, err, keep)
	}
	act, err := o.ActiveAlerts(ctx)
	if err != nil || len(act) != 1 {
		t.Errorf("active alerts after Prune: %d (%v), want 1 (lab-2's jam)", len(act), err)
	}
	// Again: nothing more to delete.
	if n, err := p.Prune(ctx, cut); err != nil || n != (state.Pruned{}) {
		t.Errorf("second Prune = %+v, %v; want nothing", n, err)
	}
}

func testLastSent(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	if at, err := o.LastSent(ctx, "jams"); err != nil || !at.IsZero() {
		t.Errorf("LastSent of a route never sent = %v, %v; want zero", at, err)
	}
	addDue(t, o, "jams", 3)
	addDue(t, o, "toner", 1)
	now := base.Add(time.Minute)
	ds := claimAll(t, o, "w1", now, 10)
	byRoute := map[string][]int64{}
	for _, d := range ds {
		byRoute[d.Route] = append(byRoute[d.Route], d.ID)
	}
	jams := byRoute["jams"]
	t1, t2 := now.Add(time.Second), now.Add(2*time.Second)
	for _, step := range []struct {
		ids    []int64
		status string
		at     time.Time
	}{
		{jams[1:2], state.DeliverySent, t2},
		{jams[0:1], state.DeliverySent, t1}, // finished later, sent earlier
		{jams[2:3], state.DeliveryFailed, t2.Add(time.Hour)},
		{byRoute["toner"], state.DeliverySuppressed, t2.Add(time.Hour)},
	} {
		if err := o.FinishDeliveries(ctx, "w1", step.ids, step.status, step.at, ""); err != nil {
			t.Fatal(err)
		}
	}
	if at, err := o.LastSent(ctx, "jams"); err != nil || !at.Equal(t2) {
		t.Errorf("LastSent(jams) = %v, %v; want %v (failed ones do not count)", at, err, t2)
	} else {
		wantUTC(t, "LastSent", at)
	}
	if at, err := o.LastSent(ctx, "toner"); err != nil || !at.IsZero() {
		t.Errorf("LastSent(toner) = %v, %v; want zero (suppressed is not sent)", at, err)
	}
}

// testConcurrentClaims has four owners, two on each store, claim and
// finish every delivery in a loop: none may get a delivery another
// holds, and each is sent once.
func testConcurrentClaims(t *testing.T, a, b state.Outbox) {
	ctx := ctxFor(t)
	const n = 300
	ds := make([]state.Delivery, n)
	due := time.Now().Add(-time.Minute)
	for i := range ds {
		ds[i] = delivery(fmt.Sprintf("r%d", i%3), fmt.Sprintf("test:%d", i), due)
	}
	if added, err := a.AddDeliveries(ctx, ds); err != nil || added != n {
		t.Fatalf("AddDeliveries = %d, %v", added, err)
	}
	var (
		mu      sync.Mutex
		holder  = map[int64]string{} // claims live now
		sentBy  = map[int64]string{}
		claims  int
		workers sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(20 * time.Second)
	for i, o := range []state.Outbox{a, b, a, b} {
		owner := fmt.Sprintf("owner-%d", i)
		workers.Go(func() {
			for time.Now().Before(deadline) {
				got, err := o.ClaimDeliveries(ctx, owner, time.Now(), time.Minute, 7)
				if err != nil {
					t.Errorf("%s: ClaimDeliveries: %v", owner, err)
					return
				}
				if len(got) == 0 {
					left, err := o.Deliveries(ctx, state.DeliveryFilter{Status: state.DeliveryPending, Limit: 1})
					if err != nil {
						t.Errorf("%s: Deliveries: %v", owner, err)
						return
					}
					if len(left) == 0 {
						return
					}
					continue // others hold the rest, or a claim lost a race
				}
				mu.Lock()
				for _, d := range got {
					if h, ok := holder[d.ID]; ok {
						t.Errorf("delivery %d claimed by %s while %s holds it", d.ID, owner, h)
					}
					if s, ok := sentBy[d.ID]; ok {
						t.Errorf("delivery %d claimed by %s after %s sent it", d.ID, owner, s)
					}
					holder[d.ID] = owner
				}
				claims += len(got)
				mu.Unlock()
				ids := deliveryIDs(got)
				// Finished under the claim: the release of the holder map
				// comes after the store has recorded it.
				if err := o.FinishDeliveries(ctx, owner, ids, state.DeliverySent, time.Now(), ""); err != nil {
					t.Errorf("%s: FinishDeliveries: %v", owner, err)
					return
				}
				mu.Lock()
				for _, id := range ids {
					delete(holder, id)
					sentBy[id] = owner
				}
				mu.Unlock()
			}
		})
	}
	workers.Wait()
	elapsed := time.Since(start)
	if len(sentBy) != n {
		t.Fatalf("%d of %d deliveries sent before the deadline", len(sentBy), n)
	}
	t.Logf("4 owners claimed and finished %d deliveries in %v: %.0f deliveries/s", claims, elapsed.Round(time.Millisecond), float64(claims)/elapsed.Seconds())
	stored, err := b.Deliveries(ctx, state.DeliveryFilter{Status: state.DeliverySent})
	if err != nil || len(stored) != n {
		t.Fatalf("sent deliveries = %d, %v; want %d", len(stored), err, n)
	}
	for _, d := range stored {
		if d.ClaimedBy != sentBy[d.ID] {
			t.Errorf("delivery %d recorded as sent by %q, sent by %q", d.ID, d.ClaimedBy, sentBy[d.ID])
		}
	}
}

// testClaimTakenOver: a claim that ran out in one process is taken by the
// other; the first then cannot finish it.
func testClaimTakenOver(t *testing.T, a, b state.Outbox) {
	ctx := ctxFor(t)
	ds := addDue(t, a, "jams", 1)
	now := base.Add(time.Minute)
	if got := claimAll(t, a, "proc-a", now, 10); len(got) != 1 {
		t.Fatalf("proc-a claimed %d", len(got))
	}
	if got := claimAll(t, b, "proc-b", now.Add(59*time.Second), 10); len(got) != 0 {
		t.Fatalf("proc-b claimed %v while proc-a's claim lives", deliveryIDs(got))
	}
	if got := claimAll(t, b, "proc-b", now.Add(time.Minute), 10); len(got) != 1 || got[0].ID != ds[0].ID {
		t.Fatalf("proc-b claimed %v after proc-a's lease ended, want %d", deliveryIDs(got), ds[0].ID)
	}
	if err := a.FinishDeliveries(ctx, "proc-a", []int64{ds[0].ID}, state.DeliverySent, now, ""); !errors.Is(err, state.ErrClaimLost) {
		t.Errorf("proc-a finishing a delivery proc-b took = %v, want ErrClaimLost", err)
	}
	if err := a.ReleaseDeliveries(ctx, "proc-a", []int64{ds[0].ID}, now, true, ""); !errors.Is(err, state.ErrClaimLost) {
		t.Errorf("proc-a releasing a delivery proc-b took = %v, want ErrClaimLost", err)
	}
	if err := b.FinishDeliveries(ctx, "proc-b", []int64{ds[0].ID}, state.DeliverySent, now.Add(time.Minute), ""); err != nil {
		t.Errorf("proc-b finishing: %v", err)
	}
	if got, err := a.Deliveries(ctx, state.DeliveryFilter{}); err != nil || len(got) != 1 || got[0].ClaimedBy != "proc-b" || got[0].Status != state.DeliverySent || got[0].Attempts != 0 {
		t.Errorf("delivery after takeover = %+v, %v", got, err)
	}
}

// testRouteOnce: both processes route every event at once; each is
// routed by exactly one, and its deliveries are added once.
func testRouteOnce(t *testing.T, a, b state.Outbox) {
	ctx := ctxFor(t)
	const n = 40
	evs := make([]alerts.Event, n)
	for i := range evs {
		evs[i] = ev(fmt.Sprintf("lab-%d", i), alerts.Jam, "", alerts.Raised, base)
	}
	ids := mustAppend(t, a, evs...)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won = map[int64]int{}
	)
	for _, o := range []state.Outbox{a, b} {
		wg.Go(func() {
			for _, id := range ids {
				ok, err := o.RouteEvent(ctx, id, []state.Delivery{delivery("jams", fmt.Sprintf("event:%d", id), base)})
				if err != nil {
					t.Errorf("RouteEvent(%d): %v", id, err)
					continue
				}
				if ok {
					mu.Lock()
					won[id]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if won[id] != 1 {
			t.Errorf("event %d routed %d times", id, won[id])
		}
	}
	if ds, err := b.Deliveries(ctx, state.DeliveryFilter{}); err != nil || len(ds) != n {
		t.Errorf("%d deliveries, %v; want %d", len(ds), err, n)
	}
	if un, err := b.UnroutedEvents(ctx, 0); err != nil || len(un) != 0 {
		t.Errorf("%d unrouted, %v", len(un), err)
	}
}

// testAddOnce: both processes add the same deliveries at once; together
// they add each once.
func testAddOnce(t *testing.T, a, b state.Outbox) {
	ctx := ctxFor(t)
	const n = 100
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added int
	)
	for _, o := range []state.Outbox{a, b} {
		wg.Go(func() {
			for i := range n / 10 {
				ds := make([]state.Delivery, 10)
				for j := range ds {
					ds[j] = delivery("jams", fmt.Sprintf("repeat:k:%d", i*10+j), base)
				}
				c, err := o.AddDeliveries(ctx, ds)
				if err != nil {
					t.Errorf("AddDeliveries: %v", err)
					return
				}
				mu.Lock()
				added += c
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if added != n {
		t.Errorf("the two added %d together, want %d", added, n)
	}
	if ds, err := a.Deliveries(ctx, state.DeliveryFilter{}); err != nil || len(ds) != n {
		t.Errorf("%d deliveries, %v; want %d", len(ds), err, n)
	}
}

// testConcurrentAppend: both processes append at once; every event is
// recorded with an id of its own and the active set is consistent.
func testConcurrentAppend(t *testing.T, a, b state.Outbox) {
	ctx := ctxFor(t)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all []int64
	)
	for w, o := range []state.Outbox{a, b} {
		wg.Go(func() {
			for i := range 20 {
				evs := make([]alerts.Event, 10)
				for j := range evs {
					// Both raise the same keys: the active set keeps one each.
					evs[j] = ev(fmt.Sprintf("lab-%d", j), alerts.Jam, "", alerts.Raised, base.Add(time.Duration(w*1000+i)*time.Millisecond))
				}
				ids, err := o.AppendEvents(ctx, evs)
				if err != nil {
					t.Errorf("AppendEvents: %v", err)
					return
				}
				mu.Lock()
				all = append(all, ids...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(all)
	if len(all) != 400 || len(slices.Compact(slices.Clone(all))) != 400 {
		t.Errorf("%d ids, %d distinct; want 400", len(all), len(slices.Compact(all)))
	}
	act, err := b.ActiveAlerts(ctx)
	if err != nil || len(act) != 10 {
		t.Fatalf("ActiveAlerts = %d, %v; want 10", len(act), err)
	}
	// Each key's active raise is its last recorded one.
	for _, al := range act {
		evs, err := b.Events(ctx, state.EventFilter{Key: al.Event.Key})
		if err != nil || len(evs) != 40 {
			t.Fatalf("events of %s = %d, %v", al.Event.Key, len(evs), err)
		}
		last := slices.Max(eventIDs(evs))
		if al.Event.ID != last {
			t.Errorf("active raise of %s is event %d, want the last recorded %d", al.Event.Key, al.Event.ID, last)
		}
	}
}

func testSilences(t *testing.T, o state.Outbox) {
	ctx := ctxFor(t)
	in := []state.Silence{
		{Printer: "lab-*", Event: alerts.Jam, Starts: base, Ends: base.Add(2 * time.Hour), Comment: "moving the printers", By: "ana"},
		{Printer: "lobby", Starts: base.Add(time.Hour), Ends: base.Add(3 * time.Hour), Comment: "", By: "bo"},
		{Event: alerts.TonerLow, Starts: base.Add(-time.Hour), Ends: base.Add(time.Minute), By: "cy"},
	}
	for i := range in {
		id, err := o.AddSilence(ctx, in[i])
		if err != nil {
			t.Fatalf("AddSilence: %v", err)
		}
		in[i].ID = id
	}
	all, err := o.Silences(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Most recent first: by when they start.
	if diff := cmp.Diff([]state.Silence{in[1], in[0], in[2]}, all, outboxOpts); diff != "" {
		t.Errorf("all silences (-want +got):\n%s", diff)
	}
	for _, s := range all {
		wantUTC(t, "Silences", s.Starts, s.Ends)
	}
	for _, tc := range []struct {
		at   time.Time
		want []int64
	}{
		{base.Add(-2 * time.Hour), nil},
		{base, []int64{in[0].ID, in[2].ID}},
		{base.Add(time.Minute), []int64{in[0].ID}}, // ends are exclusive
		{base.Add(90 * time.Minute), []int64{in[1].ID, in[0].ID}},
		{base.Add(3 * time.Hour), nil},
	} {
		got, err := o.Silences(ctx, tc.at)
		if err != nil || !cmp.Equal(silenceIDs(got), tc.want, cmpopts.EquateEmpty()) {
			t.Errorf("Silences(%v) = %v, %v; want %v", tc.at, silenceIDs(got), err, tc.want)
		}
	}
	// Expired now, it is no longer active; it stays in the list.
	end := base.Add(30 * time.Minute)
	if err := o.ExpireSilence(ctx, in[0].ID, end); err != nil {
		t.Fatalf("ExpireSilence: %v", err)
	}
	if got, _ := o.Silences(ctx, end); len(got) != 0 {
		t.Errorf("active after expiry: %v", silenceIDs(got))
	}
	if got, _ := o.Silences(ctx, end.Add(-time.Second)); !cmp.Equal(silenceIDs(got), []int64{in[0].ID}) {
		t.Errorf("active just before expiry: %v, want %d", silenceIDs(got), in[0].ID)
	}
	all, _ = o.Silences(ctx, time.Time{})
	if len(all) != 3 || !all[1].Ends.Equal(end) {
		t.Errorf("after expiry all = %+v; want 3, the expired ending at %v", all, end)
	}
	if err := o.ExpireSilence(ctx, in[2].ID+1000, end); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("ExpireSilence(unknown) = %v, want ErrNotFound", err)
	}
}

func silenceIDs(ss []state.Silence) []int64 {
	var ids []int64
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

// BenchAppendEvents appends events in batches of batch to o, as a
// trap storm does, and reports events/s. Backends call it from their own
// benchmarks.
func BenchAppendEvents(b *testing.B, o state.Outbox, batch int) {
	ctx := b.Context()
	evs := make([]alerts.Event, batch)
	n := 0
	start := time.Now()
	for b.Loop() {
		for j := range evs {
			kind := alerts.Raised
			if n%3 == 2 {
				kind = alerts.Cleared
			}
			evs[j] = ev(fmt.Sprintf("p%05d", n%10000), alerts.Jam, "", kind, base.Add(time.Duration(n)*time.Millisecond))
			n++
		}
		if _, err := o.AppendEvents(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}

// BenchClaimDeliveries claims deliveries limit at a time and
// finishes them as sent, as the sender does, and reports deliveries/s.
func BenchClaimDeliveries(b *testing.B, o state.Outbox, limit int) {
	ctx := b.Context()
	n := 0
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		ds := make([]state.Delivery, limit)
		for j := range ds {
			ds[j] = delivery("jams", fmt.Sprintf("bench:%d", n+j), base)
		}
		if _, err := o.AddDeliveries(ctx, ds); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		got, err := o.ClaimDeliveries(ctx, "bench", base.Add(time.Minute), time.Minute, limit)
		if err != nil || len(got) != limit {
			b.Fatalf("claimed %d, %v", len(got), err)
		}
		if err := o.FinishDeliveries(ctx, "bench", deliveryIDs(got), state.DeliverySent, base.Add(time.Minute), ""); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		n += limit
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "deliveries/s")
}
