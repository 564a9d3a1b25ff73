package snmp

import (
	"cmp"
	"math/big"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"Black Toner\x00\x00\x00", "Black Toner"},
		{"\x01\x15VNCRC48198", "VNCRC48198"}, // HP PML type bytes
		{"  HP LaserJet\nMFP  M130nw \r\n", "HP LaserJet MFP M130nw"},
		{"Toner \xe9l\xe8ve", "Toner élève"}, // Latin-1
		{"Tóner negro", "Tóner negro"},       // UTF-8 kept
		{"Cyan\x00garbage", "Cyan"},
		{"", ""},
	} {
		if got := cleanText([]byte(tc.in)); got != tc.want {
			t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecodeText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"42 6C 61 63 6B 20 54 6F 6E 65 72 00 00", "Black Toner"},
		{"43 79 61 6E", "Cyan"},
		{"AB CD", "AB CD"},         // decodes to non-printable bytes: keep
		{"Toner 12", "Toner 12"},   // not all hex bytes
		{"Drum Unit", "Drum Unit"}, // plain text
		{"00 00", "00 00"},         // empty once decoded
		{"Black Cartridge\x00", "Black Cartridge"},
		{"Black Toner\r\nCartridge", "Black Toner Cartridge"}, // a line break in the name
		// A first line of text, then hex lines: HP PML model name as
		// recorded from a JetDirect.
		{"\x01\x15HP LaserJet MF\n50 20 4D 31 33 30 6E 77 20", "HP LaserJet MFP M130nw"},
		{"\x01\x15U69696H9N19924\n32", "U69696H9N199242"},
		{"Toner\n12 34 5", "Toner 12 34 5"},  // not all hex bytes: text
		{"Toner\n01 02", "Toner 01 02"},      // not printable: text
		{"42 6C 61\n63 6B", "Black"},         // hex on every line
		{"Tray\n\n41 20 42\n43", "TrayA BC"}, // the hex bytes carry their own spaces
		{"Tóner negro", "Tóner negro"},       // UTF-8 kept
		{"Toner \xe9l\xe8ve", "Toner élève"}, // Latin-1
		{"4F 4B 00 41", "4F 4B 00 41"},       // bytes after the NUL padding: not hex text
		{"\n41 42", "AB"},                    // nothing before the hex line
		{"", ""},
	} {
		if got := decodeText([]byte(tc.in)); got != tc.want {
			t.Errorf("decodeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDetectedErrors(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want []string
	}{
		{nil, nil},
		{[]byte{0}, nil},
		{[]byte{0x80}, []string{"lowPaper"}},
		{[]byte{0x01}, []string{"serviceRequested"}},
		{[]byte{0x48, 0x80}, []string{"noPaper", "doorOpen", "inputTrayMissing"}},
		{[]byte{0x00, 0x03, 0xff}, []string{"overduePreventMaint"}}, // bit 15 and beyond are not defined
		{[]byte{0xff, 0xff}, detectedErrorNames[:]},
	} {
		if got := detectedErrors(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("detectedErrors(%x) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCompareOID(t *testing.T) {
	oids := []string{".1.3.6.1.10", ".1.3.6.1.2.1", ".1.3.6.1.2", ".1.3.6.1.9.9"}
	slices.SortFunc(oids, compareOID)
	want := []string{".1.3.6.1.2", ".1.3.6.1.2.1", ".1.3.6.1.9.9", ".1.3.6.1.10"}
	if !slices.Equal(oids, want) {
		t.Errorf("sorted = %v, want %v", oids, want)
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{".1.3.6", "1.3.6", 0},
		{".1.3.06", ".1.3.6", 0},
		{".1.3.6", ".1.3.6.0", -1},
		{".1.3.18446744073709551616", ".1.3.9", 1}, // beyond uint64
		{".1.3.x", ".1.3.9", 1},                    // not a number: compared as text
		{"", ".1", -1},
	} {
		if got := compareOID(tc.a, tc.b); got != tc.want {
			t.Errorf("compareOID(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareOID(tc.b, tc.a); got != -tc.want {
			t.Errorf("compareOID(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

// The functions below parse bytes that come from printers.

// FuzzCleanText decodes text as agents send it, hex-encoded and
// multi-line descriptions included.
func FuzzCleanText(f *testing.F) {
	for _, seed := range []string{"Black Toner\x00\x00", "\x01\x15VNCRC48198", "Toner \xe9l\xe8ve", "42 6C 61 63 6B 00", " \n\t", "\xff\xfe\xfd",
		"\x01\x15HP LaserJet MF\n50 20 4D 31 33 30 6E 77 20", "A\r\n41 42\n43",
		// UTF-16 after a byte order mark, Shift-JIS, and what looks like them.
		"\xff\xfeB\x00l\x00a\x00c\x00k\x00\x00\x00", "\xfe\xff\x30\xb7\x30\xa2\x30\xf3", "\xff\xfe\x00\xd8", "\xfe\xff\x00",
		"\x83\x75\x83\x89\x83\x62\x83\x4e", "\x8d\x95\x83\x67", "\xe8\x9f\xe8\x9f", "\x81", "\x81\x7f", "\xef\xbb\xbfA"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range []string{cleanText(b), decodeText(b)} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q from %q", s, b)
			}
			if strings.TrimSpace(s) != s || strings.Contains(s, "  ") {
				t.Fatalf("untrimmed or uncollapsed space in %q", s)
			}
			for _, r := range s {
				if unicode.IsControl(r) {
					t.Fatalf("control character %U in %q", r, s)
				}
			}
		}
		if cleanText([]byte(cleanText(b))) != cleanText(b) {
			t.Fatalf("cleanText is not idempotent on %q", b)
		}
	})
}

func FuzzDetectedErrors(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x24, 0x02})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		got := detectedErrors(b)
		if len(got) > len(detectedErrorNames) {
			t.Fatalf("%d errors from %x", len(got), b)
		}
		for _, name := range got {
			if !slices.Contains(detectedErrorNames[:], name) {
				t.Fatalf("unknown error %q", name)
			}
		}
	})
}

func TestIntValue(t *testing.T) {
	for _, tc := range []struct {
		pdu  gosnmp.SnmpPDU
		want int64
		ok   bool
	}{
		{gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: -5}, -5, true},
		{gosnmp.SnmpPDU{Type: gosnmp.TimeTicks, Value: uint32(4294967295)}, 4294967295, true},
		{gosnmp.SnmpPDU{Type: gosnmp.Gauge32, Value: uint(7)}, 7, true},
		{gosnmp.SnmpPDU{Type: gosnmp.Counter64, Value: uint64(1) << 62}, 1 << 62, true},
		{gosnmp.SnmpPDU{Type: gosnmp.Counter64, Value: ^uint64(0)}, 0, false},
		{gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("5")}, 0, false},
	} {
		got, ok := intValue(tc.pdu)
		if got != tc.want || ok != tc.ok {
			t.Errorf("intValue(%v %v) = %d, %v; want %d, %v", tc.pdu.Type, tc.pdu.Value, got, ok, tc.want, tc.ok)
		}
	}
}

// compareOIDReference is compareOID the slow way: split, then compare arcs
// as numbers when both are decimal, as text otherwise.
func compareOIDReference(a, b string) int {
	pa := strings.Split(strings.TrimPrefix(a, "."), ".")
	pb := strings.Split(strings.TrimPrefix(b, "."), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, okX := new(big.Int).SetString(pa[i], 10)
		y, okY := new(big.Int).SetString(pb[i], 10)
		c := 0
		if okX && okY && isDecimal(pa[i]) && isDecimal(pb[i]) {
			c = x.Cmp(y)
		} else {
			c = strings.Compare(pa[i], pb[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(pa), len(pb))
}

// Walked OIDs come from the agent: any text must compare without panic,
// consistently, and as the reference does.
func FuzzCompareOID(f *testing.F) {
	for _, seed := range [][2]string{
		{".1.3.6.1.2.1.43.11.1.1.6.1.1", ".1.3.6.1.2.1.43.11.1.1.6.1.2"},
		{".1.3.6.1.10", ".1.3.6.1.9"},
		{"1.3.06", ".1.3.6"},
		{".1.3", ".1.3.0"},
		{"", "."},
		{".1.x.3", ".1.2.3"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got := compareOID(a, b)
		if back := compareOID(b, a); back != -got {
			t.Fatalf("compareOID(%q, %q) = %d but reversed %d", a, b, got, back)
		}
		if want := compareOIDReference(a, b); got != want {
			t.Fatalf("compareOID(%q, %q) = %d, reference %d", a, b, got, want)
		}
	})
}

// Descriptions in UTF-16 (after a byte order mark) and Shift-JIS read as
// the printer meant them; Latin-1 stays Latin-1.
func TestCleanTextEncodings(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"utf-16le with bom, padded", "\xff\xfeB\x00l\x00a\x00c\x00k\x00 \x00T\x00o\x00n\x00e\x00r\x00\x00\x00\x00\x00", "Black Toner"},
		{"utf-16be with bom", "\xfe\xff\x30\xb7\x30\xa2\x30\xf3\x00 \x30\xc8\x30\xca\x30\xfc", "シアン トナー"},
		{"utf-16 odd length: the odd byte is no character", "\xff\xfeA\x00B", "A"},
		{"shift-jis katakana", "\x83\x75\x83\x89\x83\x62\x83\x4e\x83\x67\x83\x69\x81\x5b", "ブラックトナー"},
		{"shift-jis kanji and katakana", "\x8d\x95\x83\x67\x83\x69\x81\x5b", "黒トナー"},
		{"shift-jis level-2 kanji only", "Toner \xe8\x9f\xe8\x9f", "Toner 陝陝"},
		{"shift-jis with ascii", "\x83\x56\x83\x41\x83\x93 (C) TN-423C", "シアン (C) TN-423C"},
		{"latin-1 accents paired with letters", "Toner \xe9l\xe8ve", "Toner élève"},
		{"latin-1 single accent", "Cartouche cyan \xe0 jet", "Cartouche cyan à jet"},
		{"latin-1 ending on a lead byte", "Caf\xe9", "Café"},
		{"utf-8 bom", "\xef\xbb\xbfYellow", "Yellow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, f := range map[string]func([]byte) string{"cleanText": cleanText, "decodeText": decodeText} {
				if got := f([]byte(tc.in)); got != tc.want {
					t.Errorf("%s(%q) = %q, want %q", name, tc.in, got, tc.want)
				}
			}
		})
	}
}
