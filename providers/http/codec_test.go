package http

import (
	"encoding/json"
	"testing"
)

func TestDecodeSettings(t *testing.T) {
	got, err := DecodeSettings([]byte(`{"a":"x","n":15,"f":1.5,"t":true,"no":false,"null":null,"obj":{"b":1},"arr":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "x", "n": "15", "f": "1.5", "t": "true", "no": "false"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{"a":`} {
		if _, err := DecodeSettings([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzDecodeSettings(f *testing.F) {
	for _, s := range []string{`{"system_contact":"IT x4000","print_default_copies":3}`, `{"a":null,"b":[1,2],"c":{"d":true}}`, `{}`, `null`, `{"a":1e400}`, "{\"\\ud800\":\"\\udfff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := DecodeSettings(body)
		if err != nil {
			return
		}
		// What decodes re-encodes and decodes to the same values.
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := DecodeSettings(again)
		if err != nil || len(back) != len(got) {
			t.Fatalf("round trip of %q: %v, %v", again, back, err)
		}
		for k, v := range got {
			if back[k] != v {
				t.Fatalf("%q: %q became %q", k, v, back[k])
			}
		}
	})
}

func FuzzDecodeFieldErrors(f *testing.F) {
	for _, s := range []string{`{"errors":[{"field":"a","code":"unknown","message":"no such field"}]}`, `{"errors":null}`, `{"error":"x"}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = DecodeFieldErrors(body)
		_ = replyError(body)
	})
}
