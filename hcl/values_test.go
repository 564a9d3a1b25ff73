package hcl

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// The shortcut for tuples of strings gives what the general conversion
// gives.
func TestStringTupleToListMatchesConvert(t *testing.T) {
	for _, v := range []cty.Value{
		cty.EmptyTupleVal,
		cty.TupleVal([]cty.Value{cty.StringVal("a")}),
		cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NullVal(cty.String), cty.StringVal("a")}),
		cty.NullVal(cty.Tuple([]cty.Type{cty.String})),
	} {
		if !isStringTuple(v.Type()) {
			t.Fatalf("%#v: not a tuple of strings", v)
		}
		want, err := convert.Convert(v, cty.List(cty.String))
		if err != nil {
			t.Fatal(err)
		}
		if got := stringTupleToList(v); !got.RawEquals(want) {
			t.Errorf("%#v: got %#v, want %#v", v, got, want)
		}
	}
	for _, ty := range []cty.Type{cty.Tuple([]cty.Type{cty.String, cty.Number}), cty.List(cty.String), cty.String} {
		if isStringTuple(ty) {
			t.Errorf("%#v counted as a tuple of strings", ty)
		}
	}
}
