package snmp

import (
	"encoding/hex"
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

// cleanDescription cleans a supply description. Some agents put the text
// as hex digits ("42 6C 61 63 6B 00"): when every space-separated token is
// one hex byte and the decoded bytes are printable, the decoded text wins.
func cleanDescription(b []byte) string {
	s := cleanText(b)
	if decoded, ok := hexText(s); ok {
		return decoded
	}
	return s
}

func hexText(s string) (string, bool) {
	tokens := strings.Fields(s)
	if len(tokens) < 2 {
		return "", false
	}
	raw := make([]byte, 0, len(tokens))
	for _, t := range tokens {
		if len(t) != 2 {
			return "", false
		}
		v, err := hex.DecodeString(t)
		if err != nil {
			return "", false
		}
		raw = append(raw, v[0])
	}
	if i := indexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	if len(raw) == 0 {
		return "", false
	}
	for _, c := range raw {
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	return cleanText(raw), true
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
