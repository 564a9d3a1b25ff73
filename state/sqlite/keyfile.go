package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/inkform/inkform/state"
)

// KeyFileSuffix names a state's key file after its database file.
const KeyFileSuffix = ".key"

// keyFile returns the key kept in the file at path, read once; the file is
// made on first use, readable only by its owner.
func keyFile(path string) func() (state.Key, error) {
	return sync.OnceValues(func() (state.Key, error) {
		k, err := loadOrCreateKey(path)
		if err != nil {
			return state.Key{}, fmt.Errorf("state key %s: %w", path, err)
		}
		return k, nil
	})
}

func loadOrCreateKey(path string) (state.Key, error) {
	k, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	secret, err := state.GenerateKey()
	if err != nil {
		return state.Key{}, err
	}
	// Written whole under a temporary name, then linked into place: a
	// reader never sees half a key, and of two runs making one at once,
	// the second finds the first's.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".inkform-key-*")
	if err != nil {
		return state.Key{}, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(secret + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return state.Key{}, err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return state.Key{}, err
	}
	return readKey(path)
}

func readKey(path string) (state.Key, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return state.Key{}, err
	}
	if !fi.Mode().IsRegular() {
		return state.Key{}, errors.New("not a regular file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return state.Key{}, err
	}
	return state.NewKey(strings.TrimSpace(string(b)))
}
