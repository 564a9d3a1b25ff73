package hcl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hhcl "github.com/hashicorp/hcl/v2"
)

// TestDiagnosticsCutLongLines: an error on a 5 MB line prints a window of
// the line around the mistake, not the line.
func TestDiagnosticsCutLongLines(t *testing.T) {
	dir := t.TempDir()
	// One line: a long list, then a setting the catalog does not know.
	src := `configuration "c" { settings = { ` +
		`"x.pad" = "` + strings.Repeat("é", 1<<20) + `", "no.such.setting" = 1 } }` + "\n" +
		"printer \"p\" {\n  address = \"127.0.0.1\"\n  configuration = configuration.c\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "long.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	files := map[string]*hhcl.File{}
	_, diags := Load(dir, LoadOptions{Files: files})
	if !diags.HasErrors() {
		t.Fatal("no error for an unknown setting")
	}
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if len(out) > 8<<10 {
		t.Fatalf("diagnostics are %d bytes for a one-line file; want a short excerpt:\n%.1000s", len(out), out)
	}
	for _, want := range []string{"long.hcl:1:", "…", `"no.such.setting"`} {
		if !strings.Contains(out, want) {
			t.Errorf("diagnostics do not show %q:\n%s", want, out)
		}
	}
}

func TestExcerptKeepsShortLines(t *testing.T) {
	src := []byte("a = 1\nb = \"" + strings.Repeat("x", 300) + "\"\n")
	files := map[string]*hhcl.File{"f.hcl": {Bytes: src}}
	short := &hhcl.Diagnostic{Subject: &hhcl.Range{Filename: "f.hcl", Start: hhcl.Pos{Line: 1, Column: 1, Byte: 0}, End: hhcl.Pos{Line: 1, Column: 2, Byte: 1}}}
	if _, standIn := excerpt(files, short); standIn != nil {
		t.Errorf("a short line was cut")
	}
	long := &hhcl.Diagnostic{Subject: &hhcl.Range{Filename: "f.hcl", Start: hhcl.Pos{Line: 2, Column: 200, Byte: 6 + 199}, End: hhcl.Pos{Line: 2, Column: 201, Byte: 6 + 200}}}
	cut, standIn := excerpt(files, long)
	if standIn == nil {
		t.Fatal("a 306-byte line was not cut")
	}
	if got := string(cut.Subject.SliceBytes(standIn.Bytes)); got != "x" {
		t.Errorf("subject in the excerpt = %q, want %q", got, "x")
	}
	if cut.Subject.Start.Line != 2 {
		t.Errorf("line = %d, want 2", cut.Subject.Start.Line)
	}
}
