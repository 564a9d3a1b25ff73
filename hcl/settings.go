package hcl

import (
	"fmt"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

// settingLayers are the settings one block declares, kept apart because
// shorthands rank below the settings map of the same block.
type settingLayers struct {
	shorthand []fleet.Desired
	settings  []fleet.Desired
}

// decodeSettingLayers reads the contact/name/location shorthands and the
// settings map of a configuration or printer block.
func (l *loader) decodeSettingLayers(ctx *hhcl.EvalContext, attrs hhcl.Attributes) (settingLayers, hhcl.Diagnostics) {
	var out settingLayers
	var diags hhcl.Diagnostics
	for _, sh := range shorthands {
		attr, ok := attrs[sh.attr]
		if !ok {
			continue
		}
		ev, ok, d := eval(ctx, attr.Expr, cty.DynamicPseudoType, sh.attr)
		diags = append(diags, d...)
		if !ok || ev.val.IsNull() {
			continue
		}
		if des, d := l.setting(sh.setting, attr.NameRange, ev); d != nil {
			diags = append(diags, d)
		} else if des.Name != "" {
			out.shorthand = append(out.shorthand, des)
		}
	}
	if attr, ok := attrs["settings"]; ok {
		s, d := l.decodeSettingsMap(ctx, attr)
		diags = append(diags, d...)
		out.settings = s
	}
	return out, diags
}

// decodeSettingsMap reads `settings = { "name" = value, … }`. A literal
// object is read item by item so each value keeps its own source range;
// any other expression (a local, merge(…)) is evaluated whole.
func (l *loader) decodeSettingsMap(ctx *hhcl.EvalContext, attr *hhcl.Attribute) ([]fleet.Desired, hhcl.Diagnostics) {
	var out []fleet.Desired
	var diags hhcl.Diagnostics
	if obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr); ok {
		seen := make(map[string]hhcl.Range, len(obj.Items))
		for _, item := range obj.Items {
			if d := unquotedSettingName(item.KeyExpr); d != nil {
				diags = append(diags, d)
				continue
			}
			key, ok, d := eval(ctx, item.KeyExpr, cty.String, "setting name")
			diags = append(diags, d...)
			if !ok || key.val.IsNull() {
				continue
			}
			name := key.val.AsString()
			if first, dup := seen[name]; dup {
				diags = append(diags, errorAt(item.KeyExpr.Range(), "Duplicate setting",
					fmt.Sprintf("Setting %q is already set at %s.", name, first)))
				continue
			}
			seen[name] = item.KeyExpr.Range()
			ev, ok, d := eval(ctx, item.ValueExpr, cty.DynamicPseudoType, "setting "+name)
			diags = append(diags, d...)
			if !ok || ev.val.IsNull() {
				continue
			}
			if des, d := l.setting(name, item.KeyExpr.Range(), ev); d != nil {
				diags = append(diags, d)
			} else if des.Name != "" {
				out = append(out, des)
			}
		}
		return out, diags
	}

	ev, ok, d := eval(ctx, attr.Expr, cty.DynamicPseudoType, "settings")
	diags = append(diags, d...)
	if !ok || ev.val.IsNull() {
		return nil, diags
	}
	ty := ev.val.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return nil, append(diags, errorAt(attr.Expr.Range(), "Invalid settings",
			fmt.Sprintf("settings must be a map of setting names to values, not %s.", ty.FriendlyName())))
	}
	for it := ev.val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if v.IsNull() {
			continue
		}
		name := k.AsString()
		des, d := l.setting(name, attr.Expr.Range(), evaluated{val: v, sensitive: ev.sensitive, rng: attr.Expr.Range()})
		if d != nil {
			diags = append(diags, d)
			continue
		}
		if des.Name != "" {
			out = append(out, des)
		}
	}
	return out, diags
}

// unquotedSettingName catches `system.contact = …` inside a settings map:
// HCL reads an unquoted dotted key as a reference, which would otherwise
// end in a puzzling "unknown variable" error.
func unquotedSettingName(key hhcl.Expression) *hhcl.Diagnostic {
	k, ok := key.(*hclsyntax.ObjectConsKeyExpr)
	if !ok {
		return nil
	}
	st, ok := k.Wrapped.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) < 2 {
		return nil
	}
	switch st.Traversal.RootName() {
	case "var", "local", "each", blockConfiguration, blockCredentials, blockFirmware:
		return nil
	}
	parts := []string{st.Traversal.RootName()}
	for _, step := range st.Traversal[1:] {
		a, ok := step.(hhcl.TraverseAttr)
		if !ok {
			return nil
		}
		parts = append(parts, a.Name)
	}
	name := strings.Join(parts, ".")
	return errorAt(key.Range(), "Unquoted setting name",
		fmt.Sprintf("Setting names contain dots and must be quoted: write %q = …", name))
}

// setting validates one setting against the catalog and returns its
// desired value in canonical form. Messages never repeat a sensitive value.
// A use of a declared setting whose declaration has errors returns neither
// a value nor a diagnostic: the declaration's error says it all.
func (l *loader) setting(name string, nameRange hhcl.Range, ev evaluated) (fleet.Desired, *hhcl.Diagnostic) {
	s, ok := l.cat.Lookup(name)
	if !ok && l.brokenSettings[name] {
		return fleet.Desired{}, nil
	}
	if !ok {
		return fleet.Desired{}, errorAt(nameRange, "Unknown setting",
			fmt.Sprintf("There is no setting named %q in the settings catalog.%s", name, didYouMean(name, l.cat.Names())))
	}
	raw, ok := valueString(ev.val)
	if !ok {
		return fleet.Desired{}, errorAt(ev.rng, "Invalid setting value",
			fmt.Sprintf("Setting %q takes a string, number or bool, not %s.", name, ev.val.Type().FriendlyName()))
	}
	canon, err := s.Validate(raw)
	if err != nil {
		detail := err.Error() + "."
		if ev.sensitive {
			detail = fmt.Sprintf("The value of setting %q is sensitive and not shown; %s.", name, expectation(s))
		}
		return fleet.Desired{}, errorAt(ev.rng, "Invalid setting value", detail)
	}
	return fleet.Desired{Name: name, Value: canon, Sensitive: ev.sensitive}, nil
}

// expectation describes valid values of s without quoting any value.
func expectation(s catalog.Setting) string {
	switch s.Type {
	case catalog.TypeInteger:
		return "it must be a whole number within the setting's range"
	case catalog.TypeEnum:
		return fmt.Sprintf("it must be one of %q", s.Enum)
	case catalog.TypeBool:
		return "it must be true or false"
	case catalog.TypeString:
		if s.MaxLength > 0 {
			return fmt.Sprintf("it must be UTF-8 text of at most %d bytes", s.MaxLength)
		}
	}
	return "it is not valid for the setting"
}

// mergeSettings layers settings in rising precedence; a later layer's
// value for a setting replaces an earlier one. The result is sorted.
func mergeSettings(layers ...[]fleet.Desired) []fleet.Desired {
	n := 0
	for _, ly := range layers {
		n += len(ly)
	}
	if n == 0 {
		return nil
	}
	byName := make(map[string]int, n)
	out := make([]fleet.Desired, 0, n)
	for _, ly := range layers {
		for _, d := range ly {
			if i, ok := byName[d.Name]; ok {
				out[i] = d
				continue
			}
			byName[d.Name] = len(out)
			out = append(out, d)
		}
	}
	sortDesired(out)
	return out
}
