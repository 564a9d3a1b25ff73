// Package sqlstate implements state.Store over database/sql. Everything that
// differs between SQL engines (column types, upsert syntax, placeholders,
// how a write transaction takes its lock, limit syntax, error codes) sits
// behind Dialect, so that one core serves SQLite, Firebird and SQL Server.
package sqlstate

import (
	"context"
	"database/sql"
)

// ColumnType is a logical column type; a Dialect maps it to DDL.
type ColumnType int

const (
	// TypeKey is short text that is part of a key or index (names, ids).
	TypeKey ColumnType = iota + 1
	// TypeText is free text of any length (details, commands).
	TypeText
	// TypeInt is a 32-bit integer (counts, pids, schema versions).
	TypeInt
	// TypeInt64 is a 64-bit integer; times are stored in it as UTC unix
	// nanoseconds, which sort and round-trip identically on every engine.
	TypeInt64
	// TypeAutoID is a 64-bit integer primary key assigned by the database
	// on insert. Its DDL includes the PRIMARY KEY clause.
	TypeAutoID
)

// Dialect describes one SQL engine. Implementations must be safe for
// concurrent use; the core calls them from many goroutines.
//
// Queries in the core are written with '?' placeholders and no '?' inside
// literals; the core rewrites each to Placeholder(n) once, when it opens.
type Dialect interface {
	// Name names the engine in error messages ("sqlite").
	Name() string
	// Placeholder returns the bind marker for the n-th parameter, from 1.
	Placeholder(n int) string
	// ColumnType returns the DDL type for t.
	ColumnType(t ColumnType) string
	// TableExistsQuery returns a query taking the table name as its one
	// parameter and returning a single count, non-zero when it exists.
	TableExistsQuery() string
	// Upsert returns a statement that inserts a row into table with cols
	// (parameters in that order, written as '?') or, when a row with the
	// same key columns exists, replaces its other columns.
	Upsert(table string, key, cols []string) string
	// InsertReturningID returns an insert of cols ('?' parameters) that
	// yields the new row's id column as a one-row, one-column result.
	InsertReturningID(table string, cols []string, id string) string
	// Limit returns the clause that follows ORDER BY to keep n rows.
	Limit(n int) string
	// BeginWrite starts a transaction that will write. It must take the
	// engine's write lock up front (SQLite: BEGIN IMMEDIATE) so that two
	// writers never both read and then deadlock upgrading to write.
	BeginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error)
	// IsUniqueViolation reports whether err is a primary-key or unique
	// constraint violation.
	IsUniqueViolation(err error) bool
	// IsRetryable reports whether err is transient contention (busy,
	// deadlock victim) after which the same transaction may be retried.
	IsRetryable(err error) bool
	// SingleWriter reports whether the engine admits one writer at a
	// time; the core then queues its own writers in-process instead of
	// letting them spin on the engine's busy handler.
	SingleWriter() bool
}
