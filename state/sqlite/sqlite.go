// Package sqlite is the embedded default state backend: a single SQLite
// file (pure Go, modernc.org/sqlite) next to the configuration. The file
// is made readable by its owner only, and so is its key file (the file's
// name with ".key" added), which holds the key that sensitive values are
// hashed with, made on first use unless Options.Key gives one.
//
// Several processes may open one file: writes take SQLite's write lock up
// front (BEGIN IMMEDIATE) and wait for it up to BusyTimeout, and the WAL
// journal lets readers proceed while one process writes.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlstate"
)

// BusyTimeout is how long a statement waits for another process's write
// lock before failing with SQLITE_BUSY (which the core then retries a
// bounded number of times).
var BusyTimeout = 10 * time.Second

// Store is a state.Store in a SQLite file. It adds ForceUnlock, LockHolder,
// PutPrinters and Outcomes to the interface through the embedded core.
type Store struct {
	*sqlstate.Store
	path string
}

// Options tune OpenStore; see sqlstate.Options.
type Options = sqlstate.Options

// Open opens (creating if absent) the state file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (state.Store, error) {
	return OpenStore(ctx, path, Options{})
}

// OpenStore is Open with options, returning the concrete type.
func OpenStore(ctx context.Context, path string, opts Options) (*Store, error) {
	dsn, err := DSN(path)
	if err != nil {
		return nil, err
	}
	if err := create(path); err != nil {
		return nil, fmt.Errorf("state %s: create: %w", path, err)
	}
	if opts.Key == nil {
		opts.Key = keyFile(path + KeyFileSuffix)
	}
	// Opening connects now, so that a bad path fails here, naming it.
	db, err := sqlstate.OpenDB(ctx, "sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("state %s: open: %w", path, err)
	}
	core, err := sqlstate.New(ctx, db, Dialect{}, opts)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return &Store{Store: core, path: path}, nil
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// create makes an empty database file readable only by its owner, unless
// one exists: SQLite would make it (and its journals, which take the
// file's mode) readable by everyone the umask allows.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// DSN builds the driver data source name for path: WAL journal (readers
// never block the writer), a busy timeout (wait for other processes
// instead of failing), foreign keys on every connection, BEGIN IMMEDIATE
// for transactions (they are only used to write, and taking the write
// lock up front avoids deadlocks upgrading a read lock),
// synchronous=NORMAL, which in WAL mode keeps every commit atomic across
// a crash of the process and only defers the fsync, secure_delete, so
// that a hash replaced (a migration drops old ones) leaves no copy in the
// file's free space, and temp_store in memory: the journal a statement
// keeps to undo itself alone went to a temporary file, which was much of
// the cost of recording a storm of alert events.
func DSN(path string) (string, error) {
	if path == "" {
		return "", errors.New("state: empty sqlite path")
	}
	// The driver splits its parameters off at the first '?'.
	if strings.ContainsRune(path, '?') {
		return "", fmt.Errorf("state %s: sqlite path must not contain '?'", path)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "secure_delete(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode(), nil
}

// Dialect is SQLite for sqlstate.
type Dialect struct{}

var _ sqlstate.Dialect = Dialect{}

func (Dialect) Name() string { return "sqlite" }

func (Dialect) Placeholder(int) string { return "?" }

func (Dialect) ColumnType(t sqlstate.ColumnType) string {
	switch t {
	case sqlstate.TypeKey, sqlstate.TypeText:
		return "TEXT"
	case sqlstate.TypeAutoID:
		// AUTOINCREMENT: ids are never reused, so history stays unambiguous.
		return "INTEGER PRIMARY KEY AUTOINCREMENT"
	default:
		return "INTEGER"
	}
}

func (Dialect) TableExistsQuery() string {
	return `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
}

func (Dialect) Upsert(table string, key, cols []string) string {
	isKey := map[string]bool{}
	for _, k := range key {
		isKey[k] = true
	}
	var set []string
	for _, c := range cols {
		if !isKey[c] {
			set = append(set, c+" = excluded."+c)
		}
	}
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + marks(len(cols)) +
		") ON CONFLICT (" + strings.Join(key, ", ") + ") DO "
	if len(set) == 0 {
		return q + "NOTHING"
	}
	return q + "UPDATE SET " + strings.Join(set, ", ")
}

func (Dialect) InsertReturningID(table string, cols []string, id string) string {
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + marks(len(cols)) + ") RETURNING " + id
}

var _ sqlstate.RowsWriter = Dialect{}

// InsertRowsReturningIDs inserts n rows in one statement. SQLite inserts
// the rows of VALUES in order, and AUTOINCREMENT gives each an id above
// every id before it.
func (Dialect) InsertRowsReturningIDs(table string, cols []string, n int, id string) string {
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + rows(len(cols), n) + " RETURNING " + id
}

// UpsertRows is Upsert of n rows.
func (d Dialect) UpsertRows(table string, key, cols []string, n int) string {
	one := d.Upsert(table, key, cols)
	single := "(" + marks(len(cols)) + ")"
	return strings.Replace(one, single, rows(len(cols), n), 1)
}

// rows returns n rows of VALUES of cols parameters each.
func rows(cols, n int) string {
	row := "(" + marks(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

func (Dialect) Limit(n int) string { return fmt.Sprintf("LIMIT %d", n) }

// BeginWrite relies on the DSN's _txlock=immediate.
func (Dialect) BeginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, nil)
}

func (Dialect) IsUniqueViolation(err error) bool {
	c, ok := code(err)
	return ok && (c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE)
}

func (Dialect) IsRetryable(err error) bool {
	c, ok := code(err)
	return ok && (c&0xff == sqlite3.SQLITE_BUSY || c&0xff == sqlite3.SQLITE_LOCKED)
}

func (Dialect) SingleWriter() bool { return true }

var _ sqlstate.Compacter = Dialect{}

// Compact vacuums the file: SQLite keeps deleted rows in free pages
// until they are reused.
func (Dialect) Compact(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}

func code(err error) (int, bool) {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
