package testservers

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nakagami/firebirdsql"
)

func TestFirebirdCreatesAndServes(t *testing.T) {
	f := StartFirebird(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	path := filepath.Join(f.Dir, "probe.fdb")

	// Opening a database that does not exist fails, naming no password.
	db, err := sql.Open("firebirdsql", f.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	err = db.PingContext(ctx)
	db.Close()
	var fe *firebirdsql.FbError
	if !errors.As(err, &fe) {
		t.Fatalf("open of a missing database = %#v, want a server error", err)
	}
	t.Logf("missing: %#v", fe)

	db, err = sql.Open("firebirdsql_createdb", f.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("create database: %v", err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	db, err = sql.Open("firebirdsql", f.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM RDB$RELATIONS`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("system tables = %d, %v", n, err)
	}
}

func TestFirebirdPassword(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]string{
		"# comment\nISC_USER=sysdba\nISC_PASSWORD=\"ab12\"\n": "ab12",
		"ISC_PASSWORD=plain\n":                                "plain",
		"ISC_PASSWORD='quoted'\n":                             "quoted",
		"ISC_USER=sysdba\n":                                   "",
		"ISC_PASSWORD=\"\"\n":                                 "",
	} {
		p := filepath.Join(dir, "pw")
		if err := os.WriteFile(p, []byte(in), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := firebirdPassword(p)
		if want == "" {
			if err == nil {
				t.Errorf("firebirdPassword(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("firebirdPassword(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
