package state

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// A plain SHA-256 of a short secret (a 4-digit PIN) is undone by trying
// every value, so sensitive values are recorded as HMAC-SHA256 under a
// key of the state's own, kept outside its database: its SQLite file or
// its server then holds nothing a guess can be checked against.

// MinKeyLen is the shortest state key accepted, in bytes.
const MinKeyLen = 32

// ErrNoKey is returned (wrapped) by Store.ValueKey when the state has no
// key to hash sensitive values with.
var ErrNoKey = errors.New("no state key to hash sensitive values with")

// Key is a state's secret key. Its zero value is no key. It never prints
// itself.
type Key struct{ secret []byte }

// NewKey makes a key of secret, which must be at least MinKeyLen bytes.
// The error never repeats it.
func NewKey(secret string) (Key, error) {
	if len(secret) < MinKeyLen {
		return Key{}, fmt.Errorf("a state key must be at least %d characters long, this one has %d", MinKeyLen, len(secret))
	}
	return Key{secret: []byte(secret)}, nil
}

// GenerateKey returns a new key's secret: 32 random bytes, hex encoded,
// the form key files hold and INKFORM_STATE_KEY takes.
func GenerateKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate a state key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// IsZero reports whether k is no key.
func (k Key) IsZero() bool { return len(k.secret) == 0 }

// String hides the secret from fmt and logs.
func (k Key) String() string { return "state.Key(…)" }

// GoString hides the secret from %#v.
func (k Key) GoString() string { return k.String() }

const keyedPrefix = "hmac-sha256:"

// Hash is how a sensitive value is recorded: HMAC-SHA256 under k over the
// same domain prefix as HashValue, hex encoded with an algorithm tag. It
// panics on the zero key: a caller that hashes a sensitive value must
// have asked for the state's key first.
func (k Key) Hash(v string) string {
	if k.IsZero() {
		panic("state: a sensitive value hashed without a state key")
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(valueDomain))
	m.Write([]byte(v))
	return keyedPrefix + hex.EncodeToString(m.Sum(nil))
}

// IsKeyedHash reports whether v has the form Key.Hash produces.
func IsKeyedHash(v string) bool {
	h, ok := strings.CutPrefix(v, keyedPrefix)
	return ok && isHex64(h)
}

// deriveDomain keeps derived keys apart from value hashes.
const deriveDomain = "inkform-derive-v1\x00"

// Derive returns a key of 32 bytes for one purpose ("web-session",
// "web-csrf"), derived from k with HMAC-SHA256, so that every process
// holding the state's key makes the same one and none is stored anywhere.
// Keys for different purposes are unrelated. It panics on the zero key,
// like Hash.
func (k Key) Derive(purpose string) []byte {
	if k.IsZero() {
		panic("state: a key derived without a state key")
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(deriveDomain))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
