package npap

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.hex from the vectors")

// readHex reads a golden file: hex digits, whitespace ignored.
func readHex(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// formatHex writes b as lines of 16 bytes, bytes separated by spaces.
func formatHex(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i += 16 {
		line := b[i:min(i+16, len(b))]
		for j, c := range line {
			if j > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(hex.EncodeToString([]byte{c}))
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// TestVectors checks each vector both ways: the message encodes to the
// golden bytes, and the golden bytes decode to the message.
func TestVectors(t *testing.T) {
	for _, v := range Vectors() {
		t.Run(v.Name, func(t *testing.T) {
			path := filepath.Join("testdata", v.Name+".hex")
			got, err := Binary{}.Encode(v.Msg)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(path, []byte(formatHex(got)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := readHex(t, path)
			if !bytes.Equal(got, want) {
				t.Errorf("encode:\n%s\nwant:\n%s", formatHex(got), formatHex(want))
			}
			m, err := Binary{}.Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, v.Msg) {
				t.Errorf("decode:\n%+v\nwant\n%+v", m, v.Msg)
			}
		})
	}
}

// TestHeader pins the header of one vector byte by byte, so that the
// golden files cannot drift from the specification together with the
// code.
func TestHeader(t *testing.T) {
	b := readHex(t, "testdata/read-request.hex")
	want := []byte{0xa5, 0x00, byte(len(b) - 3), 0x01, 0x02, 0x01, 0x00, 0x00, 0x00, 0x03, 0x20, 0x00, 0x02, 0x01, 0x01}
	if !bytes.Equal(b[:len(want)], want) {
		t.Errorf("read request starts % x, want % x", b[:len(want)], want)
	}
	b = readHex(t, "testdata/alert-raised.hex")
	if b[3] != FlagUnsolicited|Version {
		t.Errorf("alert flags 0x%02x, want 0x%02x", b[3], FlagUnsolicited|Version)
	}
	b = readHex(t, "testdata/error-reply.hex")
	if b[3] != FlagReply|FlagError|Version {
		t.Errorf("error reply flags 0x%02x", b[3])
	}
}

func TestDecodeRejects(t *testing.T) {
	good := readHex(t, "testdata/read-reply.hex")
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "shorter than"},
		{"start byte", mut(func(b []byte) []byte { b[0] = 0x5a; return b }), "start byte"},
		{"length", mut(func(b []byte) []byte { return b[:len(b)-1] }), "length field"},
		{"version", mut(func(b []byte) []byte { b[3] = FlagReply | 2; return b }), "version 2"},
		{"unknown command", mut(func(b []byte) []byte { b[4] = 0x7f; return b }), "unknown command"},
		{"error flag on request", mut(func(b []byte) []byte { b[3] = FlagError | Version; return b }), "error flag"},
		{"item overruns", mut(func(b []byte) []byte { b[HeaderLen+2] = 0xff; return b }), "only"},
		{"bad bool", func() []byte {
			b, _ := Binary{}.Encode(Message{Op: OpRead, Reply: true, Values: []Value{{Number: 1, Type: TypeBool, Text: "true"}}})
			b[len(b)-1] = 7
			return b
		}(), "bool"},
		{"bad utf-8", func() []byte {
			b, _ := Binary{}.Encode(Message{Op: OpRead, Reply: true, Values: []Value{{Number: 1, Type: TypeString, Text: "ab"}}})
			b[len(b)-1] = 0xff
			return b
		}(), "UTF-8"},
		{"too big", append(bytes.Clone(good), make([]byte, MaxDatagram)...), "exceeds"},
		{"register without port", func() []byte {
			b, _ := Binary{}.Encode(Message{Op: OpUnregister, Reply: true, ID: 1})
			b[3] = Version // now a request, which needs a port
			return b
		}(), "port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Binary{}.Decode(tc.b)
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode = %v, want a DecodeError with %q", err, tc.want)
			}
		})
	}
}

func TestDecodeSkipsUnknownItems(t *testing.T) {
	b := readHex(t, "testdata/identify-request.hex")
	b = append(b, 0x7e, 0x00, 0x02, 0xde, 0xad)
	b[2] = byte(len(b) - 3)
	m, err := Binary{}.Decode(b)
	if err != nil || m.Op != OpIdentify || m.ID != 1 {
		t.Errorf("Decode = %+v, %v", m, err)
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Message
		want string
	}{
		{"unknown op", Message{Op: 0x0909}, "unknown"},
		{"integer", Message{Op: OpWrite, Values: []Value{{Number: 1, Type: TypeInteger, Text: "4294967296"}}}, "32-bit"},
		{"bool", Message{Op: OpWrite, Values: []Value{{Number: 1, Type: TypeBool, Text: "yes"}}}, "true or false"},
		{"error in request", Message{Op: OpWrite, Error: &Error{Code: CodeBusy}}, "error in a request"},
		{"too big", Message{Op: OpWrite, Values: []Value{
			{Number: 1, Type: TypeString, Text: strings.Repeat("x", 1000)},
			{Number: 2, Type: TypeString, Text: strings.Repeat("x", 1000)}}}, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Binary{}.Encode(tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Encode = %v, want %q", err, tc.want)
			}
		})
	}
	_, err := Binary{}.Encode(Message{Op: OpWrite, Values: []Value{
		{Number: 1, Type: TypeString, Text: strings.Repeat("x", 1000)},
		{Number: 2, Type: TypeString, Text: strings.Repeat("x", 1000)}}})
	if !errors.Is(err, ErrTooBig) {
		t.Errorf("too big: %v does not wrap ErrTooBig", err)
	}
}

// FuzzNPAPDecode feeds arbitrary datagrams to the decoder: it must never
// panic, and what it accepts must encode to a datagram that decodes to
// the same message.
func FuzzNPAPDecode(f *testing.F) {
	for _, v := range Vectors() {
		b, err := Binary{}.Encode(v.Msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xa5, 0x00, 0x07, 0x01, 0x01, 0x01, 0, 0, 0, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Binary{}.Decode(b)
		if err != nil {
			return
		}
		again, err := Binary{}.Encode(m)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		m2, err := Binary{}.Decode(again)
		if err != nil {
			t.Fatalf("re-encoded datagram does not decode: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
	})
}

// TestDocumented checks that docs/protocols/npap.md shows every vector's
// bytes as the golden files hold them.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocols/npap.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vectors() {
		raw, err := os.ReadFile(filepath.Join("testdata", v.Name+".hex"))
		if err != nil {
			t.Fatal(err)
		}
		head := "### " + v.Name + "\n"
		i := strings.Index(string(doc), head)
		if i < 0 {
			t.Errorf("docs/protocols/npap.md lacks the example %s", v.Name)
			continue
		}
		if !strings.Contains(string(doc[i:]), "```\n"+string(raw)+"```") {
			t.Errorf("docs/protocols/npap.md: example %s differs from testdata/%s.hex", v.Name, v.Name)
		}
	}
}
