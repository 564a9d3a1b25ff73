package sqlserver_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlserver"
	"github.com/inkform/inkform/state/sqlstate"
	"github.com/inkform/inkform/state/statetest"
	"github.com/inkform/inkform/state/statetest/sqltest"
)

// dsnEnv names a SQL Server for the integration tests: a login that may
// create and drop databases, e.g.
// sqlserver://sa:PASSWORD@127.0.0.1:1433?database=master.
const dsnEnv = "INKFORM_TEST_MSSQL_DSN"

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// server returns the DSN of the test server, or skips, saying plainly that
// the SQL Server tests did not run. INKFORM_REQUIRE_INTEGRATION does not
// turn this into a failure: no SQL Server can be started on the CI
// machines, so it is only ever run by hand against one.
func server(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Log("SQL Server conformance NOT RUN: " + dsnEnv + " is not set (CI cannot start a SQL Server, so this stays a skip even under INKFORM_REQUIRE_INTEGRATION)")
		t.Skip(dsnEnv + " not set; SQL Server tests not run")
	}
	return dsn
}

// newDatabase creates an empty database on the server and returns a DSN
// for it; the database is dropped when the test ends.
func newDatabase(t *testing.T, serverDSN string) string {
	t.Helper()
	ctx := ctxFor(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "inkform_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("sqlserver", serverDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Close lingering pooled sessions first; DROP fails while any is open.
		_, _ = admin.ExecContext(ctx, "ALTER DATABASE "+name+" SET SINGLE_USER WITH ROLLBACK IMMEDIATE")
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(serverDSN)
	if err != nil {
		t.Fatalf("%s is not a URL", dsnEnv)
	}
	q := u.Query()
	q.Set("database", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestConformance(t *testing.T) {
	srv := server(t)
	// A server keeps no key file: the caller gives the key.
	key := func() (state.Key, error) { return state.NewKey(strings.Repeat("k", state.MinKeyLen)) }
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := sqlserver.OpenStore(ctxFor(t), newDatabase(t, srv), sqlserver.Options{Key: key})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// Two Stores on one database behave as two processes would.
func TestTwoStoresContend(t *testing.T) {
	dsn := newDatabase(t, server(t))
	sqltest.RunTwoStores(t, func(t *testing.T) (*sqlstate.Store, *sqlstate.Store) {
		open := func() *sqlstate.Store {
			s, err := sqlserver.OpenStore(ctxFor(t), dsn, sqlserver.Options{})
			if err != nil {
				t.Fatalf("OpenStore: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s.Store
		}
		return open(), open()
	})
}

// upgradeDB is the database at dsn for the sqltest upgrade checks.
func upgradeDB(t *testing.T, dsn string) sqltest.Database {
	return sqltest.Database{
		Open: func() (*sqlstate.Store, error) {
			s, err := sqlserver.OpenStore(ctxFor(t), dsn, sqlserver.Options{})
			if err != nil {
				return nil, err
			}
			return s.Store, nil
		},
		Raw:        func() (*sql.DB, error) { return sql.Open("sqlserver", dsn) },
		DropColumn: func(table, column string) string { return "ALTER TABLE " + table + " DROP COLUMN " + column },
	}
}

func TestUpgradeFiles(t *testing.T) {
	sqltest.RunUpgradeFiles(t, upgradeDB(t, newDatabase(t, server(t))))
}

func TestUpgradeValues(t *testing.T) {
	sqltest.RunUpgradeValues(t, upgradeDB(t, newDatabase(t, server(t))))
}

func TestUpgradeOutbox(t *testing.T) {
	sqltest.RunUpgradeOutbox(t, upgradeDB(t, newDatabase(t, server(t))))
}

func TestOutbox(t *testing.T) {
	srv := server(t)
	statetest.RunOutbox(t, func(t *testing.T) state.Store {
		s, err := sqlserver.OpenStore(ctxFor(t), newDatabase(t, srv), sqlserver.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestAudit(t *testing.T) {
	srv := server(t)
	statetest.RunAudit(t, func(t *testing.T) state.Store {
		s, err := sqlserver.OpenStore(ctxFor(t), newDatabase(t, srv), sqlserver.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestOutboxShared(t *testing.T) {
	srv := server(t)
	statetest.RunOutboxShared(t, func(t *testing.T) (state.Store, state.Store) {
		dsn := newDatabase(t, srv)
		s1, err := sqlserver.OpenStore(ctxFor(t), dsn, sqlserver.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s2, err := sqlserver.OpenStore(ctxFor(t), dsn, sqlserver.Options{})
		if err != nil {
			s1.Close()
			t.Fatalf("Open: %v", err)
		}
		return s1, s2
	})
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	dsn := newDatabase(t, server(t))
	ctx := ctxFor(t)
	s, err := sqlserver.OpenStore(ctx, dsn, sqlserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if vs, err := s.AppliedMigrations(ctx); err != nil || len(vs) != sqlstate.SchemaVersion() {
		t.Fatalf("AppliedMigrations = %v, %v", vs, err)
	}
	future := sqlstate.SchemaVersion() + 1
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (@p1, 1)`, future); err != nil {
		t.Fatal(err)
	}
	_, err = sqlserver.Open(ctx, dsn)
	var ve *sqlstate.SchemaVersionError
	if !errors.As(err, &ve) || ve.Found != future {
		t.Fatalf("Open of a newer schema = %v, want *SchemaVersionError", err)
	}
}

func TestWhereHidesThePassword(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"sqlserver://sa:pa%24%24word@db.example:1433?database=inkform", "db.example:1433/inkform"},
		{"sqlserver://sa:hunter22@db.example/SQLEXPRESS?database=fleet", "db.example/SQLEXPRESS/fleet"},
	} {
		got, err := sqlserver.Where(tc.dsn)
		if err != nil || got != tc.want {
			t.Errorf("Where(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "sa:hunter22@db:1433", "firebird://sa:hunter22@db/x", "sqlserver://sa:hunter22@/x", "sqlserver://sa:hunter22@db:1433/%zz"} {
		_, err := sqlserver.Where(bad)
		if err == nil {
			t.Errorf("Where(%q) accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "hunter22") {
			t.Errorf("Where(%q) error reveals the password: %v", bad, err)
		}
	}
}

func TestDialectStatements(t *testing.T) {
	d := sqlserver.Dialect{}
	for _, tc := range []struct{ got, want string }{
		{d.Upsert("printers", []string{"name"}, []string{"name", "address", "serial"}),
			"UPDATE printers WITH (UPDLOCK, SERIALIZABLE) SET address = @p2, serial = @p3 WHERE name = @p1;\n" +
				"IF @@ROWCOUNT = 0 INSERT INTO printers (name, address, serial) VALUES (@p1, @p2, @p3);"},
		{d.Upsert("t", []string{"a", "b"}, []string{"b", "a"}),
			"IF NOT EXISTS (SELECT 1 FROM t WITH (UPDLOCK, SERIALIZABLE) WHERE a = @p2 AND b = @p1) INSERT INTO t (b, a) VALUES (@p1, @p2);"},
		{d.InsertReturningID("runs", []string{"command", "host"}, "id"),
			"INSERT INTO runs (command, host) OUTPUT INSERTED.id VALUES (?, ?)"},
		{d.Limit(5), "OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY"},
		{d.Placeholder(12), "@p12"},
		{d.ColumnType(sqlstate.TypeAutoID), "BIGINT IDENTITY(1,1) PRIMARY KEY"},
		{d.ColumnType(sqlstate.TypeText), "NVARCHAR(MAX)"},
		// Claims lock the rows they pick and skip those others hold.
		{d.SkipLockedHint(), "WITH (UPDLOCK, READPAST, ROWLOCK)"},
		{d.Upsert("alert_active", []string{"key_hash"}, []string{"key_hash", "event_id"}),
			"UPDATE alert_active WITH (UPDLOCK, SERIALIZABLE) SET event_id = @p2 WHERE key_hash = @p1;\n" +
				"IF @@ROWCOUNT = 0 INSERT INTO alert_active (key_hash, event_id) VALUES (@p1, @p2);"},
	} {
		if tc.got != tc.want {
			t.Errorf("got\n%s\nwant\n%s", tc.got, tc.want)
		}
	}
	// An upsert's parameters must all be '?'-free: the core rewrites '?'
	// and would renumber them.
	if strings.Contains(d.Upsert("printers", []string{"name"}, []string{"name", "address"}), "?") {
		t.Error("Upsert contains '?' placeholders")
	}
}

func TestDialectErrors(t *testing.T) {
	d := sqlserver.Dialect{}
	wrap := func(n int32) error { return fmt.Errorf("put: %w", mssql.Error{Number: n, Message: "x"}) }
	for _, tc := range []struct {
		err               error
		unique, retryable bool
	}{
		{wrap(2627), true, false},
		{wrap(2601), true, false},
		{&mssql.Error{Number: 2627}, true, false},
		{wrap(1205), false, true},
		{wrap(1222), false, true},
		{wrap(208), false, false}, // invalid object name
		{errors.New("2627"), false, false},
		{nil, false, false},
	} {
		if got := d.IsUniqueViolation(tc.err); got != tc.unique {
			t.Errorf("IsUniqueViolation(%v) = %v", tc.err, got)
		}
		if got := d.IsRetryable(tc.err); got != tc.retryable {
			t.Errorf("IsRetryable(%v) = %v", tc.err, got)
		}
	}
}
