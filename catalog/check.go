package catalog

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Problem is one inconsistency in a setting's definition. Field names the
// part at fault by its JSON path ("default", "snmp.oid",
// "overrides.hp.pjl.variable"), or is "" for the setting as a whole, so
// that a configuration loader can point at the attribute that declared it.
type Problem struct {
	Setting string
	Field   string
	Message string
}

func (p Problem) Error() string {
	if p.Field == "" {
		return fmt.Sprintf("setting %s: %s", p.Setting, p.Message)
	}
	return fmt.Sprintf("setting %s: %s: %s", p.Setting, p.Field, p.Message)
}

var (
	// Setting names are dotted lowercase words: "power.sleep_timeout_min".
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)
	// EWS form fields are snake_case.
	fieldRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// PJL variables are upper-case words; a personality-specific one has a
	// prefix such as "LPARM:PCL ".
	pjlVariableRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*(:[A-Z0-9_]+)?( [A-Z][A-Z0-9_]*)?$`)
)

// ValidName reports whether name is a well-formed setting name.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// ValidOID reports whether oid is a well-formed numeric object identifier
// without a leading dot: at least two arcs, the first 0, 1 or 2, each arc a
// 32-bit unsigned number.
func ValidOID(oid string) bool {
	arcs := strings.Split(oid, ".")
	if len(arcs) < 2 {
		return false
	}
	for i, a := range arcs {
		if a == "" || len(a) > 1 && a[0] == '0' {
			return false
		}
		n, err := strconv.ParseUint(a, 10, 32)
		if err != nil || i == 0 && n > 2 {
			return false
		}
	}
	return true
}

// Check reports every inconsistency in the catalog, joined; nil when the
// catalog is sound.
func (c *Catalog) Check() error {
	var errs []error
	for _, f := range c.Families {
		if f.Name == "" || len(f.Models) == 0 {
			errs = append(errs, fmt.Errorf("family %q: needs a name and at least one model pattern", f.Name))
		}
		for _, m := range f.Models {
			if _, err := path.Match(m, ""); err != nil {
				errs = append(errs, fmt.Errorf("family %s: model pattern %q: %w", f.Name, m, err))
			}
		}
	}
	for _, s := range c.Settings {
		for _, p := range c.CheckSetting(s) {
			errs = append(errs, p)
		}
	}
	return errors.Join(errs...)
}

// CheckSetting returns what is wrong with one setting's definition: its
// name, type, range, enum and default, and its bindings (at least one, each
// well-formed, naming only families the catalog knows).
func (c *Catalog) CheckSetting(s Setting) []Problem {
	var out []Problem
	bad := func(field, format string, args ...any) {
		out = append(out, Problem{Setting: s.Name, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !ValidName(s.Name) {
		bad("name", "%q is not a setting name: lowercase words of letters, digits and underscores, joined by dots", s.Name)
	}
	switch s.Type {
	case TypeString, TypeInteger, TypeEnum, TypeBool:
	default:
		bad("type", "unknown type %q; use one of %q", s.Type, Types)
	}
	if s.Type != TypeInteger && (s.Min != nil || s.Max != nil) {
		bad("min", "min and max apply to integer settings only")
	}
	if s.Min != nil && s.Max != nil && *s.Min > *s.Max {
		bad("max", "max %d is below min %d", *s.Max, *s.Min)
	}
	if s.MaxLength < 0 || s.MaxLength > 0 && s.Type != TypeString {
		bad("max_length", "max_length is a positive length for string settings only")
	}
	if s.Type == TypeEnum {
		if len(s.Enum) == 0 {
			bad("enum", "an enum setting needs at least one allowed value")
		}
		seen := map[string]bool{}
		for _, e := range s.Enum {
			if e == "" || seen[e] {
				bad("enum", "allowed values must be non-empty and distinct; %q is not", e)
			}
			seen[e] = true
		}
	} else if len(s.Enum) > 0 {
		bad("enum", "allowed values apply to enum settings only")
	}
	if s.Default != "" && s.Type != "" {
		if v, err := s.Validate(s.Default); err != nil {
			bad("default", "%v", err)
		} else if v != s.Default {
			bad("default", "default %q is not in canonical form %q", s.Default, v)
		}
	}
	for _, f := range s.Families {
		if !c.hasFamily(f) {
			bad("families", "unknown model family %q; the catalog has %q", f, c.familyNames())
		}
	}

	bound := false
	check := func(prefix string, b Bindings, removable bool) {
		if b.SNMP != nil {
			switch {
			case b.SNMP.OID == "" && removable:
			case !ValidOID(b.SNMP.OID):
				bound = true // malformed, not missing: one message is enough
				bad(prefix+"snmp.oid", "%q is not a numeric OID such as 1.3.6.1.2.1.1.6.0 (no leading dot)", b.SNMP.OID)
			default:
				bound = true
				switch b.SNMP.Type {
				case SNMPOctetString:
				case SNMPInteger:
					if !s.integerValued() {
						bad(prefix+"snmp.type", "an SNMP integer carries integer settings, or enums of whole numbers; this setting is %s", s.Type)
					}
				default:
					bad(prefix+"snmp.type", "unknown SNMP type %q; use %q or %q", b.SNMP.Type, SNMPOctetString, SNMPInteger)
				}
			}
		}
		if b.PJL != nil {
			switch {
			case b.PJL.Variable == "" && removable:
			case !pjlVariableRE.MatchString(b.PJL.Variable):
				bound = true
				bad(prefix+"pjl.variable", "%q is not a PJL variable name such as COPIES or LPARM:PCL PAPER", b.PJL.Variable)
			default:
				bound = true
				s.checkPJLValues(prefix, b.PJL, bad)
			}
		}
		if b.EWS != nil {
			switch {
			case b.EWS.Field == "" && removable:
			case !fieldRE.MatchString(b.EWS.Field):
				bound = true
				bad(prefix+"ews.field", "%q is not a form field name: lowercase letters, digits and underscores", b.EWS.Field)
			default:
				bound = true
			}
		}
		if b.NPAP != nil {
			switch {
			case b.NPAP.ID == 0 && removable:
			case b.NPAP.ID < 1 || b.NPAP.ID > MaxNPAPID:
				bound = true
				bad(prefix+"npap.id", "%d is not a setting number between 1 and %d", b.NPAP.ID, MaxNPAPID)
			default:
				bound = true
			}
		}
	}
	check("", Bindings{SNMP: s.SNMP, PJL: s.PJL, EWS: s.EWS, NPAP: s.NPAP}, false)
	for _, fam := range slices.Sorted(maps.Keys(s.Overrides)) {
		if !c.hasFamily(fam) {
			bad("overrides", "unknown model family %q; the catalog has %q", fam, c.familyNames())
		}
		check("overrides."+fam+".", s.Overrides[fam], true)
	}
	if !bound {
		bad("", "no binding: a setting needs at least one of snmp, pjl, ews or npap")
	}
	return out
}

// checkPJLValues checks that a PJL value mapping round-trips: every key is
// a valid catalog value and no two keys share a device value.
func (s Setting) checkPJLValues(prefix string, p *PJL, bad func(field, format string, args ...any)) {
	back := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(p.Values)) {
		v := p.Values[k]
		if s.Type != "" {
			if _, err := s.Validate(k); err != nil {
				bad(prefix+"pjl.values", "%v", err)
			}
		}
		if v == "" || strings.ContainsAny(v, "\"\r\n\x1b") {
			bad(prefix+"pjl.values", "PJL value %q for %q must be non-empty, without quotes or line breaks", v, k)
		}
		if prev, dup := back[strings.ToUpper(v)]; dup {
			bad(prefix+"pjl.values", "%q and %q both map to PJL value %q, so a value read back is ambiguous", prev, k, v)
		}
		back[strings.ToUpper(v)] = k
	}
}

// integerValued reports whether every value of the setting is a whole
// number, so an SNMP INTEGER can carry it.
func (s Setting) integerValued() bool {
	switch s.Type {
	case TypeInteger:
		return true
	case TypeEnum:
		for _, e := range s.Enum {
			if _, err := strconv.ParseInt(e, 10, 32); err != nil {
				return false
			}
		}
		return len(s.Enum) > 0
	}
	return false
}

func (c *Catalog) hasFamily(name string) bool {
	return slices.ContainsFunc(c.Families, func(f Family) bool { return f.Name == name })
}

func (c *Catalog) familyNames() []string {
	out := make([]string, len(c.Families))
	for i, f := range c.Families {
		out[i] = f.Name
	}
	return out
}

// With returns a catalog holding c's settings and extra ones (settings a
// configuration declares). An extra setting whose name is taken, or whose
// definition has problems, is an error; c itself is never changed.
func (c *Catalog) With(extra ...Setting) (*Catalog, error) {
	if len(extra) == 0 {
		return c, nil
	}
	var errs []error
	n := &Catalog{
		Version:  c.Version,
		Families: c.Families,
		Settings: make([]Setting, 0, len(c.Settings)+len(extra)),
		byName:   make(map[string]int, len(c.Settings)+len(extra)),
	}
	n.Settings = append(n.Settings, c.Settings...)
	for _, s := range extra {
		if _, taken := c.byName[s.Name]; taken {
			errs = append(errs, fmt.Errorf("setting %s: the name is taken by a built-in setting", s.Name))
			continue
		}
		if slices.ContainsFunc(n.Settings[len(c.Settings):], func(o Setting) bool { return o.Name == s.Name }) {
			errs = append(errs, fmt.Errorf("setting %s: defined twice", s.Name))
			continue
		}
		for _, p := range c.CheckSetting(s) {
			errs = append(errs, p)
		}
		n.Settings = append(n.Settings, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Slice(n.Settings, func(i, j int) bool { return n.Settings[i].Name < n.Settings[j].Name })
	for i, s := range n.Settings {
		n.byName[s.Name] = i
	}
	return n, nil
}
