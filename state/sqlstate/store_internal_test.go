package sqlstate

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"testing"
	"time"
)

// numbered is a dialect with SQL Server-style numbered placeholders; only
// the methods bind needs are real.
type numbered struct{ Dialect }

func (numbered) Placeholder(n int) string { return fmt.Sprintf("@p%d", n) }

type plain struct{ Dialect }

func (plain) Placeholder(int) string { return "?" }

func TestBind(t *testing.T) {
	for _, tc := range []struct {
		d    Dialect
		in   string
		want string
	}{
		{numbered{}, `SELECT 1`, `SELECT 1`},
		{numbered{}, `UPDATE t SET a = ?, b = ? WHERE c = ?`, `UPDATE t SET a = @p1, b = @p2 WHERE c = @p3`},
		{numbered{}, `SELECT 'é' FROM t WHERE x = ?`, `SELECT 'é' FROM t WHERE x = @p1`},
		{plain{}, `DELETE FROM t WHERE a = ? AND b = ?`, `DELETE FROM t WHERE a = ? AND b = ?`},
	} {
		s := &Store{d: tc.d}
		if got := s.bind(tc.in); got != tc.want {
			t.Errorf("bind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTimeEncoding(t *testing.T) {
	zone := time.FixedZone("X", -5*3600)
	for _, tm := range []time.Time{
		time.Date(2025, 1, 2, 3, 4, 5, 999999999, zone),
		time.Unix(0, 1).UTC(),
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		n, err := encTime(tm)
		if err != nil || !n.Valid {
			t.Fatalf("encTime(%v) = %v, %v", tm, n, err)
		}
		got := decTime(n)
		if !got.Equal(tm) || got.Location() != time.UTC {
			t.Errorf("round trip %v -> %v", tm, got)
		}
	}
	// Encoded order is time order, which Runs' ORDER BY relies on.
	a, _ := encTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	b, _ := encTime(time.Date(2025, 1, 1, 0, 0, 0, 1, time.UTC))
	if a.Int64 >= b.Int64 {
		t.Errorf("encoding does not sort: %d >= %d", a.Int64, b.Int64)
	}
	if n, err := encTime(time.Time{}); err != nil || n.Valid {
		t.Errorf("zero time encodes as %v, %v; want NULL", n, err)
	}
	if !decTime(sql.NullInt64{}).IsZero() {
		t.Error("NULL decodes to a non-zero time")
	}
	if _, err := encTime(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("year 3000 encoded; it overflows int64 nanoseconds")
	}
	if n, err := encTime(time.Unix(0, math.MaxInt64)); err != nil || n.Int64 != math.MaxInt64 {
		t.Errorf("max time = %v, %v", n, err)
	}
}

func TestSchemaVersionError(t *testing.T) {
	err := fmt.Errorf("state x: %w", &SchemaVersionError{Found: 4, Known: 2})
	if !IsSchemaTooNew(err) {
		t.Error("IsSchemaTooNew = false")
	}
	const want = "state x: state schema version 4 is newer than this inkform understands (2); upgrade inkform"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestMigrationsDense(t *testing.T) {
	for i, m := range migrations {
		if m.version != i+1 {
			t.Fatalf("migration %d has version %d; versions must be 1, 2, 3, ...", i, m.version)
		}
	}
}

// cancelled contexts stop a queued writer instead of blocking it.
func TestWriteQueueHonoursContext(t *testing.T) {
	s := &Store{sem: make(chan struct{}, 1)}
	s.sem <- struct{}{} // another writer holds the queue
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.write(ctx, func(*sql.Tx) error { t.Error("ran while queue was held"); return nil }); err == nil {
		t.Error("write with a cancelled context succeeded")
	}
}
