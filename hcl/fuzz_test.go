package hcl

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as a configuration file. Load must
// report problems as diagnostics and never panic.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{filepath.Join("testdata", "full"), filepath.Join("testdata", "broken"), filepath.Join("testdata", "format"), filepath.Join("testdata", "delivery"), filepath.Join("testdata", "watch-broken")} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			src, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte(`printer "a" { for_each = { x = 1 } address = each.value }`))
	f.Add([]byte(`locals { a = local.a }`))
	f.Add([]byte("printer \"a\" {\n  address = \"${\n"))
	f.Add([]byte(`setting "a.b" { snmp { oid = "1.3" } }`))
	f.Add([]byte(`configuration "c" { files = [{ source = "x" }, null, 1] }`))
	f.Add([]byte(`firmware "f" { rollout { batch = 1e30 } }`))
	f.Add([]byte(issueForms))
	f.Add([]byte("smtp {\n  host = \"h\"\n  from = \"a@b\"\n}\nalert_route \"r\" {\n  email {\n    to = [\"a@b\"]\n  }\n  body = \"{{range 3}}{{.}}{{end}}{{template \\\"x\\\"}}\"\n}\n"))
	f.Add([]byte("watch {\n  status_page {\n    listen = \":8443\"\n    ldap {\n      url = \"ldap://h:389\"\n      insecure = true\n      user_base = \"dc=x\"\n      user_filter = \"(uid={username})\"\n      roles = { admin = \"cn=a,dc=x\", (\"viewer\") = \"cn=v,dc=x\" }\n    }\n    kerberos {\n      keytab = \"k\"\n      service = \"HTTP/h\"\n    }\n  }\n}\n"))
	f.Add([]byte("report \"r\" {\n  schedule = \"TZ= 0 0 * * *\"\n  view = \"alerts\"\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := Load(dir, LoadOptions{Vars: []string{}, Env: []string{"INKFORM_VAR_x=1"}})
		if diags.HasErrors() && cfg != nil {
			t.Fatal("Config returned together with errors")
		}
		for _, d := range diags {
			if d.Subject == nil {
				t.Fatalf("diagnostic %q has no Subject", d.Summary)
			}
		}
		_ = WriteDiagnostics(discard{}, nil, diags, false)
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
