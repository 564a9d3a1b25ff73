package hcl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	hhcl "github.com/hashicorp/hcl/v2"
)

func TestCheckNesting(t *testing.T) {
	deep := func(open, close string, n int) string { return strings.Repeat(open, n) + strings.Repeat(close, n) }
	tests := []struct {
		name    string
		src     string
		refused bool
	}{
		{"brackets at the limit", "x = " + deep("[", "]", MaxNesting) + "\n", false},
		{"brackets past the limit", "x = " + deep("[", "]", MaxNesting+1) + "\n", true},
		{"parentheses past the limit", "x = " + deep("(", ")", MaxNesting+1) + "\n", true},
		{"interpolations past the limit", "x = " + deep(`"${`, `}"`, MaxNesting/2+1) + "\n", true},
		{"brackets in a string do not nest", `x = "` + strings.Repeat("[", 10*MaxNesting) + "\"\n", false},
		{"brackets in comments do not nest", "# " + strings.Repeat("[", 10*MaxNesting) + "\n/* " + strings.Repeat("{", 10*MaxNesting) + " */\nx = 1\n", false},
		{"brackets in a heredoc do not nest", "x = <<EOT\n" + strings.Repeat("(", 10*MaxNesting) + "\nEOT\ny = [1]\n", false},
		{"escaped interpolation is text", `x = "` + strings.Repeat("$${", 10*MaxNesting) + "\"\n", false},
		{"interpolations in a heredoc nest", "x = <<-EOT\n  " + deep("${[", "]}", MaxNesting) + "\n  EOT\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := checkNesting([]byte(tc.src), "t.hcl", hhcl.InitialPos)
			if (d != nil) != tc.refused {
				t.Fatalf("refused = %v, want %v (%v)", d != nil, tc.refused, d)
			}
			if d == nil {
				if _, diags := parseConfig([]byte(tc.src), "t.hcl"); diags.HasErrors() {
					t.Fatalf("accepted input does not parse: %s", diags)
				}
			}
		})
	}
}

// TestDeepNestingIsRefused feeds the parser what used to crash it with a
// fatal stack overflow; Load must refuse it at once, naming the place.
func TestDeepNestingIsRefused(t *testing.T) {
	dir := t.TempDir()
	src := "locals {\n  x = " + strings.Repeat("[", 100_000) + "\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "deep.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(dir, LoadOptions{})
	got := diagText(diags)
	// "locals {" is level 1; the 256th "[" (level 257) is at column 7+255.
	want := "deep.hcl:2:262"
	if !strings.Contains(got, "Nesting too deep") || !strings.Contains(got, want) {
		t.Fatalf("diagnostics do not refuse the nesting at %s:\n%.2000s", want, got)
	}
	// The same through a variables file, a -var value and fmt.
	vf := filepath.Join(dir, "deep.vars")
	if err := os.WriteFile(vf, []byte("v = "+strings.Repeat("[", 100_000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, diags := Load(dir, LoadOptions{VarFiles: []string{vf}}); !strings.Contains(diagText(diags), "Nesting too deep") {
		t.Errorf("variables file: not refused:\n%.2000s", diagText(diags))
	}
	if _, diags := Format([]byte(src), "deep.hcl"); !strings.Contains(diagText(diags), "Nesting too deep") {
		t.Errorf("fmt: not refused:\n%.2000s", diagText(diags))
	}
}

func FuzzCheckNesting(f *testing.F) {
	f.Add([]byte("x = [1, {a = \"${b}\"}]\n"))
	f.Add([]byte("x = <<EOT\n${[\nEOT\n"))
	f.Add([]byte("/* ( */ # [\n\"\\\"\""))
	f.Fuzz(func(t *testing.T, src []byte) {
		// Must never panic; a refusal must point inside the input.
		if d := checkNesting(src, "f.hcl", hhcl.InitialPos); d != nil && d.Subject.Start.Byte >= len(src) {
			t.Fatalf("refusal at byte %d of %d", d.Subject.Start.Byte, len(src))
		}
	})
}

func BenchmarkCheckNesting10k(b *testing.B) {
	src := []byte(largeFleet(10000)["main.hcl"])
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if d := checkNesting(src, "main.hcl", hhcl.InitialPos); d != nil {
			b.Fatal(d)
		}
	}
}
