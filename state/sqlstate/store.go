package sqlstate

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/inkform/inkform/state"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Lease of a lock; state.DefaultLease when zero.
	Lease time.Duration
	// RenewEvery is how often a held lock is renewed: Lease/3 when zero,
	// never when negative (for tests that simulate a hung holder).
	RenewEvery time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Key gives the state's key for sensitive values (Store.ValueKey);
	// it is kept outside the database, so the caller says where: a key
	// file, the environment. When nil the store has none.
	Key func() (state.Key, error)
	// MustExist: a state kept in a file that does not exist yet is not
	// created; opening it fails with an error wrapping state.ErrNoState.
	// Commands that only read create nothing. (A server database always
	// exists; its schema is made on first use either way.)
	MustExist bool
}

// Store is a state.Store over database/sql. It is safe for concurrent use;
// when the dialect admits a single writer, writers in this process queue
// on a semaphore and writers in other processes on the engine's own lock.
type Store struct {
	db  *sql.DB
	d   Dialect
	now func() time.Time
	sem chan struct{} // write queue; nil when the engine has many writers
	key func() (state.Key, error)

	// Prepared once: at fleet scale the same statements run hundreds of
	// thousands of times, and preparing is much of their cost.
	upsertPrinter, selectRecorded     *sql.Stmt
	settingStmts, fileStmts           hashStmts
	insertRunPrinter, insertRunChange *sql.Stmt
	outbox                            outboxStmts

	mu     sync.Mutex // guards lease, renew, held, closed
	lease  time.Duration
	renew  time.Duration
	held   map[*heldLock]struct{}
	closed bool
}

var (
	_ state.Store          = (*Store)(nil)
	_ state.PrinterBatcher = (*Store)(nil)
	_ state.OutcomeBatcher = (*Store)(nil)
	_ state.HistoryReader  = (*Store)(nil)
	_ state.LockAdmin      = (*Store)(nil)
)

// OpenDB opens a database handle and connects once, so that a wrong
// address, file or password fails here rather than at the first query.
func OpenDB(ctx context.Context, driver, dsn string) (*sql.DB, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// New wraps db, bringing its schema up to date. The Store takes ownership
// of db: Close closes it, and so does a failed New.
func New(ctx context.Context, db *sql.DB, d Dialect, opts Options) (*Store, error) {
	s := &Store{db: db, d: d, now: opts.Now, key: opts.Key, held: map[*heldLock]struct{}{}}
	if s.now == nil {
		s.now = time.Now
	}
	if d.SingleWriter() {
		s.sem = make(chan struct{}, 1)
	}
	s.SetLease(opts.Lease, opts.RenewEvery)
	if err := s.migrate(ctx); err != nil {
		db.Close()
		if IsSchemaTooNew(err) {
			return nil, err // already says what to do
		}
		return nil, fmt.Errorf("%s state: migrate schema: %w", d.Name(), err)
	}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, s.bind(q))
		return st
	}
	s.upsertPrinter = prep(d.Upsert("printers", []string{"name"},
		[]string{"name", "address", "serial", "model", "firmware", "observed_at", "applied_at"}))
	// One round trip reads both a printer's settings (kind 0) and files.
	s.selectRecorded = prep(`SELECT setting, value_hash, clear_value, 0 FROM printer_settings WHERE printer = ?
UNION ALL
SELECT dest, content_hash, NULL, 1 FROM printer_files WHERE printer = ?`)
	s.settingStmts = hashStmts{what: "setting", values: true,
		insert: prep(`INSERT INTO printer_settings (printer, setting, value_hash, clear_value) VALUES (?, ?, ?, ?)`),
		update: prep(`UPDATE printer_settings SET value_hash = ?, clear_value = ? WHERE printer = ? AND setting = ?`),
		delete: prep(`DELETE FROM printer_settings WHERE printer = ? AND setting = ?`),
	}
	s.fileStmts = hashStmts{what: "file",
		insert: prep(`INSERT INTO printer_files (printer, dest, content_hash) VALUES (?, ?, ?)`),
		update: prep(`UPDATE printer_files SET content_hash = ? WHERE printer = ? AND dest = ?`),
		delete: prep(`DELETE FROM printer_files WHERE printer = ? AND dest = ?`),
	}
	s.insertRunPrinter = prep(`INSERT INTO run_printers (run_id, printer, status, detail, changes, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`)
	s.insertRunChange = prep(`INSERT INTO run_changes (run_id, printer, setting, value_hash) VALUES (?, ?, ?, ?)`)
	s.prepareOutbox(prep)
	if err != nil {
		s.closeStmts()
		db.Close()
		return nil, fmt.Errorf("%s state: prepare: %w", d.Name(), err)
	}
	return s, nil
}

// DB returns the underlying handle, for maintenance commands.
func (s *Store) DB() *sql.DB { return s.db }

// ValueKey returns the key Options.Key gives; without one, an error
// wrapping state.ErrNoKey.
func (s *Store) ValueKey() (state.Key, error) {
	if s.key == nil {
		return state.Key{}, fmt.Errorf("%s state: %w", s.d.Name(), state.ErrNoKey)
	}
	return s.key()
}

// SetLease changes the lease and renewal interval (see Options) of locks
// taken from now on.
func (s *Store) SetLease(lease, renewEvery time.Duration) {
	lease, renewEvery = state.LeaseTimes(lease, renewEvery)
	s.mu.Lock()
	s.lease, s.renew = lease, renewEvery
	s.mu.Unlock()
}

// Close stops lock renewal and closes the database. A lock not unlocked
// stays in the table until its lease runs out.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	held := s.held
	s.held = map[*heldLock]struct{}{}
	s.mu.Unlock()
	for h := range held {
		h.stop()
	}
	s.closeStmts()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("%s state: close: %w", s.d.Name(), err)
	}
	return nil
}

func (s *Store) closeStmts() {
	for _, st := range []*sql.Stmt{s.upsertPrinter, s.selectRecorded, s.insertRunPrinter, s.insertRunChange,
		s.settingStmts.insert, s.settingStmts.update, s.settingStmts.delete,
		s.fileStmts.insert, s.fileStmts.update, s.fileStmts.delete} {
		if st != nil {
			st.Close()
		}
	}
	for _, st := range s.outbox.all() {
		if st != nil {
			st.Close()
		}
	}
}

// bind rewrites '?' placeholders into the dialect's form.
func (s *Store) bind(q string) string {
	if !strings.Contains(q, "?") || s.d.Placeholder(1) == "?" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString(s.d.Placeholder(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

const (
	writeAttempts   = 3
	writeRetryDelay = 50 * time.Millisecond
)

// write runs fn in one write transaction, retrying a bounded number of
// times when the engine reports transient contention. fn must only touch
// the database through tx so that a retry starts clean.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.sem != nil {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	delay := writeRetryDelay
	for attempt := 1; ; attempt++ {
		err := s.tx(ctx, fn)
		if err == nil || attempt == writeAttempts || !s.d.IsRetryable(err) {
			return err
		}
		if err := wait(ctx, delay); err != nil {
			return err
		}
		delay *= 2
	}
}

func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.d.BeginWrite(ctx, s.db)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Times are UTC unix nanoseconds; the zero time is NULL.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func encTime(t time.Time) (sql.NullInt64, error) {
	if t.IsZero() {
		return sql.NullInt64{}, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return sql.NullInt64{}, fmt.Errorf("time %s out of storable range", t.Format(time.RFC3339))
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}, nil
}

func decTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// PutPrinter inserts or replaces p, its settings and files in one
// transaction.
func (s *Store) PutPrinter(ctx context.Context, p state.Printer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error { return s.putPrinter(ctx, tx, p) })
	if err != nil {
		return fmt.Errorf("printer %s: put state: %w", p.Name, err)
	}
	return nil
}

// PutPrinters writes many printers in one transaction: all or none.
func (s *Store) PutPrinters(ctx context.Context, ps []state.Printer) error {
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	var cur string
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, p := range ps {
			cur = p.Name
			if err := s.putPrinter(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d printers (at %s): %w", len(ps), cur, err)
	}
	return nil
}

func (s *Store) putPrinter(ctx context.Context, tx *sql.Tx, p state.Printer) error {
	obs, err := encTime(p.ObservedAt)
	if err != nil {
		return fmt.Errorf("observed_at: %w", err)
	}
	app, err := encTime(p.AppliedAt)
	if err != nil {
		return fmt.Errorf("applied_at: %w", err)
	}
	if _, err := tx.StmtContext(ctx, s.upsertPrinter).ExecContext(ctx,
		p.Name, p.Address, p.Serial, p.Model, p.Firmware, obs, app); err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	// Write only the settings and files that differ from the recorded
	// ones: an apply usually changes one or two settings of each printer,
	// and rewriting every row was most of the cost of recording a fleet.
	settings, files, err := s.recorded(ctx, tx, p.Name)
	if err != nil {
		return err
	}
	if err := s.settingStmts.write(ctx, tx, p.Name, p.Settings, p.Values, settings); err != nil {
		return err
	}
	return s.fileStmts.write(ctx, tx, p.Name, p.Files, nil, files)
}

// hashStmts keep one table of a printer's name → hash rows: its settings
// (with their values in clear, when values is set) or its files. Each
// statement takes (printer, name, hash[, value]) in the order written
// below.
type hashStmts struct {
	what                   string // "setting", for messages
	values                 bool
	insert, update, delete *sql.Stmt
}

// recordedRow is one row of a hashStmts table as read back.
type recordedRow struct {
	hash  string
	value sql.NullString // NULL: not in clear
}

// write makes the rows of printer match want and its values, given the
// rows it has, touching only those that differ.
func (h hashStmts) write(ctx context.Context, tx *sql.Tx, printer string, want, values map[string]string, have map[string]recordedRow) error {
	for _, k := range sortedKeys(want) {
		v := want[k]
		var cv sql.NullString
		cv.String, cv.Valid = values[k]
		old, recorded := have[k]
		delete(have, k)
		var err error
		switch {
		case !recorded && h.values:
			_, err = tx.StmtContext(ctx, h.insert).ExecContext(ctx, printer, k, v, cv)
		case !recorded:
			_, err = tx.StmtContext(ctx, h.insert).ExecContext(ctx, printer, k, v)
		case old.hash == v && old.value == cv:
		case h.values:
			_, err = tx.StmtContext(ctx, h.update).ExecContext(ctx, v, cv, printer, k)
		default:
			_, err = tx.StmtContext(ctx, h.update).ExecContext(ctx, v, printer, k)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", h.what, k, err)
		}
	}
	for _, k := range sortedKeys(have) {
		if _, err := tx.StmtContext(ctx, h.delete).ExecContext(ctx, printer, k); err != nil {
			return fmt.Errorf("clear %s %s: %w", h.what, k, err)
		}
	}
	return nil
}

// recorded reads a printer's recorded settings and files inside tx.
func (s *Store) recorded(ctx context.Context, tx *sql.Tx, name string) (settings, files map[string]recordedRow, err error) {
	rows, err := tx.StmtContext(ctx, s.selectRecorded).QueryContext(ctx, name, name)
	if err != nil {
		return nil, nil, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	settings = map[string]recordedRow{}
	var (
		k    string
		r    recordedRow
		kind int
	)
	for rows.Next() {
		if err := rows.Scan(&k, &r.hash, &r.value, &kind); err != nil {
			return nil, nil, fmt.Errorf("read settings: %w", err)
		}
		switch {
		case kind == 0:
			settings[k] = r
		case files == nil:
			files = map[string]recordedRow{k: r}
		default:
			files[k] = r
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read settings: %w", err)
	}
	return settings, files, nil
}

// selectPrinters reads printers, their settings and their files in one
// statement (a consistent snapshot even while writers are busy): a row per
// printer, then a row per setting and per file, whose printer columns are
// NULL; a file's row has its name in the dest column instead of the
// setting's. A join would repeat the printer's columns on every setting
// row, which at fleet scale was most of the cost of reading the state.
const selectPrinters = `SELECT name, address, serial, model, firmware, observed_at, applied_at, NULL, NULL, NULL, NULL FROM printers%s
UNION ALL
SELECT printer, NULL, NULL, NULL, NULL, NULL, NULL, setting, value_hash, NULL, clear_value FROM printer_settings%s
UNION ALL
SELECT printer, NULL, NULL, NULL, NULL, NULL, NULL, NULL, content_hash, dest, NULL FROM printer_files%s`

// Printers returns every printer, sorted by name. Settings is never nil;
// Values and Files are nil when the printer has none.
func (s *Store) Printers(ctx context.Context) ([]state.Printer, error) {
	ps, err := s.queryPrinters(ctx, s.bind(fmt.Sprintf(selectPrinters, "", "", "")))
	if err != nil {
		return nil, fmt.Errorf("%s state: list printers: %w", s.d.Name(), err)
	}
	return ps, nil
}

// Printer returns one printer; ok is false when it is not in state.
func (s *Store) Printer(ctx context.Context, name string) (state.Printer, bool, error) {
	ps, err := s.queryPrinters(ctx, s.bind(fmt.Sprintf(selectPrinters, " WHERE name = ?", " WHERE printer = ?", " WHERE printer = ?")), name, name, name)
	if err != nil {
		return state.Printer{}, false, fmt.Errorf("printer %s: read state: %w", name, err)
	}
	if len(ps) == 0 {
		return state.Printer{}, false, nil
	}
	return ps[0], true, nil
}

// queryPrinters reads the rows of selectPrinters, in any order.
func (s *Store) queryPrinters(ctx context.Context, q string, args ...any) ([]state.Printer, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byName := map[string]*state.Printer{}
	found := map[string]bool{} // printers with a row of their own
	// A fleet's printers share a few setting names and values: keep one
	// copy of each string rather than one per row, since the plan keeps
	// the whole state while it observes.
	shared := map[string]string{}
	intern := func(s string) string {
		if v, ok := shared[s]; ok {
			return v
		}
		shared[s] = s
		return s
	}
	// Declared once: Scan takes their addresses, so inside the loop each
	// would be allocated again for every row.
	var (
		name                             string
		address, serial, model, firmware sql.NullString
		obs, app                         sql.NullInt64
		setting, hash, dest, value       sql.NullString
	)
	for rows.Next() {
		if err := rows.Scan(&name, &address, &serial, &model, &firmware, &obs, &app, &setting, &hash, &dest, &value); err != nil {
			return nil, err
		}
		p := byName[name]
		if p == nil {
			p = &state.Printer{Name: name, Settings: map[string]string{}}
			byName[name] = p
		}
		if setting.Valid {
			k := intern(setting.String)
			p.Settings[k] = intern(hash.String)
			if value.Valid {
				if p.Values == nil {
					p.Values = map[string]string{}
				}
				p.Values[k] = intern(value.String)
			}
			continue
		}
		if dest.Valid {
			if p.Files == nil {
				p.Files = map[string]string{}
			}
			p.Files[intern(dest.String)] = intern(hash.String)
			continue
		}
		found[name] = true
		p.Address, p.Serial, p.Model, p.Firmware = address.String, serial.String, model.String, firmware.String
		p.ObservedAt, p.AppliedAt = decTime(obs), decTime(app)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]state.Printer, 0, len(found))
	for name := range found {
		out = append(out, *byName[name])
	}
	// Collations differ between engines; Go's byte order is the contract.
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// DeletePrinter removes a printer, its settings and its files; removing a
// printer not in state is not an error.
func (s *Store) DeletePrinter(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Explicit, so as not to depend on the engine enforcing cascades.
		for _, q := range []string{`DELETE FROM printer_settings WHERE printer = ?`, `DELETE FROM printer_files WHERE printer = ?`} {
			if _, err := tx.ExecContext(ctx, s.bind(q), name); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, s.bind(`DELETE FROM printers WHERE name = ?`), name)
		return err
	})
	if err != nil {
		return fmt.Errorf("printer %s: delete state: %w", name, err)
	}
	return nil
}

// BeginRun records a run. A zero StartedAt means now; an empty Status
// means "running".
func (s *Store) BeginRun(ctx context.Context, r state.Run) (int64, error) {
	if r.StartedAt.IsZero() {
		r.StartedAt = s.now()
	}
	if r.Status == "" {
		r.Status = "running"
	}
	started, err := encTime(r.StartedAt)
	if err != nil {
		return 0, fmt.Errorf("begin %s run: started_at: %w", r.Command, err)
	}
	finished, err := encTime(r.FinishedAt)
	if err != nil {
		return 0, fmt.Errorf("begin %s run: finished_at: %w", r.Command, err)
	}
	q := s.bind(s.d.InsertReturningID("runs",
		[]string{"command", "user_name", "host", "git_commit", "config_hash", "started_at", "finished_at", "status"}, "id"))
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, q, r.Command, r.User, r.Host, r.GitCommit, r.ConfigHash, started, finished, r.Status).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("begin %s run: %w", r.Command, err)
	}
	return id, nil
}

// RecordOutcome records one printer's result; a zero At means now.
func (s *Store) RecordOutcome(ctx context.Context, runID int64, o state.Outcome) error {
	return s.RecordOutcomes(ctx, runID, []state.Outcome{o})
}

// RecordOutcomes records several printers' outcomes of one run in one
// transaction, all or none: apply batches them to keep a large fleet's
// state writes off its critical path.
func (s *Store) RecordOutcomes(ctx context.Context, runID int64, outcomes []state.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	ats := make([]sql.NullInt64, len(outcomes))
	for i := range outcomes {
		o := &outcomes[i]
		if o.At.IsZero() {
			o.At = s.now()
		}
		at, err := encTime(o.At)
		if err == nil {
			err = o.Validate()
		}
		if err != nil {
			return fmt.Errorf("run %d: printer %s: record outcome: %w", runID, o.Printer, err)
		}
		ats[i] = at
	}
	failed := outcomes[0].Printer
	err := s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM runs WHERE id = ?`), runID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("run %w", state.ErrNotFound)
		}
		for i, o := range outcomes {
			if err := s.insertOutcome(ctx, tx, runID, o, ats[i]); err != nil {
				failed = o.Printer
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("run %d: printer %s: record outcome: %w", runID, failed, err)
	}
	return nil
}

func (s *Store) insertOutcome(ctx context.Context, tx *sql.Tx, runID int64, o state.Outcome, at sql.NullInt64) error {
	_, err := tx.StmtContext(ctx, s.insertRunPrinter).ExecContext(ctx, runID, o.Printer, o.Status, o.Detail, o.Changes, at)
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(o.Changed) {
		_, err := tx.StmtContext(ctx, s.insertRunChange).ExecContext(ctx, runID, o.Printer, k, o.Changed[k])
		if err != nil {
			return fmt.Errorf("changed setting %s: %w", k, err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FinishRun marks a run finished now with status.
func (s *Store) FinishRun(ctx context.Context, runID int64, status string) error {
	now, err := encTime(s.now())
	if err != nil {
		return fmt.Errorf("run %d: finish: %w", runID, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.bind(`UPDATE runs SET finished_at = ?, status = ? WHERE id = ?`), now, status, runID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("run %w", state.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("run %d: finish: %w", runID, err)
	}
	return nil
}

// Runs returns the most recent runs first (by start time, then id); at
// most limit of them, or all when limit <= 0.
func (s *Store) Runs(ctx context.Context, limit int) ([]state.Run, error) {
	q := `SELECT id, command, user_name, host, git_commit, config_hash, started_at, finished_at, status
FROM runs ORDER BY started_at DESC, id DESC`
	if limit > 0 {
		q += " " + s.d.Limit(limit)
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s state: list runs: %w", s.d.Name(), err)
	}
	defer rows.Close()
	var out []state.Run
	for rows.Next() {
		var (
			r                 state.Run
			started, finished sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Command, &r.User, &r.Host, &r.GitCommit, &r.ConfigHash, &started, &finished, &r.Status); err != nil {
			return nil, fmt.Errorf("%s state: list runs: %w", s.d.Name(), err)
		}
		r.StartedAt, r.FinishedAt = decTime(started), decTime(finished)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s state: list runs: %w", s.d.Name(), err)
	}
	return out, nil
}

// Outcomes returns the per-printer results of one run in the order they
// were recorded (by time, then printer name), with the settings changed.
func (s *Store) Outcomes(ctx context.Context, runID int64) ([]state.Outcome, error) {
	out, err := s.outcomes(ctx, s.db, runID)
	if err != nil {
		return nil, fmt.Errorf("run %d: read outcomes: %w", runID, err)
	}
	return out, nil
}

// querier is what reads need of a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) outcomes(ctx context.Context, q querier, runID int64) ([]state.Outcome, error) {
	rows, err := q.QueryContext(ctx, s.bind(`SELECT printer, status, detail, changes, recorded_at FROM run_printers WHERE run_id = ? ORDER BY recorded_at, printer`), runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.Outcome
	for rows.Next() {
		var (
			o  state.Outcome
			at sql.NullInt64
		)
		if err := rows.Scan(&o.Printer, &o.Status, &o.Detail, &o.Changes, &at); err != nil {
			return nil, err
		}
		o.At = decTime(at)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	changed, err := s.changes(ctx, q, `WHERE run_id = ?`, runID)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Changed = changed[changeKey{runID, out[i].Printer}]
	}
	return out, nil
}

type changeKey struct {
	run     int64
	printer string
}

// changes reads run_changes rows matching where.
func (s *Store) changes(ctx context.Context, q querier, where string, args ...any) (map[changeKey]map[string]string, error) {
	rows, err := q.QueryContext(ctx, s.bind(`SELECT run_id, printer, setting, value_hash FROM run_changes `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	defer rows.Close()
	out := map[changeKey]map[string]string{}
	for rows.Next() {
		var (
			k             changeKey
			setting, hash string
		)
		if err := rows.Scan(&k.run, &k.printer, &setting, &hash); err != nil {
			return nil, fmt.Errorf("read changes: %w", err)
		}
		if out[k] == nil {
			out[k] = map[string]string{}
		}
		out[k][setting] = hash
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	return out, nil
}

// PrinterHistory returns what every run did to one printer, most recent
// first; at most limit events, or all when limit <= 0.
func (s *Store) PrinterHistory(ctx context.Context, name string, limit int) ([]state.PrinterEvent, error) {
	q := `SELECT r.id, r.command, r.user_name, r.host, r.git_commit, r.config_hash, r.started_at, r.finished_at, r.status,
o.status, o.detail, o.changes, o.recorded_at
FROM run_printers o JOIN runs r ON r.id = o.run_id WHERE o.printer = ? ORDER BY o.recorded_at DESC, r.id DESC`
	if limit > 0 {
		q += " " + s.d.Limit(limit)
	}
	rows, err := s.db.QueryContext(ctx, s.bind(q), name)
	if err != nil {
		return nil, fmt.Errorf("printer %s: read history: %w", name, err)
	}
	defer rows.Close()
	var out []state.PrinterEvent
	for rows.Next() {
		var (
			e                     state.PrinterEvent
			started, finished, at sql.NullInt64
		)
		r := &e.Run
		if err := rows.Scan(&r.ID, &r.Command, &r.User, &r.Host, &r.GitCommit, &r.ConfigHash, &started, &finished, &r.Status,
			&e.Outcome.Status, &e.Outcome.Detail, &e.Outcome.Changes, &at); err != nil {
			return nil, fmt.Errorf("printer %s: read history: %w", name, err)
		}
		r.StartedAt, r.FinishedAt, e.Outcome.At = decTime(started), decTime(finished), decTime(at)
		e.Outcome.Printer = name
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("printer %s: read history: %w", name, err)
	}
	rows.Close()
	changed, err := s.changes(ctx, s.db, `WHERE printer = ?`, name)
	if err != nil {
		return nil, fmt.Errorf("printer %s: %w", name, err)
	}
	for i := range out {
		out[i].Outcome.Changed = changed[changeKey{out[i].Run.ID, name}]
	}
	return out, nil
}
