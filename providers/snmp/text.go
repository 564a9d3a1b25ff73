package snmp

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	xunicode "golang.org/x/text/encoding/unicode"
)

// cleanText turns an OCTET STRING from a printer into display text. Agents
// pad with NULs (C buffers), prefix HP PML type bytes, embed newlines and
// send other encodings than UTF-8: UTF-16 after a byte order mark,
// Shift-JIS (Japanese models), Latin-1. It decodes UTF-16 by its mark, cuts
// at the first NUL, drops a UTF-8 byte order mark, decodes Shift-JIS or
// Latin-1 when the bytes are not UTF-8, turns control characters into
// spaces and collapses runs of white space.
func cleanText(b []byte) string {
	if hasUTF16BOM(b) {
		// A decoder holds state: one per value.
		if u, err := xunicode.UTF16(xunicode.BigEndian, xunicode.ExpectBOM).NewDecoder().Bytes(b); err == nil {
			b = u
		}
	}
	if i := indexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimPrefix(b, utf8BOM)
	var s string
	switch {
	case utf8.Valid(b):
		s = string(b)
	case isShiftJIS(b):
		u, err := japanese.ShiftJIS.NewDecoder().Bytes(b)
		if err != nil {
			return cleanText(latin1(b))
		}
		s = string(u)
	default:
		s = string(latin1(b))
	}
	var out strings.Builder
	out.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			space = out.Len() > 0
			continue
		}
		if space {
			out.WriteByte(' ')
			space = false
		}
		out.WriteRune(r)
	}
	return out.String()
}

// latin1 is b read as Latin-1 (byte for code point), in UTF-8.
func latin1(b []byte) []byte {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return []byte(string(r))
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// hasUTF16BOM reports whether b starts with a UTF-16 byte order mark
// (FE FF or FF FE), which no Latin-1 or UTF-8 text does.
func hasUTF16BOM(b []byte) bool {
	return len(b) >= 2 && (b[0] == 0xFE && b[1] == 0xFF || b[0] == 0xFF && b[1] == 0xFE)
}

// isShiftJIS reports whether b, which is not UTF-8, reads as Shift-JIS
// rather than Latin-1: every byte is ASCII, a half-width katakana, or one
// of a valid two-byte pair; and some pair says it is Japanese, either by
// a lead byte Latin-1 text never has (0x81-0x9F, its C1 controls: kana,
// punctuation, the common kanji) or by two pairs of high bytes in a row
// (four accented Latin-1 letters in a row are in no real name; "élève"
// pairs each accent with an ASCII letter).
func isShiftJIS(b []byte) bool {
	japanese, prevPair := false, false // prevPair: the last pair was of high bytes
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x80:
			i++
			prevPair = false
		case c >= 0xA1 && c <= 0xDF: // half-width katakana
			i++
			prevPair = false
		case c >= 0x81 && c <= 0x9F || c >= 0xE0 && c <= 0xFC:
			if i+1 >= len(b) {
				return false
			}
			t := b[i+1]
			if t < 0x40 || t == 0x7F || t > 0xFC {
				return false
			}
			high := t >= 0x80
			if c <= 0x9F || prevPair && high {
				japanese = true
			}
			prevPair = high
			i += 2
		default:
			return false // 0x80, 0xA0, 0xFD-0xFF
		}
	}
	return japanese
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// decodeText turns an OCTET STRING meant as text into display text the
// way the printer meant it. Besides what cleanText handles, some agents
// send the text as hex digits ("42 6C 61 63 6B 00"), and some recordings
// and relays keep the first line as text and the rest as hex lines
// (net-snmp prints long values 16 bytes a line): "HP LaserJet MF\n50 20
// 4D 31 33 30" is "HP LaserJet MFP M130". Hex is decoded only where every
// token is one hex byte and the bytes decoded are printable.
func decodeText(b []byte) string {
	if hasUTF16BOM(b) {
		return cleanText(b) // its NULs are half its characters
	}
	if i := indexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	// Most values are plain text: rule hex out without allocating.
	if onlyHexAndSpace(b) {
		if decoded, ok := hexText(string(b)); ok {
			return decoded
		}
	}
	if first, rest, ok := cutLine(b); ok && onlyHexAndSpace(rest) {
		if tail, ok := hexBytes(string(rest)); ok {
			return cleanText(slices.Concat(first, tail))
		}
	}
	return cleanText(b)
}

// onlyHexAndSpace reports whether b holds hex digits and white space only.
func onlyHexAndSpace(b []byte) bool {
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		case c == ' ', c == '\t', c == '\n', c == '\r':
		default:
			return false
		}
	}
	return true
}

// cutLine splits b at its first line break.
func cutLine(b []byte) (first, rest []byte, ok bool) {
	for i, c := range b {
		if c == '\n' || c == '\r' {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// hexText decodes text that is only hex bytes separated by white space
// into the text those bytes hold.
func hexText(s string) (string, bool) {
	if len(strings.Fields(s)) < 2 {
		return "", false
	}
	raw, ok := hexBytes(s)
	if !ok {
		return "", false
	}
	if i := indexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	if len(raw) == 0 {
		return "", false
	}
	return cleanText(raw), true
}

// hexBytes decodes white-space separated hex bytes ("50 20 4D"), and
// fails unless every token is one and every byte is printable ASCII or a
// NUL padding the end.
func hexBytes(s string) ([]byte, bool) {
	tokens := strings.Fields(s)
	if len(tokens) == 0 {
		return nil, false
	}
	raw := make([]byte, 0, len(tokens))
	for _, t := range tokens {
		if len(t) != 2 {
			return nil, false
		}
		v, err := hex.DecodeString(t)
		if err != nil {
			return nil, false
		}
		raw = append(raw, v[0])
	}
	end := len(raw)
	if i := indexByte(raw, 0); i >= 0 {
		end = i
	}
	for _, c := range raw[:end] {
		if c < 0x20 || c > 0x7e {
			return nil, false
		}
	}
	for _, c := range raw[end:] {
		if c != 0 {
			return nil, false
		}
	}
	return raw[:end], true
}

// detectedErrorNames are the bits of hrPrinterDetectedErrorState (RFC 3805
// updates RFC 2790's eight to fifteen over two octets), most significant
// bit of the first octet first.
var detectedErrorNames = [...]string{
	"lowPaper", "noPaper", "lowToner", "noToner",
	"doorOpen", "jammed", "offline", "serviceRequested",
	"inputTrayMissing", "outputTrayMissing", "markerSupplyMissing", "outputNearFull",
	"outputFull", "inputTrayEmpty", "overduePreventMaint",
}

// detectedErrors names the bits set in an hrPrinterDetectedErrorState
// value. Bits beyond the defined ones are ignored.
func detectedErrors(b []byte) []string {
	var out []string
	for bit, name := range detectedErrorNames {
		i := bit / 8
		if i >= len(b) {
			break
		}
		if b[i]&(0x80>>(bit%8)) != 0 {
			out = append(out, name)
		}
	}
	return out
}
