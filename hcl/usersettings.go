package hcl

import (
	"fmt"
	"math/big"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/catalog"
)

// A setting block declares a setting the built-in catalog lacks (a vendor
// object, a site-specific field):
//
//	setting "acme.tray_lock" {
//	  type = "integer"  min = 0  max = 1
//	  snmp { oid = "1.3.6.1.4.1.99999.1.0"  type = "integer" }
//	}
//
// Declared settings join the catalog for this configuration only; settings
// maps anywhere in the configuration validate against the combined catalog.

// decodeUserSettings decodes every setting block and replaces l.cat with
// the built-in catalog plus the sound ones. A broken declaration is reported
// once; uses of its name are then skipped rather than reported as unknown.
func (l *loader) decodeUserSettings(ctx *hhcl.EvalContext) hhcl.Diagnostics {
	if len(l.settingBlocks) == 0 {
		return nil
	}
	var diags hhcl.Diagnostics
	var extra []catalog.Setting
	for _, name := range sortedKeys(l.settingBlocks) {
		b := l.settingBlocks[name]
		s, ranges, d := l.decodeSettingBlock(ctx, b)
		diags = append(diags, d...)
		if _, builtin := l.cat.Lookup(name); builtin {
			diags = append(diags, errorAt(b.LabelRanges[0], "Setting name taken",
				fmt.Sprintf("%q is a built-in setting (see docs/settings.md); declare yours under its own prefix, such as \"acme.%s\".", name, name[strings.LastIndex(name, ".")+1:])))
			continue
		}
		if d.HasErrors() {
			l.brokenSettings[name] = true
			continue
		}
		problems := l.cat.CheckSetting(s)
		for _, p := range problems {
			rng, ok := ranges[p.Field]
			if !ok {
				rng = b.DefRange
			}
			diags = append(diags, errorAt(rng, "Invalid setting declaration", fmt.Sprintf("Setting %q: %s.", name, p.Message)))
		}
		if len(problems) > 0 {
			l.brokenSettings[name] = true
			continue
		}
		extra = append(extra, s)
	}
	cat, err := l.cat.With(extra...)
	if err != nil {
		// Every rule With applies was checked above with a source range.
		return append(diags, errorAt(l.settingBlocks[sortedKeys(l.settingBlocks)[0]].DefRange, "Invalid setting declaration", err.Error()+"."))
	}
	l.cat = cat
	return diags
}

// decodeSettingBlock reads one setting block. ranges maps catalog.Problem
// fields to where the configuration wrote them.
func (l *loader) decodeSettingBlock(ctx *hhcl.EvalContext, b *hhcl.Block) (catalog.Setting, map[string]hhcl.Range, hhcl.Diagnostics) {
	name := b.Labels[0]
	s := catalog.Setting{Name: name}
	ranges := map[string]hhcl.Range{"name": b.LabelRanges[0]}
	content, diags := b.Body.Content(settingSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	for n, a := range attrs {
		ranges[n] = a.Expr.Range()
	}

	str := func(attrs hhcl.Attributes, n string) (string, bool) {
		attr, ok := attrs[n]
		if !ok {
			return "", false
		}
		v, _, set, d := evalString(ctx, attr, n)
		diags = append(diags, d...)
		return v, set
	}
	list := func(n string) []string {
		attr, ok := attrs[n]
		if !ok {
			return nil
		}
		ev, ok, d := eval(ctx, attr.Expr, cty.List(cty.String), n)
		diags = append(diags, d...)
		if !ok || ev.val.IsNull() {
			return nil
		}
		var out []string
		for it := ev.val.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid setting declaration", fmt.Sprintf("%s must not contain null.", n)))
				continue
			}
			out = append(out, e.AsString())
		}
		return out
	}
	integer := func(n string) *int64 {
		attr, ok := attrs[n]
		if !ok {
			return nil
		}
		ev, ok, d := eval(ctx, attr.Expr, cty.Number, n)
		diags = append(diags, d...)
		if !ok || ev.val.IsNull() {
			return nil
		}
		i, acc := ev.val.AsBigFloat().Int64()
		if !ev.val.AsBigFloat().IsInt() || acc != big.Exact {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid setting declaration", fmt.Sprintf("%s must be a whole number.", n)))
			return nil
		}
		return &i
	}

	typ, typeSet := str(attrs, "type")
	s.Type = strings.ToLower(typ)
	s.Description, _ = str(attrs, "description")
	s.Unit, _ = str(attrs, "unit")
	s.Min, s.Max = integer("min"), integer("max")
	if n := integer("max_length"); n != nil {
		if *n < 1 || *n > 1<<20 {
			diags = append(diags, errorAt(ranges["max_length"], "Invalid setting declaration", "max_length must be from 1 to 1048576 bytes."))
		} else {
			s.MaxLength = int(*n)
		}
	}
	s.Enum = list("enum")
	s.Families = list("families")
	if attr, ok := attrs["default"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.DynamicPseudoType, "default")
		diags = append(diags, d...)
		if ok && !ev.val.IsNull() {
			if v, ok := valueString(ev.val); ok {
				s.Default = v
			} else {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid setting declaration",
					fmt.Sprintf("default must be a string, number or bool, not %s.", ev.val.Type().FriendlyName())))
			}
		}
	}

	seen := map[string]*hhcl.Block{}
	for _, sub := range content.Blocks {
		if first, dup := seen[sub.Type]; dup {
			diags = append(diags, duplicate(sub.Type+" block", "", sub.DefRange, first.DefRange))
			continue
		}
		seen[sub.Type] = sub
		ranges[sub.Type] = sub.DefRange
		kind := catalog.BindingKind(sub.Type)
		c, d := sub.Body.Content(settingBindingSchemas[kind])
		diags = append(diags, d...)
		sa, d := l.usable(c.Attributes, scopeBody)
		diags = append(diags, d...)
		for n, a := range sa {
			ranges[sub.Type+"."+n] = a.Expr.Range()
		}
		switch kind {
		case catalog.BindingSNMP:
			oid, _ := str(sa, "oid")
			st, stSet := str(sa, "type")
			s.SNMP = &catalog.SNMP{OID: strings.TrimPrefix(oid, "."), Type: strings.ToLower(st)}
			if !stSet {
				// Infer the SNMP type from the setting's, below.
				s.SNMP.Type = ""
			}
		case catalog.BindingPJL:
			v, _ := str(sa, "variable")
			s.PJL = &catalog.PJL{Variable: v}
			if attr, ok := sa["values"]; ok {
				ev, ok, d := eval(ctx, attr.Expr, cty.Map(cty.String), "values")
				diags = append(diags, d...)
				if ok && !ev.val.IsNull() {
					s.PJL.Values = map[string]string{}
					for it := ev.val.ElementIterator(); it.Next(); {
						k, v := it.Element()
						if v.IsNull() {
							continue
						}
						s.PJL.Values[k.AsString()] = v.AsString()
					}
				}
			}
		case catalog.BindingEWS:
			f, _ := str(sa, "field")
			s.EWS = &catalog.EWS{Field: f}
		case catalog.BindingNPAP:
			s.NPAP = &catalog.NPAP{}
			if attr, ok := sa["id"]; ok {
				ev, ok, d := eval(ctx, attr.Expr, cty.Number, "id")
				diags = append(diags, d...)
				if ok && !ev.val.IsNull() {
					id, acc := ev.val.AsBigFloat().Int64()
					if !ev.val.AsBigFloat().IsInt() || acc != big.Exact || id < 1 || id > catalog.MaxNPAPID {
						diags = append(diags, errorAt(attr.Expr.Range(), "Invalid setting declaration",
							fmt.Sprintf("npap.id must be a whole number from 1 to %d.", catalog.MaxNPAPID)))
					} else {
						s.NPAP.ID = int(id)
					}
				}
			}
		}
	}

	// The shorthand `setting "x" { snmp { oid = … type = "integer" } }`
	// leaves the setting's type to follow from its SNMP type, and the
	// other way round.
	if !typeSet && s.SNMP != nil {
		switch s.SNMP.Type {
		case catalog.SNMPInteger:
			s.Type = catalog.TypeInteger
		case catalog.SNMPOctetString:
			s.Type = catalog.TypeString
		}
		if r, ok := ranges["snmp.type"]; ok {
			ranges["type"] = r
		}
	}
	if s.SNMP != nil && s.SNMP.Type == "" {
		s.SNMP.Type = catalog.SNMPOctetString
		if s.Type == catalog.TypeInteger {
			s.SNMP.Type = catalog.SNMPInteger
		}
	}
	if s.Type == "" && !diags.HasErrors() {
		diags = append(diags, errorAt(b.DefRange, "Missing setting type",
			fmt.Sprintf("Setting %q needs a type: one of %q (or an snmp block with a type).", name, catalog.Types)))
	}
	// Messages about a field in a sub-block point at the sub-block when the
	// field itself was not written.
	for _, f := range []string{"snmp.oid", "snmp.type", "pjl.variable", "pjl.values", "ews.field"} {
		if _, ok := ranges[f]; !ok {
			if r, ok := ranges[f[:strings.Index(f, ".")]]; ok {
				ranges[f] = r
			}
		}
	}
	return s, ranges, diags
}
