package hcl

import (
	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout. It parses src first and
// returns only diagnostics when src has syntax errors, so broken input is
// never rewritten.
func Format(src []byte, filename string) ([]byte, hhcl.Diagnostics) {
	if d := checkNesting(src, filename, hhcl.InitialPos); d != nil {
		return nil, hhcl.Diagnostics{d}
	}
	if _, diags := hclsyntax.ParseConfig(src, filename, hhcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}
