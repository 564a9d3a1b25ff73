package firebird_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/firebird"
	"github.com/inkform/inkform/state/sqlstate"
	"github.com/inkform/inkform/state/statetest"
	"github.com/inkform/inkform/state/statetest/sqltest"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, dsn string, opts firebird.Options) *firebird.Store {
	t.Helper()
	s, err := firebird.OpenStore(ctxFor(t), dsn, opts)
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	fb := testservers.StartFirebird(t)
	// A server keeps no key file: the caller gives the key.
	key := func() (state.Key, error) { return state.NewKey(strings.Repeat("k", state.MinKeyLen)) }
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := firebird.OpenStore(ctxFor(t), fb.NewDatabase(t.Name()), firebird.Options{Key: key})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	dsn := testservers.StartFirebird(t).NewDatabase("reopen")
	sqltest.RunReopen(t, func(t *testing.T) state.Store { return open(t, dsn, firebird.Options{}) })
}

func TestSchemaVersions(t *testing.T) {
	fb := testservers.StartFirebird(t)
	dsn := fb.NewDatabase("schema")
	err := sqltest.RunSchemaVersions(t, func() (*sqlstate.Store, error) {
		s, err := firebird.OpenStore(ctxFor(t), dsn, firebird.Options{})
		if err != nil {
			return nil, err
		}
		return s.Store, nil
	})
	if strings.Contains(err.Error(), fb.Password) {
		t.Errorf("error reveals the password: %v", err)
	}
}

// upgradeDB is the database at dsn for the sqltest upgrade checks.
func upgradeDB(t *testing.T, dsn string) sqltest.Database {
	return sqltest.Database{
		Open: func() (*sqlstate.Store, error) {
			s, err := firebird.OpenStore(ctxFor(t), dsn, firebird.Options{})
			if err != nil {
				return nil, err
			}
			return s.Store, nil
		},
		Raw:        func() (*sql.DB, error) { return sql.Open("firebirdsql", dsn) },
		DropColumn: func(table, column string) string { return "ALTER TABLE " + table + " DROP " + column },
	}
}

func TestUpgradeFiles(t *testing.T) {
	sqltest.RunUpgradeFiles(t, upgradeDB(t, testservers.StartFirebird(t).NewDatabase("upgrade")))
}

func TestUpgradeValues(t *testing.T) {
	sqltest.RunUpgradeValues(t, upgradeDB(t, testservers.StartFirebird(t).NewDatabase("upgrade-values")))
}

func TestUpgradeOutbox(t *testing.T) {
	sqltest.RunUpgradeOutbox(t, upgradeDB(t, testservers.StartFirebird(t).NewDatabase("upgrade-outbox")))
}

func TestOutbox(t *testing.T) {
	fb := testservers.StartFirebird(t)
	statetest.RunOutbox(t, func(t *testing.T) state.Store {
		s, err := firebird.OpenStore(ctxFor(t), fb.NewDatabase(t.Name()), firebird.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestAudit(t *testing.T) {
	fb := testservers.StartFirebird(t)
	statetest.RunAudit(t, func(t *testing.T) state.Store {
		s, err := firebird.OpenStore(ctxFor(t), fb.NewDatabase(t.Name()), firebird.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// Two Stores on one database keep one outbox as two watch processes
// would: the claims are the database's row locks, across connections.
func TestOutboxShared(t *testing.T) {
	fb := testservers.StartFirebird(t)
	statetest.RunOutboxShared(t, func(t *testing.T) (state.Store, state.Store) {
		dsn := fb.NewDatabase(t.Name())
		s1, err := firebird.OpenStore(ctxFor(t), dsn, firebird.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s2, err := firebird.OpenStore(ctxFor(t), dsn, firebird.Options{})
		if err != nil {
			s1.Close()
			t.Fatalf("Open: %v", err)
		}
		return s1, s2
	})
}

// Two processes opening a brand-new database at once both succeed and
// the schema is applied once.
func TestConcurrentFirstOpen(t *testing.T) {
	fb := testservers.StartFirebird(t)
	ctx := ctxFor(t)
	dsn := fb.NewDatabase("race")
	var wg sync.WaitGroup
	stores := make([]*firebird.Store, 3)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = firebird.OpenStore(ctx, dsn, firebird.Options{}) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Errorf("store %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { s.Close() })
	}
	if t.Failed() {
		return
	}
	vs, err := stores[0].AppliedMigrations(ctx)
	if err != nil || len(vs) != sqlstate.SchemaVersion() {
		t.Errorf("AppliedMigrations = %v, %v", vs, err)
	}
}

// Two Stores on one database behave as two processes would.
func TestTwoStoresContend(t *testing.T) {
	fb := testservers.StartFirebird(t)
	dsn := fb.NewDatabase("contend")
	sqltest.RunTwoStores(t, func(t *testing.T) (*sqlstate.Store, *sqlstate.Store) {
		return open(t, dsn, firebird.Options{}).Store, open(t, dsn, firebird.Options{}).Store
	})
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	fb := testservers.StartFirebird(t)
	ctx := ctxFor(t)
	const wrongPassword = "not-the-password-x9"
	for _, dsn := range []string{
		strings.Replace(fb.DSN(fb.Dir+"/x.fdb"), ":"+fb.Password+"@", ":"+wrongPassword+"@", 1),
		fb.DSN("/no/such/dir/x.fdb"),
	} {
		s, err := firebird.Open(ctx, dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open succeeded")
			continue
		}
		if strings.Contains(err.Error(), wrongPassword) || strings.Contains(err.Error(), fb.Password) {
			t.Errorf("error reveals a password: %v", err)
		}
		if !strings.Contains(err.Error(), "x.fdb") {
			t.Errorf("error does not name the database: %v", err)
		}
	}
}
