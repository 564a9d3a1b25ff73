package sqltest

import (
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlstate"
)

// RunUpgradeFiles checks that a state written before files had a table of
// their own (schema version 2, which kept them as settings named
// "file:<dest>") is upgraded in place when opened: the files leave the
// settings with their hashes, and everything else stays. open opens a store
// on one fresh database each call; raw opens that database without a store,
// to wind its schema back (a store's prepared statements would keep the
// tables in use). Both are closed here.
func RunUpgradeFiles(t *testing.T, open func() (*sqlstate.Store, error), raw func() (*sql.DB, error)) {
	t.Helper()
	ctx := ctxFor(t)
	s, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	settings := map[string]string{"sleep_mode": state.HashValue("20"), "FILE:odd": state.HashValue("not a file")}
	for _, name := range []string{"lobby", "annex"} {
		if err := s.PutPrinter(ctx, state.Printer{Name: name, Address: "10.0.0.1", Settings: settings}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	db, err := raw()
	if err != nil {
		t.Fatalf("open the database: %v", err)
	}
	ca, doc := state.HashValue("3a7bd3e2"), state.HashValue("9f86d081")
	// Literals rather than parameters: their syntax differs between engines.
	for _, q := range []string{
		`DROP TABLE printer_files`,
		`DELETE FROM schema_migrations WHERE version > 2`,
		`INSERT INTO printer_settings (printer, setting, value_hash) VALUES ('lobby', 'file:ca.pem', '` + ca + `')`,
		`INSERT INTO printer_settings (printer, setting, value_hash) VALUES ('lobby', 'file:docs/file:x.txt', '` + doc + `')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = open()
	if err != nil {
		t.Fatalf("open at version 2: %v", err)
	}
	defer s.Close()
	if vs, err := s.AppliedMigrations(ctx); err != nil || len(vs) != sqlstate.SchemaVersion() {
		t.Errorf("AppliedMigrations after the upgrade = %v, %v", vs, err)
	}
	got, err := s.Printers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []state.Printer{
		{Name: "annex", Address: "10.0.0.1", Settings: settings},
		{Name: "lobby", Address: "10.0.0.1", Settings: settings, Files: map[string]string{"ca.pem": ca, "docs/file:x.txt": doc}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after the upgrade (-want +got):\n%s", diff)
	}
	// The new table takes writes.
	want[0].Files = map[string]string{"ca.pem": ca}
	if err := s.PutPrinter(ctx, want[0]); err != nil {
		t.Fatal(err)
	}
	if p, _, err := s.Printer(ctx, "annex"); err != nil || !cmp.Equal(p.Files, want[0].Files) {
		t.Errorf("files written after the upgrade = %v, %v", p.Files, err)
	}
}
