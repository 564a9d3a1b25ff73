package hcl

import (
	"strings"
	"testing"
)

func TestServerStateBackends(t *testing.T) {
	for _, tc := range []struct{ backend, dsn string }{
		{"firebird", "firebird://SYSDBA:hunter22@db.example:3050/var/lib/firebird/inkform.fdb"},
		{"sqlserver", "sqlserver://sa:hunter22@db.example:1433?database=inkform"},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			src := "variable \"state_dsn\" {\n  type = string\n  sensitive = true\n}\n" +
				"state \"" + tc.backend + "\" {\n  dsn = var.state_dsn\n}\n"
			dir := writeConfig(t, map[string]string{"main.hcl": src})
			cfg, diags := Load(dir, LoadOptions{Env: []string{"INKFORM_VAR_state_dsn=" + tc.dsn}})
			if diags.HasErrors() {
				t.Fatalf("Load: %s", diagText(diags))
			}
			if cfg.State.Backend != tc.backend || cfg.State.DSN != tc.dsn || cfg.State.Path != "" {
				t.Errorf("State = %+v", cfg.State)
			}
		})
	}
	// A bad dsn is reported without its value.
	src := "variable \"state_dsn\" {\n  type = string\n  sensitive = true\n}\nstate \"sqlserver\" {\n  dsn = var.state_dsn\n}\n"
	dir := writeConfig(t, map[string]string{"main.hcl": src})
	_, diags := Load(dir, LoadOptions{Env: []string{"INKFORM_VAR_state_dsn=sa:hunter22@db"}})
	if !diags.HasErrors() {
		t.Fatal("a dsn without sqlserver:// was accepted")
	}
	if text := diagText(diags); strings.Contains(text, "hunter22") {
		t.Errorf("diagnostics reveal the dsn:\n%s", text)
	}
}
