package sqlite_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/sqlite"
)

// A new state's file, its journals and its key file are readable by their
// owner only, whatever the umask lets through.
func TestFilesAreOwnerOnly(t *testing.T) {
	path := dbPath(t)
	s := open(t, path, sqlite.Options{})
	if err := s.PutPrinter(ctxFor(t), state.Printer{Name: "p", Settings: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ValueKey(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	if len(files) < 3 { // the database, its WAL and its key at least
		t.Fatalf("files of the state: %v", files)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", filepath.Base(f), fi.Mode().Perm(), err)
		}
	}
}

// The key is made once, beside the database, and found again by every
// store on it, however many make it at once; another state has its own.
func TestKeyFile(t *testing.T) {
	path := dbPath(t)
	if _, err := os.Stat(path + sqlite.KeyFileSuffix); !os.IsNotExist(err) {
		t.Fatalf("key file before first use: %v", err)
	}
	keys := make([]state.Key, 4)
	var wg sync.WaitGroup
	for i := range keys {
		s := open(t, path, sqlite.Options{})
		wg.Go(func() {
			k, err := s.ValueKey()
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, k := range keys[1:] {
		if k.Hash("4711") != keys[0].Hash("4711") {
			t.Fatal("stores of one state got different keys")
		}
	}
	again, err := open(t, path, sqlite.Options{}).ValueKey()
	if err != nil || again.Hash("4711") != keys[0].Hash("4711") {
		t.Errorf("reopened: another key, %v", err)
	}
	other, err := open(t, dbPath(t), sqlite.Options{}).ValueKey()
	if err != nil || other.Hash("4711") == keys[0].Hash("4711") {
		t.Errorf("another state has the same key, %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if e.Name() != filepath.Base(path) && filepath.Ext(e.Name()) != ".key" && filepath.Ext(e.Name()) != ".db-wal" && filepath.Ext(e.Name()) != ".db-shm" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// A key file that is not one is refused, never replaced.
func TestKeyFileRefused(t *testing.T) {
	path := dbPath(t)
	if err := os.WriteFile(path+sqlite.KeyFileSuffix, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, path, sqlite.Options{}).ValueKey(); err == nil {
		t.Error("a 5-character key was accepted")
	}
	if b, _ := os.ReadFile(path + sqlite.KeyFileSuffix); string(b) != "short\n" {
		t.Errorf("the key file was replaced: %q", b)
	}
}
