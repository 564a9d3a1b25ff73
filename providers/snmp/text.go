package snmp

import (
	"encoding/hex"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanText turns an OCTET STRING from a printer into display text. Agents
// pad with NULs (C buffers), prefix HP PML type bytes, embed newlines and
// sometimes send Latin-1: cut at the first NUL, decode Latin-1 when the
// bytes are not UTF-8, turn control characters into spaces and collapse
// runs of white space.
func cleanText(b []byte) string {
	if i := indexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	var s string
	if utf8.Valid(b) {
		s = string(b)
	} else {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c) // Latin-1 maps byte for code point
		}
		s = string(r)
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
