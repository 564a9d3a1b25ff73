// Package firebird keeps inkform's state in a Firebird 3 database, for
// teams that share one state server rather than a file.
//
// The DSN is the driver's: user:password@host:port//absolute/path/db.fdb.
// The database is created on first open when the file does not exist.
//
// Firebird differs from SQLite in ways the dialect absorbs: UPDATE OR
// INSERT ... MATCHING for upserts, identity columns, ROWS n instead of
// LIMIT, gdscodes for errors, and tables that cannot be written in the
// transaction that created them (the core commits schema bookkeeping on
// its own first).
package firebird

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nakagami/firebirdsql"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlstate"
)

// Store is a state.Store in a Firebird database. It adds ForceUnlock,
// LockHolder, PutPrinters and Outcomes through the embedded core.
type Store struct {
	*sqlstate.Store
	where string // host:port/path, never the password
}

// Options tune OpenStore; see sqlstate.Options.
type Options = sqlstate.Options

// Open connects to the database named by dsn, creating it if the file does
// not exist, and brings its schema up to date.
func Open(ctx context.Context, dsn string) (state.Store, error) {
	return OpenStore(ctx, dsn, Options{})
}

// OpenStore is Open with options, returning the concrete type.
func OpenStore(ctx context.Context, dsn string, opts Options) (*Store, error) {
	where, err := Where(dsn)
	if err != nil {
		return nil, err
	}
	db, err := connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("state %s: open: %w", where, err)
	}
	core, err := sqlstate.New(ctx, db, Dialect{}, opts)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", where, err)
	}
	return &Store{Store: core, where: where}, nil
}

// Where returns host:port/path of dsn, for messages: the DSN itself holds
// the password.
func Where(dsn string) (string, error) {
	if dsn == "" {
		return "", errors.New("state: empty firebird DSN")
	}
	// The driver parses the DSN as a URL in the same way.
	u, err := url.Parse("firebird://" + dsn)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		// url's error would quote the DSN, password and all.
		return "", errors.New("state: firebird DSN is not user:password@host:port//path/to/db.fdb")
	}
	return u.Host + u.Path, nil
}

// connect opens the pool, creating the database first when the server
// says the file does not exist. Only that one connection uses the
// creating driver: every pooled connection would otherwise try to create.
func connect(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sqlstate.OpenDB(ctx, "firebirdsql", dsn)
	if err == nil || !isMissingDatabase(err) {
		return db, err
	}
	created, cerr := sqlstate.OpenDB(ctx, "firebirdsql_createdb", dsn)
	if cerr == nil {
		created.Close()
	}
	// Another process may have created it meanwhile; either way, open it.
	db, err = sqlstate.OpenDB(ctx, "firebirdsql", dsn)
	if err != nil && cerr != nil {
		return nil, fmt.Errorf("create database: %w", cerr)
	}
	return db, err
}

// Firebird status codes (see the driver's fberrcode.go).
const (
	gdsIOError         = 335544344 // isc_io_error
	gdsIOOpenError     = 335544734 // isc_io_open_err
	gdsUniqueKey       = 335544665 // isc_unique_key_violation
	gdsNoDup           = 335544349 // isc_no_dup: unique index
	gdsDeadlock        = 335544336 // isc_deadlock
	gdsLockConflict    = 335544345 // isc_lock_conflict
	gdsUpdateConflict  = 335544451 // isc_update_conflict
	gdsLockTimeout     = 335544510 // isc_lock_timeout
	gdsConcurrentTrans = 335544878 // isc_concurrent_transaction
)

func codes(err error) []int {
	var fe *firebirdsql.FbError
	if errors.As(err, &fe) {
		return fe.GDSCodes
	}
	return nil
}

func isMissingDatabase(err error) bool {
	c := codes(err)
	return slices.Contains(c, gdsIOError) && slices.Contains(c, gdsIOOpenError) &&
		strings.Contains(err.Error(), "No such file or directory")
}

// Dialect is Firebird 3 for sqlstate.
type Dialect struct{}

var _ sqlstate.Dialect = Dialect{}

func (Dialect) Name() string { return "firebird" }

func (Dialect) Placeholder(int) string { return "?" }

// keyChars bounds key columns: an index key is at most a quarter of a page
// (about 1 KiB: the driver creates databases with 4 KiB pages), UTF8 takes
// up to 4 bytes a character, and printer_settings' key holds two of them
// (a compound key spends a further byte on every four).
// Longer printer or setting names are refused by the server.
const keyChars = 100

func (Dialect) ColumnType(t sqlstate.ColumnType) string {
	switch t {
	case sqlstate.TypeKey:
		return fmt.Sprintf("VARCHAR(%d) CHARACTER SET UTF8", keyChars)
	case sqlstate.TypeText:
		// A row is at most 64 KiB, so long VARCHARs cannot go several to a
		// row; a text blob has no length limit.
		return "BLOB SUB_TYPE TEXT CHARACTER SET UTF8"
	case sqlstate.TypeInt:
		return "INTEGER"
	case sqlstate.TypeAutoID:
		return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	default:
		return "BIGINT"
	}
}

// TableExistsQuery looks in the system catalogue, where unquoted names are
// stored upper-case.
func (Dialect) TableExistsQuery() string {
	return `SELECT COUNT(*) FROM RDB$RELATIONS WHERE RDB$RELATION_NAME = UPPER(CAST(? AS VARCHAR(63)))`
}

func (Dialect) Upsert(table string, key, cols []string) string {
	return "UPDATE OR INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + marks(len(cols)) +
		") MATCHING (" + strings.Join(key, ", ") + ")"
}

func (Dialect) InsertReturningID(table string, cols []string, id string) string {
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + marks(len(cols)) + ") RETURNING " + id
}

func (Dialect) Limit(n int) string { return fmt.Sprintf("ROWS %d", n) }

// beginTimeout bounds starting a transaction, one round trip.
const beginTimeout = 15 * time.Second

// BeginWrite starts a READ COMMITTED transaction that waits for locks: a
// writer meeting another's uncommitted row waits for it to finish rather
// than failing at once, and if that one committed a change to the same
// row, the update conflict is retried by the core.
//
// The caller's cancellation is held back until the transaction has
// started: the driver (v0.9.23) leaves a connection whose begin was
// interrupted without a transaction, and closing it then panics. Once
// started, cancelling ctx rolls the transaction back as usual.
func (Dialect) BeginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	timer := time.AfterFunc(beginTimeout, cancel)
	tx, err := db.BeginTx(tctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if !timer.Stop() && err == nil {
		err = fmt.Errorf("begin took longer than %s", beginTimeout)
		tx.Rollback()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	context.AfterFunc(ctx, cancel)
	return tx, nil
}

func (Dialect) IsUniqueViolation(err error) bool {
	c := codes(err)
	return slices.Contains(c, gdsUniqueKey) || slices.Contains(c, gdsNoDup)
}

func (Dialect) IsRetryable(err error) bool {
	for _, c := range codes(err) {
		switch c {
		case gdsDeadlock, gdsLockConflict, gdsUpdateConflict, gdsLockTimeout, gdsConcurrentTrans:
			return true
		}
	}
	return false
}

var _ sqlstate.StatementConflicts = Dialect{}

// ConflictUndoesStatement is true: Firebird undoes a statement that meets
// an update conflict or a lock conflict and leaves its transaction open.
func (Dialect) ConflictUndoesStatement() bool { return true }

// SingleWriter is true although Firebird admits many writers: in
// Firebird 3 two READ COMMITTED writers of one row do not queue, the
// second fails with an update conflict once the first commits. Queueing
// this process's writers avoids those failures; writers in other
// processes still meet them and are retried.
func (Dialect) SingleWriter() bool { return true }

func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
