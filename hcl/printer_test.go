package hcl

import (
	"testing"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TestStaticRefMatchesEvaluation checks the shortcut decodeRef takes for
// plain references against evaluating them.
func TestStaticRefMatchesEvaluation(t *testing.T) {
	base := &hhcl.EvalContext{Variables: map[string]cty.Value{
		blockConfiguration: refObject(blockConfiguration, map[string]bool{"office": true}),
		blockCredentials:   refObject(blockCredentials, map[string]bool{}),
	}}
	inst := childWithEach(base, &eachValues{key: cty.StringVal("k"), value: cty.StringVal("v")})
	for _, tc := range []struct {
		expr, kind string
		static     bool
	}{
		{"configuration.office", blockConfiguration, true},
		{"configuration.other", blockConfiguration, false}, // undeclared: evaluation reports it
		{"configuration.office", blockCredentials, false},  // wrong kind: decodeRef reports it
		{"credentials.fleet", blockCredentials, false},     // none declared
		{"configuration.office.name", blockConfiguration, false},
		{"configuration[\"office\"]", blockConfiguration, false},
		{"true ? configuration.office : null", blockConfiguration, false},
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(tc.expr), "t.hcl", hhcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		for _, ctx := range []*hhcl.EvalContext{base, inst} {
			name, ok := staticRef(ctx, expr, tc.kind)
			if ok != tc.static {
				t.Fatalf("staticRef(%s, %s) ok = %v, want %v", tc.expr, tc.kind, ok, tc.static)
			}
			if !ok {
				continue
			}
			v, diags := expr.Value(ctx)
			if diags.HasErrors() || v.GetAttr("kind").AsString() != tc.kind || v.GetAttr("name").AsString() != name {
				t.Fatalf("%s: staticRef gives %q, evaluation %#v %v", tc.expr, name, v, diags)
			}
		}
	}
}
