package state

import (
	"bytes"
	"strings"
	"testing"
)

func TestDerive(t *testing.T) {
	k1, err := NewKey(strings.Repeat("a", MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	k1again, _ := NewKey(strings.Repeat("a", MinKeyLen))
	k2, _ := NewKey(strings.Repeat("b", MinKeyLen))
	a := k1.Derive("web-session")
	if len(a) != 32 {
		t.Fatalf("derived key has %d bytes, want 32", len(a))
	}
	if !bytes.Equal(a, k1again.Derive("web-session")) {
		t.Error("the same key and purpose derive different keys")
	}
	if bytes.Equal(a, k1.Derive("web-csrf")) {
		t.Error("two purposes derive the same key")
	}
	if bytes.Equal(a, k2.Derive("web-session")) {
		t.Error("two state keys derive the same key")
	}
	if bytes.Contains(a, []byte(strings.Repeat("a", 8))) {
		t.Error("the derived key holds the secret")
	}
	defer func() {
		if recover() == nil {
			t.Error("Derive on the zero key did not panic")
		}
	}()
	Key{}.Derive("x")
}
