package hcl

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/inkform/inkform/fleet"
)

// defaultCredentials apply to printers that name none.
var defaultCredentials = fleet.Credentials{SNMP: fleet.SNMP{Version: fleet.SNMPv2c, Community: "public"}}

// decodePrinters expands every printer block (for_each included), then
// checks that no two printers share an address.
func (l *loader) decodePrinters(base *hhcl.EvalContext) hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	for _, b := range l.printerBlocks {
		diags = append(diags, l.decodePrinterBlock(base, b)...)
	}
	diags = append(diags, checkAddresses(l.printers)...)
	slices.SortFunc(l.printers, func(a, b fleet.Printer) int { return cmp.Compare(a.Name, b.Name) })
	return diags
}

func (l *loader) decodePrinterBlock(base *hhcl.EvalContext, b *hhcl.Block) hhcl.Diagnostics {
	name := b.Labels[0]
	content, diags := b.Body.Content(printerSchema)
	forEach, isForEach := content.Attributes["for_each"]
	scope := scopeBody
	if isForEach {
		scope = scopeInstance
		// for_each decides the instances, so it cannot use each itself.
		if d := l.checkRefs(forEach.Expr, scopeBody); d.HasErrors() {
			return append(diags, d...)
		}
	}
	attrs, d := l.usable(content.Attributes, scope)
	diags = append(diags, d...)
	if !isForEach {
		p, d := l.decodePrinter(base, name, b, attrs)
		l.printers = append(l.printers, p)
		return append(diags, d...)
	}

	instances, d := forEachInstances(base, forEach)
	diags = append(diags, d...)
	for _, inst := range instances {
		instName := fmt.Sprintf("%s[%s]", name, strconv.Quote(inst.key.AsString()))
		ctx := childWithEach(base, &inst)
		p, d := l.decodePrinter(ctx, instName, b, attrs)
		for _, diag := range d {
			diag.Detail = fmt.Sprintf("%s (in printer %s)", diag.Detail, instName)
			if diag.Expression == nil {
				// Lets diagnostic writers show which each.value failed.
				if attr := attrAt(attrs, diag.Subject); attr != nil {
					diag.Expression, diag.EvalContext = attr.Expr, ctx
				}
			}
		}
		l.printers = append(l.printers, p)
		diags = append(diags, d...)
	}
	return diags
}

// attrAt finds the attribute whose expression covers rng.
func attrAt(attrs hhcl.Attributes, rng *hhcl.Range) *hhcl.Attribute {
	if rng == nil {
		return nil
	}
	for _, a := range attrs {
		if a.Expr.Range().Overlaps(*rng) || a.Range.ContainsOffset(rng.Start.Byte) && a.Range.Filename == rng.Filename {
			return a
		}
	}
	return nil
}

// forEachInstances evaluates for_each: a map or object gives one instance
// per key with its value; a set of strings one per element.
func forEachInstances(ctx *hhcl.EvalContext, attr *hhcl.Attribute) ([]eachValues, hhcl.Diagnostics) {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	if !v.IsWhollyKnown() {
		return nil, nil // an earlier error left a placeholder
	}
	invalid := func(detail string) ([]eachValues, hhcl.Diagnostics) {
		return nil, append(diags, &hhcl.Diagnostic{
			Severity: hhcl.DiagError, Summary: "Invalid for_each argument", Detail: detail,
			Subject: attr.Expr.Range().Ptr(),
		})
	}
	if v.HasMarkDeep(sensitiveMark) {
		// Instance names appear in every plan, so keys must not be secret.
		return invalid("for_each must not use sensitive values: instance keys are shown in plans.")
	}
	if v.IsNull() {
		return invalid("for_each must be a map or a set of strings, not null.")
	}
	ty := v.Type()
	var out []eachValues
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		out = make([]eachValues, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			out = append(out, eachValues{key: k, value: val})
		}
	case ty.IsSetType():
		if !ty.ElementType().Equals(cty.String) {
			sv, err := convert.Convert(v, cty.Set(cty.String))
			if err != nil {
				return invalid(fmt.Sprintf("for_each over a set needs a set of strings, not %s.", ty.FriendlyName()))
			}
			v = sv
		}
		out = make([]eachValues, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, val := it.Element()
			if val.IsNull() {
				return invalid("for_each sets must not contain null.")
			}
			out = append(out, eachValues{key: val, value: val})
		}
	case ty.IsListType() || ty.IsTupleType():
		return invalid(fmt.Sprintf("for_each must be a map or a set of strings, not %s; convert a list of names with toset(…).", ty.FriendlyName()))
	default:
		return invalid(fmt.Sprintf("for_each must be a map or a set of strings, not %s.", ty.FriendlyName()))
	}
	return out, diags
}

// decodePrinter builds one printer (one instance of a for_each block).
func (l *loader) decodePrinter(ctx *hhcl.EvalContext, name string, b *hhcl.Block, attrs hhcl.Attributes) (fleet.Printer, hhcl.Diagnostics) {
	p := fleet.Printer{Name: name, DeclRange: b.DefRange, Credentials: defaultCredentials}
	var diags hhcl.Diagnostics

	if attr, ok := attrs["address"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.String, "address")
		diags = append(diags, d...)
		switch {
		case !ok:
		case ev.val.IsNull():
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid printer address",
				fmt.Sprintf("Printer %s needs an address, not null.", name)))
		default:
			s := ev.val.AsString()
			host, port, err := parseAddress(s)
			if err != nil {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid printer address",
					fmt.Sprintf("Address %s of printer %s: %s.", show(s, ev.sensitive), name, err)))
			}
			p.Host, p.Port = host, port
		}
	}
	if attr, ok := attrs["serial"]; ok {
		s, _, _, d := evalString(ctx, attr, "serial")
		diags = append(diags, d...)
		p.Serial = s
	}
	if attr, ok := attrs["keywords"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.List(cty.String), "keywords")
		diags = append(diags, d...)
		if ok && !ev.val.IsNull() {
			p.Keywords = keywords(ev.val)
		}
	}

	var cfgLayers settingLayers
	var cfgDelivery delivery
	if attr, ok := attrs[blockConfiguration]; ok {
		ref, d := decodeRef(ctx, attr, blockConfiguration)
		diags = append(diags, d...)
		if c, ok := l.configurations[ref]; ok {
			p.Configuration = ref
			cfgLayers = c.layers
			cfgDelivery = c.delivery
		}
	}
	if attr, ok := attrs[blockCredentials]; ok {
		ref, d := decodeRef(ctx, attr, blockCredentials)
		diags = append(diags, d...)
		if c, ok := l.credentials[ref]; ok {
			p.Credentials = c.creds
		}
	}
	own, d := l.decodeSettingLayers(ctx, attrs)
	diags = append(diags, d...)
	p.Settings = mergeSettings(cfgLayers.shorthand, cfgLayers.settings, own.shorthand, own.settings)
	ownDelivery, d := l.decodeDelivery(ctx, attrs)
	diags = append(diags, d...)
	ownDelivery.over(cfgDelivery).apply(&p)
	return p, diags
}

func keywords(v cty.Value) []string {
	out := make([]string, 0, v.LengthInt())
	seen := make(map[string]bool, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || seen[e.AsString()] {
			continue
		}
		seen[e.AsString()] = true
		out = append(out, e.AsString())
	}
	return out
}

// decodeRef reads a `configuration.NAME` or `credentials.NAME` reference
// (possibly chosen by a conditional) and returns NAME; "" for null.
func decodeRef(ctx *hhcl.EvalContext, attr *hhcl.Attribute, kind string) (string, hhcl.Diagnostics) {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return "", diags
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() || v.IsNull() {
		return "", diags
	}
	wrong := func(got string) (string, hhcl.Diagnostics) {
		return "", append(diags, &hhcl.Diagnostic{
			Severity: hhcl.DiagError,
			Summary:  fmt.Sprintf("Invalid %s reference", kind),
			Detail:   fmt.Sprintf("%s must refer to a %s block, as in %s.example; got %s.", attr.Name, kind, kind, got),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	ty := v.Type()
	if !ty.IsObjectType() || !ty.HasAttribute("kind") || !ty.HasAttribute("name") {
		return wrong(ty.FriendlyName())
	}
	k, n := v.GetAttr("kind"), v.GetAttr("name")
	if k.Type() != cty.String || n.Type() != cty.String || k.IsNull() || n.IsNull() {
		return wrong(ty.FriendlyName())
	}
	if k.AsString() != kind {
		return wrong(fmt.Sprintf("a reference to %s.%s", k.AsString(), n.AsString()))
	}
	return n.AsString(), diags
}

// checkAddresses reports printers that resolve to the same host:port,
// naming both. A map keeps this linear for large fleets.
func checkAddresses(printers []fleet.Printer) hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	first := make(map[string]int, len(printers))
	for i, p := range printers {
		if p.Host == "" {
			continue
		}
		key := addressKey(p.Host, p.Port)
		j, dup := first[key]
		if !dup {
			first[key] = i
			continue
		}
		q := printers[j]
		diags = append(diags, errorAt(p.DeclRange, "Duplicate printer address",
			fmt.Sprintf("Printers %s and %s both resolve to %s; %s is declared at %s.", q.Name, p.Name, p.Address(), q.Name, q.DeclRange)))
	}
	return diags
}
