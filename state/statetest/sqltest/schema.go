package sqltest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/inkform/inkform/state/sqlstate"
)

// RunSchemaVersions checks a backend's schema bookkeeping: a new database
// records every migration once, reopening applies none twice, and a
// database written by a newer inkform is refused with a
// *sqlstate.SchemaVersionError that says what to do. open opens the same
// database each call; the stores it returns are closed here. The refusal
// is returned so the caller can check what its message names.
func RunSchemaVersions(t *testing.T, open func() (*sqlstate.Store, error)) error {
	t.Helper()
	ctx := ctxFor(t)
	s, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	want := sqlstate.SchemaVersion()
	vs, err := s.AppliedMigrations(ctx)
	if err != nil || len(vs) != want || vs[len(vs)-1] != want {
		t.Fatalf("AppliedMigrations = %v, %v; want 1..%d", vs, err, want)
	}
	var applied int64
	if err := s.DB().QueryRowContext(ctx, `SELECT applied_at FROM schema_migrations WHERE version = 1`).Scan(&applied); err != nil || applied <= 0 {
		t.Errorf("applied_at = %d, %v", applied, err)
	}
	s.Close()

	s, err = open()
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if again, err := s.AppliedMigrations(ctx); err != nil || len(again) != len(vs) {
		t.Errorf("after reopen AppliedMigrations = %v, %v", again, err)
	}
	future := want + 3
	if _, err := s.DB().ExecContext(ctx, fmt.Sprintf(`INSERT INTO schema_migrations (version, applied_at) VALUES (%d, 1)`, future)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = open()
	var ve *sqlstate.SchemaVersionError
	if !errors.As(err, &ve) || ve.Found != future || ve.Known != want {
		t.Fatalf("open of a newer schema = %v, want *SchemaVersionError", err)
	}
	msg := fmt.Sprintf("state schema version %d is newer than this inkform understands (%d); upgrade inkform", future, want)
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q lacks %q", err, msg)
	}
	return err
}
