package sqltest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlstate"
)

// Database is how the upgrade checks reach one fresh database: Open opens
// a store on it each call; Raw opens it without a store, as an older
// inkform would have, to wind its schema back (a store's prepared
// statements would keep the tables in use); DropColumn returns the
// engine's statement that drops column from table. What they open is
// closed by the checks.
type Database struct {
	Open       func() (*sqlstate.Store, error)
	Raw        func() (*sql.DB, error)
	DropColumn func(table, column string) string
}

// RunUpgradeFiles checks that a state written before files had a table of
// their own (schema version 2, which kept them as settings named
// "file:<dest>") is upgraded in place when opened: the files leave the
// settings with their hashes, and everything else stays but the settings'
// hashes, which version 6 drops.
func RunUpgradeFiles(t *testing.T, db Database) {
	open, raw, drop := db.Open, db.Raw, db.DropColumn
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

	ca, doc := state.HashValue("3a7bd3e2"), state.HashValue("9f86d081")
	// Literals rather than parameters: their syntax differs between engines.
	execRaw(ctx, t, raw, append(dropOutbox(), []string{
		`DROP TABLE printer_files`,
		drop("printer_settings", "clear_value"),
		`DELETE FROM schema_migrations WHERE version > 2`,
		`INSERT INTO printer_settings (printer, setting, value_hash) VALUES ('lobby', 'file:ca.pem', '` + ca + `')`,
		`INSERT INTO printer_settings (printer, setting, value_hash) VALUES ('lobby', 'file:docs/file:x.txt', '` + doc + `')`,
	}...))

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
	dropped := map[string]string{"sleep_mode": "", "FILE:odd": ""}
	want := []state.Printer{
		{Name: "annex", Address: "10.0.0.1", Settings: dropped},
		{Name: "lobby", Address: "10.0.0.1", Settings: dropped, Files: map[string]string{"ca.pem": ca, "docs/file:x.txt": doc}},
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

// RunUpgradeValues checks that a state written before sensitive values
// were keyed (schema version 4, which kept a plain SHA-256 of every value
// applied) is upgraded in place when opened: no setting or change keeps
// its hash, which a guess could undo for a short secret, and settings then
// take values in clear and keyed hashes. It returns the plain hash of the
// secret it recorded, for the caller to look for in the database's files.
func RunUpgradeValues(t *testing.T, db Database) (secretHash string) {
	open, raw, drop := db.Open, db.Raw, db.DropColumn
	t.Helper()
	ctx := ctxFor(t)
	s, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	pin := state.HashValue("4711")
	old := state.Printer{Name: "lobby", Address: "10.0.0.1", Settings: map[string]string{"pin": pin, "contact": state.HashValue("IT")}}
	if err := s.PutPrinter(ctx, old); err != nil {
		t.Fatal(err)
	}
	id, err := s.BeginRun(ctx, state.Run{Command: "apply", User: "ana", Host: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOutcome(ctx, id, state.Outcome{Printer: "lobby", Status: "applied", Changes: 1, Changed: map[string]string{"pin": pin}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	wind := append(dropOutbox(), drop("printer_settings", "clear_value"), `DELETE FROM schema_migrations WHERE version > 4`)
	// Printers recorded and removed again: their rows leave copies of the
	// hash in the file's free space, as years of applies would.
	for i := range 100 {
		wind = append(wind,
			fmt.Sprintf(`INSERT INTO printers (name, address, serial, model, firmware) VALUES ('spare-%d', '', '', '', '')`, i),
			fmt.Sprintf(`INSERT INTO printer_settings (printer, setting, value_hash) VALUES ('spare-%d', 'pin', '%s')`, i, pin))
	}
	wind = append(wind, `DELETE FROM printer_settings WHERE printer LIKE 'spare-%'`, `DELETE FROM printers WHERE name LIKE 'spare-%'`)
	execRaw(ctx, t, raw, wind)

	s, err = open()
	if err != nil {
		t.Fatalf("open at version 4: %v", err)
	}
	defer s.Close()
	if vs, err := s.AppliedMigrations(ctx); err != nil || len(vs) != sqlstate.SchemaVersion() {
		t.Errorf("AppliedMigrations after the upgrade = %v, %v", vs, err)
	}
	got, _, err := s.Printer(ctx, "lobby")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"pin": "", "contact": ""}; !cmp.Equal(got.Settings, want) || got.Values != nil {
		t.Errorf("settings after the upgrade = %v, values %v; want %v, no values", got.Settings, got.Values, want)
	}
	if os, err := s.Outcomes(ctx, id); err != nil || len(os) != 1 || !cmp.Equal(os[0].Changed, map[string]string{"pin": ""}) {
		t.Errorf("outcomes after the upgrade = %+v, %v; want pin changed, its hash dropped", os, err)
	}
	// What the next apply records.
	key, err := state.NewKey(strings.Repeat("k", state.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	now := state.Printer{Name: "lobby", Address: "10.0.0.1",
		Settings: map[string]string{"pin": key.Hash("4711"), "contact": state.HashValue("IT")}, Values: map[string]string{"contact": "IT"}}
	if err := s.PutPrinter(ctx, now); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Printer(ctx, "lobby"); err != nil || !cmp.Equal(got, now) {
		t.Errorf("recorded after the upgrade = %+v, %v; want %+v", got, err, now)
	}
	return pin
}

// execRaw runs queries on the database behind a store (closed), as an
// older inkform would have left it. Literals rather than parameters: their
// syntax differs between engines.
func execRaw(ctx context.Context, t *testing.T, raw func() (*sql.DB, error), queries []string) {
	t.Helper()
	db, err := raw()
	if err != nil {
		t.Fatalf("open the database: %v", err)
	}
	defer db.Close()
	for _, q := range queries {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// outboxTables are the tables schema version 8 adds.
var outboxTables = []string{"alert_events", "alert_active", "alert_deliveries", "alert_silences"}

// laterTables are the tables versions after 8 add, dropped first when a
// schema is wound back before them.
var laterTables = []string{"audit_log", "session_revocations"}

// dropOutbox returns the statements that wind a schema back to version 7.
func dropOutbox() []string {
	var stmts []string
	for _, t := range append(slices.Clone(laterTables), outboxTables...) {
		stmts = append(stmts, `DROP TABLE `+t)
	}
	return stmts
}

// RunUpgradeOutbox checks that a state written before watch mode kept an
// outbox (schema version 7) gets one when opened, keeping its printers
// and runs, and that the outbox then works.
func RunUpgradeOutbox(t *testing.T, db Database) {
	t.Helper()
	ctx := ctxFor(t)
	s, err := db.Open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	p := state.Printer{Name: "lobby", Address: "10.0.0.1", Settings: map[string]string{"sleep": state.HashValue("20")}, Values: map[string]string{"sleep": "20"}}
	if err := s.PutPrinter(ctx, p); err != nil {
		t.Fatal(err)
	}
	id, err := s.BeginRun(ctx, state.Run{Command: "apply", User: "ana", Host: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	execRaw(ctx, t, db.Raw, append(dropOutbox(), `DELETE FROM schema_migrations WHERE version > 7`))

	s, err = db.Open()
	if err != nil {
		t.Fatalf("open at version 7: %v", err)
	}
	defer s.Close()
	if vs, err := s.AppliedMigrations(ctx); err != nil || len(vs) != sqlstate.SchemaVersion() || vs[len(vs)-1] < 8 {
		t.Errorf("AppliedMigrations after the upgrade = %v, %v", vs, err)
	}
	if got, _, err := s.Printer(ctx, "lobby"); err != nil || !cmp.Equal(got, p) {
		t.Errorf("printer after the upgrade = %+v, %v; want %+v", got, err, p)
	}
	if runs, err := s.Runs(ctx, 0); err != nil || len(runs) != 1 || runs[0].ID != id {
		t.Errorf("runs after the upgrade = %+v, %v", runs, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ids, err := s.AppendEvents(ctx, []alerts.Event{{Printer: "lobby", Key: "lobby/jam", Kind: alerts.Raised, Name: alerts.Jam, Severity: alerts.Critical, Source: alerts.SourcePoll, At: at}})
	if err != nil {
		t.Fatalf("AppendEvents after the upgrade: %v", err)
	}
	if ok, err := s.RouteEvent(ctx, ids[0], []state.Delivery{{Route: "jams", Kind: state.DeliveryNotify, Dedupe: "event:1", To: []string{"a@example.test"}, DueAt: at}}); err != nil || !ok {
		t.Fatalf("RouteEvent after the upgrade = %v, %v", ok, err)
	}
	ds, err := s.ClaimDeliveries(ctx, "w", at, time.Minute, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("ClaimDeliveries after the upgrade = %d, %v", len(ds), err)
	}
	if err := s.FinishDeliveries(ctx, "w", []int64{ds[0].ID}, state.DeliverySent, at, ""); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastSent(ctx, "jams"); err != nil || !last.Equal(at) {
		t.Errorf("LastSent after the upgrade = %v, %v", last, err)
	}
}
