package sqlstate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// SchemaVersionError is returned when the state was written by a newer
// inkform whose schema this binary does not know.
type SchemaVersionError struct {
	Found int // version recorded in the state
	Known int // newest version this binary knows
}

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("state schema version %d is newer than this inkform understands (%d); upgrade inkform", e.Found, e.Known)
}

// migration moves the schema from version-1 to version. Statements are
// built from the dialect so that one logical schema serves every engine;
// data that SQL alone cannot move the same way on every engine is moved
// by run, after the statements, in the same transaction. What no
// transaction may hold (compacting a file) is done by outside, before the
// transaction that records the version: if it fails, the next open tries
// again.
type migration struct {
	version int
	stmts   func(d Dialect) []string
	run     func(ctx context.Context, s *Store, tx *sql.Tx) error
	outside func(ctx context.Context, s *Store) error
}

// Compacter is implemented by dialects whose database file keeps deleted
// content in its free space until it is compacted.
type Compacter interface {
	// Compact rewrites the database without its free space; it runs
	// outside any transaction.
	Compact(ctx context.Context, db *sql.DB) error
}

// migrations run forward in order, each in its own transaction. Never edit
// a released migration; append a new one.
var migrations = []migration{
	{version: 1, stmts: func(d Dialect) []string {
		key, text, i32, i64 := d.ColumnType(TypeKey), d.ColumnType(TypeText), d.ColumnType(TypeInt), d.ColumnType(TypeInt64)
		return []string{
			`CREATE TABLE printers (
	name ` + key + ` NOT NULL PRIMARY KEY,
	address ` + text + ` NOT NULL,
	serial ` + text + ` NOT NULL,
	model ` + text + ` NOT NULL,
	firmware ` + text + ` NOT NULL,
	observed_at ` + i64 + `,
	applied_at ` + i64 + `
)`,
			`CREATE TABLE printer_settings (
	printer ` + key + ` NOT NULL REFERENCES printers(name) ON DELETE CASCADE,
	setting ` + key + ` NOT NULL,
	value_hash ` + text + ` NOT NULL,
	PRIMARY KEY (printer, setting)
)`,
			// "user" is reserved in Firebird and SQL Server, hence user_name.
			`CREATE TABLE runs (
	id ` + d.ColumnType(TypeAutoID) + `,
	command ` + text + ` NOT NULL,
	user_name ` + text + ` NOT NULL,
	host ` + text + ` NOT NULL,
	git_commit ` + text + ` NOT NULL,
	config_hash ` + text + ` NOT NULL,
	started_at ` + i64 + ` NOT NULL,
	finished_at ` + i64 + `,
	status ` + key + ` NOT NULL
)`,
			`CREATE INDEX runs_started ON runs (started_at)`,
			// No foreign key to printers: history outlives a printer
			// removed from management. "at" is reserved in Firebird,
			// hence recorded_at.
			`CREATE TABLE run_printers (
	run_id ` + i64 + ` NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	printer ` + key + ` NOT NULL,
	status ` + key + ` NOT NULL,
	detail ` + text + ` NOT NULL,
	changes ` + i32 + ` NOT NULL,
	recorded_at ` + i64 + ` NOT NULL
)`,
			`CREATE INDEX run_printers_run ON run_printers (run_id)`,
			`CREATE TABLE locks (
	name ` + key + ` NOT NULL PRIMARY KEY,
	id ` + key + ` NOT NULL,
	owner_user ` + text + ` NOT NULL,
	owner_host ` + text + ` NOT NULL,
	owner_pid ` + i32 + ` NOT NULL,
	owner_command ` + text + ` NOT NULL,
	created_at ` + i64 + ` NOT NULL,
	expires_at ` + i64 + ` NOT NULL
)`,
		}
	}},
	// 2: the settings each run wrote, per printer, as hashes. No key over
	// all three columns: on Firebird it would exceed the index key limit.
	{version: 2, stmts: func(d Dialect) []string {
		key, text, i64 := d.ColumnType(TypeKey), d.ColumnType(TypeText), d.ColumnType(TypeInt64)
		return []string{
			`CREATE TABLE run_changes (
	run_id ` + i64 + ` NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	printer ` + key + ` NOT NULL,
	setting ` + key + ` NOT NULL,
	value_hash ` + text + ` NOT NULL
)`,
			`CREATE INDEX run_changes_run ON run_changes (run_id, printer)`,
		}
	}},
	// 3: deployed files get a table of their own; they were settings
	// named "file:<dest>".
	{version: 3, stmts: func(d Dialect) []string {
		key, text := d.ColumnType(TypeKey), d.ColumnType(TypeText)
		return []string{
			`CREATE TABLE printer_files (
	printer ` + key + ` NOT NULL REFERENCES printers(name) ON DELETE CASCADE,
	dest ` + key + ` NOT NULL,
	content_hash ` + text + ` NOT NULL,
	PRIMARY KEY (printer, dest)
)`,
		}
	}},
	// 4: the "file:<dest>" settings move into it; a step of its own, as
	// migrate explains.
	{version: 4, run: moveFileSettings},
	// 5: settings that are not sensitive keep the value applied in clear
	// (NULL: sensitive, or not known).
	{version: 5, stmts: func(d Dialect) []string {
		return []string{`ALTER TABLE printer_settings ADD clear_value ` + d.ColumnType(TypeText)}
	}},
	// 6: sensitive values are hashed with the state's key from now on.
	// Before, every value was a plain SHA-256, which a guess undoes for a
	// short secret; which of them were sensitive the state cannot tell,
	// so none is kept ('' is a hash not known). Nothing decides on a
	// recorded hash: the next apply records each setting again, in clear
	// or keyed, as the configuration says.
	{version: 6, stmts: func(Dialect) []string {
		return []string{
			`UPDATE printer_settings SET value_hash = ''`,
			`UPDATE run_changes SET value_hash = ''`,
		}
	}},
	// 7: the hashes dropped by 6, and every value replaced before, may
	// still sit in the free space of a database file.
	{version: 7, outside: compact},
	// 8: the outbox of watch mode (see outbox.go). Keys that may be long
	// (an alert's key, a delivery's route and dedupe) are indexed by a
	// digest, so that no engine's index key limit bounds them; the text
	// itself is kept beside it. Names avoid words some
	// engine reserves (key, source, comment, event).
	{version: 8, stmts: func(d Dialect) []string {
		key, text, i32, i64 := d.ColumnType(TypeKey), d.ColumnType(TypeText), d.ColumnType(TypeInt), d.ColumnType(TypeInt64)
		return []string{
			`CREATE TABLE alert_events (
	id ` + d.ColumnType(TypeAutoID) + `,
	printer ` + key + ` NOT NULL,
	alert_key ` + text + ` NOT NULL,
	key_hash ` + key + ` NOT NULL,
	kind ` + key + ` NOT NULL,
	event_name ` + key + ` NOT NULL,
	severity ` + key + ` NOT NULL,
	origin ` + key + ` NOT NULL,
	from_addr ` + text + ` NOT NULL,
	code ` + i32 + ` NOT NULL,
	oid ` + text + ` NOT NULL,
	description ` + text + ` NOT NULL,
	occurred_at ` + i64 + ` NOT NULL,
	routed_at ` + i64 + `
)`,
			`CREATE INDEX alert_events_time ON alert_events (occurred_at)`,
			`CREATE INDEX alert_events_printer ON alert_events (printer, occurred_at)`,
			`CREATE INDEX alert_events_key ON alert_events (key_hash)`,
			`CREATE INDEX alert_events_unrouted ON alert_events (routed_at, id)`,
			// One row per active alert: the event that raised it last,
			// and its acknowledgement (NULL: none), so that a raise is one
			// upsert of event_id. No foreign key: the event is written in
			// the same transaction, and checking it was much of the cost
			// of a trap storm.
			`CREATE TABLE alert_active (
	key_hash ` + key + ` NOT NULL PRIMARY KEY,
	event_id ` + i64 + ` NOT NULL,
	acked_by ` + text + `,
	acked_at ` + i64 + `,
	ack_note ` + text + `
)`,
			// claimed_by is '' and claim_until NULL while nobody holds a
			// delivery; a finished one keeps who finished it.
			`CREATE TABLE alert_deliveries (
	id ` + d.ColumnType(TypeAutoID) + `,
	event_id ` + i64 + `,
	route ` + key + ` NOT NULL,
	kind ` + key + ` NOT NULL,
	dedupe ` + text + ` NOT NULL,
	dedupe_hash ` + key + ` NOT NULL,
	mail_to ` + text + ` NOT NULL,
	mail_cc ` + text + ` NOT NULL,
	due_at ` + i64 + ` NOT NULL,
	status ` + key + ` NOT NULL,
	attempts ` + i32 + ` NOT NULL,
	claimed_by ` + key + ` NOT NULL,
	claim_until ` + i64 + `,
	sent_at ` + i64 + `,
	detail ` + text + ` NOT NULL
)`,
			`CREATE UNIQUE INDEX alert_deliveries_dedupe ON alert_deliveries (dedupe_hash)`,
			`CREATE INDEX alert_deliveries_due ON alert_deliveries (status, due_at)`,
			`CREATE INDEX alert_deliveries_route ON alert_deliveries (route, status, sent_at)`,
			`CREATE INDEX alert_deliveries_event ON alert_deliveries (event_id)`,
			`CREATE TABLE alert_silences (
	id ` + d.ColumnType(TypeAutoID) + `,
	printer ` + text + ` NOT NULL,
	event_name ` + text + ` NOT NULL,
	starts_at ` + i64 + ` NOT NULL,
	ends_at ` + i64 + ` NOT NULL,
	note ` + text + ` NOT NULL,
	created_by ` + text + ` NOT NULL
)`,
			`CREATE INDEX alert_silences_ends ON alert_silences (ends_at)`,
		}
	}},
	// 9: the Message-ID each delivery is sent under, recorded before the
	// send (NULL: not sent yet).
	{version: 9, stmts: func(d Dialect) []string {
		return []string{`ALTER TABLE alert_deliveries ADD message_id ` + d.ColumnType(TypeText)}
	}},
	// 10: the status page's audit log, and the sessions ended by a
	// logout (a keyed digest of each session's id, kept until the
	// session would have expired anyway; see audit.go).
	{version: 10, stmts: func(d Dialect) []string {
		key, text, i64 := d.ColumnType(TypeKey), d.ColumnType(TypeText), d.ColumnType(TypeInt64)
		return []string{
			`CREATE TABLE audit_log (
	id ` + d.ColumnType(TypeAutoID) + `,
	logged_at ` + i64 + ` NOT NULL,
	user_name ` + text + ` NOT NULL,
	address ` + text + ` NOT NULL,
	audit_action ` + key + ` NOT NULL,
	audit_target ` + text + ` NOT NULL,
	detail ` + text + ` NOT NULL
)`,
			`CREATE INDEX audit_log_time ON audit_log (logged_at)`,
			`CREATE TABLE session_revocations (
	session_hash ` + key + ` NOT NULL PRIMARY KEY,
	expires_at ` + i64 + ` NOT NULL
)`,
			`CREATE INDEX session_revocations_expires ON session_revocations (expires_at)`,
		}
	}},
}

// compact compacts the database when its dialect can.
func compact(ctx context.Context, s *Store) error {
	if c, ok := s.d.(Compacter); ok {
		return c.Compact(ctx, s.db)
	}
	return nil
}

// fileSettingPrefix marked a deployed file among a printer's settings
// before schema version 4.
const fileSettingPrefix = "file:"

// moveFileSettings moves the settings named "file:<dest>" into
// printer_files. LIKE only narrows the search: it ignores case on some
// engines, so the prefix is checked here and rows are moved one by one.
func moveFileSettings(ctx context.Context, s *Store, tx *sql.Tx) error {
	type row struct{ printer, setting, hash string }
	rows, err := tx.QueryContext(ctx, `SELECT printer, setting, value_hash FROM printer_settings WHERE setting LIKE '`+fileSettingPrefix+`%'`)
	if err != nil {
		return err
	}
	var moved []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.printer, &r.setting, &r.hash); err != nil {
			rows.Close()
			return err
		}
		if strings.HasPrefix(r.setting, fileSettingPrefix) {
			moved = append(moved, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	insert := s.bind(`INSERT INTO printer_files (printer, dest, content_hash) VALUES (?, ?, ?)`)
	remove := s.bind(`DELETE FROM printer_settings WHERE printer = ? AND setting = ?`)
	for _, r := range moved {
		if _, err := tx.ExecContext(ctx, insert, r.printer, strings.TrimPrefix(r.setting, fileSettingPrefix), r.hash); err != nil {
			return fmt.Errorf("printer %s: setting %s: %w", r.printer, r.setting, err)
		}
		if _, err := tx.ExecContext(ctx, remove, r.printer, r.setting); err != nil {
			return fmt.Errorf("printer %s: setting %s: %w", r.printer, r.setting, err)
		}
	}
	return nil
}

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the schema up to date. Each step re-reads the version
// inside its write transaction, so two processes opening a fresh state at
// once apply every migration exactly once.
//
// The bookkeeping table is created and committed on its own first: some
// engines (Firebird) cannot write a table in the transaction that created
// it. For the same reason a migration's statements must not read or write
// a table that the same migration creates; split such a change in two.
func (s *Store) migrate(ctx context.Context) error {
	if err := s.ensureMigrationsTable(ctx); err != nil {
		return err
	}
	known := SchemaVersion()
	ranOutside := map[int]bool{}
	for {
		done := false
		var tried int
		var outside *migration
		err := s.write(ctx, func(tx *sql.Tx) error {
			cur, err := s.schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			if cur > known {
				return &SchemaVersionError{Found: cur, Known: known}
			}
			if cur == known {
				done = true
				return nil
			}
			m := migrations[cur] // versions are dense from 1
			if m.outside != nil && !ranOutside[m.version] {
				outside = &m
				return nil
			}
			tried = m.version
			if m.stmts != nil {
				for _, stmt := range m.stmts(s.d) {
					if _, err := tx.ExecContext(ctx, stmt); err != nil {
						return fmt.Errorf("migration %d: %s: %w", m.version, firstLine(stmt), err)
					}
				}
			}
			if m.run != nil {
				if err := m.run(ctx, s, tx); err != nil {
					return fmt.Errorf("migration %d: %w", m.version, err)
				}
			}
			_, err = tx.ExecContext(ctx, s.bind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
				m.version, s.now().UTC().UnixNano())
			if err != nil {
				return fmt.Errorf("migration %d: record version: %w", m.version, err)
			}
			return nil
		})
		if err == nil && outside != nil {
			if err := outside.outside(ctx, s); err != nil {
				return fmt.Errorf("migration %d: %w", outside.version, err)
			}
			ranOutside[outside.version] = true
			continue
		}
		if err != nil && tried > 0 && s.migratedElsewhere(ctx, tried) {
			// Engines that do not lock out a second migrator (Firebird)
			// fail the loser of the race; the winner's work stands.
			continue
		}
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migratedElsewhere reports whether version is recorded, after a failed
// attempt to apply it.
func (s *Store) migratedElsewhere(ctx context.Context, version int) bool {
	var n int
	err := s.db.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n)
	return err == nil && n > 0
}

// ensureMigrationsTable creates the bookkeeping table when the state is
// brand new, in a transaction of its own.
func (s *Store) ensureMigrationsTable(ctx context.Context) error {
	exists := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) (bool, error) {
		var n int
		if err := q.QueryRowContext(ctx, s.bind(s.d.TableExistsQuery()), "schema_migrations").Scan(&n); err != nil {
			return false, fmt.Errorf("look for schema_migrations: %w", err)
		}
		return n > 0, nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		ok, err := exists(tx)
		if err != nil || ok {
			return err
		}
		stmt := `CREATE TABLE schema_migrations (
	version ` + s.d.ColumnType(TypeInt) + ` NOT NULL PRIMARY KEY,
	applied_at ` + s.d.ColumnType(TypeInt64) + ` NOT NULL
)`
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		return nil
	})
	if err != nil {
		// Another process may have created it at the same moment.
		if ok, _ := exists(s.db); ok {
			return nil
		}
		return err
	}
	return nil
}

// schemaVersion returns the applied version.
func (s *Store) schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// AppliedMigrations returns the recorded schema versions, oldest first.
func (s *Store) AppliedMigrations(ctx context.Context) ([]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("%s state: read schema_migrations: %w", s.d.Name(), err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("%s state: read schema_migrations: %w", s.d.Name(), err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(strings.TrimSuffix(s[:i], "("))
	}
	return s
}

// IsSchemaTooNew reports whether err says the state needs a newer binary.
func IsSchemaTooNew(err error) bool {
	var e *SchemaVersionError
	return errors.As(err, &e)
}
