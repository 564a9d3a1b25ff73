package memstate

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
)

var _ state.Outbox = (*Store)(nil)

// outbox is watch's part of the store. Every method runs under the
// store's mutex, so each is one transaction.
type outbox struct {
	events     []alerts.Event // id = index+1
	routed     map[int64]bool
	active     map[string]state.ActiveAlert
	deliveries []state.Delivery // id = index+1
	dedupe     map[dedupeKey]int64
	silences   []state.Silence // id = index+1
}

type dedupeKey struct{ route, dedupe string }

// ob returns the outbox, made on first use. s.mu must be held.
func (s *Store) ob() *outbox {
	if s.out == nil {
		s.out = &outbox{routed: map[int64]bool{}, active: map[string]state.ActiveAlert{}, dedupe: map[dedupeKey]int64{}}
	}
	return s.out
}

func cloneDelivery(d state.Delivery) state.Delivery {
	d.To = slices.Clone(d.To)
	d.Cc = slices.Clone(d.Cc)
	return d
}

// AppendEvents records events, all or none, and keeps the active set.
func (s *Store) AppendEvents(ctx context.Context, evs []alerts.Event) ([]int64, error) {
	for i, ev := range evs {
		if ev.Key == "" || ev.Printer == "" || ev.Name == "" {
			return nil, fmt.Errorf("append events: event %d (%s on %s): an event needs a printer, a key and a name", i, ev.Name, ev.Printer)
		}
		if ev.Kind != alerts.Raised && ev.Kind != alerts.Cleared {
			return nil, fmt.Errorf("append events: event %d (%s): kind %q is neither raised nor cleared", i, ev.Key, ev.Kind)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	ids := make([]int64, len(evs))
	for i, ev := range evs {
		ev.ID = int64(len(o.events) + 1)
		if ev.At.IsZero() {
			ev.At = time.Now()
		}
		ev.At = ev.At.UTC() // as a database gives times back
		o.events = append(o.events, ev)
		ids[i] = ev.ID
		switch ev.Kind {
		case alerts.Raised:
			a := o.active[ev.Key] // a re-raise keeps the acknowledgement
			a.Event = ev
			o.active[ev.Key] = a
		case alerts.Cleared:
			delete(o.active, ev.Key)
		}
	}
	return ids, nil
}

// ActiveAlerts returns the alerts raised and not cleared, sorted by key.
func (s *Store) ActiveAlerts(ctx context.Context) ([]state.ActiveAlert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	out := make([]state.ActiveAlert, 0, len(o.active))
	for _, a := range o.active {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b state.ActiveAlert) int { return cmp.Compare(a.Event.Key, b.Event.Key) })
	return out, nil
}

// ActiveAlertsOf returns the active alerts among keys, sorted by key.
func (s *Store) ActiveAlertsOf(ctx context.Context, keys []string) ([]state.ActiveAlert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	var out []state.ActiveAlert
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if a, ok := o.active[k]; ok && !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b state.ActiveAlert) int { return cmp.Compare(a.Event.Key, b.Event.Key) })
	return out, nil
}

// Events returns recorded events matching f, most recent first (by time,
// then by id).
func (s *Store) Events(ctx context.Context, f state.EventFilter) ([]alerts.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids map[int64]bool
	if len(f.IDs) > 0 {
		ids = make(map[int64]bool, len(f.IDs))
		for _, id := range f.IDs {
			ids[id] = true
		}
	}
	var out []alerts.Event
	for _, ev := range s.ob().events {
		if (f.Printer != "" && ev.Printer != f.Printer) || (f.Key != "" && ev.Key != f.Key) ||
			(!f.Since.IsZero() && ev.At.Before(f.Since)) || (ids != nil && !ids[ev.ID]) {
			continue
		}
		out = append(out, ev)
	}
	slices.SortFunc(out, func(a, b alerts.Event) int { return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.ID, a.ID)) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// UnroutedEvents returns up to limit (all when limit <= 0) events not
// routed yet, oldest first.
func (s *Store) UnroutedEvents(ctx context.Context, limit int) ([]alerts.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	var out []alerts.Event
	for _, ev := range o.events {
		if o.routed[ev.ID] {
			continue
		}
		out = append(out, ev)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// addDelivery stores d as pending. s.mu must be held and (Route, Dedupe)
// must be free.
func (o *outbox) addDelivery(d state.Delivery) {
	d = cloneDelivery(d)
	d.ID = int64(len(o.deliveries) + 1)
	d.Status = state.DeliveryPending
	d.Attempts, d.ClaimedBy, d.ClaimUntil, d.SentAt, d.Detail = 0, "", time.Time{}, time.Time{}, ""
	if d.DueAt.IsZero() {
		d.DueAt = time.Now()
	}
	d.DueAt = d.DueAt.UTC()
	o.deliveries = append(o.deliveries, d)
	o.dedupe[dedupeKey{d.Route, d.Dedupe}] = d.ID
}

// RouteEvent marks an event routed and adds its deliveries, which get the
// event's id. Like a unique index in a database, a (Route, Dedupe) stored
// already fails the whole call.
func (s *Store) RouteEvent(ctx context.Context, eventID int64, ds []state.Delivery) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	if eventID < 1 || eventID > int64(len(o.events)) {
		return false, fmt.Errorf("route event %d: event %w", eventID, state.ErrNotFound)
	}
	if o.routed[eventID] {
		return false, nil
	}
	seen := map[dedupeKey]bool{}
	for _, d := range ds {
		k := dedupeKey{d.Route, d.Dedupe}
		if _, dup := o.dedupe[k]; dup || seen[k] {
			return false, fmt.Errorf("route event %d: route %s: delivery %q exists already", eventID, d.Route, d.Dedupe)
		}
		seen[k] = true
	}
	o.routed[eventID] = true
	for _, d := range ds {
		d.EventID = eventID
		o.addDelivery(d)
	}
	return true, nil
}

// AddDeliveries adds the deliveries whose (Route, Dedupe) is not stored
// yet and returns how many.
func (s *Store) AddDeliveries(ctx context.Context, ds []state.Delivery) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	n := 0
	for _, d := range ds {
		if _, dup := o.dedupe[dedupeKey{d.Route, d.Dedupe}]; dup {
			continue
		}
		o.addDelivery(d)
		n++
	}
	return n, nil
}

// live says whether d holds a claim at now.
func live(d *state.Delivery, now time.Time) bool {
	return d.ClaimedBy != "" && d.ClaimUntil.After(now)
}

// ClaimDeliveries leases pending deliveries due by now to owner.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]state.Delivery, error) {
	if owner == "" {
		return nil, fmt.Errorf("claim deliveries: empty owner")
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim deliveries: lease %v is not positive", lease)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	var idx []int
	for i := range o.deliveries {
		d := &o.deliveries[i]
		if d.Status != state.DeliveryPending || d.DueAt.After(now) {
			continue
		}
		if live(d, now) && d.ClaimedBy != owner {
			continue
		}
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(o.deliveries[a].DueAt.Compare(o.deliveries[b].DueAt), cmp.Compare(a, b))
	})
	if limit > 0 && len(idx) > limit {
		idx = idx[:limit]
	}
	out := make([]state.Delivery, 0, len(idx))
	for _, i := range idx {
		d := &o.deliveries[i]
		d.ClaimedBy, d.ClaimUntil = owner, now.Add(lease).UTC()
		out = append(out, cloneDelivery(*d))
	}
	return out, nil
}

// held returns the deliveries with ids that owner holds, or an error
// wrapping ErrClaimLost naming the first it does not. A claim is held
// while it is owner's, pending, and (when now is not zero) its lease runs
// past now. s.mu must be held.
func (o *outbox) held(owner string, ids []int64, now time.Time, op string) ([]*state.Delivery, error) {
	out := make([]*state.Delivery, 0, len(ids))
	for _, id := range ids {
		if id < 1 || id > int64(len(o.deliveries)) {
			return nil, fmt.Errorf("%s delivery %d: no such delivery: %w", op, id, state.ErrClaimLost)
		}
		d := &o.deliveries[id-1]
		// Held while pending and claimed last by owner, even past the
		// lease: nobody else took it meanwhile.
		if d.Status != state.DeliveryPending || d.ClaimedBy != owner {
			return nil, fmt.Errorf("%s delivery %d by %s: %w", op, id, owner, state.ErrClaimLost)
		}
		out = append(out, d)
	}
	return out, nil
}

// FinishDeliveries sets the final status of deliveries owner holds at at.
func (s *Store) FinishDeliveries(ctx context.Context, owner string, ids []int64, status string, at time.Time, detail string) error {
	switch status {
	case state.DeliverySent, state.DeliverySuppressed, state.DeliveryFailed:
	default:
		return fmt.Errorf("finish deliveries: status %q is not final", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, err := s.ob().held(owner, ids, at, "finish")
	if err != nil {
		return err
	}
	for _, d := range ds {
		d.Status, d.Detail, d.ClaimUntil = status, detail, time.Time{}
		if status == state.DeliverySent {
			d.SentAt = at.UTC()
		}
	}
	return nil
}

// ReleaseDeliveries gives back deliveries owner claimed, due again at
// next. Having no time of its own, it holds a claim lost only once
// another owner took it or it was finished.
func (s *Store) ReleaseDeliveries(ctx context.Context, owner string, ids []int64, next time.Time, attempt bool, detail string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, err := s.ob().held(owner, ids, time.Time{}, "release")
	if err != nil {
		return err
	}
	for _, d := range ds {
		d.ClaimedBy, d.ClaimUntil, d.DueAt = "", time.Time{}, next.UTC()
		if attempt {
			d.Attempts++
			d.Detail = detail
		}
	}
	return nil
}

// MarkSending records the Message-ID deliveries owner holds go out under.
func (s *Store) MarkSending(ctx context.Context, owner string, ids []int64, messageID string) error {
	if messageID == "" {
		return fmt.Errorf("memstate: %s: mark deliveries sending: no Message-ID", owner)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, err := s.ob().held(owner, ids, time.Time{}, "mark sending")
	if err != nil {
		return err
	}
	for _, d := range ds {
		d.MessageID = messageID
	}
	return nil
}

// Deliveries returns deliveries matching f, most recent (highest id)
// first.
func (s *Store) Deliveries(ctx context.Context, f state.DeliveryFilter) ([]state.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	var out []state.Delivery
	for i := len(o.deliveries) - 1; i >= 0; i-- {
		d := o.deliveries[i]
		if (f.Route != "" && d.Route != f.Route) || (f.Status != "" && d.Status != f.Status) || (f.EventID != 0 && d.EventID != f.EventID) {
			continue
		}
		out = append(out, cloneDelivery(d))
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// LastSent returns when route last had a delivery sent.
func (s *Store) LastSent(ctx context.Context, route string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last time.Time
	for _, d := range s.ob().deliveries {
		if d.Route == route && d.Status == state.DeliverySent && d.SentAt.After(last) {
			last = d.SentAt
		}
	}
	return last, nil
}

// AddSilence records a silence.
func (s *Store) AddSilence(ctx context.Context, sl state.Silence) (int64, error) {
	if sl.Printer != "" {
		if _, err := path.Match(sl.Printer, ""); err != nil {
			return 0, fmt.Errorf("add silence: printer pattern %q: %w", sl.Printer, err)
		}
	}
	if sl.Starts.IsZero() {
		sl.Starts = time.Now()
	}
	sl.Starts, sl.Ends = sl.Starts.UTC(), sl.Ends.UTC()
	if !sl.Ends.After(sl.Starts) {
		return 0, fmt.Errorf("add silence: ends %v not after starts %v", sl.Ends, sl.Starts)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	sl.ID = int64(len(o.silences) + 1)
	o.silences = append(o.silences, sl)
	return sl.ID, nil
}

// Silences returns the silences active at t (Starts <= t < Ends), or all
// when t is zero, most recent (latest start, then highest id) first.
func (s *Store) Silences(ctx context.Context, t time.Time) ([]state.Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []state.Silence
	for _, sl := range s.ob().silences {
		if t.IsZero() || (!sl.Starts.After(t) && sl.Ends.After(t)) {
			out = append(out, sl)
		}
	}
	slices.SortFunc(out, func(a, b state.Silence) int { return cmp.Or(b.Starts.Compare(a.Starts), cmp.Compare(b.ID, a.ID)) })
	return out, nil
}

// ExpireSilence ends a silence at t (a silence that ended earlier keeps
// its end).
func (s *Store) ExpireSilence(ctx context.Context, id int64, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	if id < 1 || id > int64(len(o.silences)) {
		return fmt.Errorf("expire silence %d: %w", id, state.ErrNotFound)
	}
	if sl := &o.silences[id-1]; t.Before(sl.Ends) {
		sl.Ends = t.UTC()
	}
	return nil
}

// Ack acknowledges an active alert.
func (s *Store) Ack(ctx context.Context, key, by, comment string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ob()
	a, ok := o.active[key]
	if !ok {
		return fmt.Errorf("ack %s: active alert %w", key, state.ErrNotFound)
	}
	a.AckedBy, a.AckedAt, a.Comment = by, at.UTC(), comment
	o.active[key] = a
	return nil
}
