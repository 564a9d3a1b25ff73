// Package catalog maps setting names (system.contact, …) to how each is
// read and written. The catalog is data: an embedded, versioned JSON file.
// Adding a setting for a new transport adds an entry, not a code path.
// The catalog also knows the model families and how their firmware
// versions are ordered (CompareVersions).
//
// The package also holds the transport table (Transports): the names a
// configuration's `transports` may list, their standard ports, what each
// carries and which binding kind carries its settings.
//
// docs/settings.md is generated from the embedded catalog; run
// `go generate ./catalog` after changing catalog.json.
package catalog

//go:generate go run ./internal/gendoc -o ../docs/settings.md

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

//go:embed catalog.json
var builtin []byte

// Setting types.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeEnum    = "enum"
	// TypeBool values are canonically "true" or "false".
	TypeBool = "bool"
)

// Types lists the setting types, in the order documentation shows them.
var Types = []string{TypeString, TypeInteger, TypeEnum, TypeBool}

// SNMP value types.
const (
	SNMPOctetString = "octetstring"
	SNMPInteger     = "integer"
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
	NPAP *NPAP `json:"npap,omitempty"`
	// Families, when set, lists the model families that support the setting
	// at all; on other families it is reported as unsupported.
	Families []string `json:"families,omitempty"`
	// Overrides replace bindings for one model family (by family name).
	// An override binding with an empty OID, variable or field removes
	// that binding for the family (the family lacks it on that transport).
	Overrides map[string]Bindings `json:"overrides,omitempty"`
}

// Bindings are a setting's transport bindings for one model family.
type Bindings struct {
	SNMP *SNMP `json:"snmp,omitempty"`
	PJL  *PJL  `json:"pjl,omitempty"`
	EWS  *EWS  `json:"ews,omitempty"`
	NPAP *NPAP `json:"npap,omitempty"`
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

// NPAP says which numbered setting of the printer's own management
// protocols (NPAP, XMLNT) holds a setting (see docs/protocols/npap.md).
// ID 0 in an override removes the binding for that family.
type NPAP struct {
	ID int `json:"id"` // 1–65535
}

// MaxNPAPID is the largest setting number NPAP carries (16 bits).
const MaxNPAPID = 65535

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
// model, or "" when none does or c is nil.
func (c *Catalog) FamilyOf(model string) string {
	if c == nil {
		return ""
	}
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
	b := Bindings{SNMP: s.SNMP, PJL: s.PJL, EWS: s.EWS, NPAP: s.NPAP}
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
		if o.NPAP != nil {
			b.NPAP = o.NPAP
		}
	}
	// Empty bindings (an override removing one) read as absent, so callers
	// only ever test for nil.
	if b.SNMP != nil && b.SNMP.OID == "" {
		b.SNMP = nil
	}
	if b.PJL != nil && b.PJL.Variable == "" {
		b.PJL = nil
	}
	if b.EWS != nil && b.EWS.Field == "" {
		b.EWS = nil
	}
	if b.NPAP != nil && b.NPAP.ID == 0 {
		b.NPAP = nil
	}
	return b
}

// Any reports whether at least one transport can carry the setting.
func (b Bindings) Any() bool { return b.SNMP != nil || b.PJL != nil || b.EWS != nil || b.NPAP != nil }

// DeviceValue returns the PJL value that stands for the catalog value v.
func (p PJL) DeviceValue(v string) string {
	if d, ok := p.Values[v]; ok {
		return d
	}
	return v
}

// CatalogValue returns the catalog value a device's PJL value stands for.
// PJL values compare case-insensitively: printers differ in how they echo
// them. A value without a mapping comes back unchanged for the caller to
// validate.
func (p PJL) CatalogValue(d string) string {
	for k, v := range p.Values {
		if strings.EqualFold(v, d) {
			return k
		}
	}
	return d
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
		// NUL ends a C string on the device (the value reads back cut and
		// never converges); CR and LF end a PJL line; no transport carries
		// control characters intact.
		for i, r := range value {
			if r < 0x20 || r == 0x7f {
				return "", fmt.Errorf("%s: value contains the control character U+%04X at byte %d, which printers do not store intact", s.Name, r, i)
			}
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
		return "", fmt.Errorf("%s: %q is not one of %s", s.Name, value, hclList(s.Enum))
	case TypeBool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return "", fmt.Errorf("%s: %q is not true or false", s.Name, value)
		}
		return strconv.FormatBool(b), nil
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

// hclList writes names as an HCL list of strings, the form a user would
// write them in: ["A3", "A4"].
func hclList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
