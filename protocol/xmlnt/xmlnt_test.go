package xmlnt

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/inkform/inkform/protocol/npap"
)

var update = flag.Bool("update", false, "rewrite testdata/*.xml from the vectors")

// TestVectors checks NPAP's vectors in their XML form both ways.
func TestVectors(t *testing.T) {
	for _, v := range npap.Vectors() {
		t.Run(v.Name, func(t *testing.T) {
			path := filepath.Join("testdata", v.Name+".xml")
			got, err := XML{}.Encode(v.Msg)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(path, append(bytes.Clone(got), '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want = bytes.TrimSuffix(want, []byte("\n"))
			if !bytes.Equal(got, want) {
				t.Errorf("encode:\n%s\nwant:\n%s", got, want)
			}
			m, err := XML{}.Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, v.Msg) {
				t.Errorf("decode:\n%+v\nwant\n%+v", m, v.Msg)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"not xml", "\xa5\x00\x07", "xmlnt:"},
		{"wrong root", `<npap version="1" op="read" id="1"/>`, "expected element type <xmlnt>"},
		{"version", `<xmlnt version="2" op="read" id="1"/>`, "version"},
		{"op", `<xmlnt version="1" op="reboot" id="1"/>`, "unknown op"},
		{"trailing", `<xmlnt version="1" op="read" id="1"/><xmlnt version="1" op="read" id="2"/>`, "after the root"},
		{"bad integer", `<xmlnt version="1" op="read" id="1" reply="true"><value n="513" type="integer">many</value></xmlnt>`, "32-bit"},
		{"bad type", `<xmlnt version="1" op="read" id="1" reply="true"><value n="513" type="float">1.5</value></xmlnt>`, "unknown type"},
		{"error in request", `<xmlnt version="1" op="read" id="1"><error code="1"></error></xmlnt>`, "error in a request"},
		{"register without port", `<xmlnt version="1" op="register" id="1"/>`, "port"},
		{"bad mac", `<xmlnt version="1" op="identify" id="1" reply="true"><identity mac="zz"/></xmlnt>`, "mac"},
		{"bad status", `<xmlnt version="1" op="status" id="1" reply="true"><status>asleep</status></xmlnt>`, "status"},
		{"control character", `<xmlnt version="1" op="write" id="1"><password>a&#x1;</password></xmlnt>`, "xmlnt:"},
		{"entity", `<!DOCTYPE x [<!ENTITY e "boom">]><xmlnt version="1" op="write" id="1"><password>&e;</password></xmlnt>`, "xmlnt:"},
		{"too big", `<xmlnt version="1" op="read" id="1">` + strings.Repeat(" ", MaxDatagram) + `</xmlnt>`, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := XML{}.Decode([]byte(tc.doc))
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode = %v, want a DecodeError with %q", err, tc.want)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	_, err := XML{}.Encode(npap.Message{Op: npap.OpWrite, Values: []npap.Value{{Number: 1, Type: npap.TypeString, Text: "a\x01"}}})
	if err == nil {
		t.Error("a control character encoded")
	}
	var vals []npap.Value
	for i := range 10 {
		vals = append(vals, npap.Value{Number: uint16(i), Type: npap.TypeString, Text: strings.Repeat("<", 1000)})
	}
	if _, err := (XML{}).Encode(npap.Message{Op: npap.OpWrite, Values: vals}); !errors.Is(err, npap.ErrTooBig) {
		t.Errorf("oversized: %v", err)
	}
}

// FuzzXMLNTDecode feeds arbitrary datagrams to the decoder: it must never
// panic, and what it accepts must survive an encode and decode unchanged.
func FuzzXMLNTDecode(f *testing.F) {
	for _, v := range npap.Vectors() {
		b, err := XML{}.Encode(v.Msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<xmlnt version="1" op="read" id="1"><get n="1"/></xmlnt>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := XML{}.Decode(b)
		if err != nil {
			return
		}
		again, err := XML{}.Encode(m)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		m2, err := XML{}.Decode(again)
		if err != nil {
			t.Fatalf("re-encoded document does not decode: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
	})
}

// TestDocumented checks that docs/protocols/xmlnt.md shows every vector
// as the golden files hold it.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocols/xmlnt.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range npap.Vectors() {
		raw, err := os.ReadFile(filepath.Join("testdata", v.Name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(doc), "### "+v.Name+"\n")
		if i < 0 || !strings.Contains(string(doc[i:]), "```xml\n"+string(raw)+"```") {
			t.Errorf("docs/protocols/xmlnt.md: example %s missing or different from testdata/%s.xml", v.Name, v.Name)
		}
	}
}
