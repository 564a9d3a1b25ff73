package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/state"
)

// pin is a sensitive value short enough that its plain SHA-256 is undone
// by trying all 10,000 PINs.
const pin = "4711"

// pinHash is the plain hash of pin, without its tag, as it would appear
// in any file or output that leaked it.
var pinHash = strings.TrimPrefix(state.HashValue(pin), "sha256:")

// noPlainHash fails when any of outputs holds the plain hash of pin.
func noPlainHash(t *testing.T, what string, outputs ...[]byte) {
	t.Helper()
	for _, o := range outputs {
		if bytes.Contains(o, []byte(pinHash)) {
			t.Errorf("%s holds the plain hash of a sensitive value", what)
		}
	}
}

// stateFiles returns the state database at path and every file beside it
// that belongs to it (journals, key).
func stateFiles(t *testing.T, path string) []string {
	t.Helper()
	files, err := filepath.Glob(path + "*")
	if err != nil || len(files) == 0 {
		t.Fatalf("files of %s: %v, %v", path, files, err)
	}
	return files
}

// A sensitive PIN is recorded, planned, saved and shown only as a hash
// keyed with the state's key: its plain hash is in no state file, plan
// file or output; state and plan files are readable by their owner only;
// and the state shows the values applied in clear but for the PIN.
func TestSensitiveValueIsNeverHashedPlainly(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	env := []string{"INKFORM_VAR_community=private", "INKFORM_VAR_secret_name=" + pin, stateEnv + "=sqlite:" + path}
	run := func(args ...string) result {
		t.Helper()
		r := f.runEnv(env, args...)
		if r.code != ExitOK {
			t.Fatalf("inkform %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.out, r.err)
		}
		noPlainHash(t, "inkform "+strings.Join(args, " "), []byte(r.out), []byte(r.err))
		return r
	}

	planFile := filepath.Join(dir, "plan.out")
	run("plan", "-out", planFile)
	run("show", planFile)
	run("show", planFile, "-json")
	run("apply", planFile)
	run("plan", "-json")
	run("state", "history", "printer.p00")
	shown := run("state", "show", "printer.p00").out
	for _, want := range []string{`system.contact   "IT Service Desk x4000"`, `system.location  "HQ 2F"`, "system.name      (sensitive)"} {
		if !strings.Contains(shown, want) {
			t.Errorf("state show lacks %q:\n%s", want, shown)
		}
	}
	var js struct {
		Printers []struct {
			Settings map[string]struct {
				Value     *string `json:"value"`
				Sensitive bool    `json:"sensitive"`
			} `json:"settings"`
		} `json:"printers"`
	}
	if err := json.Unmarshal([]byte(run("show", "-json").out), &js); err != nil {
		t.Fatal(err)
	}
	for _, p := range js.Printers {
		if s := p.Settings["system.name"]; !s.Sensitive || s.Value != nil {
			t.Errorf("show -json: system.name = %+v, want sensitive and no value", s)
		}
		if s := p.Settings["system.location"]; s.Sensitive || s.Value == nil || *s.Value != "HQ 2F" {
			t.Errorf("show -json: system.location = %+v, want HQ 2F in clear", s)
		}
	}

	for _, file := range append(stateFiles(t, path), planFile) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		noPlainHash(t, filepath.Base(file), b)
		if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", filepath.Base(file), fi.Mode().Perm(), err)
		}
	}
	if _, err := os.Stat(path + ".key"); err != nil {
		t.Errorf("no key file beside the state: %v", err)
	}
}

// A state written before sensitive values were keyed, holding the PIN's
// plain hash, is upgraded when next opened: the hash is gone from the
// file at once, the next plan records every setting again without
// writing a printer, and after its apply nothing is left to do.
func TestStateWithPlainHashesUpgrades(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	path := filepath.Join(t.TempDir(), "state.db")
	env := []string{"INKFORM_VAR_community=private", "INKFORM_VAR_secret_name=" + pin, stateEnv + "=sqlite:" + path}
	if r := f.runEnv(env, "apply", "-auto-approve"); r.code != ExitOK {
		t.Fatalf("apply: exit %d\n%s", r.code, r.err)
	}

	// As an inkform of schema version 4 left it: every value hashed
	// plainly, no value in clear, no secure_delete.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE printer_settings SET value_hash = '` + state.HashValue(pin) + `' WHERE setting = 'system.name'`,
		`UPDATE printer_settings SET value_hash = '` + state.HashValue("IT Service Desk x4000") + `' WHERE setting = 'system.contact'`,
		`UPDATE printer_settings SET value_hash = '` + state.HashValue("HQ 2F") + `' WHERE setting = 'system.location'`,
		`UPDATE run_changes SET value_hash = '` + state.HashValue(pin) + `' WHERE setting = 'system.name'`,
		`ALTER TABLE printer_settings DROP COLUMN clear_value`,
		`DROP TABLE audit_log`, `DROP TABLE session_revocations`, `DROP TABLE alert_events`, `DROP TABLE alert_active`, `DROP TABLE alert_deliveries`, `DROP TABLE alert_silences`,
		`DELETE FROM schema_migrations WHERE version > 4`,
	} {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + ".key") // the older inkform had none

	plan := f.runEnv(env, "plan", "-detailed-exitcode")
	if plan.code != ExitChanges || !strings.Contains(plan.out, "apply records again") || !strings.Contains(plan.out, "(already set on the device)") {
		t.Fatalf("plan of the upgraded state: exit %d\n%s\n%s", plan.code, plan.out, plan.err)
	}
	for _, file := range stateFiles(t, path) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		noPlainHash(t, filepath.Base(file)+" after the upgrade", b)
	}
	if r := f.runEnv(env, "apply", "-auto-approve"); r.code != ExitOK {
		t.Fatalf("apply of the upgraded state: exit %d\n%s", r.code, r.err)
	}
	for i := range 2 {
		if got := f.get(i, oidName); got != pin {
			t.Errorf("printer %d: sysName = %q", i, got)
		}
	}
	if r := f.runEnv(env, "plan", "-detailed-exitcode"); r.code != ExitOK {
		t.Errorf("plan after recording again: exit %d\n%s", r.code, r.out)
	}
	if shown := f.runEnv(env, "state", "show", "printer.p01").out; !strings.Contains(shown, `"HQ 2F"`) || !strings.Contains(shown, "(sensitive)") {
		t.Errorf("state show after recording again:\n%s", shown)
	}
}

// A server state keeps no key file: a configuration with a sensitive
// setting needs INKFORM_STATE_KEY, and says so when it is missing or too
// short, never repeating it.
func TestServerStateNeedsAKey(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	loc := firebirdLoc(t, "key")
	env := []string{"INKFORM_VAR_community=private", stateEnv + "=" + loc}
	r := f.runEnv(env, "plan")
	if r.code != ExitError || !strings.Contains(r.err, keyEnv) || !strings.Contains(r.err, "system.name is sensitive") {
		t.Errorf("plan without a key: exit %d\n%s", r.code, r.err)
	}
	short := "only-twenty-characters"
	r = f.runEnv(append(env, keyEnv+"="+short), "plan")
	if r.code != ExitError || !strings.Contains(r.err, keyEnv) || strings.Contains(r.err, short) {
		t.Errorf("plan with a short key: exit %d\n%s", r.code, r.err)
	}
	key := keyEnv + "=" + strings.Repeat("k", 32)
	if r := f.runEnv(append(env, key), "apply", "-auto-approve"); r.code != ExitOK {
		t.Fatalf("apply with a key: exit %d\n%s", r.code, r.err)
	}
	if r := f.runEnv(append(env, key), "plan", "-detailed-exitcode"); r.code != ExitOK {
		t.Errorf("plan with the key after apply: exit %d\n%s", r.code, r.out)
	}
}
