package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// vectors are the examples docs/protocols/lst.md shows, byte for byte.
var vectors = []struct {
	name string
	msg  any
	typ  Type
	id   uint32
	hex  string
}{
	{"read request", ReadRequest{Names: []string{"system.location"}}, TypeRead, 7,
		"01040000000700" + "1d" + hex.EncodeToString([]byte(`{"names":["system.location"]}`))},
	{"read reply", ReadReply{Values: map[string]string{"system.location": "Lobby"}}, TypeRead.Reply(), 7,
		"01840000000700" + "26" + hex.EncodeToString([]byte(`{"values":{"system.location":"Lobby"}}`))},
	{"write request", WriteRequest{Values: map[string]string{"panel.language": "de"}}, TypeWrite, 8,
		"01050000000800" + "22" + hex.EncodeToString([]byte(`{"values":{"panel.language":"de"}}`))},
	{"write reply", WriteReply{}, TypeWrite.Reply(), 8,
		"01850000000800" + "02" + hex.EncodeToString([]byte(`{}`))},
	{"error", ErrorReply{Code: CodeAuth, Message: "login refused"}, TypeError, 1,
		"01ff0000000100" + "29" + hex.EncodeToString([]byte(`{"code":"auth","message":"login refused"}`))},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		f, err := NewFrame(v.typ, v.id, v.msg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != v.hex {
			t.Errorf("%s:\n got %s\nwant %s", v.name, got, v.hex)
		}
		back, err := Decode(b)
		if err != nil || back.Type != v.typ || back.ID != v.id || !bytes.Equal(back.Body, f.Body) {
			t.Errorf("%s: decode = %+v, %v", v.name, back, err)
		}
		// The same bytes read from a stream, twice in a row.
		r := bytes.NewReader(append(append([]byte(nil), b...), b...))
		for range 2 {
			sf, err := ReadFrame(r)
			if err != nil || sf.ID != v.id || !bytes.Equal(sf.Body, f.Body) {
				t.Errorf("%s: ReadFrame = %+v, %v", v.name, sf, err)
			}
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := NewFrame(TypeRead, 3, ReadRequest{Names: []string{"a.b"}})
	b, _ := good.Append(nil)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"short header", b[:5], ErrShort},
		{"version 2", append([]byte{2}, b[1:]...), ErrVersion},
		{"truncated body", b[:len(b)-1], ErrLength},
		{"trailing byte", append(append([]byte(nil), b...), '}'), ErrLength},
		{"body too large", []byte{1, 4, 0, 0, 0, 1, 0xff, 0xff}, ErrLength},
		{"array body", frameBytes(TypeRead, []byte(`["x"]`)), ErrBody},
		{"invalid JSON", frameBytes(TypeRead, []byte(`{"names":`)), ErrBody},
		{"invalid UTF-8", frameBytes(TypeRead, []byte("{\"names\":[\"\xff\"]}")), ErrBody},
	} {
		_, err := Decode(tc.b)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, _, err := DecodeRequest(frameBytes(0x42, []byte(`{}`))); err == nil || !strings.Contains(err.Error(), "unknown request") {
		t.Errorf("unknown type: %v", err)
	}
	if _, _, err := DecodeRequest(frameBytes(TypeRead, []byte(`{"names":"x"}`))); err == nil {
		t.Error("names as a string decoded")
	}
	if _, err := NewFrame(TypeRead, 1, ReadRequest{Names: []string{strings.Repeat("x", MaxBody)}}); err == nil {
		t.Error("a body over MaxBody was encoded")
	}
}

func frameBytes(t Type, body []byte) []byte {
	b, err := Frame{Type: t, ID: 9, Body: body}.Append(nil)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzDecodeRequest feeds arbitrary datagrams to what a device runs on
// each one: it never panics, a frame it accepts encodes back to the same
// bytes, and the answer (when there is one) is a well-formed reply to the
// same request id.
func FuzzDecodeRequest(f *testing.F) {
	for _, v := range vectors {
		b, _ := hex.DecodeString(v.hex)
		f.Add(b)
	}
	f.Add(frameBytes(TypeIdentity, []byte(`{}`)))
	f.Add(frameBytes(TypeStatus, []byte(` {"x":1}`)))
	f.Add(frameBytes(TypeLogin, []byte(`{"user":"a","password":"b"}`)))
	f.Add([]byte{1, 4, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{})
	s := &Server{cfg: Config{Device: fuzzDevice{}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, msg, err := DecodeRequest(data)
		if err == nil {
			if msg == nil {
				t.Fatal("no message and no error")
			}
			b, err := fr.Append(nil)
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("re-encoding gives %x, %v", b, err)
			}
		}
		reply, ok := s.answer(data)
		if !ok {
			return
		}
		b, err := reply.Append(nil)
		if err != nil {
			t.Fatalf("reply does not encode: %v", err)
		}
		back, err := Decode(b)
		if err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
		if _, _, herr := decodeHeader(data); herr == nil && back.ID != fr.ID {
			t.Fatalf("reply id %d, request id %d", back.ID, fr.ID)
		}
	})
}

type fuzzDevice struct{}

func (fuzzDevice) Identity() IdentityReply { return IdentityReply{Model: "Lexmark CX725"} }
func (fuzzDevice) Status() StatusReply     { return StatusReply{Status: "idle"} }
func (fuzzDevice) ReadSettings(names []string) (map[string]string, []string) {
	return map[string]string{}, names
}
func (fuzzDevice) WriteSettings(v map[string]string) map[string]string {
	out := map[string]string{}
	for k := range v {
		out[k] = ReasonUnsupported
	}
	return out
}
