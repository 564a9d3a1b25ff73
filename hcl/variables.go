package hcl

import (
	"fmt"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix prefixes environment variables that set input variables.
const EnvVarPrefix = "INKFORM_VAR_"

type variable struct {
	name        string
	typ         cty.Type
	defaults    *typeexpr.Defaults
	def         cty.Value // cty.NilVal when there is no default
	sensitive   bool
	description string
	validations []validation
	block       *hhcl.Block
}

type validation struct {
	condition hhcl.Expression
	message   hhcl.Expression
}

// declareVariable decodes a variable block; values come later.
func (l *loader) declareVariable(b *hhcl.Block) hhcl.Diagnostics {
	name := b.Labels[0]
	if prev, ok := l.variables[name]; ok {
		return hhcl.Diagnostics{duplicate("variable", name, b.DefRange, prev.block.DefRange)}
	}
	v := &variable{name: name, typ: cty.DynamicPseudoType, block: b}
	l.variables[name] = v
	l.varNames = append(l.varNames, name)

	content, diags := b.Body.Content(variableSchema)
	if attr, ok := content.Attributes["type"]; ok {
		ty, defaults, d := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.typ, v.defaults = ty, defaults
		}
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		ev, ok, d := eval(nil, attr.Expr, cty.Bool, "sensitive")
		diags = append(diags, d...)
		if ok && !ev.val.IsNull() {
			v.sensitive = ev.val.True()
		}
	}
	if attr, ok := content.Attributes["description"]; ok {
		s, _, _, d := evalString(nil, attr, "description")
		diags = append(diags, d...)
		v.description = s
	}
	if attr, ok := content.Attributes["default"]; ok {
		raw, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() && !raw.IsNull() {
			val, err := v.convert(raw)
			if err != nil {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid default value for variable",
					fmt.Sprintf("The default of variable %q does not match its type %s: %s.", name, typeexpr.TypeString(v.typ), err)))
			} else {
				v.def = val
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, d := vb.Body.Content(validationSchema)
		diags = append(diags, d...)
		cond, hasCond := vc.Attributes["condition"]
		msg, hasMsg := vc.Attributes["error_message"]
		if !hasCond || !hasMsg {
			continue
		}
		d = l.checkRefs(cond.Expr, scopeVariable)
		d = append(d, l.checkRefs(msg.Expr, scopeVariable)...)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.validations = append(v.validations, validation{condition: cond.Expr, message: msg.Expr})
		}
	}
	return diags
}

// convert applies type defaults and converts a raw value to the
// variable's type.
func (v *variable) convert(raw cty.Value) (cty.Value, error) {
	if v.defaults != nil {
		raw = v.defaults.Apply(raw)
	}
	return convert.Convert(raw, v.typ)
}

// literal reports whether command-line and environment values are taken
// as-is rather than parsed as HCL expressions.
func (v *variable) literal() bool { return v.typ == cty.String }

// loadVariables assigns every variable its value, from lowest to highest
// precedence: default < INKFORM_VAR_ env < -var-file (in order) < -var
// (in order), then runs validation rules.
func (l *loader) loadVariables(opts LoadOptions) hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	for _, name := range l.varNames {
		if v := l.variables[name]; v.def != cty.NilVal {
			l.varValues[name] = v.def
		}
	}
	for _, kv := range opts.Env {
		rest, ok := strings.CutPrefix(kv, EnvVarPrefix)
		if !ok {
			continue
		}
		name, raw, _ := strings.Cut(rest, "=")
		v, declared := l.variables[name]
		if !declared {
			continue // the environment is shared with other configurations
		}
		diags = append(diags, l.assignRaw(v, raw, "environment variable "+EnvVarPrefix+name)...)
	}
	for _, path := range opts.VarFiles {
		diags = append(diags, l.loadVarFile(path)...)
	}
	for _, arg := range opts.Vars {
		name, raw, ok := strings.Cut(arg, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			// The argument may be a misplaced secret: it is not repeated.
			diags = append(diags, errorAt(hhcl.Range{Filename: "<command line>", Start: hhcl.InitialPos, End: hhcl.InitialPos},
				"Invalid -var option", "A -var option must have the form name=value."))
			continue
		}
		v, declared := l.variables[name]
		if !declared {
			diags = append(diags, errorAt(cliRange(name), "Value for undeclared variable",
				fmt.Sprintf("-var sets %q, but no variable of that name is declared.%s", name, didYouMean(name, l.varNames))))
			continue
		}
		diags = append(diags, l.assignRaw(v, raw, "-var "+name)...)
	}

	for _, name := range l.varNames {
		v := l.variables[name]
		val, ok := l.varValues[name]
		if !ok && opts.StateOnly {
			// Reported by decodeState if the state block needs it.
			l.varValues[name] = cty.DynamicVal
			continue
		}
		if !ok {
			diags = append(diags, errorAt(v.block.DefRange, "No value for required variable",
				fmt.Sprintf("Variable %q has no default. Set it with -var %s=..., in a -var-file, or with the environment variable %s%s.",
					name, name, EnvVarPrefix, name)))
			l.varValues[name] = cty.DynamicVal // placeholder: dependent expressions stay quiet
			continue
		}
		if v.sensitive {
			l.varValues[name] = val.Mark(sensitiveMark)
		}
	}
	return append(diags, l.validateVariables()...)
}

// cliRange is the pseudo source range of a value given on the command line
// or in the environment; it names the variable, never the value.
func cliRange(name string) hhcl.Range {
	return hhcl.Range{Filename: fmt.Sprintf("<value for var.%s>", name), Start: hhcl.InitialPos, End: hhcl.InitialPos}
}

// assignRaw sets a variable from a command-line or environment string.
func (l *loader) assignRaw(v *variable, raw, source string) hhcl.Diagnostics {
	var val cty.Value
	if v.literal() {
		val = cty.StringVal(raw)
	} else if checkNesting([]byte(raw), cliRange(v.name).Filename, hhcl.InitialPos) != nil {
		return l.invalidValue(v, source, fmt.Sprintf("it nests more than %d levels deep", MaxNesting), cliRange(v.name))
	} else {
		expr, diags := hclsyntax.ParseExpression([]byte(raw), cliRange(v.name).Filename, hhcl.InitialPos)
		if diags.HasErrors() {
			if v.typ == cty.DynamicPseudoType {
				// An untyped variable given a bare word means the word.
				val = cty.StringVal(raw)
			} else {
				return l.invalidValue(v, source, "it is not a valid HCL expression", cliRange(v.name))
			}
		} else {
			var d hhcl.Diagnostics
			val, d = expr.Value(nil)
			if d.HasErrors() {
				if v.typ != cty.DynamicPseudoType {
					return l.invalidValue(v, source, "it must be a constant expression", cliRange(v.name))
				}
				val = cty.StringVal(raw)
			}
		}
	}
	return l.assign(v, val, source, cliRange(v.name))
}

func (l *loader) assign(v *variable, raw cty.Value, source string, rng hhcl.Range) hhcl.Diagnostics {
	if raw.IsNull() {
		return nil // null means "not set here": a lower-precedence value stays
	}
	val, err := v.convert(raw)
	if err != nil {
		return l.invalidValue(v, source, fmt.Sprintf("%s is required: %s", typeexpr.TypeString(v.typ), err), rng)
	}
	l.varValues[v.name] = val
	return nil
}

// invalidValue reports a value that does not fit a variable. The message
// describes the problem, never the value, which may be secret.
func (l *loader) invalidValue(v *variable, source, problem string, rng hhcl.Range) hhcl.Diagnostics {
	return hhcl.Diagnostics{errorAt(rng, "Invalid value for variable",
		fmt.Sprintf("The value of variable %q from %s is not valid: %s. The variable is declared at %s.", v.name, source, problem, v.block.DefRange))}
}

// loadVarFile applies one -var-file.
func (l *loader) loadVarFile(path string) hhcl.Diagnostics {
	src, err := readRegular(path, l.maxFileSize)
	if err != nil {
		return hhcl.Diagnostics{errorAt(hhcl.Range{Filename: path, Start: hhcl.InitialPos, End: hhcl.InitialPos},
			"Cannot read variables file", fmt.Sprintf("%s.", err))}
	}
	if d := checkNesting(src, path, hhcl.InitialPos); d != nil {
		return hhcl.Diagnostics{d}
	}
	f, diags := hclsyntax.ParseConfig(src, path, hhcl.InitialPos)
	if f != nil && l.sources != nil {
		l.sources[path] = f
	}
	if diags.HasErrors() {
		return diags
	}
	attrs, d := f.Body.JustAttributes()
	diags = append(diags, d...)
	for _, name := range sortedKeys(attrs) {
		attr := attrs[name]
		v, declared := l.variables[name]
		if !declared {
			diags = append(diags, &hhcl.Diagnostic{
				Severity: hhcl.DiagWarning,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("The variables file sets %q, but no variable of that name is declared.%s", name, didYouMean(name, l.varNames)),
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		val, d := attr.Expr.Value(nil)
		if d.HasErrors() {
			diags = append(diags, l.invalidValue(v, "variables file "+path, "it must be a constant expression", attr.NameRange)...)
			continue
		}
		diags = append(diags, l.assign(v, val, "variables file "+path, attr.NameRange)...)
	}
	return diags
}

// validateVariables runs every validation block. Conditions see var.* and
// the functions.
func (l *loader) validateVariables() hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	ctx := &hhcl.EvalContext{
		Variables: map[string]cty.Value{"var": objectOf(l.varValues)},
		Functions: l.functions,
	}
	for _, name := range l.varNames {
		for _, rule := range l.variables[name].validations {
			ev, ok, d := eval(ctx, rule.condition, cty.Bool, "validation condition")
			diags = append(diags, d...)
			if !ok {
				continue
			}
			if ev.val.IsNull() {
				diags = append(diags, errorAt(rule.condition.Range(), "Invalid validation condition",
					"The condition is null; it must be true or false."))
				continue
			}
			if ev.val.True() {
				continue
			}
			msg := "(the error message could not be evaluated)"
			if m, mok, _ := eval(ctx, rule.message, cty.String, "error_message"); mok && !m.val.IsNull() {
				msg = m.val.AsString()
				if m.sensitive {
					msg = "(the error message refers to a sensitive value and is not shown)"
				}
			}
			diags = append(diags, errorAt(rule.condition.Range(), "Invalid value for variable",
				fmt.Sprintf("%s\n\nThis was checked by the validation rule of variable %q.", msg, name)))
		}
	}
	return diags
}
