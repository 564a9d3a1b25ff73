package sqlstate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
)

var _ state.Outbox = (*Store)(nil)

// SkipLocker is implemented by dialects that can skip rows another
// transaction has locked while locking the rows they read (SQL Server's
// UPDLOCK, READPAST). Claims then never wait for each other. Without it,
// a row that another transaction is claiming at the same moment makes
// the claiming UPDATE fail with a conflict (Firebird), and the row is
// left to the other.
type SkipLocker interface {
	// SkipLockedHint is the table hint written after the table's name in
	// the FROM clause of the SELECT that picks rows to claim.
	SkipLockedHint() string
}

// RowsWriter is implemented by dialects that write several rows in one
// statement. Recording a trap storm one statement per event spent most
// of its time starting and ending statements.
type RowsWriter interface {
	// InsertRowsReturningIDs returns an insert of n rows of cols ('?'
	// parameters, row after row) that yields the new ids, one row each,
	// in any order; ids must be assigned in the order of the rows.
	InsertRowsReturningIDs(table string, cols []string, n int, id string) string
	// UpsertRows is Upsert of n rows with distinct keys.
	UpsertRows(table string, key, cols []string, n int) string
}

// eventRows is how many events (or active alerts) one multi-row
// statement writes.
const eventRows = 50

// StatementConflicts is implemented by dialects whose conflict errors
// (IsRetryable) undo only the statement that met them, leaving the
// transaction to go on (Firebird). The core then tries the statement
// again, or leaves its row to the other writer, rather than start the
// whole transaction again. Elsewhere a conflict (a deadlock victim on SQL
// Server) ends the transaction, and only a new one may follow.
type StatementConflicts interface {
	ConflictUndoesStatement() bool
}

// statementConflicts reports whether the dialect is a StatementConflicts
// that says so.
func (s *Store) statementConflicts() bool {
	sc, ok := s.d.(StatementConflicts)
	return ok && sc.ConflictUndoesStatement()
}

// inChunk bounds the ids of one IN list: Firebird takes at most 1,500
// and SQL Server 2,100 parameters in a statement.
const inChunk = 500

// eventCols are alert_events' columns as insertEvent writes them.
const eventCols = `printer, alert_key, key_hash, kind, event_name, severity, origin, from_addr, code, oid, description, occurred_at`

// selectEvent reads an event in the order scanEvent expects.
const selectEvent = `SELECT id, printer, alert_key, kind, event_name, severity, origin, from_addr, code, oid, description, occurred_at FROM alert_events`

// selectDelivery reads a delivery in the order scanDelivery expects.
const selectDelivery = `SELECT id, event_id, route, kind, dedupe, mail_to, mail_cc, due_at, status, attempts, claimed_by, claim_until, sent_at, detail, message_id FROM alert_deliveries`

// outboxStmts are prepared once, like the printers' statements: a trap
// storm appends events by the thousand.
type outboxStmts struct {
	insertEvent, raise *sql.Stmt
	// eventRows at once; nil when the dialect cannot.
	insertEvents, raiseMany *sql.Stmt
}

func (o outboxStmts) all() []*sql.Stmt {
	return []*sql.Stmt{o.insertEvent, o.raise, o.insertEvents, o.raiseMany}
}

func (s *Store) prepareOutbox(prep func(string) *sql.Stmt) {
	s.outbox = outboxStmts{
		insertEvent: prep(s.d.InsertReturningID("alert_events", strings.Split(eventCols, ", "), "id")),
		raise:       prep(s.d.Upsert("alert_active", []string{"key_hash"}, []string{"key_hash", "event_id"})),
	}
	if rw, ok := s.d.(RowsWriter); ok {
		s.outbox.insertEvents = prep(rw.InsertRowsReturningIDs("alert_events", strings.Split(eventCols, ", "), eventRows, "id"))
		s.outbox.raiseMany = prep(rw.UpsertRows("alert_active", []string{"key_hash"}, []string{"key_hash", "event_id"}, eventRows))
	}
}

// digest keys what may be too long for an engine's index: the first 128
// bits of the SHA-256 of parts joined by NUL (which no part contains),
// in hex. Short keys keep the indexes small; a collision among fewer
// than 2^40 keys has a chance below 2^-48.
func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

func validEvent(e alerts.Event) error {
	switch {
	case e.Printer == "":
		return errors.New("no printer")
	case e.Key == "":
		return errors.New("no key")
	case e.Name == "":
		return errors.New("no event name")
	case e.Kind != alerts.Raised && e.Kind != alerts.Cleared:
		return fmt.Errorf("kind %q is neither %s nor %s", e.Kind, alerts.Raised, alerts.Cleared)
	}
	return nil
}

// AppendEvents records evs and keeps the active alerts in one
// transaction. A zero At is recorded as now.
func (s *Store) AppendEvents(ctx context.Context, evs []alerts.Event) ([]int64, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	ats := make([]int64, len(evs))
	for i, e := range evs {
		if e.At.IsZero() {
			e.At = s.now()
		}
		at, err := encTime(e.At)
		if err == nil {
			err = validEvent(e)
		}
		if err != nil {
			return nil, fmt.Errorf("append events: event %d (%s): %w", i, e.Key, err)
		}
		ats[i] = at.Int64
	}
	args := make([][]any, len(evs))
	for i, e := range evs {
		args[i] = []any{e.Printer, e.Key, digest(e.Key), string(e.Kind), e.Name, string(e.Severity), e.Source,
			e.From, e.Code, e.OID, e.Description, ats[i]}
	}
	ids := make([]int64, len(evs))
	var cur int
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i := 0; i < len(evs); {
			cur = i
			n, err := s.insertEvents(ctx, tx, args[i:], ids[i:])
			if err != nil {
				return err
			}
			i += n
		}
		cur = 0
		if err := s.activate(ctx, tx, evs, args, ids); err != nil {
			return fmt.Errorf("active alerts: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s state: append %d events (at %s): %w", s.d.Name(), len(evs), evs[cur].Key, err)
	}
	return ids, nil
}

// activate applies recorded events to the active alerts. Only each key's
// outcome is written: its row is deleted when an event of the batch
// clears it, and (re)written when its last event raises it. A raise
// after a clear is a new alert, without the old acknowledgement.
func (s *Store) activate(ctx context.Context, tx *sql.Tx, evs []alerts.Event, args [][]any, ids []int64) error {
	type outcome struct {
		cleared bool
		raise   int64
	}
	keys := map[any]*outcome{}
	var order []any
	for i, e := range evs {
		kh := args[i][2]
		o := keys[kh]
		if o == nil {
			o = &outcome{}
			keys[kh] = o
			order = append(order, kh)
		}
		if e.Kind == alerts.Cleared {
			o.cleared, o.raise = true, 0
		} else {
			o.raise = ids[i]
		}
	}
	// In one order in every process, so that two appending at once wait
	// for each other's rows rather than deadlock.
	slices.SortFunc(order, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	var clear, raise []any
	for _, kh := range order {
		if o := keys[kh]; o.cleared {
			clear = append(clear, kh)
		}
		if o := keys[kh]; o.raise != 0 {
			raise = append(raise, kh, o.raise)
		}
	}
	for chunk := range slices.Chunk(clear, inChunk) {
		if _, err := tx.ExecContext(ctx, s.bind(`DELETE FROM alert_active WHERE key_hash IN (`+marks(len(chunk))+`)`), chunk...); err != nil {
			return err
		}
	}
	for len(raise) > 0 {
		if s.outbox.raiseMany != nil && len(raise) >= 2*eventRows {
			if _, err := tx.StmtContext(ctx, s.outbox.raiseMany).ExecContext(ctx, raise[:2*eventRows]...); err != nil {
				return err
			}
			raise = raise[2*eventRows:]
			continue
		}
		if err := s.raiseOne(ctx, tx, raise[:2]); err != nil {
			return err
		}
		raise = raise[2:]
	}
	return nil
}

// raiseAttempts bounds how often one upsert of an active alert is tried.
const raiseAttempts = 5

// raiseOne upserts one active alert. Where the engine lets two
// transactions write one key at once (Firebird), the second fails once
// the first commits, with a conflict or, when both inserted, a duplicate
// key; the same statement then finds the committed row and updates it.
// A duplicate key undoes only the failed statement on every engine here.
func (s *Store) raiseOne(ctx context.Context, tx *sql.Tx, args []any) error {
	var err error
	for range raiseAttempts {
		_, err = tx.StmtContext(ctx, s.outbox.raise).ExecContext(ctx, args...)
		if err == nil || !(s.d.IsUniqueViolation(err) || (s.statementConflicts() && s.d.IsRetryable(err))) {
			return err
		}
	}
	return err
}

// insertEvents inserts the first events of args, as many as one
// statement takes, puts their ids in ids and returns how many it
// inserted.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, args [][]any, ids []int64) (int, error) {
	if s.outbox.insertEvents == nil || len(args) < eventRows {
		return 1, tx.StmtContext(ctx, s.outbox.insertEvent).QueryRowContext(ctx, args[0]...).Scan(&ids[0])
	}
	flat := make([]any, 0, eventRows*len(args[0]))
	for _, a := range args[:eventRows] {
		flat = append(flat, a...)
	}
	got, err := scanIDs(tx.StmtContext(ctx, s.outbox.insertEvents).QueryContext(ctx, flat...))
	if err != nil {
		return 0, err
	}
	if len(got) != eventRows {
		return 0, fmt.Errorf("insert of %d events returned %d ids", eventRows, len(got))
	}
	slices.Sort(got) // assigned in the order of the rows
	copy(ids, got)
	return eventRows, nil
}

// ActiveAlerts returns the active alerts sorted by key.
func (s *Store) ActiveAlerts(ctx context.Context) ([]state.ActiveAlert, error) {
	out, err := s.activeAlerts(ctx, "")
	if err != nil {
		return nil, err
	}
	// Collations differ between engines; Go's byte order is the contract.
	sort.Slice(out, func(i, j int) bool { return out[i].Event.Key < out[j].Event.Key })
	return out, nil
}

// activeKeysPerQuery bounds the keys of one ActiveAlertsOf query (SQL
// Server takes at most 2,100 parameters).
const activeKeysPerQuery = 500

// ActiveAlertsOf returns the active alerts among keys, sorted by key, by
// their primary key (the key's hash).
func (s *Store) ActiveAlertsOf(ctx context.Context, keys []string) ([]state.ActiveAlert, error) {
	seen := make(map[string]bool, len(keys))
	var hashes []any
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			hashes = append(hashes, digest(k))
		}
	}
	var out []state.ActiveAlert
	for len(hashes) > 0 {
		chunk := hashes[:min(len(hashes), activeKeysPerQuery)]
		hashes = hashes[len(chunk):]
		where := " WHERE a.key_hash IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		as, err := s.activeAlerts(ctx, where, chunk...)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if seen[a.Event.Key] { // a hash's key, not another key of the same hash
				out = append(out, a)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Event.Key < out[j].Event.Key })
	return out, nil
}

func (s *Store) activeAlerts(ctx context.Context, where string, args ...any) ([]state.ActiveAlert, error) {
	rows, err := s.db.QueryContext(ctx, s.bind(`SELECT e.id, e.printer, e.alert_key, e.kind, e.event_name, e.severity, e.origin, e.from_addr, e.code, e.oid, e.description, e.occurred_at,
a.acked_by, a.acked_at, a.ack_note FROM alert_active a JOIN alert_events e ON e.id = a.event_id`+where), args...)
	if err != nil {
		return nil, fmt.Errorf("%s state: active alerts: %w", s.d.Name(), err)
	}
	defer rows.Close()
	var out []state.ActiveAlert
	for rows.Next() {
		var (
			a           state.ActiveAlert
			at          int64
			ackedAt     sql.NullInt64
			by, comment sql.NullString
		)
		dst := append(eventDest(&a.Event, &at), &by, &ackedAt, &comment)
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("%s state: active alerts: %w", s.d.Name(), err)
		}
		a.Event.At = time.Unix(0, at).UTC()
		a.AckedBy, a.AckedAt, a.Comment = by.String, decTime(ackedAt), comment.String
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s state: active alerts: %w", s.d.Name(), err)
	}
	return out, nil
}

// eventDest returns Scan's destinations for selectEvent's columns; the
// time goes to at.
func eventDest(e *alerts.Event, at *int64) []any {
	return []any{&e.ID, &e.Printer, &e.Key, &e.Kind, &e.Name, &e.Severity, &e.Source, &e.From, &e.Code, &e.OID, &e.Description, at}
}

// queryEvents reads the events of q.
func (s *Store) queryEvents(ctx context.Context, q string, args ...any) ([]alerts.Event, error) {
	rows, err := s.db.QueryContext(ctx, s.bind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []alerts.Event
	for rows.Next() {
		var (
			e  alerts.Event
			at int64
		)
		if err := rows.Scan(eventDest(&e, &at)...); err != nil {
			return nil, err
		}
		e.At = time.Unix(0, at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// Events returns the events matching f, most recent first (by At, then
// by id).
func (s *Store) Events(ctx context.Context, f state.EventFilter) ([]alerts.Event, error) {
	var (
		where []string
		args  []any
	)
	if f.Printer != "" {
		where, args = append(where, "printer = ?"), append(args, f.Printer)
	}
	if f.Key != "" {
		where, args = append(where, "key_hash = ?"), append(args, digest(f.Key))
	}
	if !f.Since.IsZero() {
		since, err := encTime(f.Since)
		if err != nil {
			return nil, fmt.Errorf("%s state: events: since: %w", s.d.Name(), err)
		}
		where, args = append(where, "occurred_at >= ?"), append(args, since)
	}
	if len(f.IDs) > 0 {
		return s.eventsByID(ctx, f, where, args)
	}
	q := selectEvent + whereClause(where) + " ORDER BY occurred_at DESC, id DESC"
	if f.Limit > 0 {
		q += " " + s.d.Limit(f.Limit)
	}
	out, err := s.queryEvents(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s state: events: %w", s.d.Name(), err)
	}
	return out, nil
}

// idChunk bounds the ids of one IN list: engines cap a statement's
// parameters (SQL Server at 2,100, Firebird's statement size).
const idChunk = 500

// eventsByID is Events for a filter with IDs: one query per chunk of ids,
// merged in Events' order.
func (s *Store) eventsByID(ctx context.Context, f state.EventFilter, where []string, args []any) ([]alerts.Event, error) {
	var out []alerts.Event
	for ids := range slices.Chunk(f.IDs, idChunk) {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		a := append(slices.Clone(args), make([]any, 0, len(ids))...)
		for _, id := range ids {
			a = append(a, id)
		}
		q := selectEvent + whereClause(append(slices.Clone(where), "id IN ("+marks+")"))
		evs, err := s.queryEvents(ctx, q, a...)
		if err != nil {
			return nil, fmt.Errorf("%s state: events: %w", s.d.Name(), err)
		}
		out = append(out, evs...)
	}
	slices.SortFunc(out, func(a, b alerts.Event) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	out = slices.CompactFunc(out, func(a, b alerts.Event) bool { return a.ID == b.ID })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// UnroutedEvents returns up to limit unrouted events (all when limit <=
// 0) in the order they were recorded.
func (s *Store) UnroutedEvents(ctx context.Context, limit int) ([]alerts.Event, error) {
	q := selectEvent + " WHERE routed_at IS NULL ORDER BY id"
	if limit > 0 {
		q += " " + s.d.Limit(limit)
	}
	out, err := s.queryEvents(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s state: unrouted events: %w", s.d.Name(), err)
	}
	return out, nil
}

// newDelivery is a delivery checked and encoded for insertion.
type newDelivery struct {
	d          state.Delivery
	eventID    sql.NullInt64
	to, cc     string
	due, sent  sql.NullInt64
	dedupeHash string
}

// prepareDeliveries checks ds and encodes them. A delivery added has
// no claim and no attempts; a zero DueAt is now and an empty Status
// pending.
func (s *Store) prepareDeliveries(ds []state.Delivery) ([]newDelivery, error) {
	out := make([]newDelivery, len(ds))
	for i, d := range ds {
		fail := func(err error) ([]newDelivery, error) {
			return nil, fmt.Errorf("delivery %d (route %s, %s): %w", i, d.Route, d.Dedupe, err)
		}
		if d.Route == "" || d.Dedupe == "" || d.Kind == "" {
			return fail(errors.New("route, kind and dedupe are required"))
		}
		if d.Status == "" {
			d.Status = state.DeliveryPending
		}
		if !validStatus(d.Status) && d.Status != state.DeliveryPending {
			return fail(fmt.Errorf("unknown status %q", d.Status))
		}
		if d.DueAt.IsZero() {
			d.DueAt = s.now()
		}
		n := newDelivery{d: d, dedupeHash: digest(d.Route, d.Dedupe)}
		var err error
		if n.due, err = encTime(d.DueAt); err != nil {
			return fail(fmt.Errorf("due_at: %w", err))
		}
		if n.sent, err = encTime(d.SentAt); err != nil {
			return fail(fmt.Errorf("sent_at: %w", err))
		}
		if n.to, err = encList(d.To); err != nil {
			return fail(err)
		}
		if n.cc, err = encList(d.Cc); err != nil {
			return fail(err)
		}
		n.eventID = sql.NullInt64{Int64: d.EventID, Valid: d.EventID != 0}
		out[i] = n
	}
	return out, nil
}

// validStatus reports whether status is a final one.
func validStatus(status string) bool {
	return status == state.DeliverySent || status == state.DeliverySuppressed || status == state.DeliveryFailed
}

// encList keeps a list of addresses as a JSON array: no character of an
// address can break it.
func encList(l []string) (string, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

func decList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("address list: %w", err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// insertDeliveries adds those of ds whose (route, dedupe) is not stored
// yet, and returns how many it added.
func (s *Store) insertDeliveries(ctx context.Context, tx *sql.Tx, ds []newDelivery) (int, error) {
	stored := map[string]bool{}
	for chunk := range slices.Chunk(ds, inChunk) {
		args := make([]any, len(chunk))
		for i, n := range chunk {
			args[i] = n.dedupeHash
		}
		rows, err := tx.QueryContext(ctx, s.bind(`SELECT dedupe_hash FROM alert_deliveries WHERE dedupe_hash IN (`+marks(len(chunk))+`)`), args...)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return 0, err
			}
			stored[h] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	ins := s.bind(`INSERT INTO alert_deliveries (event_id, route, kind, dedupe, dedupe_hash, mail_to, mail_cc, due_at, status, attempts, claimed_by, claim_until, sent_at, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', NULL, ?, ?)`)
	added := 0
	for _, n := range ds {
		if stored[n.dedupeHash] {
			continue
		}
		d := n.d
		_, err := tx.ExecContext(ctx, ins, n.eventID, d.Route, d.Kind, d.Dedupe, n.dedupeHash, n.to, n.cc, n.due, d.Status, n.sent, d.Detail)
		if s.d.IsUniqueViolation(err) {
			// Another process added it since the look-up; every engine
			// here undoes only the failed statement.
			stored[n.dedupeHash] = true
			continue
		}
		if err != nil {
			return added, fmt.Errorf("route %s, %s: %w", d.Route, d.Dedupe, err)
		}
		stored[n.dedupeHash] = true
		added++
	}
	return added, nil
}

func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// RouteEvent marks an event routed and adds its deliveries, which all
// take eventID as their EventID.
func (s *Store) RouteEvent(ctx context.Context, eventID int64, ds []state.Delivery) (bool, error) {
	ds = slices.Clone(ds) // the caller's stay as they are
	for i := range ds {
		if ds[i].EventID != 0 && ds[i].EventID != eventID {
			return false, fmt.Errorf("event %d: route: delivery %d belongs to event %d", eventID, i, ds[i].EventID)
		}
		ds[i].EventID = eventID
	}
	news, err := s.prepareDeliveries(ds)
	if err != nil {
		return false, fmt.Errorf("event %d: route: %w", eventID, err)
	}
	now, err := encTime(s.now())
	if err != nil {
		return false, fmt.Errorf("event %d: route: %w", eventID, err)
	}
	var routed bool
	err = s.write(ctx, func(tx *sql.Tx) error {
		routed = false
		res, err := tx.ExecContext(ctx, s.bind(`UPDATE alert_events SET routed_at = ? WHERE id = ? AND routed_at IS NULL`), now, eventID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var c int
			if err := tx.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM alert_events WHERE id = ?`), eventID).Scan(&c); err != nil {
				return err
			}
			if c == 0 {
				return fmt.Errorf("event %w", state.ErrNotFound)
			}
			return nil // routed already
		}
		routed = true
		_, err = s.insertDeliveries(ctx, tx, news)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%s state: event %d: route: %w", s.d.Name(), eventID, err)
	}
	return routed, nil
}

// AddDeliveries adds the deliveries of ds not stored yet.
func (s *Store) AddDeliveries(ctx context.Context, ds []state.Delivery) (int, error) {
	news, err := s.prepareDeliveries(ds)
	if err != nil {
		return 0, fmt.Errorf("add deliveries: %w", err)
	}
	var added int
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		added, err = s.insertDeliveries(ctx, tx, news)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s state: add %d deliveries: %w", s.d.Name(), len(ds), err)
	}
	return added, nil
}

// ClaimDeliveries claims with the engine's own row locking: the rows are
// picked, then taken by an UPDATE that only matches them while they are
// still free, so two processes never both take one.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]state.Delivery, error) {
	fail := func(err error) ([]state.Delivery, error) {
		return nil, fmt.Errorf("%s state: %s: claim deliveries: %w", s.d.Name(), owner, err)
	}
	if owner == "" {
		return fail(errors.New("no owner"))
	}
	if lease <= 0 {
		return fail(fmt.Errorf("lease %s is not positive", lease))
	}
	if limit <= 0 {
		return nil, nil
	}
	nowN, err := encTime(now)
	if err != nil {
		return fail(err)
	}
	untilN, err := encTime(now.Add(lease))
	if err != nil {
		return fail(err)
	}
	hint := ""
	if sl, ok := s.d.(SkipLocker); ok {
		hint = " " + sl.SkipLockedHint()
	}
	pick := s.bind(`SELECT id FROM alert_deliveries` + hint + ` WHERE status = ? AND due_at <= ? AND (claim_until IS NULL OR claim_until <= ? OR claimed_by = ?) ORDER BY due_at, id ` + s.d.Limit(limit))
	var out []state.Delivery
	err = s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		ids, err := queryIDs(ctx, tx, pick, state.DeliveryPending, nowN, nowN, owner)
		if err != nil || len(ids) == 0 {
			return err
		}
		free := ` AND status = ? AND (claim_until IS NULL OR claim_until <= ? OR claimed_by = ?)`
		for chunk := range slices.Chunk(ids, inChunk) {
			args := append([]any{owner, untilN}, idArgs(chunk)...)
			args = append(args, state.DeliveryPending, nowN, owner)
			_, err := tx.ExecContext(ctx, s.bind(`UPDATE alert_deliveries SET claimed_by = ?, claim_until = ? WHERE id IN (`+marks(len(chunk))+`)`+free), args...)
			if err == nil {
				continue
			}
			if !s.statementConflicts() || !s.d.IsRetryable(err) {
				return err
			}
			// Another process is claiming some of them (Firebird): take
			// the others one by one; the statement that failed is undone
			// alone.
			for _, id := range chunk {
				_, err := tx.ExecContext(ctx, s.bind(`UPDATE alert_deliveries SET claimed_by = ?, claim_until = ? WHERE id = ?`+free),
					owner, untilN, id, state.DeliveryPending, nowN, owner)
				if err != nil && !s.d.IsRetryable(err) {
					return err
				}
			}
		}
		for chunk := range slices.Chunk(ids, inChunk) {
			args := append(idArgs(chunk), owner, untilN, state.DeliveryPending)
			ds, err := s.queryDeliveries(ctx, tx, selectDelivery+` WHERE id IN (`+marks(len(chunk))+`) AND claimed_by = ? AND claim_until = ? AND status = ?`, args...)
			if err != nil {
				return err
			}
			out = append(out, ds...)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].DueAt.Equal(out[j].DueAt) {
			return out[i].DueAt.Before(out[j].DueAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func idArgs(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	return scanIDs(q.QueryContext(ctx, query, args...))
}

// scanIDs reads the one-column rows of a query.
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// updateHeld updates the deliveries ids that owner holds with set (a SET
// clause and its arguments) in tx, and fails with ErrClaimLost, naming
// them, when owner does not hold every one of them. A delivery is held
// by the owner that claimed it last while it is pending, even past its
// lease: nobody else can have claimed it meanwhile.
func (s *Store) updateHeld(ctx context.Context, tx *sql.Tx, owner string, ids []int64, set string, setArgs ...any) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var n int64
	for chunk := range slices.Chunk(ids, inChunk) {
		args := append(append(slices.Clone(setArgs), idArgs(chunk)...), owner, state.DeliveryPending)
		res, err := tx.ExecContext(ctx, s.bind(`UPDATE alert_deliveries SET `+set+` WHERE id IN (`+marks(len(chunk))+`) AND claimed_by = ? AND status = ?`), args...)
		if err != nil {
			return err
		}
		c, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n += c
	}
	if n == int64(len(ids)) {
		return nil
	}
	// Name the ones lost; the caller's error rolls back the rest.
	var lost []int64
	for chunk := range slices.Chunk(ids, inChunk) {
		args := append(idArgs(chunk), owner, state.DeliveryPending)
		got, err := queryIDs(ctx, tx, s.bind(`SELECT id FROM alert_deliveries WHERE id IN (`+marks(len(chunk))+`) AND claimed_by = ? AND status = ?`), args...)
		if err != nil {
			return err
		}
		for _, id := range chunk {
			if !slices.Contains(got, id) {
				lost = append(lost, id)
			}
		}
	}
	return fmt.Errorf("deliveries %v: %w", lost, state.ErrClaimLost)
}

// FinishDeliveries sets the final status of deliveries owner holds.
// SentAt becomes at for DeliverySent; the claimer stays in ClaimedBy.
func (s *Store) FinishDeliveries(ctx context.Context, owner string, ids []int64, status string, at time.Time, detail string) error {
	fail := func(err error) error {
		return fmt.Errorf("%s state: %s: finish deliveries as %s: %w", s.d.Name(), owner, status, err)
	}
	if !validStatus(status) {
		return fail(errors.New("not a final status"))
	}
	if len(ids) == 0 {
		return nil
	}
	if at.IsZero() {
		at = s.now()
	}
	atN, err := encTime(at)
	if err != nil {
		return fail(err)
	}
	var sent sql.NullInt64
	if status == state.DeliverySent {
		sent = atN
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		return s.updateHeld(ctx, tx, owner, ids, `status = ?, sent_at = ?, detail = ?, claim_until = NULL`, status, sent, detail)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// ReleaseDeliveries gives back deliveries owner holds, due again at next.
// A failed attempt counts in Attempts and keeps detail; a postponement
// leaves both as they are.
func (s *Store) ReleaseDeliveries(ctx context.Context, owner string, ids []int64, next time.Time, attempt bool, detail string) error {
	fail := func(err error) error {
		return fmt.Errorf("%s state: %s: release deliveries: %w", s.d.Name(), owner, err)
	}
	if len(ids) == 0 {
		return nil
	}
	if next.IsZero() {
		next = s.now()
	}
	nextN, err := encTime(next)
	if err != nil {
		return fail(err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if attempt {
			return s.updateHeld(ctx, tx, owner, ids, `due_at = ?, claimed_by = '', claim_until = NULL, attempts = attempts + 1, detail = ?`, nextN, detail)
		}
		return s.updateHeld(ctx, tx, owner, ids, `due_at = ?, claimed_by = '', claim_until = NULL`, nextN)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// MarkSending records the Message-ID deliveries owner holds go out under.
func (s *Store) MarkSending(ctx context.Context, owner string, ids []int64, messageID string) error {
	if len(ids) == 0 {
		return nil
	}
	if messageID == "" {
		return fmt.Errorf("%s state: %s: mark deliveries sending: no Message-ID", s.d.Name(), owner)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.updateHeld(ctx, tx, owner, ids, `message_id = ?`, messageID)
	})
	if err != nil {
		return fmt.Errorf("%s state: %s: mark deliveries sending in %s: %w", s.d.Name(), owner, messageID, err)
	}
	return nil
}

// queryDeliveries reads the deliveries of query ('?' placeholders).
func (s *Store) queryDeliveries(ctx context.Context, q querier, query string, args ...any) ([]state.Delivery, error) {
	rows, err := q.QueryContext(ctx, s.bind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.Delivery
	for rows.Next() {
		var (
			d                state.Delivery
			eventID          sql.NullInt64
			to, cc           string
			due              int64
			claimUntil, sent sql.NullInt64
			messageID        sql.NullString
		)
		if err := rows.Scan(&d.ID, &eventID, &d.Route, &d.Kind, &d.Dedupe, &to, &cc, &due, &d.Status, &d.Attempts,
			&d.ClaimedBy, &claimUntil, &sent, &d.Detail, &messageID); err != nil {
			return nil, err
		}
		if d.To, err = decList(to); err != nil {
			return nil, fmt.Errorf("delivery %d: %w", d.ID, err)
		}
		if d.Cc, err = decList(cc); err != nil {
			return nil, fmt.Errorf("delivery %d: %w", d.ID, err)
		}
		d.EventID = eventID.Int64
		d.MessageID = messageID.String
		d.DueAt = time.Unix(0, due).UTC()
		d.ClaimUntil, d.SentAt = decTime(claimUntil), decTime(sent)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Deliveries returns the deliveries matching f, most recent first (the
// last added first).
func (s *Store) Deliveries(ctx context.Context, f state.DeliveryFilter) ([]state.Delivery, error) {
	var (
		where []string
		args  []any
	)
	if f.Route != "" {
		where, args = append(where, "route = ?"), append(args, f.Route)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.EventID != 0 {
		where, args = append(where, "event_id = ?"), append(args, f.EventID)
	}
	q := selectDelivery + whereClause(where) + " ORDER BY id DESC"
	if f.Limit > 0 {
		q += " " + s.d.Limit(f.Limit)
	}
	out, err := s.queryDeliveries(ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s state: deliveries: %w", s.d.Name(), err)
	}
	return out, nil
}

// LastSent returns when route last had a delivery sent.
func (s *Store) LastSent(ctx context.Context, route string) (time.Time, error) {
	var at sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT MAX(sent_at) FROM alert_deliveries WHERE route = ? AND status = ?`), route, state.DeliverySent).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s state: route %s: last sent: %w", s.d.Name(), route, err)
	}
	return decTime(at), nil
}

// AddSilence records a silence; a zero Starts is now. Ends must follow
// Starts.
func (s *Store) AddSilence(ctx context.Context, sl state.Silence) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("%s state: add silence of %q/%q: %w", s.d.Name(), sl.Printer, sl.Event, err)
	}
	if sl.Starts.IsZero() {
		sl.Starts = s.now()
	}
	if !sl.Ends.After(sl.Starts) {
		return fail(fmt.Errorf("ends %s, not after it starts (%s)", sl.Ends.Format(time.RFC3339), sl.Starts.Format(time.RFC3339)))
	}
	starts, err := encTime(sl.Starts)
	if err != nil {
		return fail(err)
	}
	ends, err := encTime(sl.Ends)
	if err != nil {
		return fail(err)
	}
	q := s.bind(s.d.InsertReturningID("alert_silences", []string{"printer", "event_name", "starts_at", "ends_at", "note", "created_by"}, "id"))
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, q, sl.Printer, sl.Event, starts, ends, sl.Comment, sl.By).Scan(&id)
	})
	if err != nil {
		return fail(err)
	}
	return id, nil
}

// Prune deletes the history that ended before before; see state.Pruner.
func (s *Store) Prune(ctx context.Context, before time.Time) (state.Pruned, error) {
	var n state.Pruned
	fail := func(err error) (state.Pruned, error) {
		return state.Pruned{}, fmt.Errorf("%s state: prune before %s: %w", s.d.Name(), before.UTC().Format(time.RFC3339), err)
	}
	at, err := encTime(before)
	if err != nil {
		return fail(err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		n = state.Pruned{}
		for _, q := range []struct {
			dst  *int64
			stmt string
			args []any
		}{
			{&n.Deliveries, `DELETE FROM alert_deliveries WHERE status <> ? AND COALESCE(sent_at, due_at) < ?`, []any{state.DeliveryPending, at}},
			{&n.Events, `DELETE FROM alert_events WHERE occurred_at < ? AND routed_at IS NOT NULL
	AND NOT EXISTS (SELECT 1 FROM alert_active a WHERE a.event_id = alert_events.id)
	AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.event_id = alert_events.id)`, []any{at}},
			{&n.Silences, `DELETE FROM alert_silences WHERE ends_at < ?`, []any{at}},
		} {
			res, err := tx.ExecContext(ctx, s.bind(q.stmt), q.args...)
			if err != nil {
				return err
			}
			if *q.dst, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return n, nil
}

// Silences returns the silences active at t (Starts <= t < Ends), or all
// when t is zero, most recent first (by Starts, then by id).
func (s *Store) Silences(ctx context.Context, t time.Time) ([]state.Silence, error) {
	fail := func(err error) ([]state.Silence, error) {
		return nil, fmt.Errorf("%s state: silences: %w", s.d.Name(), err)
	}
	q := `SELECT id, printer, event_name, starts_at, ends_at, note, created_by FROM alert_silences`
	var args []any
	if !t.IsZero() {
		at, err := encTime(t)
		if err != nil {
			return fail(err)
		}
		q += ` WHERE starts_at <= ? AND ends_at > ?`
		args = []any{at, at}
	}
	rows, err := s.db.QueryContext(ctx, s.bind(q+` ORDER BY starts_at DESC, id DESC`), args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	var out []state.Silence
	for rows.Next() {
		var (
			sl           state.Silence
			starts, ends int64
		)
		if err := rows.Scan(&sl.ID, &sl.Printer, &sl.Event, &starts, &ends, &sl.Comment, &sl.By); err != nil {
			return fail(err)
		}
		sl.Starts, sl.Ends = time.Unix(0, starts).UTC(), time.Unix(0, ends).UTC()
		out = append(out, sl)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return out, nil
}

// ExpireSilence ends a silence at t, unless it ends earlier already.
func (s *Store) ExpireSilence(ctx context.Context, id int64, t time.Time) error {
	if t.IsZero() {
		t = s.now()
	}
	at, err := encTime(t)
	if err != nil {
		return fmt.Errorf("%s state: silence %d: expire: %w", s.d.Name(), id, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var c int
		if err := tx.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM alert_silences WHERE id = ?`), id).Scan(&c); err != nil {
			return err
		}
		if c == 0 {
			return fmt.Errorf("silence %w", state.ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, s.bind(`UPDATE alert_silences SET ends_at = ? WHERE id = ? AND ends_at > ?`), at, id, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s state: silence %d: expire: %w", s.d.Name(), id, err)
	}
	return nil
}

// Ack acknowledges the active alert key.
func (s *Store) Ack(ctx context.Context, key, by, comment string, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	atN, err := encTime(at)
	if err != nil {
		return fmt.Errorf("%s state: alert %s: ack: %w", s.d.Name(), key, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.bind(`UPDATE alert_active SET acked_by = ?, acked_at = ?, ack_note = ? WHERE key_hash = ?`), by, atN, comment, digest(key))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("active alert %w", state.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s state: alert %s: ack: %w", s.d.Name(), key, err)
	}
	return nil
}
