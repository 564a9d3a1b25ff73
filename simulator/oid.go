package simulator

import (
	"slices"
	"strconv"
	"strings"
)

// parseOID appends the arcs of a dotted OID (with or without a leading dot)
// to dst[:0]. It reports false for anything that is not a well-formed OID, so
// callers can treat it as "no such object" instead of failing.
func parseOID(dst []uint32, s string) ([]uint32, bool) {
	dst = dst[:0]
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return dst, false
	}
	for len(s) > 0 {
		var v uint64
		i := 0
		for ; i < len(s) && s[i] != '.'; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return dst, false
			}
			v = v*10 + uint64(c-'0')
			if v > 0xFFFFFFFF {
				return dst, false
			}
		}
		if i == 0 {
			return dst, false // empty arc: "1..3" or a trailing dot
		}
		dst = append(dst, uint32(v))
		s = s[i:]
		if len(s) > 0 {
			s = s[1:]
			if len(s) == 0 {
				return dst, false
			}
		}
	}
	return dst, true
}

// mustOID parses an OID written in this package's own tables.
func mustOID(s string) []uint32 {
	o, ok := parseOID(nil, s)
	if !ok {
		panic("simulator: bad built-in OID " + s) // a typo in a table literal
	}
	return o
}

// formatOID renders arcs in gosnmp's form, with a leading dot.
func formatOID(o []uint32) string {
	b := make([]byte, 0, len(o)*4)
	for _, a := range o {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(a), 10)
	}
	return string(b)
}

// compareOID orders OIDs lexicographically by arc, the order GETNEXT walks.
func compareOID(a, b []uint32) int {
	return slices.Compare(a, b)
}

// hasPrefix reports whether prefix is a prefix of (or equal to) o.
func hasPrefix(o, prefix []uint32) bool {
	return len(o) >= len(prefix) && slices.Equal(o[:len(prefix)], prefix)
}

// canonicalOID returns s parsed and re-rendered with a leading dot.
func canonicalOID(s string) (string, []uint32, bool) {
	o, ok := parseOID(nil, s)
	if !ok {
		return "", nil, false
	}
	return formatOID(o), o, true
}
