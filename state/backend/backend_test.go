package backend_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
	"github.com/inkform/inkform/state/sqlite"
	"github.com/inkform/inkform/state/sqlstate"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, backend, path, str string
	}{
		{"inkform.db", "sqlite", "inkform.db", "inkform.db"},
		{"state/inkform.db", "sqlite", "state/inkform.db", "state/inkform.db"},
		{"sqlite:fleet.db", "sqlite", "fleet.db", "fleet.db"},
		{"sqlite:///var/lib/inkform/fleet.db", "sqlite", "/var/lib/inkform/fleet.db", "/var/lib/inkform/fleet.db"},
		{"firebird://SYSDBA:s%40cret@db.example:3050/var/lib/fb/inkform.fdb", "firebird", "", "firebird://SYSDBA@db.example:3050/var/lib/fb/inkform.fdb"},
		{"firebird://ink:s3cret@db.example/data/i.fdb?wire_crypt=false", "firebird", "", "firebird://ink@db.example/data/i.fdb"},
		{"sqlserver://sa:s3cret@db.example:1433?database=inkform", "sqlserver", "", "sqlserver://db.example:1433/inkform"},
	} {
		l, err := backend.Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if l.Backend != tc.backend || l.Path != tc.path || l.String() != tc.str {
			t.Errorf("Parse(%q) = %s %q %q; want %s %q %q", tc.in, l.Backend, l.Path, l.String(), tc.backend, tc.path, tc.str)
		}
	}
	for _, bad := range []string{
		"", "  ", "sqlite:",
		"postgres://u:s3cret@h/db",
		"firebird://u:s3cret@h", "firebird://u:s3cret@h/", "firebird://:s3cret@h/x.fdb", "firebird://h/x.fdb",
		"firebird://u:s3cret@h:99999999999999999999/%zz",
		"sqlserver://u:s3cret@", "sqlserver://u:s3cret@h/%zz",
	} {
		_, err := backend.Parse(bad)
		if err == nil {
			t.Errorf("Parse(%q) accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q) error reveals the password: %v", bad, err)
		}
	}
}

// sqlStore is what these tests use of an SQL backend's store.
type sqlStore interface {
	state.Store
	state.PrinterBatcher
	state.HistoryReader
	state.Exporter
	state.Importer
	AppliedMigrations(ctx context.Context) ([]int, error)
}

// open opens the store at l.
func open(t *testing.T, l backend.Location) sqlStore {
	t.Helper()
	s, err := l.Open(ctxFor(t), backend.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", l, err)
	}
	return s.(sqlStore)
}

// Every row is complete, and its scheme reaches it.
func TestTable(t *testing.T) {
	names := backend.Names()
	if len(names) == 0 || names[0] != "sqlite" {
		t.Fatalf("Names = %v; sqlite, the default, comes first", names)
	}
	for _, name := range names {
		b, ok := backend.Lookup(name)
		if !ok || b.Name != name || b.Scheme == "" || !strings.Contains(backend.Syntax(), b.Syntax) {
			t.Errorf("row %q = %+v, %v", name, b, ok)
		}
		if !strings.HasPrefix(b.Syntax, b.Scheme) {
			t.Errorf("%s: syntax %q does not start with the scheme %q", name, b.Syntax, b.Scheme)
		}
	}
	if _, ok := backend.Lookup("postgres"); ok {
		t.Error("Lookup(postgres) found a row")
	}
}

func seed(t *testing.T, s sqlStore) {
	t.Helper()
	ctx := ctxFor(t)
	base := time.Date(2025, 9, 1, 7, 0, 0, 123456789, time.UTC)
	key, err := state.NewKey(strings.Repeat("k", state.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	var ps []state.Printer
	for i := range 30 {
		ps = append(ps, state.Printer{
			Name: fmt.Sprintf("p%03d", i), Address: fmt.Sprintf("udp://10.0.%d.%d:161", i/250, i%250),
			Serial: fmt.Sprintf("SN%05d", i), Model: "MX711", Firmware: "LW80 ü",
			ObservedAt: base.Add(time.Duration(i) * time.Second), AppliedAt: base.Add(time.Duration(i)*time.Second + 1),
			Settings: map[string]string{"sleep_mode": state.HashValue(fmt.Sprint(i)), "contact": key.Hash("IT")},
			Values:   map[string]string{"sleep_mode": fmt.Sprint(i)},
		})
		if i%10 == 0 {
			ps[i].Files = map[string]string{"ca.pem": state.HashValue("ca"), fmt.Sprintf("logo-%d.png", i): state.HashValue(fmt.Sprint(i))}
		}
	}
	ps = append(ps, state.Printer{Name: "bare", Settings: map[string]string{}}) // never observed nor applied
	if err := s.PutPrinters(ctx, ps); err != nil {
		t.Fatal(err)
	}
	for r := range 4 {
		id, err := s.BeginRun(ctx, state.Run{Command: "apply", User: "ana", Host: "ci", GitCommit: fmt.Sprintf("%040d", r),
			ConfigHash: state.HashValue(fmt.Sprint(r)), StartedAt: base.Add(time.Duration(r) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			o := state.Outcome{Printer: fmt.Sprintf("p%03d", i), Status: "applied", Changes: 1, At: base.Add(time.Duration(r)*time.Hour + time.Duration(i)),
				Changed: map[string]string{"sleep_mode": state.HashValue(fmt.Sprint(r))}}
			if i == 3 {
				o = state.Outcome{Printer: o.Printer, Status: "failed", Detail: "printer p003: snmp set: timeout", At: o.At}
			}
			if err := s.RecordOutcome(ctx, id, o); err != nil {
				t.Fatal(err)
			}
		}
		if r < 3 { // the last run died: never finished
			if err := s.FinishRun(ctx, id, "failed"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func export(t *testing.T, s sqlStore) *state.Snapshot {
	t.Helper()
	snap, err := s.Export(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// copyTo imports snap into a fresh store at loc and checks what lands.
func copyTo(t *testing.T, loc string, snap *state.Snapshot) sqlStore {
	t.Helper()
	l, err := backend.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	dst := open(t, l)
	t.Cleanup(func() { dst.Close() })
	if err := dst.Import(ctxFor(t), snap); err != nil {
		t.Fatalf("import into %s: %v", l, err)
	}
	got := export(t, dst)
	if got.Counts() != snap.Counts() || got.Checksum() != snap.Checksum() {
		t.Fatalf("%s after import: %v %s; want %v %s", l, got.Counts(), got.Checksum(), snap.Counts(), snap.Checksum())
	}
	return dst
}

// ignoreRunIDs: a copy renumbers runs, keeping their order.
var ignoreRunIDs = cmp.FilterPath(func(p cmp.Path) bool {
	return p.Last().String() == ".ID"
}, cmp.Ignore())

var cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func TestCopyRoundTripSQLiteFirebirdSQLite(t *testing.T) {
	fb := testservers.StartFirebird(t)
	dir := t.TempDir()
	src, err := backend.Parse("sqlite:" + filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	a := open(t, src)
	defer a.Close()
	seed(t, a)
	want := export(t, a)
	if c := want.Counts(); c.Printers != 31 || c.Runs != 4 || c.Outcomes != 40 || c.Changes != 36 || c.Settings != 60 || c.Files != 6 {
		t.Fatalf("seeded %v", c)
	}

	u := url.UserPassword(fb.User, fb.Password)
	fbLoc := fmt.Sprintf("firebird://%s@%s:%d%s", u.String(), fb.Host, fb.Port, filepath.Join(fb.Dir, "copy.fdb"))
	mid := copyTo(t, fbLoc, want)
	back := copyTo(t, "sqlite:"+filepath.Join(dir, "b.db"), export(t, mid))

	got := export(t, back)
	if diff := cmp.Diff(want, got, cmpTime, ignoreRunIDs); diff != "" {
		t.Errorf("round trip lost something (-want +got):\n%s", diff)
	}
	// Importing twice is refused: the target is no longer empty.
	if err := back.Import(ctxFor(t), want); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("second import = %v, want a refusal", err)
	}
}

func TestChecksumSeesEveryField(t *testing.T) {
	dir := t.TempDir()
	l, _ := backend.Parse(filepath.Join(dir, "c.db"))
	s := open(t, l)
	defer s.Close()
	seed(t, s)
	base := export(t, s)
	sum := base.Checksum()
	for name, mutate := range map[string]func(*state.Snapshot){
		"printer serial":  func(x *state.Snapshot) { x.Printers[0].Serial += "x" },
		"printer time":    func(x *state.Snapshot) { x.Printers[1].ObservedAt = x.Printers[1].ObservedAt.Add(1) },
		"setting hash":    func(x *state.Snapshot) { x.Printers[2].Settings["contact"] = state.HashValue("other") },
		"setting value":   func(x *state.Snapshot) { x.Printers[2].Values["sleep_mode"] += "0" },
		"file hash":       func(x *state.Snapshot) { x.Printers[1].Files["ca.pem"] = state.HashValue("other") },
		"file dropped":    func(x *state.Snapshot) { delete(x.Printers[11].Files, "ca.pem") },
		"run status":      func(x *state.Snapshot) { x.Runs[0].Run.Status = "ok" },
		"run order":       func(x *state.Snapshot) { x.Runs[0], x.Runs[1] = x.Runs[1], x.Runs[0] },
		"outcome detail":  func(x *state.Snapshot) { x.Runs[1].Outcomes[3].Detail = "" },
		"outcome dropped": func(x *state.Snapshot) { x.Runs[2].Outcomes = x.Runs[2].Outcomes[1:] },
		"change hash":     func(x *state.Snapshot) { x.Runs[3].Outcomes[0].Changed["sleep_mode"] = state.HashValue("9") },
		"field boundary": func(x *state.Snapshot) {
			x.Printers[1].Model, x.Printers[1].Firmware = x.Printers[1].Model+x.Printers[1].Firmware[:1], x.Printers[1].Firmware[1:]
		},
	} {
		x := export(t, s)
		mutate(x)
		if x.Checksum() == sum {
			t.Errorf("%s: checksum unchanged", name)
		}
	}
	if again := export(t, s).Checksum(); again != sum {
		t.Errorf("checksum not stable: %s then %s", sum, again)
	}
}

// A state written by the first schema (version 1, before run_changes and
// printer_files) is migrated forward on open, keeping its data, on every
// engine here.
func TestMigratesForwardFromVersion1(t *testing.T) {
	// Each engine: a location, and how to reach its database without a
	// store (whose prepared statements keep the tables in use).
	type engine struct{ loc, driver, dsn, dropColumn string }
	engines := map[string]func(t *testing.T) engine{
		"sqlite": func(t *testing.T) engine {
			path := filepath.Join(t.TempDir(), "v1.db")
			dsn, err := sqlite.DSN(path)
			if err != nil {
				t.Fatal(err)
			}
			return engine{"sqlite:" + path, "sqlite", dsn, "ALTER TABLE %s DROP COLUMN %s"}
		},
		"firebird": func(t *testing.T) engine {
			fb := testservers.StartFirebird(t)
			u := url.UserPassword(fb.User, fb.Password)
			path := filepath.Join(fb.Dir, "v1.fdb")
			return engine{
				fmt.Sprintf("firebird://%s@%s:%d%s", u.String(), fb.Host, fb.Port, path),
				"firebirdsql", fmt.Sprintf("%s@%s:%d/%s", u.String(), fb.Host, fb.Port, path),
				"ALTER TABLE %s DROP %s",
			}
		},
	}
	for name, start := range engines {
		t.Run(name, func(t *testing.T) {
			ctx := ctxFor(t)
			e := start(t)
			l, err := backend.Parse(e.loc)
			if err != nil {
				t.Fatal(err)
			}
			s := open(t, l)
			seed(t, s)
			// Wind the schema back to version 1; the seeded changes, files
			// and values in clear go with their tables and column, the
			// settings' hashes are dropped (as plain hashes would be), the
			// rest must survive the upgrade.
			want := export(t, s)
			for _, r := range want.Runs {
				for i := range r.Outcomes {
					r.Outcomes[i].Changed = nil
				}
			}
			for i := range want.Printers {
				p := &want.Printers[i]
				p.Files, p.Values = nil, nil
				for k := range p.Settings {
					p.Settings[k] = ""
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open(e.driver, e.dsn)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{`DROP TABLE audit_log`, `DROP TABLE session_revocations`, `DROP TABLE alert_events`, `DROP TABLE alert_active`, `DROP TABLE alert_deliveries`, `DROP TABLE alert_silences`,
				`DROP TABLE run_changes`, `DROP TABLE printer_files`, fmt.Sprintf(e.dropColumn, "printer_settings", "clear_value"),
				`DELETE FROM schema_migrations WHERE version >= 2`} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			s = open(t, l)
			defer s.Close()
			if vs, err := s.AppliedMigrations(ctx); err != nil || len(vs) != sqlstate.SchemaVersion() || vs[len(vs)-1] != sqlstate.SchemaVersion() {
				t.Fatalf("AppliedMigrations after upgrade = %v, %v", vs, err)
			}
			got := export(t, s)
			if got.Checksum() != want.Checksum() {
				t.Errorf("data changed across the upgrade: %v, want %v", got.Counts(), want.Counts())
			}
			runs, _ := s.Runs(ctx, 1)
			ch := map[string]string{"sleep_mode": state.HashValue("1")}
			if err := s.RecordOutcome(ctx, runs[0].ID, state.Outcome{Printer: "bare", Status: "applied", Changes: 1, Changed: ch}); err != nil {
				t.Fatalf("RecordOutcome after upgrade: %v", err)
			}
			hist, err := s.PrinterHistory(ctx, "bare", 1)
			if err != nil || len(hist) != 1 || !cmp.Equal(hist[0].Outcome.Changed, ch) {
				t.Errorf("history after upgrade = %+v, %v", hist, err)
			}
		})
	}
}
