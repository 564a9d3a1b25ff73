package state

import "strings"

// IsHashValue reports whether v has the form HashValue produces. Backends
// refuse anything else as a setting value so that a plain (possibly
// secret) value can never be written to state by mistake.
func IsHashValue(v string) bool {
	hexPart, ok := strings.CutPrefix(v, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	for _, c := range hexPart {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
