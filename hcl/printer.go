package hcl

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/inkform/inkform/fleet"
)

// defaultCredentials apply to printers that name none.
var defaultCredentials = fleet.Credentials{SNMP: fleet.SNMP{Version: fleet.SNMPv2c, Community: "public"}}

// decodePrinters expands every printer block (for_each included), then
// checks that no two printers share an address.
//
// Printers are independent of one another, so blocks, and then for_each
// instances, are decoded concurrently into per-index slots and joined in
// declaration order: printers and diagnostics come out exactly as a
// one-by-one decode would produce them. Concurrent evaluation is safe
// because expressions only read the shared EvalContext and every for_each
// instance gets its own child scope.
func (l *loader) decodePrinters(base *hhcl.EvalContext) hhcl.Diagnostics {
	blocks := make([]printerBlock, len(l.printerBlocks))
	parallelFor(len(blocks), 16, func(i int) {
		blocks[i] = l.preparePrinterBlock(base, l.printerBlocks[i])
	})
	type slot struct{ block, inst int }
	var slots []slot
	for i := range blocks {
		for j := range blocks[i].instances {
			slots = append(slots, slot{i, j})
		}
	}
	parallelFor(len(slots), 64, func(k int) {
		b := &blocks[slots[k].block]
		b.decodeInstance(l, base, slots[k].inst)
	})

	n := 0
	for i := range blocks {
		n += len(blocks[i].printers)
	}
	l.printers = slices.Grow(l.printers, n)
	l.printerRanges = make(map[string]hhcl.Range, n)
	var diags hhcl.Diagnostics
	for i := range blocks {
		diags = append(diags, blocks[i].diags...)
		for j, p := range blocks[i].printers {
			diags = append(diags, blocks[i].instDiags[j]...)
			l.printerRanges[p.Name] = blocks[i].block.DefRange
		}
		l.printers = append(l.printers, blocks[i].printers...)
	}
	diags = append(diags, checkAddresses(l.printers, l.printerRanges)...)
	slices.SortFunc(l.printers, func(a, b fleet.Printer) int { return cmp.Compare(a.Name, b.Name) })
	return diags
}

// printerBlock is one printer block on its way through decodePrinters.
type printerBlock struct {
	block *hhcl.Block
	attrs hhcl.Attributes
	diags hhcl.Diagnostics // the block's own, before its instances'
	// instances are the for_each instances; nil for a plain block.
	instances []eachValues
	printers  []fleet.Printer    // one per instance, or the plain block's one
	instDiags []hhcl.Diagnostics // per entry of printers
}

// preparePrinterBlock checks a printer block and evaluates its for_each.
// A plain block is decoded right away: it is a single unit of work.
func (l *loader) preparePrinterBlock(base *hhcl.EvalContext, b *hhcl.Block) printerBlock {
	pb := printerBlock{block: b}
	content, diags := b.Body.Content(printerSchema)
	forEach, isForEach := content.Attributes["for_each"]
	scope := scopeBody
	if isForEach {
		scope = scopeInstance
		// for_each decides the instances, so it cannot use each itself.
		if d := l.checkRefs(forEach.Expr, scopeBody); d.HasErrors() {
			pb.diags = append(diags, d...)
			return pb
		}
	}
	attrs, d := l.usable(content.Attributes, scope)
	diags = append(diags, d...)
	pb.attrs = attrs
	if !isForEach {
		p, d := l.decodePrinter(base, b.Labels[0], b, attrs)
		pb.diags = diags
		pb.printers = []fleet.Printer{p}
		pb.instDiags = []hhcl.Diagnostics{d}
		return pb
	}
	instances, d := forEachInstances(base, forEach)
	pb.diags = append(diags, d...)
	pb.instances = instances
	pb.printers = make([]fleet.Printer, len(instances))
	pb.instDiags = make([]hhcl.Diagnostics, len(instances))
	return pb
}

// decodeInstance decodes for_each instance i of the block into its slot.
func (pb *printerBlock) decodeInstance(l *loader, base *hhcl.EvalContext, i int) {
	inst := &pb.instances[i]
	instName := pb.block.Labels[0] + "[" + strconv.Quote(inst.key.AsString()) + "]"
	ctx := childWithEach(base, inst)
	p, d := l.decodePrinter(ctx, instName, pb.block, pb.attrs)
	for _, diag := range d {
		diag.Detail = fmt.Sprintf("%s (in printer %s)", diag.Detail, instName)
		if diag.Expression == nil {
			// Lets diagnostic writers show which each.value failed.
			if attr := attrAt(pb.attrs, diag.Subject); attr != nil {
				diag.Expression, diag.EvalContext = attr.Expr, ctx
			}
		}
	}
	pb.printers[i], pb.instDiags[i] = p, d
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
	p := fleet.Printer{Name: name, Credentials: defaultCredentials}
	var diags hhcl.Diagnostics

	if attr, ok := attrs["address"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.String, "address")
		diags = append(diags, d...)
		refused := refuseSensitive(ev, "address", "printer "+name)
		diags = append(diags, refused...)
		switch {
		case !ok || refused != nil:
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
		s, ev, _, d := evalString(ctx, attr, "serial")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "serial", "printer "+name)...)
		p.Serial = s
	}
	if attr, ok := attrs["keywords"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.List(cty.String), "keywords")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "keywords", "printer "+name)...)
		if ok && !ev.val.IsNull() {
			p.Keywords = keywords(ev.val)
		}
	}

	var cfgSettings []fleet.Desired
	var cfgDelivery delivery
	if attr, ok := attrs[blockConfiguration]; ok {
		ref, d := decodeRef(ctx, attr, blockConfiguration)
		diags = append(diags, d...)
		if c, ok := l.configurations[ref]; ok {
			p.Configuration = ref
			cfgSettings = c.settings
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
	// Layering the printer's own settings over the configuration's merged
	// ones equals merging all four layers; most printers have none.
	p.Settings = cfgSettings
	if len(own.shorthand)+len(own.settings) > 0 {
		p.Settings = mergeSettings(cfgSettings, own.shorthand, own.settings)
	}
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
	if name, ok := staticRef(ctx, attr.Expr, kind); ok {
		return name, nil
	}
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

// staticRef recognises the plain reference KIND.NAME to a declared block,
// the common case, and returns NAME without evaluating the expression: its
// value is the reference object of that kind and name (see refObject).
func staticRef(ctx *hhcl.EvalContext, expr hhcl.Expression, kind string) (string, bool) {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) != 2 || st.Traversal.RootName() != kind {
		return "", false
	}
	step, ok := st.Traversal[1].(hhcl.TraverseAttr)
	if !ok {
		return "", false
	}
	// Scopes are searched innermost first, as evaluation does.
	for c := ctx; c != nil; c = c.Parent() {
		if refs, ok := c.Variables[kind]; ok {
			ty := refs.Type()
			declared := !refs.IsMarked() && ty.IsObjectType() && ty.HasAttribute(step.Name)
			return step.Name, declared
		}
	}
	return "", false
}

// checkAddresses reports printers that resolve to the same host:port,
// naming both. A map keeps this linear for large fleets.
func checkAddresses(printers []fleet.Printer, ranges map[string]hhcl.Range) hhcl.Diagnostics {
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
		diags = append(diags, errorAt(ranges[p.Name], "Duplicate printer address",
			fmt.Sprintf("Printers %s and %s both resolve to %s; %s is declared at %s.", q.Name, p.Name, p.Address(), q.Name, ranges[q.Name])))
	}
	return diags
}
