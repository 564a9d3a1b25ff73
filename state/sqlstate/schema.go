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
// built from the dialect so that one logical schema serves every engine.
type migration struct {
	version int
	stmts   func(d Dialect) []string
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
			// removed from management.
			`CREATE TABLE run_printers (
	run_id ` + i64 + ` NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	printer ` + key + ` NOT NULL,
	status ` + key + ` NOT NULL,
	detail ` + text + ` NOT NULL,
	changes ` + i32 + ` NOT NULL,
	at ` + i64 + ` NOT NULL
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
}

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the schema up to date. Each step re-reads the version
// inside its write transaction, so two processes opening a fresh state at
// once apply every migration exactly once.
func (s *Store) migrate(ctx context.Context) error {
	known := SchemaVersion()
	for {
		done := false
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
			for _, stmt := range m.stmts(s.d) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d: %s: %w", m.version, firstLine(stmt), err)
				}
			}
			_, err = tx.ExecContext(ctx, s.bind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
				m.version, s.now().UTC().UnixNano())
			if err != nil {
				return fmt.Errorf("migration %d: record version: %w", m.version, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// schemaVersion returns the applied version, creating the bookkeeping
// table when the state is brand new.
func (s *Store) schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, s.bind(s.d.TableExistsQuery()), "schema_migrations").Scan(&n); err != nil {
		return 0, fmt.Errorf("look for schema_migrations: %w", err)
	}
	if n == 0 {
		stmt := `CREATE TABLE schema_migrations (
	version ` + s.d.ColumnType(TypeInt) + ` NOT NULL PRIMARY KEY,
	applied_at ` + s.d.ColumnType(TypeInt64) + ` NOT NULL
)`
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return 0, fmt.Errorf("create schema_migrations: %w", err)
		}
		return 0, nil
	}
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
