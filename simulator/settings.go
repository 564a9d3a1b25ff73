package simulator

import (
	"fmt"
	"strconv"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/catalog"
)

// A virtual printer keeps one store of settings whichever protocol writes
// them: a setting with an SNMP binding for the printer's model family lives
// in its MIB object (so an SNMP SET and a PJL DEFAULT of the same setting
// change the same value); any other setting lives in a map by name, starting
// from the catalog's default.

// Family returns the printer's model family in the settings catalog.
func (p *Printer) Family() string {
	return catalog.Default().FamilyOf(p.Model())
}

// Setting returns the current value of a catalog setting in its canonical
// string form. ok is false when the printer's family does not support it.
func (p *Printer) Setting(name string) (value string, ok bool) {
	s, b, ok := p.binding(name)
	if !ok {
		return "", false
	}
	if b.SNMP != nil {
		pdu, ok := p.Get(b.SNMP.OID)
		if !ok {
			return "", false
		}
		switch v := pdu.Value.(type) {
		case []byte:
			return string(v), true
		default:
			return fmt.Sprint(gosnmp.ToBigInt(v)), true
		}
	}
	p.svcMu.Lock()
	defer p.svcMu.Unlock()
	if v, set := p.extra[name]; set {
		return v, true
	}
	return s.Default, true
}

// SetSetting changes a catalog setting, validating the value against the
// catalog, as any protocol's write (or the front panel) would.
func (p *Printer) SetSetting(name, value string) error {
	s, b, ok := p.binding(name)
	if !ok {
		return fmt.Errorf("printer %s: %s: %w", p.name, name, errUnsupportedSetting)
	}
	v, err := s.Validate(value)
	if err != nil {
		return fmt.Errorf("printer %s: %w", p.name, err)
	}
	if b.SNMP != nil {
		if b.SNMP.Type == "integer" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("printer %s: %s: %q is not a whole number", p.name, name, v)
			}
			return p.Set(b.SNMP.OID, n)
		}
		return p.Set(b.SNMP.OID, v)
	}
	p.svcMu.Lock()
	if p.extra == nil {
		p.extra = map[string]string{}
	}
	p.extra[name] = v
	p.svcMu.Unlock()
	p.changed()
	return nil
}

var errUnsupportedSetting = fmt.Errorf("not supported by this model")

func (p *Printer) binding(name string) (catalog.Setting, catalog.Bindings, bool) {
	s, ok := catalog.Default().Lookup(name)
	if !ok {
		return s, catalog.Bindings{}, false
	}
	b := s.Bindings(p.Family())
	if b == (catalog.Bindings{}) {
		return s, b, false
	}
	return s, b, true
}
