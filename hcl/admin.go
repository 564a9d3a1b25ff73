package hcl

import (
	"fmt"

	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/fleet"
)

// decodeAdmin reads `admin { username = …  password = … }`: the login for
// FTP, HTTP(S) and password-protected PJL. Both are secret, sensitive or
// not: no diagnostic carries their values or the expressions that make them.
func (l *loader) decodeAdmin(ctx *hhcl.EvalContext, credName string, b *hhcl.Block) (fleet.Admin, hhcl.Diagnostics) {
	content, diags := b.Body.Content(adminSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	var out fleet.Admin
	for _, f := range []struct {
		name string
		dst  *string
	}{{"username", &out.Username}, {"password", &out.Password}} {
		attr, ok := attrs[f.name]
		if !ok {
			if !diags.HasErrors() {
				diags = append(diags, errorAt(b.DefRange, "Invalid admin credentials",
					fmt.Sprintf("In credentials %q: the admin block needs a %s.", credName, f.name)))
			}
			continue
		}
		v, _, set, d := evalString(ctx, attr, f.name)
		for _, diag := range d {
			diag.Expression, diag.EvalContext = nil, nil
		}
		diags = append(diags, d...)
		if set && v == "" {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid admin credentials",
				fmt.Sprintf("In credentials %q: the admin %s must not be empty.", credName, f.name)))
		}
		*f.dst = v
	}
	return out, diags
}
