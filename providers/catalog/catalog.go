// Package catalog maps setting names (system.contact, …) to how each is
// read and written. The catalog is data: an embedded, versioned JSON file.
// Adding a setting for a new transport adds an entry, not a code path.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"
)

//go:embed catalog.json
var builtin []byte

// Setting types.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeEnum    = "enum"
)

// Setting describes one managed setting.
type Setting struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Description string   `json:"description"`
	Unit        string   `json:"unit,omitempty"`
	MaxLength   int      `json:"max_length,omitempty"`
	Min         *int64   `json:"min,omitempty"`
	Max         *int64   `json:"max,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	SNMP        *SNMP    `json:"snmp,omitempty"`
}

// SNMP says how a setting maps to one SNMP object.
type SNMP struct {
	OID  string `json:"oid"`  // full instance OID, without a leading dot
	Type string `json:"type"` // "octetstring" or "integer"
}

// Catalog is an immutable set of settings, safe for concurrent use.
type Catalog struct {
	Version  int       `json:"version"`
	Settings []Setting `json:"settings"`
	byName   map[string]int
}

var defaultCatalog = mustParse(builtin)

// Default returns the built-in catalog.
func Default() *Catalog { return defaultCatalog }

// Parse reads a catalog from its JSON form.
func Parse(data []byte) (*Catalog, error) {
	var c Catalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("settings catalog: %w", err)
	}
	sort.Slice(c.Settings, func(i, j int) bool { return c.Settings[i].Name < c.Settings[j].Name })
	c.byName = make(map[string]int, len(c.Settings))
	for i, s := range c.Settings {
		if _, dup := c.byName[s.Name]; dup {
			return nil, fmt.Errorf("settings catalog: %q defined twice", s.Name)
		}
		c.byName[s.Name] = i
	}
	return &c, nil
}

func mustParse(data []byte) *Catalog {
	c, err := Parse(data)
	if err != nil {
		panic(err) // the embedded file is part of the build
	}
	return c
}

// Lookup returns the named setting.
func (c *Catalog) Lookup(name string) (Setting, bool) {
	i, ok := c.byName[name]
	if !ok {
		return Setting{}, false
	}
	return c.Settings[i], true
}

// Names returns every setting name, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, len(c.Settings))
	for i, s := range c.Settings {
		out[i] = s.Name
	}
	return out
}

// Validate checks a value against the setting's type, range and enum and
// returns it in canonical form.
func (s Setting) Validate(value string) (string, error) {
	switch s.Type {
	case TypeString:
		if !utf8.ValidString(value) {
			return "", fmt.Errorf("%s: value is not valid UTF-8", s.Name)
		}
		if s.MaxLength > 0 && len(value) > s.MaxLength {
			return "", fmt.Errorf("%s: value is %d bytes long; the maximum is %d", s.Name, len(value), s.MaxLength)
		}
		return value, nil
	case TypeInteger:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return "", fmt.Errorf("%s: %q is not a whole number", s.Name, value)
		}
		if s.Min != nil && n < *s.Min || s.Max != nil && n > *s.Max {
			return "", fmt.Errorf("%s: %d is out of range %s", s.Name, n, s.rangeText())
		}
		return strconv.FormatInt(n, 10), nil
	case TypeEnum:
		for _, e := range s.Enum {
			if e == value {
				return value, nil
			}
		}
		return "", fmt.Errorf("%s: %q is not one of %q", s.Name, value, s.Enum)
	}
	return "", fmt.Errorf("%s: unknown type %q", s.Name, s.Type)
}

func (s Setting) rangeText() string {
	lo, hi := "…", "…"
	if s.Min != nil {
		lo = strconv.FormatInt(*s.Min, 10)
	}
	if s.Max != nil {
		hi = strconv.FormatInt(*s.Max, 10)
	}
	return lo + ".." + hi
}
