package state

import (
	"errors"
	"fmt"
	"strings"
)

// IsHashValue reports whether v has the form HashValue or Key.Hash
// produces. Backends refuse anything else as a setting's hash, but "" (a
// hash not known), so that a plain (possibly secret) value can never be
// written to state by mistake.
func IsHashValue(v string) bool {
	if h, ok := strings.CutPrefix(v, "sha256:"); ok {
		return isHex64(h)
	}
	return IsKeyedHash(v)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isRecordedHash is what a setting's hash may be: a hash, or "" when it is
// not known (states written before sensitive values were keyed had their
// plain hashes dropped).
func isRecordedHash(v string) bool { return v == "" || IsHashValue(v) }

// Validate refuses a record a backend must not store: a printer without a
// name, a setting or file that is unnamed or whose value is not a
// HashValue, or a value in clear whose setting is not recorded with its
// plain HashValue. That last rule keeps sensitive values out: they are
// recorded keyed (Key.Hash), never next to their value. The value is
// never repeated: it may be a secret.
func (p Printer) Validate() error {
	if p.Name == "" {
		return errors.New("printer with empty name")
	}
	for k, v := range p.Settings {
		if k == "" {
			return fmt.Errorf("printer %s: setting with empty name", p.Name)
		}
		if !isRecordedHash(v) {
			return fmt.Errorf("printer %s: setting %s: value is not a state.HashValue; refusing to store it", p.Name, k)
		}
	}
	for k, v := range p.Files {
		if k == "" {
			return fmt.Errorf("printer %s: file with empty name", p.Name)
		}
		if !IsHashValue(v) {
			return fmt.Errorf("printer %s: file %s: value is not a state.HashValue; refusing to store it", p.Name, k)
		}
	}
	for k, v := range p.Values {
		if h, ok := p.Settings[k]; !ok || h != HashValue(v) {
			return fmt.Errorf("printer %s: setting %s: a value in clear must come with its plain HashValue; refusing to store it", p.Name, k)
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
		if !isRecordedHash(v) {
			return fmt.Errorf("changed setting %s: value is not a state.HashValue; refusing to store it", k)
		}
	}
	return nil
}
