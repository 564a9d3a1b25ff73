package firebird

import (
	"strings"
	"testing"
)

func TestDialectSQL(t *testing.T) {
	d := Dialect{}
	if got, want := d.Upsert("printers", []string{"name"}, []string{"name", "address"}),
		"UPDATE OR INSERT INTO printers (name, address) VALUES (?, ?) MATCHING (name)"; got != want {
		t.Errorf("Upsert = %q, want %q", got, want)
	}
	if got, want := d.InsertReturningID("runs", []string{"command"}, "id"),
		"INSERT INTO runs (command) VALUES (?) RETURNING id"; got != want {
		t.Errorf("InsertReturningID = %q, want %q", got, want)
	}
	// A raise keeps the acknowledgement columns it does not name.
	if got, want := d.Upsert("alert_active", []string{"key_hash"}, []string{"key_hash", "event_id"}),
		"UPDATE OR INSERT INTO alert_active (key_hash, event_id) VALUES (?, ?) MATCHING (key_hash)"; got != want {
		t.Errorf("Upsert = %q, want %q", got, want)
	}
	if got := d.Limit(5); got != "ROWS 5" {
		t.Errorf("Limit = %q", got)
	}
}

func TestWhere(t *testing.T) {
	for dsn, want := range map[string]string{
		"SYSDBA:s3cret@127.0.0.1:3050//var/lib/db.fdb": "127.0.0.1:3050//var/lib/db.fdb",
		"u:p%40ss@db.example:3051//x/y.fdb":            "db.example:3051//x/y.fdb",
	} {
		got, err := Where(dsn)
		if err != nil || got != want {
			t.Errorf("Where(%q) = %q, %v; want %q", dsn, got, err, want)
		}
	}
	for _, dsn := range []string{"", "u:secretpw@host:1", "u:secretpw@/x.fdb", "u:secret pw\x7f@%zz"} {
		_, err := Where(dsn)
		if err == nil {
			t.Errorf("Where(%q) accepted", dsn)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("Where(%q) error reveals the password: %v", dsn, err)
		}
	}
}

// FuzzWhere checks that no DSN makes Where panic or echo its password.
func FuzzWhere(f *testing.F) {
	for _, s := range []string{"SYSDBA:pw@127.0.0.1:3050//db.fdb", "", "@", "a:b@c", "a:b@[::1]:1//x", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		w, err := Where(dsn)
		// Its errors are fixed sentences: nothing of the DSN gets in.
		if err != nil && err.Error() != "state: empty firebird DSN" &&
			err.Error() != "state: firebird DSN is not user:password@host:port//path/to/db.fdb" {
			t.Errorf("unexpected error text: %v", err)
		}
		if err == nil && w == "" {
			t.Error("empty description without an error")
		}
	})
}
