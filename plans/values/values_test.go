package values

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/state"
)

func TestValueMemoSharesOneStringPerValue(t *testing.T) {
	vm := NewMemo(catalog.Default(), state.Key{})
	// Two equal values from different allocations, as from two printers.
	a, b := fmt.Sprint("01", "5"), fmt.Sprint("0", "15")
	ca, ha := vm.Get("printer.default_input", a, false)
	cb, hb := vm.Get("printer.default_input", b, false)
	if ca != "15" || ha != state.HashValue("15") {
		t.Errorf("get = %q, %q; want the canonical value and its hash", ca, ha)
	}
	if unsafe.StringData(ha) != unsafe.StringData(hb) || unsafe.StringData(ca) != unsafe.StringData(cb) {
		t.Error("equal values got separate strings")
	}
}

func TestValueMemoKeepsNoSensitiveValue(t *testing.T) {
	key := testKey(t)
	vm := NewMemo(nil, key)
	c, h := vm.Get("system.contact", "t0p-s3cret", true)
	if c != "t0p-s3cret" || h != key.Hash("t0p-s3cret") {
		t.Errorf("get = %q, %q", c, h)
	}
	vm.m.Range(func(k, _ any) bool {
		t.Errorf("memo holds %v", k)
		return true
	})
}

func TestValueMemoIsBounded(t *testing.T) {
	vm := NewMemo(nil, state.Key{})
	for i := range maxMemoValues + 100 {
		v := fmt.Sprint(i)
		if _, h := vm.Get("system.location", v, false); h != state.HashValue(v) {
			t.Fatalf("value %d: wrong hash", i)
		}
	}
	n := 0
	vm.m.Range(func(_, _ any) bool { n++; return true })
	if n != maxMemoValues {
		t.Errorf("memo holds %d values, want at most %d", n, maxMemoValues)
	}
}

func testKey(t *testing.T) state.Key {
	t.Helper()
	key, err := state.NewKey(strings.Repeat("k", state.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// A sensitive value is hashed with the state's key, never plainly: a
// plain hash of a 4-digit PIN is undone by trying the 10,000 PINs.
func TestSensitiveValuesAreKeyed(t *testing.T) {
	key := testKey(t)
	vm := NewMemo(catalog.Default(), key)
	_, h := vm.Get("system.contact", "4711", true)
	if h == state.HashValue("4711") || !state.IsKeyedHash(h) {
		t.Errorf("sensitive hash = %q, want one keyed with the state's key", h)
	}
	other, err := state.NewKey(strings.Repeat("o", state.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	if _, h2 := NewMemo(catalog.Default(), other).Get("system.contact", "4711", true); h2 == h {
		t.Error("two keys give one hash")
	}
	if _, h := vm.Get("system.contact", "4711", false); h != state.HashValue("4711") {
		t.Errorf("a value that is not sensitive hashes to %q, want its plain hash", h)
	}
}

// MemoFor asks the state for its key only when a printer declares a
// sensitive setting, and says which one when the state has none.
func TestMemoForAsksForTheKeyWhenNeeded(t *testing.T) {
	st := noKey{}
	plain := []fleet.Printer{{Name: "a", Settings: []fleet.Desired{{Name: "system.contact", Value: "IT"}}}}
	if _, err := MemoFor(st, nil, plain); err != nil {
		t.Errorf("no sensitive setting: %v", err)
	}
	secret := append(plain, fleet.Printer{Name: "b", Settings: []fleet.Desired{{Name: "system.name", Value: "4711", Sensitive: true}}})
	_, err := MemoFor(st, nil, secret)
	if !errors.Is(err, state.ErrNoKey) || !strings.Contains(err.Error(), "printer b: system.name is sensitive") || strings.Contains(err.Error(), "4711") {
		t.Errorf("MemoFor without a key = %v", err)
	}
}

// noKey is a state without a key.
type noKey struct{ state.Store }

func (noKey) ValueKey() (state.Key, error) { return state.Key{}, state.ErrNoKey }

func TestCurrent(t *testing.T) {
	key := testKey(t)
	p := state.Printer{
		Settings: map[string]string{"contact": state.HashValue("IT"), "pin": key.Hash("4711"), "old": "", "plain-pin": state.HashValue("1")},
		Values:   map[string]string{"contact": "IT"},
	}
	for _, c := range []struct {
		name      string
		sensitive bool
		want      bool
	}{
		{"contact", false, true}, {"contact", true, false}, {"pin", true, true}, {"pin", false, false},
		{"old", false, false}, {"old", true, false}, {"plain-pin", true, false}, {"absent", false, false},
	} {
		if got := Current(p, c.name, c.sensitive); got != c.want {
			t.Errorf("Current(%s, sensitive %v) = %v, want %v", c.name, c.sensitive, got, c.want)
		}
	}
}
