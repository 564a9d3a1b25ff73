package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlite"
	"github.com/inkform/inkform/state/sqlstate"
	"github.com/inkform/inkform/state/statetest"
	"github.com/inkform/inkform/state/statetest/sqltest"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "inkform.db") }

func open(t *testing.T, path string, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.OpenStore(ctxFor(t), path, opts)
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := sqlite.Open(ctxFor(t), dbPath(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := dbPath(t)
	sqltest.RunReopen(t, func(t *testing.T) state.Store { return open(t, path, sqlite.Options{}) })
}

func TestMultiRowStatements(t *testing.T) {
	d := sqlite.Dialect{}
	for _, tc := range []struct{ got, want string }{
		{d.InsertRowsReturningIDs("t", []string{"a", "b"}, 2, "id"), "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) RETURNING id"},
		{d.UpsertRows("t", []string{"a"}, []string{"a", "b"}, 3),
			"INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b"},
	} {
		if tc.got != tc.want {
			t.Errorf("got\n%s\nwant\n%s", tc.got, tc.want)
		}
	}
}

func TestPragmas(t *testing.T) {
	ctx := ctxFor(t)
	s := open(t, dbPath(t), sqlite.Options{})
	var mode string
	if err := s.DB().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var temp int
	if err := s.DB().QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&temp); err != nil || temp != 2 {
		t.Errorf("temp_store = %d, %v; want 2 (memory)", temp, err)
	}
	// Foreign keys are enforced: no settings for a printer not in state.
	_, err := s.DB().ExecContext(ctx, `INSERT INTO printer_settings (printer, setting, value_hash) VALUES ('ghost', 'a', 'b')`)
	if err == nil {
		t.Error("orphan setting inserted; foreign keys are off")
	}
}

func TestSchemaVersions(t *testing.T) {
	path := dbPath(t)
	err := sqltest.RunSchemaVersions(t, func() (*sqlstate.Store, error) {
		s, err := sqlite.OpenStore(ctxFor(t), path, sqlite.Options{})
		if err != nil {
			return nil, err
		}
		return s.Store, nil
	})
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

// upgradeDB is the database at path for the sqltest upgrade checks.
func upgradeDB(t *testing.T, path string) sqltest.Database {
	return sqltest.Database{
		Open: func() (*sqlstate.Store, error) {
			s, err := sqlite.OpenStore(ctxFor(t), path, sqlite.Options{})
			if err != nil {
				return nil, err
			}
			return s.Store, nil
		},
		// As older inkforms opened it: without secure_delete, deleted
		// rows stay in the file's free space.
		Raw: func() (*sql.DB, error) {
			return sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
		},
		DropColumn: func(table, column string) string { return "ALTER TABLE " + table + " DROP COLUMN " + column },
	}
}

func TestUpgradeFiles(t *testing.T) {
	sqltest.RunUpgradeFiles(t, upgradeDB(t, dbPath(t)))
}

func TestUpgradeOutbox(t *testing.T) {
	sqltest.RunUpgradeOutbox(t, upgradeDB(t, dbPath(t)))
}

// After the upgrade no byte of the database's files holds the plain hash
// of the secret: neither a row nor the free space a row left.
func TestUpgradeValues(t *testing.T) {
	path := dbPath(t)
	hash := sqltest.RunUpgradeValues(t, upgradeDB(t, path))
	hexPart := strings.TrimPrefix(hash, "sha256:")
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(hexPart)) {
			t.Errorf("%s holds the plain hash of a sensitive value after the upgrade", filepath.Base(f))
		}
	}
}

func TestBadPath(t *testing.T) {
	ctx := ctxFor(t)
	for _, p := range []string{"", "state?.db", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")} {
		if s, err := sqlite.Open(ctx, p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// Two Stores on one file behave as two processes would.
func TestTwoStoresContend(t *testing.T) {
	path := dbPath(t)
	sqltest.RunTwoStores(t, func(t *testing.T) (*sqlstate.Store, *sqlstate.Store) {
		return open(t, path, sqlite.Options{}).Store, open(t, path, sqlite.Options{}).Store
	})
}

// benchStore opens a fresh store for a benchmark, and returns n settings
// as a printer records them.
func benchStore(b *testing.B, n int) (*sqlite.Store, map[string]string) {
	b.Helper()
	s, err := sqlite.OpenStore(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	settings := map[string]string{}
	for i := range n {
		settings[fmt.Sprintf("setting_%d", i)] = state.HashValue(strconv.Itoa(i))
	}
	return s, settings
}

func BenchmarkPutPrinter(b *testing.B) {
	ctx := context.Background()
	s, settings := benchStore(b, 20)
	i := 0
	for b.Loop() {
		if err := s.PutPrinter(ctx, state.Printer{Name: fmt.Sprintf("p%05d", i%10000), Settings: settings, ObservedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPrinters reads the state of a 10,000-printer fleet with 21
// settings each, as a plan of a managed fleet does before observing.
func BenchmarkPrinters(b *testing.B) {
	ctx := context.Background()
	s, settings := benchStore(b, 21)
	batch := make([]state.Printer, 0, 500)
	for i := range 10000 {
		batch = append(batch, state.Printer{Name: fmt.Sprintf("p%05d", i), Address: "10.0.0.1:161", Serial: "S", Model: "M", Firmware: "F", Settings: settings, ObservedAt: time.Now()})
		if len(batch) == cap(batch) {
			if err := s.PutPrinters(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for b.Loop() {
		ps, err := s.Printers(ctx)
		if err != nil || len(ps) != 10000 {
			b.Fatalf("%d printers, %v", len(ps), err)
		}
	}
}

// The child side of TestDeadHolderLockExpires: take the lock, report it,
// then hang until killed.
const childEnv = "INKFORM_STATE_LOCK_CHILD"

const childLease = 2 * time.Second

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(lockChild(path))
	}
	os.Exit(m.Run())
}

func lockChild(path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := sqlite.OpenStore(ctx, path, sqlite.Options{Lease: childLease})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	l, err := s.Lock(ctx, state.LockInfo{User: "child", Host: "localhost", PID: os.Getpid(), Command: "inkform apply"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("locked %s\n", l.Info.ID)
	// Bounded, so an orphan never outlives a crashed parent for long.
	<-time.After(time.Minute)
	return 3
}

func TestDeadHolderLockExpires(t *testing.T) {
	ctx := ctxFor(t)
	path := dbPath(t)
	// Create the schema first so the child and parent do not race to.
	open(t, path, sqlite.Options{}).Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	// Wait for the child to report the lock, with a deadline.
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	var childID string
	select {
	case l, ok := <-line:
		if !ok || !strings.HasPrefix(l, "locked ") {
			t.Fatalf("child said %q, want the lock id", l)
		}
		childID = strings.TrimPrefix(l, "locked ")
	case <-time.After(20 * time.Second):
		t.Fatal("child did not take the lock in time")
	}

	s := open(t, path, sqlite.Options{})
	// The live child renews its lease from its own process: watch the
	// expiry move forward, while the lock stays the child's.
	first, ok, err := s.LockHolder(ctx)
	if err != nil || !ok || first.ID != childID || first.PID != cmd.Process.Pid {
		t.Fatalf("LockHolder = %+v, %v, %v; want the child's lock", first, ok, err)
	}
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for deadline := time.Now().Add(15 * time.Second); ; <-poll.C {
		h, ok, err := s.LockHolder(ctx)
		if err != nil || !ok || h.ID != childID {
			t.Fatalf("LockHolder = %+v, %v, %v; want the child's lock", h, ok, err)
		}
		if h.Expires.After(first.Expires) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never renewed its lease")
		}
	}
	lctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = s.Lock(lctx, state.LockInfo{User: "parent"})
	cancel()
	var le *state.LockedError
	if !errors.As(err, &le) || le.Holder.ID != childID || le.Holder.PID != cmd.Process.Pid {
		t.Fatalf("Lock while the child lives = %v, want LockedError naming pid %d", err, cmd.Process.Pid)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true

	start := time.Now()
	l, err := s.Lock(ctx, state.LockInfo{User: "parent"})
	if err != nil {
		t.Fatalf("Lock after the holder died: %v", err)
	}
	if waited := time.Since(start); waited > childLease+3*time.Second {
		t.Errorf("took over after %v; lease is %v", waited, childLease)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Errorf("Unlock: %v", err)
	}
}

func TestOutbox(t *testing.T) {
	statetest.RunOutbox(t, func(t *testing.T) state.Store {
		s, err := sqlite.Open(ctxFor(t), dbPath(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestAudit(t *testing.T) {
	statetest.RunAudit(t, func(t *testing.T) state.Store {
		s, err := sqlite.Open(ctxFor(t), dbPath(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// Two Stores on one file keep one outbox as two watch processes would.
func TestOutboxShared(t *testing.T) {
	statetest.RunOutboxShared(t, func(t *testing.T) (state.Store, state.Store) {
		path := dbPath(t)
		s1, err := sqlite.Open(ctxFor(t), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s2, err := sqlite.Open(ctxFor(t), path)
		if err != nil {
			s1.Close()
			t.Fatalf("Open: %v", err)
		}
		return s1, s2
	})
}

// BenchmarkAppendEvents appends alert events in batches of 500, as watch
// persists a trap storm.
func BenchmarkAppendEvents(b *testing.B) {
	s, _ := benchStore(b, 0)
	statetest.BenchAppendEvents(b, s, 500)
}

// BenchmarkClaimDeliveries claims and finishes deliveries 100 at a time.
func BenchmarkClaimDeliveries(b *testing.B) {
	s, _ := benchStore(b, 0)
	statetest.BenchClaimDeliveries(b, s, 100)
}

// The outbox has no place for a secret: events keep descriptions, and
// deliveries addresses and the server's answers, never credentials. A
// column added to these tables must be checked against that.
func TestOutboxColumns(t *testing.T) {
	ctx := ctxFor(t)
	s := open(t, dbPath(t), sqlite.Options{})
	want := map[string]string{
		"alert_events":     "id printer alert_key key_hash kind event_name severity origin from_addr code oid description occurred_at routed_at",
		"alert_active":     "key_hash event_id acked_by acked_at ack_note",
		"alert_deliveries": "id event_id route kind dedupe dedupe_hash mail_to mail_cc due_at status attempts claimed_by claim_until sent_at detail message_id",
		"alert_silences":   "id printer event_name starts_at ends_at note created_by",
	}
	for table, cols := range want {
		rows, err := s.DB().QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		rows.Close()
		if strings.Join(got, " ") != cols {
			t.Errorf("%s has columns %v, want %s", table, got, cols)
		}
	}
}
