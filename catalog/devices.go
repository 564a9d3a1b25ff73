package catalog

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The identity rules say, per vendor, where a printer keeps its model,
// firmware version and serial number. Agents disagree: one has the model
// in hrDeviceDescr, another only in sysDescr next to a dozen firmware
// fields, a third in the IEEE 1284 device ID or its vendor's tree. The
// rules are data (devices.json) so that a vendor is added, or a user's
// odd device taught, without a code path.

//go:embed devices.json
var builtinDevices []byte

// Sources of an identity value (Source.From).
const (
	FromSysDescr      = "sys_descr"
	FromHrDeviceDescr = "hr_device_descr" // the printer's row of hrDeviceTable
	FromOID           = "oid"             // any OCTET STRING object, by OID
	FromDeviceID      = "device_id"       // a field of the IEEE 1284 device ID held by OID
)

// maxIdentityLen bounds an identity value, whatever an agent sends.
const maxIdentityLen = 128

// Devices is a set of identity rules, safe for concurrent use.
type Devices struct {
	Version int `json:"version"`
	// Placeholders are values that mean "none" ("unknown", "n/a"):
	// a source that yields one yields nothing.
	Placeholders []string `json:"placeholders"`
	// Vendors are tried in order; the first whose Match fits wins.
	Vendors []DeviceRule `json:"vendors"`
	// Default holds the sources tried after the vendor's, and the only
	// ones for a device no vendor rule matches.
	Default DeviceRule `json:"default"`
}

// DeviceRule says where one vendor's devices keep their identity.
type DeviceRule struct {
	Vendor string `json:"vendor"`
	// Match lists alternatives: the rule applies when any fits.
	Match []DeviceMatch `json:"match,omitempty"`
	// Model, Firmware and Serial list sources in order of preference;
	// the first that yields a value wins.
	Model    []Source `json:"model"`
	Firmware []Source `json:"firmware"`
	Serial   []Source `json:"serial"`

	devices *Devices // for the placeholders
	// chains are the sources of model, firmware and serial, each
	// followed by the default rule's.
	chains [3][]*Source
}

// DeviceMatch fits a device when each of its set fields does.
type DeviceMatch struct {
	// Enterprise is the private enterprise number sysObjectID is under
	// (1.3.6.1.4.1.N…).
	Enterprise int `json:"enterprise,omitempty"`
	// SysDescr is a regular expression (RE2) that sysDescr must match.
	SysDescr string `json:"sys_descr,omitempty"`

	sysDescr *regexp.Regexp
}

// Source is one place an identity value may be read from.
type Source struct {
	From string `json:"from"` // one of the From* values
	// OID names the object for FromOID and FromDeviceID, without a
	// leading dot.
	OID string `json:"oid,omitempty"`
	// Field is the device ID key (MFG, MDL, DES, CMD, CLS; the long forms
	// MANUFACTURER, MODEL, … are the same keys).
	Field string `json:"field,omitempty"`
	// Pattern, a regular expression (RE2), picks the value out of the
	// text: its first group, or the whole match when it has none. Text it
	// does not match yields nothing.
	Pattern string `json:"pattern,omitempty"`
	// Prefix is put before a value that does not already start with it,
	// for sources that leave the brand out ("MC873" → "OKI MC873").
	Prefix string `json:"prefix,omitempty"`

	pattern *regexp.Regexp
}

// Identity is what the rules make of a device.
type Identity struct {
	Vendor   string // the matched rule's vendor; "" when none matched
	Model    string
	Firmware string
	Serial   string
}

// DeviceFacts is what has been read from a device so far.
type DeviceFacts struct {
	SysObjectID string // dotted, with or without a leading dot
	SysDescr    string
	// HrDeviceDescr is the printer's hrDeviceDescr. HrDeviceDescrPending
	// says it has not been read yet (the printer's row is not known).
	HrDeviceDescr        string
	HrDeviceDescrPending bool
	// Objects holds the text of every object asked for, by OID without a
	// leading dot: "" when the agent does not have it. An OID that is not
	// a key has not been asked for.
	Objects map[string]string
}

var defaultDevices = mustParseDevices(builtinDevices)

// DefaultDevices returns the built-in identity rules.
func DefaultDevices() *Devices { return defaultDevices }

func mustParseDevices(data []byte) *Devices {
	d, err := ParseDevices(data)
	if err != nil {
		panic(err) // the embedded file is part of the build
	}
	return d
}

// ParseDevices reads identity rules from their JSON form and checks them.
func ParseDevices(data []byte) (*Devices, error) {
	var d Devices
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("device rules: %w", err)
	}
	for i := range d.Placeholders {
		d.Placeholders[i] = strings.ToLower(strings.TrimSpace(d.Placeholders[i]))
	}
	d.Default.devices = &d
	if len(d.Default.Match) > 0 || d.Default.Vendor != "" {
		return nil, fmt.Errorf("device rules: the default rule has no vendor and matches every device")
	}
	if err := d.Default.compile(); err != nil {
		return nil, fmt.Errorf("device rules: default: %w", err)
	}
	for i := range d.Vendors {
		r := &d.Vendors[i]
		r.devices = &d
		if r.Vendor == "" {
			return nil, fmt.Errorf("device rules: rule %d names no vendor", i+1)
		}
		if len(r.Match) == 0 {
			return nil, fmt.Errorf("device rules: %s: no match", r.Vendor)
		}
		if err := r.compile(); err != nil {
			return nil, fmt.Errorf("device rules: %s: %w", r.Vendor, err)
		}
	}
	d.Default.chain(nil)
	for i := range d.Vendors {
		d.Vendors[i].chain(&d.Default)
	}
	return &d, nil
}

// With returns these rules with extra vendor rules tried before them (a
// configuration's own, which may also read a known vendor's devices
// differently). d is not changed.
func (d *Devices) With(extra ...DeviceRule) (*Devices, error) {
	if len(extra) == 0 {
		return d, nil
	}
	all := struct {
		Version      int          `json:"version"`
		Placeholders []string     `json:"placeholders"`
		Vendors      []DeviceRule `json:"vendors"`
		Default      DeviceRule   `json:"default"`
	}{d.Version, d.Placeholders, append(slices.Clone(extra), d.Vendors...), d.Default}
	data, err := json.Marshal(all)
	if err != nil {
		return nil, fmt.Errorf("device rules: %w", err)
	}
	return ParseDevices(data)
}

// chain lists the rule's sources of each value, then the fallback's.
func (r *DeviceRule) chain(fallback *DeviceRule) {
	for i, list := range [][]Source{r.Model, r.Firmware, r.Serial} {
		for j := range list {
			r.chains[i] = append(r.chains[i], &list[j])
		}
		if fallback != nil {
			r.chains[i] = append(r.chains[i], fallback.chains[i]...)
		}
	}
}

// FieldError is a problem of one field of a rule's match or source, by its
// JSON name ("enterprise", "sys_descr", "from", "oid", "field", "pattern"),
// so that a rule written elsewhere (an HCL device block) can say where.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldError(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Check reports what is wrong with a match, as a *FieldError when one
// field is to blame.
func (m DeviceMatch) Check() error { return m.compile() }

// Check reports what is wrong with a source, as a *FieldError when one
// field is to blame.
func (s Source) Check() error { return s.compile() }

func (m *DeviceMatch) compile() error {
	if m.Enterprise == 0 && m.SysDescr == "" {
		return errors.New("needs an enterprise or a sys_descr pattern")
	}
	if m.Enterprise < 0 {
		return fieldError("enterprise", "enterprise %d is not a private enterprise number", m.Enterprise)
	}
	if m.SysDescr != "" {
		re, err := regexp.Compile(m.SysDescr)
		if err != nil {
			return &FieldError{Field: "sys_descr", Err: fmt.Errorf("sys_descr: %w", err)}
		}
		m.sysDescr = re
	}
	return nil
}

func (r *DeviceRule) compile() error {
	for i := range r.Match {
		if err := r.Match[i].compile(); err != nil {
			return fmt.Errorf("match %d: %w", i+1, err)
		}
	}
	for _, list := range []struct {
		name    string
		sources []Source
	}{{"model", r.Model}, {"firmware", r.Firmware}, {"serial", r.Serial}} {
		for i := range list.sources {
			if err := list.sources[i].compile(); err != nil {
				return fmt.Errorf("%s source %d: %w", list.name, i+1, err)
			}
		}
	}
	return nil
}

func (s *Source) compile() error {
	switch s.From {
	case FromSysDescr, FromHrDeviceDescr:
		if s.OID != "" {
			return fieldError("oid", "%s takes no oid", s.From)
		}
		if s.Field != "" {
			return fieldError("field", "%s takes no field", s.From)
		}
	case FromOID, FromDeviceID:
		if !isNumericOID(s.OID) {
			return fieldError("oid", "%s: oid %q is not a dotted numeric OID without a leading dot", s.From, s.OID)
		}
		if (s.From == FromDeviceID) != (s.Field != "") {
			return fieldError("field", "%s: a field goes with device_id and only with it", s.From)
		}
		s.Field = deviceIDKey(s.Field)
	default:
		return fieldError("from", "from %q: want %s, %s, %s or %s", s.From, FromSysDescr, FromHrDeviceDescr, FromOID, FromDeviceID)
	}
	if s.Pattern != "" {
		re, err := regexp.Compile(s.Pattern)
		if err != nil {
			return &FieldError{Field: "pattern", Err: fmt.Errorf("pattern: %w", err)}
		}
		s.pattern = re
	}
	return nil
}

func isNumericOID(oid string) bool {
	if oid == "" {
		return false
	}
	for _, arc := range strings.Split(oid, ".") {
		if arc == "" || strings.Trim(arc, "0123456789") != "" {
			return false
		}
	}
	return true
}

// Match returns the rule for a device: the first vendor rule that fits,
// else the default rule.
func (d *Devices) Match(sysObjectID, sysDescr string) *DeviceRule {
	ent, hasEnt := enterpriseOf(sysObjectID)
	for i := range d.Vendors {
		r := &d.Vendors[i]
		for _, m := range r.Match {
			if m.Enterprise != 0 && (!hasEnt || m.Enterprise != ent) {
				continue
			}
			if m.sysDescr != nil && !m.sysDescr.MatchString(sysDescr) {
				continue
			}
			return r
		}
	}
	return &d.Default
}

// enterpriseOf returns N of a sysObjectID under 1.3.6.1.4.1.N.
func enterpriseOf(oid string) (int, bool) {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(oid, "."), "1.3.6.1.4.1.")
	if !ok {
		return 0, false
	}
	arc, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(arc)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// Identify reads the device's identity from the facts, and lists the
// objects (OIDs without a leading dot, each once) that the rule prefers to
// a value found, or that might give a value where none was found, and that
// have not been read: what one more request should ask for before
// calling Identify again. The list is empty when the facts settle every
// value the rule can find.
func (r *DeviceRule) Identify(f DeviceFacts) (Identity, []string) {
	id := Identity{Vendor: r.Vendor}
	var missing []string
	for i, chain := range r.chains {
		v := ""
		for _, s := range chain {
			if s.From == FromOID || s.From == FromDeviceID {
				if _, read := f.Objects[s.OID]; !read {
					if !slices.Contains(missing, s.OID) {
						missing = append(missing, s.OID)
					}
					continue
				}
			}
			if v = r.value(s, f); v != "" {
				break
			}
		}
		switch i {
		case 0:
			id.Model = v
		case 1:
			id.Firmware = v
		case 2:
			id.Serial = v
		}
	}
	return id, missing
}

// value is what one source yields from the facts, cleaned; "" for none.
func (r *DeviceRule) value(s *Source, f DeviceFacts) string {
	var text string
	switch s.From {
	case FromSysDescr:
		text = f.SysDescr
	case FromHrDeviceDescr:
		if f.HrDeviceDescrPending {
			return ""
		}
		text = f.HrDeviceDescr
	case FromOID:
		text = f.Objects[s.OID]
	case FromDeviceID:
		text = DeviceIDField(f.Objects[s.OID], s.Field)
	}
	if text == "" {
		return ""
	}
	if s.pattern != nil {
		m := s.pattern.FindStringSubmatch(text)
		switch {
		case m == nil:
			return ""
		case len(m) > 1:
			text = m[1]
		default:
			text = m[0]
		}
	}
	text = cleanIdentity(text)
	if text == "" || r.placeholder(text) {
		return ""
	}
	if s.Prefix != "" && !hasPrefixFold(text, strings.TrimSpace(s.Prefix)) {
		text = cleanIdentity(s.Prefix + text)
	}
	return text
}

func (r *DeviceRule) placeholder(v string) bool {
	if r.devices == nil {
		return false
	}
	lower := strings.ToLower(v)
	for _, p := range r.devices.Placeholders {
		if lower == p {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// cleanIdentity collapses white space, drops control characters and
// separators left at either end, and bounds the length.
func cleanIdentity(s string) string {
	if isCleanIdentity(s) {
		return s
	}
	var b strings.Builder
	space := false
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) || c == utf8.RuneError {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+utf8.RuneLen(c) > maxIdentityLen {
			break
		}
		b.WriteRune(c)
	}
	return strings.TrimRight(b.String(), " ,;:/")
}

// isCleanIdentity reports whether cleanIdentity would return s as it is,
// as it does for most values: checking costs no allocation.
func isCleanIdentity(s string) bool {
	if s == "" || len(s) > maxIdentityLen || s[0] == ' ' || strings.ContainsRune(" ,;:/", rune(s[len(s)-1])) {
		return false
	}
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80 || c < 0x20 || c == 0x7f:
			return false // not ASCII, or a control character: the slow path decides
		case c == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	return true
}

// deviceIDKeys maps the long IEEE 1284 keys to the short ones.
var deviceIDKeys = map[string]string{
	"MANUFACTURER": "MFG",
	"MANUFACTURE":  "MFG", // as OKI spells it
	"MODEL":        "MDL",
	"COMMAND SET":  "CMD",
	"COMMANDSET":   "CMD",
	"CLASS":        "CLS",
	"DESCRIPTION":  "DES",
}

func deviceIDKey(k string) string {
	k = strings.ToUpper(strings.TrimSpace(k))
	if short, ok := deviceIDKeys[k]; ok {
		return short
	}
	return k
}

// DeviceIDField returns one field of an IEEE 1284 device ID
// ("MFG:HP;CMD:PJL,PML;MDL:HP LaserJet MFP M129-M134;CLS:PRINTER;…"), by
// its short or long key, or "" when the ID lacks it. Keys are matched
// without regard to case or surrounding spaces; the first occurrence wins.
func DeviceIDField(id, key string) string {
	key = deviceIDKey(key)
	for id != "" {
		var part string
		part, id, _ = strings.Cut(id, ";")
		k, v, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		if deviceIDKey(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
