package hcl

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"

	"github.com/agext/levenshtein"
	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// refScope says which references an expression may use.
type refScope struct {
	local  bool // local.*
	blocks bool // configuration.*, credentials.*, firmware.*
	each   bool // each.key, each.value
}

var (
	scopeVariable = refScope{}
	scopeBody     = refScope{local: true, blocks: true}
	scopeInstance = refScope{local: true, blocks: true, each: true}
)

// usable returns the attributes whose references all resolve and reports
// the others, so one bad reference does not hide the rest of a block.
func (l *loader) usable(attrs hhcl.Attributes, scope refScope) (hhcl.Attributes, hhcl.Diagnostics) {
	var diags hhcl.Diagnostics
	out := make(hhcl.Attributes, len(attrs))
	for name, attr := range attrs {
		d := l.checkRefs(attr.Expr, scope)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		out[name] = attr
	}
	return out, diags
}

// checkRefs reports references to things that are not declared, with a
// suggestion, before evaluation does so less helpfully. Roots it does not
// own are left to evaluation ("Unknown variable").
func (l *loader) checkRefs(expr hhcl.Expression, scope refScope) hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	for _, t := range expr.Variables() {
		root := t.RootName()
		var kind string
		var known func(string) bool
		var names func() []string
		switch root {
		case "var":
			kind = "input variable"
			known = func(n string) bool { _, ok := l.variables[n]; return ok }
			names = func() []string { return l.varNames }
		case "local":
			if !scope.local {
				diags = append(diags, refError(t, "Local values cannot be used here",
					"Only var.* references may be used here, since local values are evaluated later."))
				continue
			}
			kind = "local value"
			known = func(n string) bool { _, ok := l.locals[n]; return ok }
			names = func() []string { return l.localNames }
		case blockConfiguration, blockCredentials, blockFirmware:
			if !scope.blocks {
				diags = append(diags, refError(t, fmt.Sprintf("References to %s blocks cannot be used here", root),
					"Only var.* references may be used here."))
				continue
			}
			kind = root
			switch root {
			case blockConfiguration:
				known = func(n string) bool { _, ok := l.configurations[n]; return ok }
				names = func() []string { return sortedKeys(l.configurations) }
			case blockCredentials:
				known = func(n string) bool { _, ok := l.credentials[n]; return ok }
				names = func() []string { return sortedKeys(l.credentials) }
			default:
				known = func(n string) bool { _, ok := l.firmwares[n]; return ok }
				names = func() []string { return sortedKeys(l.firmwares) }
			}
		case "each":
			if !scope.each {
				diags = append(diags, refError(t, "Reference to \"each\" outside for_each",
					"each.key and each.value can only be used in a printer block that sets for_each."))
				continue
			}
			kind = "each attribute"
			known = func(n string) bool { return n == "key" || n == "value" }
			names = func() []string { return []string{"key", "value"} }
		default:
			continue
		}
		attr, ok := secondName(t)
		if !ok {
			diags = append(diags, refError(t, fmt.Sprintf("Invalid reference to %s", root),
				fmt.Sprintf("A reference to %s needs an attribute name, as in %s.example.", root, root)))
			continue
		}
		if known(attr) {
			continue
		}
		diags = append(diags, refError(t, fmt.Sprintf("Reference to undeclared %s", kind),
			fmt.Sprintf("No %s named %q is declared.%s", kind, attr, didYouMean(attr, names()))))
	}
	return diags
}

func secondName(t hhcl.Traversal) (string, bool) {
	if len(t) < 2 {
		return "", false
	}
	switch step := t[1].(type) {
	case hhcl.TraverseAttr:
		return step.Name, true
	case hhcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
}

func refError(t hhcl.Traversal, summary, detail string) *hhcl.Diagnostic {
	return &hhcl.Diagnostic{Severity: hhcl.DiagError, Summary: summary, Detail: detail, Subject: t.SourceRange().Ptr()}
}

// didYouMean returns " Did you mean "x"?" for the closest name, or "".
func didYouMean(given string, options []string) string {
	if s := suggest(given, options); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// suggest returns the option closest to given, when it is close enough to
// be a plausible typo.
func suggest(given string, options []string) string {
	best, bestDist := "", 0
	limit := 3
	if len(given) > 12 {
		limit = 4 // long dotted setting names tolerate a little more
	}
	for _, o := range options {
		d := levenshtein.Distance(given, o, nil)
		if d < limit && (best == "" || d < bestDist) {
			best, bestDist = o, d
		}
	}
	return best
}

// evaluated is an attribute's value with its sensitivity recorded and its
// marks removed, ready for conversion into Go values.
type evaluated struct {
	val       cty.Value
	sensitive bool
	rng       hhcl.Range
	// unknown: the value depends on one that is missing or broken, which
	// was reported where it is; checks that need it stay quiet.
	unknown bool
}

// eval evaluates expr and converts it to ty (cty.DynamicPseudoType keeps
// the value's own type). ok is false when there is no usable value: an
// error was reported, or the value is unknown because an earlier error
// left a placeholder, which needs no second report.
func eval(ctx *hhcl.EvalContext, expr hhcl.Expression, ty cty.Type, what string) (evaluated, bool, hhcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return evaluated{}, false, diags
	}
	out := evaluated{rng: expr.Range()}
	if v.Type().IsPrimitiveType() {
		// Most attributes are strings: no need to walk the value twice.
		out.sensitive = v.HasMark(sensitiveMark)
		v, _ = v.Unmark()
	} else {
		out.sensitive = isSensitive(v)
		if out.sensitive || v.ContainsMarked() {
			v, _ = v.UnmarkDeep() // rebuilds the value: only when needed
		}
	}
	if !v.IsWhollyKnown() {
		return evaluated{rng: out.rng, unknown: true}, false, diags
	}
	if ty.Equals(cty.List(cty.String)) && isStringTuple(v.Type()) {
		// ["a", each.value.b]: what a list of strings usually is, turned
		// into one without the general conversion's type unification.
		v = stringTupleToList(v)
	} else if ty != cty.DynamicPseudoType {
		cv, err := convert.Convert(v, ty)
		if err != nil {
			return evaluated{}, false, append(diags, &hhcl.Diagnostic{
				Severity:    hhcl.DiagError,
				Summary:     fmt.Sprintf("Invalid value for %s", what),
				Detail:      fmt.Sprintf("The value must be %s: %s.", typeName(ty), err),
				Subject:     expr.Range().Ptr(),
				Expression:  expr,
				EvalContext: ctx,
			})
		}
		v = cv
	}
	out.val = v
	return out, true, diags
}

// isStringTuple reports whether ty is a tuple type of strings only.
func isStringTuple(ty cty.Type) bool {
	if !ty.IsTupleType() {
		return false
	}
	for _, et := range ty.TupleElementTypes() {
		if !et.Equals(cty.String) {
			return false
		}
	}
	return true
}

// stringTupleToList is convert.Convert(v, cty.List(cty.String)) for a
// known tuple of strings (null elements stay null).
func stringTupleToList(v cty.Value) cty.Value {
	if v.IsNull() {
		return cty.NullVal(cty.List(cty.String))
	}
	if v.LengthInt() == 0 {
		return cty.ListValEmpty(cty.String)
	}
	return cty.ListVal(v.AsValueSlice())
}

// evalString evaluates a string attribute; a null value counts as unset.
func evalString(ctx *hhcl.EvalContext, attr *hhcl.Attribute, what string) (string, evaluated, bool, hhcl.Diagnostics) {
	ev, ok, diags := eval(ctx, attr.Expr, cty.String, what)
	if !ok || ev.val.IsNull() {
		return "", ev, false, diags
	}
	return ev.val.AsString(), ev, true, diags
}

func typeName(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "a bool"
	case ty.IsListType() && ty.ElementType() == cty.String:
		return "a list of strings"
	}
	return ty.FriendlyName()
}

// valueString renders a primitive value in the canonical string form
// settings use: numbers without exponent, bools as true/false.
func valueString(v cty.Value) (string, bool) {
	switch v.Type() {
	case cty.String:
		return v.AsString(), true
	case cty.Bool:
		return strconv.FormatBool(v.True()), true
	case cty.Number:
		f := v.AsBigFloat()
		if f.IsInt() {
			i, _ := f.Int(nil)
			return i.String(), true
		}
		return f.Text('f', -1), true
	}
	return "", false
}

// show quotes a value for a message, unless it is sensitive.
// refuseSensitive reports a sensitive value given to an attribute that
// plans, errors and state show in clear (an address, a serial, keywords, a
// file's name): showing it would leak the secret, and hiding it would leave
// a plan no one can check. Terraform refuses sensitive for_each keys alike.
func refuseSensitive(ev evaluated, what, where string) hhcl.Diagnostics {
	if !ev.sensitive {
		return nil
	}
	return hhcl.Diagnostics{errorAt(ev.rng, "Sensitive value not allowed",
		fmt.Sprintf("The %s of %s is shown in plans and recorded in state, so it cannot come from a sensitive value.", what, where))}
}

func show(s string, sensitive bool) string {
	if sensitive {
		return "(sensitive value)"
	}
	return strconv.Quote(s)
}

func errorAt(rng hhcl.Range, summary, detail string) *hhcl.Diagnostic {
	return &hhcl.Diagnostic{Severity: hhcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}
}

func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wholeNumber converts a known number to int, rejecting fractions and
// values out of range.
func wholeNumber(v cty.Value) (int, bool) {
	f := v.AsBigFloat()
	if !f.IsInt() {
		return 0, false
	}
	i, acc := f.Int64()
	if acc != big.Exact || i < -1<<31 || i > 1<<31-1 {
		return 0, false
	}
	return int(i), true
}
