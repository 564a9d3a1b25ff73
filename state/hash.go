package state

import (
	"errors"
	"fmt"
	"strings"
)

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

// Validate refuses a record a backend must not store: a printer without a
// name, or a setting or file that is unnamed or whose value is not a
// HashValue. The value is never repeated: it may be a secret.
func (p Printer) Validate() error {
	if p.Name == "" {
		return errors.New("printer with empty name")
	}
	for _, m := range []struct {
		what   string
		hashes map[string]string
	}{{"setting", p.Settings}, {"file", p.Files}} {
		for k, v := range m.hashes {
			if k == "" {
				return fmt.Errorf("printer %s: %s with empty name", p.Name, m.what)
			}
			if !IsHashValue(v) {
				return fmt.Errorf("printer %s: %s %s: value is not a state.HashValue; refusing to store it", p.Name, m.what, k)
			}
		}
	}
	return nil
}

// Validate refuses anything but hashes as changed values, as
// Printer.Validate does for settings; the value is never repeated.
func (o Outcome) Validate() error {
	for k, v := range o.Changed {
		if k == "" {
			return errors.New("changed setting with empty name")
		}
		if !IsHashValue(v) {
			return fmt.Errorf("changed setting %s: value is not a state.HashValue; refusing to store it", k)
		}
	}
	return nil
}
