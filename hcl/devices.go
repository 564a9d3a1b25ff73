package hcl

import (
	"errors"
	"fmt"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/catalog"
)

// A device block teaches inkform where a printer the built-in identity
// rules (catalog/devices.json) do not know, or read wrong, keeps its
// model, firmware version and serial number. It mirrors a rule of that
// file: match blocks are its alternatives, and model, firmware and serial
// blocks its sources, each in order of preference:
//
//	device "acme" {
//	  vendor = "Acme"
//	  match { enterprise = 99999 }
//	  match { sys_descr = "^Acme " }
//	  model {
//	    from    = "sys_descr"
//	    pattern = "^(Acme \\S+)"
//	  }
//	  firmware {
//	    from = "oid"
//	    oid  = "1.3.6.1.4.1.99999.1.2.0"
//	  }
//	}
//
// Device blocks are tried in the order the files declare them, before the
// built-in rules.

var deviceSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "vendor"}},
	Blocks: []hhcl.BlockHeaderSchema{
		{Type: "match"}, {Type: "model"}, {Type: "firmware"}, {Type: "serial"},
	},
}

var deviceMatchSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{{Name: "enterprise"}, {Name: "sys_descr"}},
}

var deviceSourceSchema = &hhcl.BodySchema{
	Attributes: []hhcl.AttributeSchema{
		{Name: "from", Required: true}, {Name: "oid"}, {Name: "field"}, {Name: "pattern"}, {Name: "prefix"},
	},
}

const invalidDevice = "Invalid device rule"

// decodeDevices decodes every device block and sets l.devices to the
// built-in rules with the sound ones before them.
func (l *loader) decodeDevices(ctx *hhcl.EvalContext) hhcl.Diagnostics {
	if len(l.deviceBlocks) == 0 {
		return nil
	}
	var diags hhcl.Diagnostics
	var rules []catalog.DeviceRule
	for _, b := range l.deviceBlocks {
		r, d := l.decodeDevice(ctx, b)
		diags = append(diags, d...)
		if !d.HasErrors() {
			rules = append(rules, r)
		}
	}
	if diags.HasErrors() {
		return diags
	}
	devices, err := catalog.DefaultDevices().With(rules...)
	if err != nil {
		// Every match and source was checked above with its range.
		return append(diags, errorAt(l.deviceBlocks[0].DefRange, invalidDevice, err.Error()+"."))
	}
	l.devices = devices
	return diags
}

func (l *loader) decodeDevice(ctx *hhcl.EvalContext, b *hhcl.Block) (catalog.DeviceRule, hhcl.Diagnostics) {
	r := catalog.DeviceRule{Vendor: b.Labels[0]}
	content, diags := b.Body.Content(deviceSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	if attr, ok := attrs["vendor"]; ok {
		v, ev, set, d := evalString(ctx, attr, "vendor")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "vendor", fmt.Sprintf("device %q", b.Labels[0]))...)
		if set && v == "" {
			diags = append(diags, errorAt(attr.Expr.Range(), invalidDevice, "vendor must not be empty."))
		} else if set {
			r.Vendor = v
		}
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "match":
			m, d := l.decodeDeviceMatch(ctx, blk)
			diags = append(diags, d...)
			r.Match = append(r.Match, m)
		default:
			s, d := l.decodeDeviceSource(ctx, blk)
			diags = append(diags, d...)
			switch blk.Type {
			case "model":
				r.Model = append(r.Model, s)
			case "firmware":
				r.Firmware = append(r.Firmware, s)
			case "serial":
				r.Serial = append(r.Serial, s)
			}
		}
	}
	if len(r.Match) == 0 {
		diags = append(diags, errorAt(b.DefRange, invalidDevice,
			fmt.Sprintf("Device %q needs a match block: which devices the rule is for (enterprise, sys_descr).", b.Labels[0])))
	}
	return r, diags
}

func (l *loader) decodeDeviceMatch(ctx *hhcl.EvalContext, b *hhcl.Block) (catalog.DeviceMatch, hhcl.Diagnostics) {
	var m catalog.DeviceMatch
	content, diags := b.Body.Content(deviceMatchSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	if attr, ok := attrs["enterprise"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.Number, "enterprise")
		diags = append(diags, d...)
		if ok && !ev.val.IsNull() {
			n, whole := wholeNumber(ev.val)
			if !whole || n <= 0 {
				diags = append(diags, errorAt(attr.Expr.Range(), invalidDevice,
					"enterprise must be a private enterprise number, a whole number above 0 (sysObjectID 1.3.6.1.4.1.N…)."))
			} else {
				m.Enterprise = n
			}
		}
	}
	if attr, ok := attrs["sys_descr"]; ok {
		v, _, _, d := evalString(ctx, attr, "sys_descr")
		diags = append(diags, d...)
		m.SysDescr = v
	}
	if diags.HasErrors() {
		return m, diags
	}
	if err := m.Check(); err != nil {
		diags = append(diags, errorAt(fieldRange(err, attrs, b.DefRange), invalidDevice, "Match: "+err.Error()+"."))
	}
	return m, diags
}

func (l *loader) decodeDeviceSource(ctx *hhcl.EvalContext, b *hhcl.Block) (catalog.Source, hhcl.Diagnostics) {
	var s catalog.Source
	content, diags := b.Body.Content(deviceSourceSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"from", &s.From}, {"oid", &s.OID}, {"field", &s.Field}, {"pattern", &s.Pattern}, {"prefix", &s.Prefix}} {
		if attr, ok := attrs[f.name]; ok {
			v, _, _, d := evalString(ctx, attr, f.name)
			diags = append(diags, d...)
			*f.dst = v
		}
	}
	if diags.HasErrors() {
		return s, diags
	}
	if err := s.Check(); err != nil {
		diags = append(diags, errorAt(fieldRange(err, attrs, b.DefRange), invalidDevice,
			fmt.Sprintf("The %s source: %s.", b.Type, err)))
	}
	return s, diags
}

// fieldRange is where the field a catalog error blames is written, else
// the block's.
func fieldRange(err error, attrs hhcl.Attributes, block hhcl.Range) hhcl.Range {
	var fe *catalog.FieldError
	if errors.As(err, &fe) {
		if attr, ok := attrs[fe.Field]; ok {
			return attr.Expr.Range()
		}
	}
	return block
}
