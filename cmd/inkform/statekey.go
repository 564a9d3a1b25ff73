package main

import (
	"fmt"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
)

// keyEnv holds the state key, which sensitive values are hashed with. A
// database server keeps no key file, so its runs take the key from here;
// for a SQLite state it overrides the key file beside the database.
const keyEnv = "INKFORM_STATE_KEY"

// stateKey is where the state at loc finds its key: $INKFORM_STATE_KEY,
// else (nil) a file backend's own key file. A server backend without it
// says what to do, once a sensitive value needs the key. Errors never
// repeat the key.
func stateKey(io streams, loc backend.Location) func() (state.Key, error) {
	if v := io.getenv(keyEnv); v != "" {
		return func() (state.Key, error) {
			k, err := state.NewKey(v)
			if err != nil {
				return state.Key{}, fmt.Errorf("%s: %w", keyEnv, err)
			}
			return k, nil
		}
	}
	if b, ok := backend.Lookup(loc.Backend); ok && b.File {
		return nil
	}
	return func() (state.Key, error) {
		return state.Key{}, fmt.Errorf("%w: set %s to a secret of at least %d characters (openssl rand -hex 32 makes one), the same for every run that uses %s",
			state.ErrNoKey, keyEnv, state.MinKeyLen, loc)
	}
}
