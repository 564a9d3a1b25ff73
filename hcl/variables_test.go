package hcl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hhcl "github.com/hashicorp/hcl/v2"
)

func TestVariablePrecedence(t *testing.T) {
	const src = `
variable "contact" {
  type    = string
  default = "default"
}
printer "p" {
  address = "10.0.0.1"
  contact = var.contact
}`
	tmp := t.TempDir()
	varFile := func(name, body string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file1 := varFile("one.vars.hcl", `contact = "file1"`)
	file2 := varFile("two.vars.hcl", `contact = "file2"`)
	env := []string{"INKFORM_VAR_contact=env"}

	tests := []struct {
		name string
		opts LoadOptions
		want string
	}{
		{"default", LoadOptions{}, "default"},
		{"env over default", LoadOptions{Env: env}, "env"},
		{"var-file over env", LoadOptions{Env: env, VarFiles: []string{file1}}, "file1"},
		{"later var-file wins", LoadOptions{VarFiles: []string{file1, file2}}, "file2"},
		{"var-file order matters", LoadOptions{VarFiles: []string{file2, file1}}, "file1"},
		{"-var over var-file", LoadOptions{Env: env, VarFiles: []string{file1}, Vars: []string{"contact=cli"}}, "cli"},
		{"later -var wins", LoadOptions{Vars: []string{"contact=first", "contact=second"}}, "second"},
		{"-var string taken literally", LoadOptions{Vars: []string{`contact="quoted" = ${x}`}}, `"quoted" = ${x}`},
	}
	dir := writeConfig(t, map[string]string{"main.hcl": src})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, dir, tt.opts)
			if d, _ := cfg.Printers[0].Setting("system.contact"); d.Value != tt.want {
				t.Errorf("contact = %q, want %q", d.Value, tt.want)
			}
		})
	}
}

func TestVariableTypes(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
variable "ext" {
  type = number
}
variable "tags" {
  type = list(string)
}
variable "sites" {
  type = map(string)
}
variable "enabled" {
  type = bool
}
variable "anything" {
}
variable "site" {
  type = object({ code = string, floor = optional(number, 1) })
}
printer "p" {
  address  = "10.0.0.1"
  contact  = "x${var.ext + 1} ${var.anything} ${var.enabled}"
  location = "${var.sites["hq"]} ${var.site.code}/${var.site.floor}"
  keywords = var.tags
}`})
	cfg := mustLoad(t, dir, LoadOptions{
		Vars: []string{"ext=4000", `tags=["a","b"]`, "anything=bare-word", "enabled=true"},
		Env:  []string{`INKFORM_VAR_sites={ hq = "Head Office" }`, `INKFORM_VAR_site={ code = "HQ" }`},
	})
	p := cfg.Printers[0]
	if d, _ := p.Setting("system.contact"); d.Value != "x4001 bare-word true" {
		t.Errorf("contact = %q", d.Value)
	}
	if d, _ := p.Setting("system.location"); d.Value != "Head Office HQ/1" {
		t.Errorf("location = %q (optional attribute default not applied?)", d.Value)
	}
	if strings.Join(p.Keywords, ",") != "a,b" {
		t.Errorf("keywords = %v", p.Keywords)
	}
}

func TestVarFileUndeclaredWarns(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `variable "site" { default = "x" }`})
	vf := filepath.Join(t.TempDir(), "v.hcl")
	if err := os.WriteFile(vf, []byte("stie = \"hq\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Load(dir, LoadOptions{VarFiles: []string{vf}})
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("an unknown name in a var file must only warn: %s", diagText(diags))
	}
	if len(diags) != 1 || diags[0].Severity != hhcl.DiagWarning || !strings.Contains(diags[0].Detail, `Did you mean "site"?`) {
		t.Errorf("diags = %s", diagText(diags))
	}
}

// TestSensitivity checks that values of sensitive variables are flagged on
// the settings they reach and never appear in diagnostics.
func TestSensitivity(t *testing.T) {
	const secret = "s3cr3t-Value-42"
	dir := writeConfig(t, map[string]string{"main.hcl": `
variable "contact" {
  type      = string
  sensitive = true
}
variable "plain" {
  default = "visible"
}
locals {
  derived = "Desk ${upper(var.contact)}"
}
printer "p" {
  address  = "10.0.0.1"
  contact  = local.derived
  location = var.plain
  settings = { "system.name" = var.contact }
}`})
	cfg := mustLoad(t, dir, LoadOptions{Vars: []string{"contact=" + secret}})
	p := cfg.Printers[0]
	for name, want := range map[string]bool{"system.contact": true, "system.name": true, "system.location": false} {
		d, ok := p.Setting(name)
		if !ok {
			t.Fatalf("setting %s missing", name)
		}
		if d.Sensitive != want {
			t.Errorf("%s Sensitive = %v, want %v", name, d.Sensitive, want)
		}
	}
	if d, _ := p.Setting("system.name"); d.Value != secret {
		t.Errorf("the sensitive value itself must still be delivered unmarked: got %q", d.Value)
	}
}

func TestSecretsStayOutOfDiagnostics(t *testing.T) {
	const secret = "TopSecretCommunity"
	long := strings.Repeat(secret, 20) // too long for system.name
	tests := []struct {
		name string
		src  string
		vars []string
	}{
		{
			name: "invalid sensitive setting value",
			src: `
variable "v" {
  sensitive = true
}
printer "p" {
  address  = "10.0.0.1"
  settings = { "system.name" = var.v }
}`,
			vars: []string{"v=" + long},
		},
		{
			name: "sensitive value in bad address",
			src: `
variable "v" {
  type = string
  sensitive = true
}
printer "p" {
  address = "${var.v}:99999"
}`,
			vars: []string{"v=" + secret},
		},
		{
			name: "credentials with bad version from a secret",
			src: `
variable "v" {
  type = string
  sensitive = true
}
credentials "c" {
  snmp {
    version   = var.v
    community = var.v
  }
}`,
			vars: []string{"v=" + secret},
		},
		{
			name: "function error over a sensitive value",
			src: `
variable "v" {
  type = string
  sensitive = true
}
printer "p" {
  address = "10.0.0.1"
  contact = regex("(", var.v)
}`,
			vars: []string{"v=" + secret},
		},
		{
			name: "validation message using the value",
			src: `
variable "v" {
  type = string
  sensitive = true
  validation {
    condition     = length(var.v) < 5
    error_message = "bad: ${var.v}"
  }
}`,
			vars: []string{"v=" + secret},
		},
		{
			name: "wrongly typed -var value",
			src: `
variable "v" {
  type = number
  sensitive = true
}`,
			vars: []string{"v=" + secret},
		},
		{
			name: "malformed -var",
			src:  `variable "v" { sensitive = true }`,
			vars: []string{secret},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": tt.src})
			files := map[string]*hhcl.File{}
			_, diags := Load(dir, LoadOptions{Vars: tt.vars, Files: files})
			if !diags.HasErrors() {
				t.Fatal("expected an error")
			}
			var buf bytes.Buffer
			if err := WriteDiagnostics(&buf, files, diags, false); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(buf.String(), secret) {
				t.Errorf("secret leaked into diagnostics:\n%s", buf.String())
			}
			for _, d := range diags {
				if strings.Contains(d.Summary+d.Detail+d.Subject.Filename, secret) {
					t.Errorf("secret leaked into diagnostic %q: %q", d.Summary, d.Detail)
				}
			}
		})
	}
}
