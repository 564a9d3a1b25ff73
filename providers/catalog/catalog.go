// Package catalog maps setting names (system.contact, …) to how each is
// read and written. The catalog is data: an embedded, versioned JSON file.
// Adding a setting for a new transport adds an entry, not a code path.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
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
	// Default is the usual factory value (the simulator starts from it).
	Default string `json:"default,omitempty"`
	// Bindings say how the setting is read and written on each transport;
	// a nil binding means the transport cannot carry the setting.
	SNMP *SNMP `json:"snmp,omitempty"`
	PJL  *PJL  `json:"pjl,omitempty"`
	EWS  *EWS  `json:"ews,omitempty"`
	// Families, when set, lists the model families that support the setting
	// at all; on other families it is reported as unsupported.
	Families []string `json:"families,omitempty"`
	// Overrides replace bindings for one model family (by family name).
	Overrides map[string]Bindings `json:"overrides,omitempty"`
}

// Bindings are a setting's transport bindings for one model family.
type Bindings struct {
	SNMP *SNMP `json:"snmp,omitempty"`
	PJL  *PJL  `json:"pjl,omitempty"`
	EWS  *EWS  `json:"ews,omitempty"`
}

// PJL says how a setting maps to a PJL environment variable, read with
// `@PJL DINQUIRE` and written with `@PJL DEFAULT`.
type PJL struct {
	Variable string `json:"variable"` // e.g. "COPIES", "LPARM:PCL PAPER"
	// Values maps catalog values to PJL values where they differ
	// (e.g. "on" → "ON"); absent values pass through unchanged.
	Values map[string]string `json:"values,omitempty"`
}

// EWS says how a setting maps to a field of the embedded web server's
// settings form (see docs/protocols/ews.md).
type EWS struct {
	Field string `json:"field"`
}

// Family is a group of models that share how settings are reached.
type Family struct {
	Name   string   `json:"name"`
	Models []string `json:"models"` // path.Match patterns against the observed model, e.g. "Lexmark *"
}

// SNMP says how a setting maps to one SNMP object.
type SNMP struct {
	OID  string `json:"oid"`  // full instance OID, without a leading dot
	Type string `json:"type"` // "octetstring" or "integer"
}

// Catalog is an immutable set of settings, safe for concurrent use.
type Catalog struct {
	Version  int       `json:"version"`
	Families []Family  `json:"families,omitempty"`
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

// FamilyOf returns the name of the first family whose patterns match the
// model, or "" when none does.
func (c *Catalog) FamilyOf(model string) string {
	for _, f := range c.Families {
		for _, pat := range f.Models {
			if ok, _ := path.Match(pat, model); ok {
				return f.Name
			}
		}
	}
	return ""
}

// Bindings returns how the setting is reached on the given model family:
// the default bindings with the family's overrides applied. All bindings are
// nil when the family does not support the setting.
func (s Setting) Bindings(family string) Bindings {
	if len(s.Families) > 0 && !slices.Contains(s.Families, family) {
		return Bindings{}
	}
	b := Bindings{SNMP: s.SNMP, PJL: s.PJL, EWS: s.EWS}
	if o, ok := s.Overrides[family]; ok {
		if o.SNMP != nil {
			b.SNMP = o.SNMP
		}
		if o.PJL != nil {
			b.PJL = o.PJL
		}
		if o.EWS != nil {
			b.EWS = o.EWS
		}
	}
	return b
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
