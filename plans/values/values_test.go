package values

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/state"
)

func TestValueMemoSharesOneStringPerValue(t *testing.T) {
	vm := NewMemo(catalog.Default())
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
	vm := NewMemo(nil)
	c, h := vm.Get("system.contact", "t0p-s3cret", true)
	if c != "t0p-s3cret" || h != state.HashValue("t0p-s3cret") {
		t.Errorf("get = %q, %q", c, h)
	}
	vm.m.Range(func(k, _ any) bool {
		t.Errorf("memo holds %v", k)
		return true
	})
}

func TestValueMemoIsBounded(t *testing.T) {
	vm := NewMemo(nil)
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
