package hcl

import (
	"bytes"
	"strings"
	"testing"

	hhcl "github.com/hashicorp/hcl/v2"
)

// TestErrors checks each validation rule: the summary, words the message
// must contain, and the line the diagnostic points at.
func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		opts    LoadOptions
		summary string
		detail  []string
		line    int
	}{
		{
			name:    "unknown block type",
			src:     "printr \"a\" {\n}\n",
			summary: "Unsupported block type", detail: []string{`Did you mean "printer"?`}, line: 1,
		},
		{
			name:    "unknown attribute",
			src:     "printer \"a\" {\n  adress = \"10.0.0.1\"\n}\n",
			summary: "Unsupported argument", detail: []string{`Did you mean "address"?`}, line: 2,
		},
		{
			name:    "unknown attribute in snmp",
			src:     "credentials \"c\" {\n  snmp {\n    comunity = \"x\"\n  }\n}\n",
			summary: "Unsupported argument", detail: []string{`Did you mean "community"?`}, line: 3,
		},
		{
			name:    "duplicate printer",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n}\nprinter \"a\" {\n  address = \"10.0.0.2\"\n}\n",
			summary: "Duplicate printer", detail: []string{`printer "a"`, "main.hcl:1,1-12"}, line: 4,
		},
		{
			name:    "duplicate configuration",
			src:     "configuration \"o\" {\n}\nconfiguration \"o\" {\n}\n",
			summary: "Duplicate configuration", detail: []string{"main.hcl:1,1"}, line: 3,
		},
		{
			name:    "duplicate credentials",
			src:     "credentials \"c\" {\n  snmp { community = \"x\" }\n}\ncredentials \"c\" {\n  snmp { community = \"y\" }\n}\n",
			summary: "Duplicate credentials", detail: []string{"main.hcl:1,1"}, line: 4,
		},
		{
			name:    "duplicate variable",
			src:     "variable \"v\" {\n  default = 1\n}\nvariable \"v\" {\n  default = 2\n}\n",
			summary: "Duplicate variable", line: 4,
		},
		{
			name:    "duplicate local",
			src:     "locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n",
			summary: "Duplicate local value", line: 5,
		},
		{
			name:    "duplicate state",
			src:     "state \"sqlite\" {\n}\nstate \"sqlite\" {\n}\n",
			summary: "Duplicate state block", line: 3,
		},
		{
			name:    "invalid label",
			src:     "printer \"1st floor\" {\n  address = \"10.0.0.1\"\n}\n",
			summary: "Invalid printer name", line: 1,
		},
		{
			name:    "duplicate address",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n}\nprinter \"b\" {\n  address = \"10.0.0.1:161\"\n}\n",
			summary: "Duplicate printer address", detail: []string{"Printers a and b", "10.0.0.1:161"}, line: 4,
		},
		{
			name:    "duplicate address ipv6 spelled differently",
			src:     "printer \"a\" {\n  address = \"fd00:0::1\"\n}\nprinter \"b\" {\n  address = \"[fd00::1]:161\"\n}\n",
			summary: "Duplicate printer address", detail: []string{"Printers a and b"}, line: 4,
		},
		{
			name:    "missing configuration",
			src:     "configuration \"office\" {\n}\nprinter \"a\" {\n  address = \"10.0.0.1\"\n  configuration = configuration.ofice\n}\n",
			summary: "Reference to undeclared configuration", detail: []string{`"ofice"`, `Did you mean "office"?`}, line: 5,
		},
		{
			name:    "missing credentials",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n  credentials = credentials.fleet\n}\n",
			summary: "Reference to undeclared credentials", detail: []string{`"fleet"`}, line: 3,
		},
		{
			name:    "wrong kind of reference",
			src:     "credentials \"c\" {\n  snmp { community = \"x\" }\n}\nprinter \"a\" {\n  address = \"10.0.0.1\"\n  configuration = credentials.c\n}\n",
			summary: "Invalid configuration reference", detail: []string{"credentials.c"}, line: 6,
		},
		{
			name:    "string instead of reference",
			src:     "configuration \"o\" {\n}\nprinter \"a\" {\n  address = \"10.0.0.1\"\n  configuration = \"o\"\n}\n",
			summary: "Invalid configuration reference", detail: []string{"configuration.example"}, line: 5,
		},
		{
			name:    "undeclared variable",
			src:     "variable \"site\" {\n  default = \"hq\"\n}\nprinter \"a\" {\n  address = \"10.0.0.1\"\n  location = var.sit\n}\n",
			summary: "Reference to undeclared input variable", detail: []string{`Did you mean "site"?`}, line: 6,
		},
		{
			name:    "undeclared local",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n  location = local.nope\n}\n",
			summary: "Reference to undeclared local value", line: 3,
		},
		{
			name:    "bad address",
			src:     "printer \"a\" {\n  address = \"10.0.0.1:99999\"\n}\n",
			summary: "Invalid printer address", detail: []string{"1 to 65535"}, line: 2,
		},
		{
			name:    "bad host name",
			src:     "printer \"a\" {\n  address = \"printer_?.example\"\n}\n",
			summary: "Invalid printer address", detail: []string{"host name"}, line: 2,
		},
		{
			name:    "ipv6 with port needs brackets",
			src:     "printer \"a\" {\n  address = \"fd00::1::161x\"\n}\n",
			summary: "Invalid printer address", detail: []string{"[address]:port"}, line: 2,
		},
		{
			name:    "null address",
			src:     "printer \"a\" {\n  address = null\n}\n",
			summary: "Invalid printer address", detail: []string{"not null"}, line: 2,
		},
		{
			name:    "missing address",
			src:     "printer \"a\" {\n}\n",
			summary: "Missing required argument", line: 1,
		},
		{
			name:    "bad snmp version",
			src:     "credentials \"c\" {\n  snmp {\n    version = \"2d\"\n    community = \"x\"\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{`"1", "2c" or "3"`}, line: 3,
		},
		{
			name:    "bad auth protocol",
			src:     "credentials \"c\" {\n  snmp {\n    version = \"3\"\n    user = \"u\"\n    auth_protocol = \"SHA512\"\n    auth_passphrase = \"12345678\"\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"auth_protocol", "SHA256"}, line: 5,
		},
		{
			name:    "bad priv protocol",
			src:     "credentials \"c\" {\n  snmp {\n    version = \"3\"\n    user = \"u\"\n    auth_protocol = \"SHA\"\n    auth_passphrase = \"12345678\"\n    priv_protocol = \"3DES\"\n    priv_passphrase = \"12345678\"\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"priv_protocol", "AES"}, line: 7,
		},
		{
			name:    "priv without auth",
			src:     "credentials \"c\" {\n  snmp {\n    version = \"3\"\n    user = \"u\"\n    priv_protocol = \"AES\"\n    priv_passphrase = \"12345678\"\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"requires authentication"}, line: 5,
		},
		{
			name:    "short passphrase",
			src:     "credentials \"c\" {\n  snmp {\n    version = \"3\"\n    user = \"u\"\n    auth_protocol = \"MD5\"\n    auth_passphrase = \"short\"\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"at least 8"}, line: 6,
		},
		{
			name:    "v3 without user",
			src:     "credentials \"c\" {\n  snmp {\n    version = 3\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"needs a user"}, line: 2,
		},
		{
			name:    "community with v3",
			src:     "credentials \"c\" {\n  snmp {\n    version = \"3\"\n    user = \"u\"\n    community = \"x\"\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"community is for SNMP v1 and v2c"}, line: 5,
		},
		{
			name:    "v2c without community",
			src:     "credentials \"c\" {\n  snmp {\n    version = \"2c\"\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"needs a community"}, line: 2,
		},
		{
			name:    "bad timeout",
			src:     "credentials \"c\" {\n  snmp {\n    community = \"x\"\n    timeout = \"soon\"\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"duration"}, line: 4,
		},
		{
			name:    "bad retries",
			src:     "credentials \"c\" {\n  snmp {\n    community = \"x\"\n    retries = 1.5\n  }\n}\n",
			summary: "Invalid SNMP credentials", detail: []string{"whole number"}, line: 4,
		},
		{
			name:    "missing snmp block",
			src:     "credentials \"c\" {\n}\n",
			summary: "Missing snmp block", line: 1,
		},
		{
			name:    "unknown setting",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n  settings = {\n    \"system.locaton\" = \"x\"\n  }\n}\n",
			summary: "Unknown setting", detail: []string{`Did you mean "system.location"?`}, line: 4,
		},
		{
			name:    "unquoted setting name",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n  settings = {\n    system.location = \"x\"\n  }\n}\n",
			summary: "Unquoted setting name", detail: []string{`"system.location"`}, line: 4,
		},
		{
			name:    "invalid setting value",
			src:     "configuration \"o\" {\n  settings = {\n    \"system.name\" = \"" + strings.Repeat("n", 300) + "\"\n  }\n}\n",
			summary: "Invalid setting value", detail: []string{"maximum is 255"}, line: 3,
		},
		{
			name:    "setting value of wrong type",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n  settings = {\n    \"system.name\" = [\"x\"]\n  }\n}\n",
			summary: "Invalid setting value", detail: []string{"string, number or bool"}, line: 4,
		},
		{
			name:    "duplicate setting",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n  settings = {\n    \"system.name\" = \"x\"\n    \"system.name\" = \"y\"\n  }\n}\n",
			summary: "Duplicate setting", line: 5,
		},
		{
			name:    "settings not a map",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n  settings = \"x\"\n}\n",
			summary: "Invalid settings", line: 3,
		},
		{
			name:    "for_each list",
			src:     "printer \"a\" {\n  for_each = [\"x\"]\n  address = each.value\n}\n",
			summary: "Invalid for_each argument", detail: []string{"toset"}, line: 2,
		},
		{
			name:    "for_each number",
			src:     "printer \"a\" {\n  for_each = 3\n  address = \"10.0.0.1\"\n}\n",
			summary: "Invalid for_each argument", detail: []string{"number"}, line: 2,
		},
		{
			name:    "for_each sensitive",
			src:     "variable \"hosts\" {\n  type = map(string)\n  default = { a = \"10.0.0.1\" }\n  sensitive = true\n}\nprinter \"a\" {\n  for_each = var.hosts\n  address = each.value\n}\n",
			summary: "Invalid for_each argument", detail: []string{"sensitive"}, line: 7,
		},
		{
			name:    "each without for_each",
			src:     "printer \"a\" {\n  address = each.value\n}\n",
			summary: "Reference to \"each\" outside for_each", line: 2,
		},
		{
			name:    "instance error names the instance",
			src:     "printer \"a\" {\n  for_each = { x = \"10.0.0.1\", y = \"10.0.0.999\" }\n  address = each.value\n}\n",
			summary: "Invalid printer address", detail: []string{`printer a["y"]`}, line: 3,
		},
		{
			name:    "unsupported state backend",
			src:     "state \"postgres\" {\n  dsn = \"x\"\n}\n",
			summary: "Unsupported state backend", detail: []string{`"firebird"`, `"sqlserver"`}, line: 1,
		},
		{
			name:    "dsn on sqlite",
			src:     "state \"sqlite\" {\n  dsn = \"x\"\n}\n",
			summary: "Unsupported argument", detail: []string{"server state backends"}, line: 2,
		},
		{
			name:    "path on firebird",
			src:     "state \"firebird\" {\n  path = \"x.fdb\"\n  dsn = \"firebird://u:p@h/x.fdb\"\n}\n",
			summary: "Unsupported argument", detail: []string{"takes dsn"}, line: 2,
		},
		{
			name:    "firebird without dsn",
			src:     "state \"firebird\" {\n}\n",
			summary: "Missing dsn", detail: []string{"firebird://"}, line: 1,
		},
		{
			name:    "dsn of another backend hides the value",
			src:     "variable \"d\" {\n  sensitive = true\n  default = \"sqlserver://sa:hunter22@db?database=x\"\n}\nstate \"firebird\" {\n  dsn = var.d\n}\n",
			summary: "Invalid state dsn", detail: []string{"must start with firebird://", "not shown"}, line: 6,
		},
		{
			name:    "variable without value",
			src:     "variable \"community\" {\n  type = string\n}\n",
			summary: "No value for required variable", detail: []string{"-var community=", "INKFORM_VAR_community"}, line: 1,
		},
		{
			name:    "unknown -var",
			src:     "variable \"site\" {\n  default = \"x\"\n}\n",
			opts:    LoadOptions{Vars: []string{"stie=hq"}},
			summary: "Value for undeclared variable", detail: []string{`Did you mean "site"?`}, line: 1,
		},
		{
			name:    "malformed -var",
			src:     "variable \"site\" {\n  default = \"x\"\n}\n",
			opts:    LoadOptions{Vars: []string{"site"}},
			summary: "Invalid -var option", line: 1,
		},
		{
			name:    "-var of wrong type",
			src:     "variable \"n\" {\n  type = number\n}\n",
			opts:    LoadOptions{Vars: []string{"n=abc"}},
			summary: "Invalid value for variable", detail: []string{`"n"`, "-var n"}, line: 1,
		},
		{
			name:    "bad default",
			src:     "variable \"n\" {\n  type = number\n  default = \"abc\"\n}\n",
			summary: "Invalid default value for variable", line: 3,
		},
		{
			name:    "bad type",
			src:     "variable \"n\" {\n  type = strin\n}\n",
			summary: "Invalid type specification", line: 2,
		},
		{
			name:    "validation failure",
			src:     "variable \"site\" {\n  default = \"x\"\n  validation {\n    condition = length(var.site) > 2\n    error_message = \"Site codes have three letters.\"\n  }\n}\n",
			summary: "Invalid value for variable", detail: []string{"Site codes have three letters."}, line: 4,
		},
		{
			name:    "validation may not use locals",
			src:     "locals {\n  n = 1\n}\nvariable \"site\" {\n  default = \"x\"\n  validation {\n    condition = local.n > 2\n    error_message = \"no\"\n  }\n}\n",
			summary: "Local values cannot be used here", line: 7,
		},
		{
			name:    "locals cycle",
			src:     "locals {\n  a = local.c\n  b = local.a\n  c = \"${local.b}!\"\n}\n",
			summary: "Cycle in local values", detail: []string{"local.a → local.c → local.b → local.a"}, line: 2,
		},
		{
			name:    "local refers to itself",
			src:     "locals {\n  x = 1\n  a = local.a\n}\n",
			summary: "Cycle in local values", detail: []string{"local.a → local.a"}, line: 3,
		},
		{
			name:    "function error",
			src:     "printer \"a\" {\n  address = file(\"missing.txt\")\n}\n",
			summary: "Error in function call", detail: []string{"missing.txt"}, line: 2,
		},
		{
			name:    "unknown function",
			src:     "printer \"a\" {\n  address = uper(\"x\")\n}\n",
			summary: "Call to unknown function", detail: []string{"upper"}, line: 2,
		},
		{
			name:    "syntax error",
			src:     "printer \"a\" {\n  address = \n}\n",
			summary: "Invalid expression", line: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": tt.src})
			cfg, diags := Load(dir, tt.opts)
			if cfg != nil {
				t.Error("Load returned a Config despite errors")
			}
			var found *hhcl.Diagnostic
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no Subject", d.Summary)
				}
				if d.Severity == hhcl.DiagError && d.Summary == tt.summary && found == nil {
					found = d
				}
			}
			if found == nil {
				t.Fatalf("no error %q among:\n%s", tt.summary, diagText(diags))
			}
			for _, want := range tt.detail {
				if !strings.Contains(found.Detail, want) {
					t.Errorf("detail %q lacks %q", found.Detail, want)
				}
			}
			if found.Subject.Start.Line != tt.line {
				t.Errorf("subject %s: line %d, want %d", found.Subject, found.Subject.Start.Line, tt.line)
			}
		})
	}
}

func diagText(diags hhcl.Diagnostics) string {
	var buf bytes.Buffer
	_ = WriteDiagnostics(&buf, nil, diags, false)
	return buf.String()
}

// TestCollectsAllErrors checks that independent mistakes in different
// blocks and files are all reported by one Load.
func TestCollectsAllErrors(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"a.hcl": "printer \"a\" {\n  address = \"10.0.0.1:0\"\n  settings = { \"nope\" = 1 }\n}\n",
		"b.hcl": "printer \"b\" {\n  address = \"10.0.0.2\"\n  credentials = credentials.x\n  location = local.y\n}\nprintr \"c\" {}\n",
	})
	_, diags := Load(dir, LoadOptions{})
	want := []string{"Invalid printer address", "Unknown setting", "Reference to undeclared credentials", "Reference to undeclared local value", "Unsupported block type"}
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("summaries = %q, want %q (sorted by file and position)", got, want)
	}
}

// TestSensitiveIdentityRefused: values that plans and state show in clear
// cannot come from a sensitive variable, and the refusal does not show
// the value either.
func TestSensitiveIdentityRefused(t *testing.T) {
	const secret = "s3cr3t-4711"
	head := "variable \"x\" {\n  type      = string\n  sensitive = true\n  default   = \"" + secret + "\"\n}\n"
	tests := []struct{ name, src, what string }{
		{"address", "printer \"a\" {\n  address = var.x\n}\n", "address of printer a"},
		{"serial", "printer \"a\" {\n  address = \"10.0.0.1\"\n  serial  = var.x\n}\n", "serial of printer a"},
		{"keywords", "printer \"a\" {\n  address  = \"10.0.0.1\"\n  keywords = [var.x]\n}\n", "keywords of printer a"},
		{"files", "printer \"a\" {\n  address = \"10.0.0.1\"\n  files   = [{ source = var.x }]\n}\n", "files list"},
		{"ca_cert", "printer \"a\" {\n  address = \"10.0.0.1\"\n  ca_cert = var.x\n}\n", "ca_cert"},
		{"firmware file", "firmware \"f\" {\n  models  = [\"X*\"]\n  version = \"1\"\n  file    = var.x\n}\n", `file of firmware "f"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": head + tt.src})
			files := map[string]*hhcl.File{}
			_, diags := Load(dir, LoadOptions{Files: files})
			var buf bytes.Buffer
			_ = WriteDiagnostics(&buf, files, diags, false)
			out := strings.ReplaceAll(buf.String(), `default   = "`+secret+`"`, "") // the declaration itself may be quoted
			if !strings.Contains(out, "Sensitive value not allowed") || !strings.Contains(out, tt.what) {
				t.Errorf("no refusal naming %q:\n%s", tt.what, out)
			}
			if strings.Contains(out, secret) {
				t.Errorf("diagnostics show the secret:\n%s", out)
			}
		})
	}
}
