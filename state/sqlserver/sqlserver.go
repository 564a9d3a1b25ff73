// Package sqlserver keeps inkform's state in a Microsoft SQL Server
// database, for teams whose shared infrastructure is SQL Server.
//
// The DSN is the driver's URL form:
//
//	sqlserver://user:password@host:1433?database=inkform
//
// The database must exist and the user must be able to create tables in
// it; the schema is created on first open.
//
// SQL Server differs from the other engines in ways the dialect absorbs:
// numbered @pN parameters, NVARCHAR and IDENTITY columns, upserts as an
// UPDATE under key-range locks followed by an INSERT when nothing matched,
// OUTPUT INSERTED.id, OFFSET/FETCH instead of LIMIT, and error numbers.
package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlstate"
)

// Store is a state.Store in a SQL Server database. It adds ForceUnlock,
// LockHolder, PutPrinters, Outcomes and the rest of the core's
// maintenance methods through the embedded core.
type Store struct {
	*sqlstate.Store
	where string // host:port/database, never the password
}

// Options tune OpenStore; see sqlstate.Options.
type Options = sqlstate.Options

// Open connects to the database named by dsn and brings its schema up to
// date.
func Open(ctx context.Context, dsn string) (state.Store, error) {
	return OpenStore(ctx, dsn, Options{})
}

// OpenStore is Open with options, returning the concrete type.
func OpenStore(ctx context.Context, dsn string, opts Options) (*Store, error) {
	where, err := Where(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sqlstate.OpenDB(ctx, "sqlserver", dsn)
	if err != nil {
		return nil, fmt.Errorf("state %s: open: %w", where, err)
	}
	core, err := sqlstate.New(ctx, db, Dialect{}, opts)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", where, err)
	}
	return &Store{Store: core, where: where}, nil
}

// Where returns host:port/database of dsn, for messages: the DSN itself
// holds the password.
func Where(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme != "sqlserver" || u.Host == "" {
		// url's error would quote the DSN, password and all.
		return "", errors.New("state: SQL Server DSN is not sqlserver://user:password@host:port?database=NAME")
	}
	where := u.Host + u.Path
	if db := u.Query().Get("database"); db != "" {
		where += "/" + db
	}
	return where, nil
}

// SQL Server error numbers (sys.messages).
const (
	errUniqueIndex      = 2601 // duplicate key row in a unique index
	errUniqueConstraint = 2627 // violation of a PRIMARY KEY or UNIQUE constraint
	errDeadlock         = 1205 // chosen as deadlock victim
	errLockTimeout      = 1222 // lock request time out period exceeded
	errSnapshotConflict = 3960 // snapshot isolation update conflict
)

func number(err error) (int32, bool) {
	var e mssql.Error
	if errors.As(err, &e) {
		return e.Number, true
	}
	var pe *mssql.Error
	if errors.As(err, &pe) && pe != nil {
		return pe.Number, true
	}
	return 0, false
}

// Dialect is SQL Server (2016 and later) for sqlstate.
type Dialect struct{}

var _ sqlstate.Dialect = Dialect{}

func (Dialect) Name() string { return "sqlserver" }

func (Dialect) Placeholder(n int) string { return fmt.Sprintf("@p%d", n) }

// keyChars bounds key columns: an index key is at most 1700 bytes (900
// for a clustered one), NVARCHAR takes 2 bytes a character, and the
// widest key holds two of them.
const keyChars = 200

func (Dialect) ColumnType(t sqlstate.ColumnType) string {
	switch t {
	case sqlstate.TypeKey:
		return fmt.Sprintf("NVARCHAR(%d)", keyChars)
	case sqlstate.TypeText:
		return "NVARCHAR(MAX)"
	case sqlstate.TypeInt:
		return "INT"
	case sqlstate.TypeAutoID:
		return "BIGINT IDENTITY(1,1) PRIMARY KEY"
	default:
		return "BIGINT"
	}
}

// TableExistsQuery looks in the default schema only: that is where the
// unqualified names of the core's statements resolve.
func (Dialect) TableExistsQuery() string {
	return `SELECT COUNT(*) FROM sys.tables WHERE name = ? AND schema_id = SCHEMA_ID()`
}

// Upsert updates the row under an update lock held to the end of the
// transaction on the key (range), so that a concurrent upsert of the same
// key waits instead of inserting a duplicate, then inserts when nothing
// matched. Parameters are numbered by column, so each is bound once.
func (d Dialect) Upsert(table string, key, cols []string) string {
	pos := map[string]string{}
	for i, c := range cols {
		pos[c] = d.Placeholder(i + 1)
	}
	isKey := map[string]bool{}
	var where []string
	for _, k := range key {
		isKey[k] = true
		where = append(where, k+" = "+pos[k])
	}
	var set []string
	for _, c := range cols {
		if !isKey[c] {
			set = append(set, c+" = "+pos[c])
		}
	}
	vals := make([]string, len(cols))
	for i, c := range cols {
		vals[i] = pos[c]
	}
	insert := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ");"
	cond := strings.Join(where, " AND ")
	if len(set) == 0 {
		return "IF NOT EXISTS (SELECT 1 FROM " + table + " WITH (UPDLOCK, SERIALIZABLE) WHERE " + cond + ") " + insert
	}
	return "UPDATE " + table + " WITH (UPDLOCK, SERIALIZABLE) SET " + strings.Join(set, ", ") + " WHERE " + cond + ";\n" +
		"IF @@ROWCOUNT = 0 " + insert
}

func (Dialect) InsertReturningID(table string, cols []string, id string) string {
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") OUTPUT INSERTED." + id + " VALUES (" + marks(len(cols)) + ")"
}

// Limit keeps the first n rows; OFFSET ... FETCH is the form that follows
// ORDER BY (TOP would precede the select list).
func (Dialect) Limit(n int) string { return fmt.Sprintf("OFFSET 0 ROWS FETCH NEXT %d ROWS ONLY", n) }

// BeginWrite starts a READ COMMITTED transaction. Writers of one row queue
// on its row lock; the upsert's key-range lock covers inserts. What
// remains (deadlock victims) the core retries.
func (Dialect) BeginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
}

func (Dialect) IsUniqueViolation(err error) bool {
	n, ok := number(err)
	return ok && (n == errUniqueConstraint || n == errUniqueIndex)
}

func (Dialect) IsRetryable(err error) bool {
	n, ok := number(err)
	return ok && (n == errDeadlock || n == errLockTimeout || n == errSnapshotConflict)
}

var _ sqlstate.SkipLocker = Dialect{}

// SkipLockedHint makes the rows a claim picks locked for update until it
// commits, and skips the rows other claims hold, so that two processes
// claiming at once take different deliveries without waiting.
func (Dialect) SkipLockedHint() string { return "WITH (UPDLOCK, READPAST, ROWLOCK)" }

// SingleWriter is false: SQL Server locks rows, so writers of different
// printers proceed at once.
func (Dialect) SingleWriter() bool { return false }

func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
