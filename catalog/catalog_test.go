package catalog

import (
	"slices"
	"strings"
	"testing"
)

func ptr(n int64) *int64 { return &n }

func TestBuiltinCatalog(t *testing.T) {
	c := Default()
	if err := c.Check(); err != nil {
		t.Fatalf("built-in catalog:\n%v", err)
	}
	if c.Version < 2 {
		t.Errorf("version %d: the catalog changed, so its version must rise", c.Version)
	}
	if n := len(c.Settings); n < 30 {
		t.Errorf("%d settings, want at least 30", n)
	}
	// Settings fleet tools are expected to manage, named in the design.
	for _, name := range []string{
		"system.contact", "system.location", "system.name", "power.sleep_timeout_min", "power.energy_saver",
		"paper.default_size", "paper.default_type", "print.default_copies", "print.duplex", "print.toner_darkness",
		"panel.language", "system.time_zone", "network.ntp_server", "system.admin_email", "security.http_enabled",
		"security.ftp_enabled", "security.telnet_enabled", "security.https_only", "security.snmp_v1v2_disabled",
	} {
		if _, ok := c.Lookup(name); !ok {
			t.Errorf("setting %s missing", name)
		}
	}
	for _, s := range c.Settings {
		if strings.TrimSpace(s.Description) == "" {
			t.Errorf("%s: no description", s.Name)
		}
		// The embedded web server's form uses the setting name with dots
		// turned into underscores; docs/settings.md promises it.
		want := strings.ReplaceAll(s.Name, ".", "_")
		if s.EWS != nil && s.EWS.Field != want {
			t.Errorf("%s: EWS field %q, want %q", s.Name, s.EWS.Field, want)
		}
		// Hardening settings travel only over the embedded web server:
		// they are not PJL environment variables and have no standard OID.
		if strings.HasPrefix(s.Name, "security.") && (s.SNMP != nil || s.PJL != nil || s.EWS == nil) {
			t.Errorf("%s: hardening settings are bound to EWS only", s.Name)
		}
		for _, fam := range c.Families {
			b := s.Bindings(fam.Name)
			if b.PJL == nil {
				continue
			}
			// Every value the catalog allows must reach the device and come
			// back as itself.
			for _, v := range s.sampleValues() {
				if got := b.PJL.CatalogValue(b.PJL.DeviceValue(v)); got != v {
					t.Errorf("%s on %s: %q → %q → %q", s.Name, fam.Name, v, b.PJL.DeviceValue(v), got)
				}
			}
		}
	}
}

// sampleValues returns values of the setting worth round-tripping.
func (s Setting) sampleValues() []string {
	switch s.Type {
	case TypeEnum:
		return s.Enum
	case TypeBool:
		return []string{"true", "false"}
	}
	if s.Default != "" {
		return []string{s.Default}
	}
	return nil
}

func TestDefaultsAreCanonical(t *testing.T) {
	for _, s := range Default().Settings {
		if s.Default == "" {
			continue
		}
		if got, err := s.Validate(s.Default); err != nil || got != s.Default {
			t.Errorf("%s: default %q validates as %q, %v", s.Name, s.Default, got, err)
		}
	}
}

func TestCheckSetting(t *testing.T) {
	c := Default()
	snmp := &SNMP{OID: "1.3.6.1.4.1.99999.1.0", Type: SNMPInteger}
	tests := []struct {
		name  string
		s     Setting
		field string
		msg   string
	}{
		{"bad name", Setting{Name: "Acme.Tray", Type: TypeInteger, SNMP: snmp}, "name", "not a setting name"},
		{"unknown type", Setting{Name: "acme.x", Type: "float", EWS: &EWS{Field: "x"}}, "type", `unknown type "float"`},
		{"min above max", Setting{Name: "acme.x", Type: TypeInteger, Min: ptr(5), Max: ptr(1), SNMP: snmp}, "max", "max 1 is below min 5"},
		{"range on string", Setting{Name: "acme.x", Type: TypeString, Min: ptr(1), EWS: &EWS{Field: "x"}}, "min", "integer settings only"},
		{"empty enum", Setting{Name: "acme.x", Type: TypeEnum, EWS: &EWS{Field: "x"}}, "enum", "at least one allowed value"},
		{"duplicate enum value", Setting{Name: "acme.x", Type: TypeEnum, Enum: []string{"a", "a"}, EWS: &EWS{Field: "x"}}, "enum", `"a" is not`},
		{"enum on integer", Setting{Name: "acme.x", Type: TypeInteger, Enum: []string{"1"}, SNMP: snmp}, "enum", "enum settings only"},
		{"bad default", Setting{Name: "acme.x", Type: TypeInteger, Max: ptr(3), Default: "7", SNMP: snmp}, "default", "out of range"},
		{"non-canonical default", Setting{Name: "acme.x", Type: TypeBool, Default: "TRUE", EWS: &EWS{Field: "x"}}, "default", "canonical"},
		{"no binding", Setting{Name: "acme.x", Type: TypeString}, "", "no binding"},
		{"bad oid", Setting{Name: "acme.x", Type: TypeInteger, SNMP: &SNMP{OID: ".1.3.6.1", Type: SNMPInteger}}, "snmp.oid", "not a numeric OID"},
		{"bad snmp type", Setting{Name: "acme.x", Type: TypeInteger, SNMP: &SNMP{OID: "1.3.6.1", Type: "gauge"}}, "snmp.type", `unknown SNMP type "gauge"`},
		{"integer oid for string", Setting{Name: "acme.x", Type: TypeString, SNMP: snmp}, "snmp.type", "this setting is string"},
		{"bad pjl variable", Setting{Name: "acme.x", Type: TypeInteger, PJL: &PJL{Variable: "copies"}}, "pjl.variable", "not a PJL variable"},
		{"ambiguous pjl values", Setting{Name: "acme.x", Type: TypeEnum, Enum: []string{"a", "b"}, PJL: &PJL{Variable: "X", Values: map[string]string{"a": "ON", "b": "on"}}}, "pjl.values", "ambiguous"},
		{"pjl value key not allowed", Setting{Name: "acme.x", Type: TypeEnum, Enum: []string{"a"}, PJL: &PJL{Variable: "X", Values: map[string]string{"z": "Z"}}}, "pjl.values", "not one of"},
		{"bad ews field", Setting{Name: "acme.x", Type: TypeString, EWS: &EWS{Field: "Tray-Lock"}}, "ews.field", "not a form field name"},
		{"unknown family", Setting{Name: "acme.x", Type: TypeString, EWS: &EWS{Field: "x"}, Families: []string{"canon"}}, "families", `unknown model family "canon"`},
		{"unknown override family", Setting{Name: "acme.x", Type: TypeString, EWS: &EWS{Field: "x"}, Overrides: map[string]Bindings{"canon": {}}}, "overrides", `unknown model family "canon"`},
		{"bad override oid", Setting{Name: "acme.x", Type: TypeInteger, SNMP: snmp, Overrides: map[string]Bindings{"hp": {SNMP: &SNMP{OID: "1..3", Type: SNMPInteger}}}}, "overrides.hp.snmp.oid", "not a numeric OID"},
		{"only removals", Setting{Name: "acme.x", Type: TypeInteger, Overrides: map[string]Bindings{"hp": {PJL: &PJL{}}}}, "", "no binding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := c.CheckSetting(tt.s)
			i := slices.IndexFunc(ps, func(p Problem) bool { return p.Field == tt.field && strings.Contains(p.Message, tt.msg) })
			if i < 0 {
				t.Fatalf("problems %v; want one at %q containing %q", ps, tt.field, tt.msg)
			}
			if !strings.Contains(ps[i].Error(), "setting "+tt.s.Name) {
				t.Errorf("error %q does not name the setting", ps[i].Error())
			}
		})
	}
	good := Setting{Name: "acme.tray_lock", Type: TypeInteger, Min: ptr(0), Max: ptr(1), Default: "0", SNMP: snmp}
	if ps := c.CheckSetting(good); len(ps) != 0 {
		t.Errorf("sound setting reported: %v", ps)
	}
	enumOverSNMP := Setting{Name: "acme.mode", Type: TypeEnum, Enum: []string{"1", "2"}, SNMP: snmp}
	if ps := c.CheckSetting(enumOverSNMP); len(ps) != 0 {
		t.Errorf("enum of whole numbers over an SNMP integer reported: %v", ps)
	}
}

func TestValidOID(t *testing.T) {
	for oid, want := range map[string]bool{
		"1.3.6.1.2.1.1.6.0":       true,
		"0.0":                     true,
		"1.3.6.1.4.1.641.2.1.2.1": true,
		"":                        false,
		"1":                       false,
		".1.3.6":                  false,
		"1.3.":                    false,
		"3.1":                     false,
		"1.03":                    false,
		"1.3.a":                   false,
		"1.3.4294967296":          false,
		"1.3.4294967295":          true,
	} {
		if got := ValidOID(oid); got != want {
			t.Errorf("ValidOID(%q) = %v, want %v", oid, got, want)
		}
	}
}

func TestFamilyOf(t *testing.T) {
	c := Default()
	for model, want := range map[string]string{
		"Lexmark CX725":          "lexmark",
		"HP LaserJet M607":       "hp",
		"hp LaserJet 4250":       "hp",
		"Brother HL-L6400DW":     "brother",
		"RICOH IM C3000":         "ricoh",
		"Canon iR-ADV C5535":     "",
		"":                       "",
		"Lexmark":                "", // the pattern needs a model after the vendor
		"xerox Lexmark imposter": "",
	} {
		if got := c.FamilyOf(model); got != want {
			t.Errorf("FamilyOf(%q) = %q, want %q", model, got, want)
		}
	}
}

func TestBindings(t *testing.T) {
	base := &PJL{Variable: "POWERSAVETIME"}
	hpPJL := &PJL{Variable: "LPARM:PCL POWERSAVETIME"}
	s := Setting{
		Name: "power.x", Type: TypeInteger, PJL: base, EWS: &EWS{Field: "power_x"},
		Families: []string{"lexmark", "hp", "brother"},
		Overrides: map[string]Bindings{
			"hp":      {PJL: hpPJL},
			"brother": {PJL: &PJL{}},
		},
	}
	if b := s.Bindings("lexmark"); b.PJL != base || b.EWS == nil || b.SNMP != nil {
		t.Errorf("lexmark: %+v", b)
	}
	if b := s.Bindings("hp"); b.PJL != hpPJL || b.EWS == nil {
		t.Errorf("hp: override not applied: %+v", b)
	}
	if b := s.Bindings("brother"); b.PJL != nil || b.EWS == nil || !b.Any() {
		t.Errorf("brother: an empty override must remove PJL and keep EWS: %+v", b)
	}
	if b := s.Bindings("ricoh"); b.Any() {
		t.Errorf("ricoh is not in Families but has bindings %+v", b)
	}
	if b := s.Bindings(""); b.Any() {
		t.Errorf("unknown family has bindings %+v", b)
	}
	open := Setting{Name: "x", Type: TypeString, EWS: &EWS{Field: "x"}}
	if b := open.Bindings(""); b.EWS == nil {
		t.Error("a setting without Families must apply to models of no known family")
	}

	// The built-in data states real differences between families.
	c := Default()
	sleep, _ := c.Lookup("power.sleep_timeout_min")
	if sleep.Bindings("lexmark").PJL == nil || sleep.Bindings("brother").PJL != nil || sleep.Bindings("brother").EWS == nil {
		t.Errorf("power.sleep_timeout_min: PJL on lexmark, EWS only on brother; got lexmark %+v brother %+v", sleep.Bindings("lexmark"), sleep.Bindings("brother"))
	}
	ret, _ := c.Lookup("print.resolution_enhancement")
	if ret.Bindings("hp").PJL == nil || ret.Bindings("lexmark").Any() {
		t.Errorf("print.resolution_enhancement is an HP feature")
	}
	contact, _ := c.Lookup("system.contact")
	if b := contact.Bindings("ricoh"); b.SNMP == nil || b.SNMP.OID != "1.3.6.1.2.1.1.4.0" {
		t.Errorf("system.contact: %+v", b)
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	tests := []struct {
		setting, value, want, err string
	}{
		{"system.contact", "IT x4000", "IT x4000", ""},
		{"system.contact", strings.Repeat("x", 256), "", "256 bytes long; the maximum is 255"},
		{"system.contact", "\xff", "", "not valid UTF-8"},
		{"system.contact", "IT\x00x4000", "", "system.contact: value contains the control character U+0000 at byte 2"},
		{"system.contact", "line\r\nbreak", "", "control character U+000D at byte 4"},
		{"system.contact", "del\x7f", "", "control character U+007F"},
		{"system.contact", "Bureau \u00e9tage 2 \u2013 IT", "Bureau \u00e9tage 2 \u2013 IT", ""},
		{"print.default_copies", "1", "1", ""},
		{"print.default_copies", "999", "999", ""},
		{"print.default_copies", "007", "7", ""},
		{"print.default_copies", "0", "", "print.default_copies: 0 is out of range 1..999"},
		{"print.default_copies", "1000", "", "1000 is out of range 1..999"},
		{"print.default_copies", "2.5", "", `"2.5" is not a whole number`},
		{"printer.localization", "-1", "", "-1 is out of range 1..…"},
		{"paper.default_size", "A4", "A4", ""},
		{"paper.default_size", "a4", "", `paper.default_size: "a4" is not one of`},
		{"paper.default_size", "Tabloid", "", `"Letter"`},
		{"print.duplex", "true", "true", ""},
		{"print.duplex", "FALSE", "false", ""},
		{"print.duplex", "1", "true", ""},
		{"print.duplex", "yes", "", `print.duplex: "yes" is not true or false`},
	}
	for _, tt := range tests {
		s, ok := c.Lookup(tt.setting)
		if !ok {
			t.Fatalf("no setting %s", tt.setting)
		}
		got, err := s.Validate(tt.value)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("%s(%q) = %q, %v; want %q", tt.setting, tt.value, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s(%q) error %v; want one containing %q", tt.setting, tt.value, err, tt.err)
		}
	}
	if _, err := (Setting{Name: "x", Type: "float"}).Validate("1"); err == nil || !strings.Contains(err.Error(), `unknown type "float"`) {
		t.Errorf("unknown type: %v", err)
	}
}

func TestPJLValues(t *testing.T) {
	p := PJL{Variable: "DUPLEX", Values: map[string]string{"true": "ON", "false": "OFF"}}
	if got := p.DeviceValue("true"); got != "ON" {
		t.Errorf("DeviceValue(true) = %q", got)
	}
	if got := p.CatalogValue("off"); got != "false" {
		t.Errorf("CatalogValue(off) = %q: PJL values compare case-insensitively", got)
	}
	if got := p.CatalogValue("AUTO"); got != "AUTO" {
		t.Errorf("unmapped value changed to %q", got)
	}
	plain := PJL{Variable: "COPIES"}
	if plain.DeviceValue("3") != "3" || plain.CatalogValue("3") != "3" {
		t.Error("values without a mapping must pass through")
	}
}

func TestWith(t *testing.T) {
	c := Default()
	n := len(c.Settings)
	lock := Setting{Name: "acme.tray_lock", Type: TypeInteger, Min: ptr(0), Max: ptr(1), SNMP: &SNMP{OID: "1.3.6.1.4.1.99999.1.0", Type: SNMPInteger}}
	zone := Setting{Name: "aaa.zone", Type: TypeString, EWS: &EWS{Field: "zone"}}
	ext, err := c.With(lock, zone)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Settings) != n {
		t.Fatal("With changed the catalog it was called on")
	}
	if _, ok := c.Lookup("acme.tray_lock"); ok {
		t.Fatal("With added to the catalog it was called on")
	}
	if len(ext.Settings) != n+2 || ext.Version != c.Version || len(ext.Families) != len(c.Families) {
		t.Fatalf("extended catalog: %d settings, version %d", len(ext.Settings), ext.Version)
	}
	for _, name := range []string{"acme.tray_lock", "aaa.zone", "system.contact", "print.duplex"} {
		if _, ok := ext.Lookup(name); !ok {
			t.Errorf("extended catalog lacks %s", name)
		}
	}
	if names := ext.Names(); !slices.IsSorted(names) {
		t.Error("names not sorted")
	}
	if same, err := c.With(); err != nil || same != c {
		t.Error("With() without settings must return the catalog itself")
	}

	for _, tt := range []struct {
		name  string
		extra []Setting
		want  string
	}{
		{"built-in name", []Setting{{Name: "system.contact", Type: TypeString, EWS: &EWS{Field: "c"}}}, "system.contact: the name is taken by a built-in setting"},
		{"twice", []Setting{zone, zone}, "aaa.zone: defined twice"},
		{"invalid", []Setting{{Name: "acme.x", Type: TypeString}}, "no binding"},
	} {
		if _, err := c.With(tt.extra...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	if _, err := Parse([]byte(`{"settings":[{"name":"a","type":"string"},{"name":"a","type":"string"}]}`)); err == nil || !strings.Contains(err.Error(), `"a" defined twice`) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := Parse([]byte(`{`)); err == nil || !strings.Contains(err.Error(), "settings catalog") {
		t.Errorf("syntax: %v", err)
	}
}
