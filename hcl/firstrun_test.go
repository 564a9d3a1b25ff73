package hcl

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	hhcl "github.com/hashicorp/hcl/v2"
)

func TestCSVDecodeIgnoresByteOrderMark(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"printers.csv": "\ufeffname,address\nlobby,10.0.0.1\n",
		"main.hcl": `printer "fleet" {
  for_each = { for r in csvdecode(file("printers.csv")) : r.name => r }
  address  = each.value.address
}
`})
	cfg, diags := Load(dir, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(cfg.Printers) != 1 || cfg.Printers[0].Name != `fleet["lobby"]` {
		t.Fatalf("printers %+v", cfg.Printers)
	}
}

// Each diagnostic prints once, in full, with file:line:col; a variables
// file's shows its source; a directory without *.hcl points at -config.
func TestDiagnosticsPrintOnceWithSource(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"main.hcl": "printer \"a\" {\n  address = \"127.0.0.1\"\n  settings = { \"paper.default_size\" = \"B9\" }\n}\n",
		"v.vars":   "foo = \"x\"\n",
	})
	files := map[string]*hhcl.File{}
	_, diags := Load(dir, LoadOptions{Files: files, VarFiles: []string{filepath.Join(dir, "v.vars")}})
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"main.hcl:3:39, in printer \"a\":",
		`is not one of ["A3", "A4", "A5", "B5", "Executive", "Ledger", "Legal", "Letter"]`,
		"v.vars:1:1:\n   1: foo = \"x\"",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "Invalid setting value"); n != 1 {
		t.Errorf("the error is printed %d times:\n%s", n, out)
	}
	if strings.Contains(out, "source code not available") {
		t.Errorf("source missing:\n%s", out)
	}

	buf.Reset()
	_ = WriteDiagnosticsStyled(&buf, files, diags, DiagnosticStyle{CompactWarnings: true})
	if !strings.Contains(buf.String(), "v.vars:1:1: warning: Value for undeclared variable\n") {
		t.Errorf("compact warnings:\n%s", buf.String())
	}

	_, diags = Load(t.TempDir(), LoadOptions{})
	buf.Reset()
	_ = WriteDiagnostics(&buf, nil, diags, false)
	if out := buf.String(); !strings.Contains(out, "holds no *.hcl files") || !strings.Contains(out, "-config") || strings.Contains(out, " line 1") {
		t.Errorf("empty directory:\n%s", out)
	}
}

// A missing sensitive variable is reported once, not again as the
// credentials that use it.
func TestMissingVariableReportedOnce(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
variable "community" {
  type      = string
  sensitive = true
}
credentials "fleet" {
  snmp {
    version   = "2c"
    community = var.community
  }
}
printer "a" {
  address     = "127.0.0.1"
  credentials = credentials.fleet
}
`})
	_, diags := Load(dir, LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "No value for required variable" {
		t.Fatalf("diagnostics: %v", diags)
	}
}

// indent's count is bounded: a typo must not take gigabytes to evaluate.
func TestIndentIsBounded(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": "locals {\n  x = indent(99999999, \"a\\nb\")\n  y = indent(2, \"a\\nb\")\n}\n"})
	_, diags := Load(dir, LoadOptions{})
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "at most 1024 spaces") {
		t.Fatalf("diagnostics: %v", diags)
	}
}
