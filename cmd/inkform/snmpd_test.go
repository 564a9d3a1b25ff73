package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/internal/testservers"
)

// These tests drive the whole CLI against net-snmp's snmpd, an SNMP agent
// written by others, and check the result with net-snmp's own snmpget.

const (
	v3User     = "inkadmin"
	v3AuthPass = "auth-pass-1234"
	v3PrivPass = "priv-pass-5678"
)

func startSnmpd(t *testing.T) *testservers.Snmpd {
	t.Helper()
	return testservers.StartSnmpd(t, testservers.SnmpdOptions{
		ReadCommunity:  "public",
		WriteCommunity: "private",
		V3Users: []testservers.V3User{{
			Name: v3User, AuthProtocol: "SHA", AuthPass: v3AuthPass,
			PrivProtocol: "AES", PrivPass: v3PrivPass, ReadWrite: true,
		}},
	})
}

// runIn runs inkform with a config directory and extra environment.
func runIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	io := streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: append([]string{"NO_COLOR=1"}, env...)}
	args = append(args[:1:1], append([]string{"-config", dir}, args[1:]...)...)
	return result{runContext(context.Background(), args, io), out.String(), errb.String()}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSnmpdV2cPlanApplyCheckedWithSnmpget(t *testing.T) {
	agent := startSnmpd(t)
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", fmt.Sprintf(`
variable "community" {
  type      = string
  sensitive = true
}
credentials "lab" {
  snmp {
    version   = "2c"
    community = var.community
  }
}
printer "lab-agent" {
  address     = %q
  contact     = "Print Ops <print-ops@example.com>"
  location    = "Lab 3, rack 7"
  credentials = credentials.lab
}
`, agent.Addr))
	env := []string{"INKFORM_VAR_community=private"}

	r := runIn(t, dir, env, "plan", "-detailed-exitcode")
	if r.code != ExitChanges || !strings.Contains(r.out, "system.contact") || !strings.Contains(r.out, "system.location") {
		t.Fatalf("plan: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = runIn(t, dir, env, "apply", "-auto-approve")
	if r.code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if got := testservers.SnmpGet(t, "-v2c", "-c", "public", "-Oqv", agent.Addr, "1.3.6.1.2.1.1.4.0"); !strings.Contains(got, "Print Ops <print-ops@example.com>") {
		t.Errorf("snmpget sysContact = %s", got)
	}
	if got := testservers.SnmpGet(t, "-v2c", "-c", "public", "-Oqv", agent.Addr, "1.3.6.1.2.1.1.6.0"); !strings.Contains(got, "Lab 3, rack 7") {
		t.Errorf("snmpget sysLocation = %s", got)
	}
	if r := runIn(t, dir, env, "plan", "-detailed-exitcode"); r.code != ExitOK {
		t.Fatalf("plan after apply: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

func v3Config(addr string) string {
	return fmt.Sprintf(`
variable "auth" {
  type      = string
  sensitive = true
}
variable "priv" {
  type      = string
  sensitive = true
}
credentials "v3" {
  snmp {
    version         = "3"
    user            = %q
    auth_protocol   = "SHA"
    auth_passphrase = var.auth
    priv_protocol   = "AES"
    priv_passphrase = var.priv
    timeout         = "1s"
    retries         = 0
  }
}
printer "secure-agent" {
  address     = %q
  contact     = "Secure Ops x9000"
  location    = "Vault"
  credentials = credentials.v3
}
`, v3User, addr)
}

func TestSnmpdV3AuthPrivApply(t *testing.T) {
	agent := startSnmpd(t)
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", v3Config(agent.Addr))
	env := []string{"INKFORM_VAR_auth=" + v3AuthPass, "INKFORM_VAR_priv=" + v3PrivPass}

	r := runIn(t, dir, env, "apply", "-auto-approve")
	if r.code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.out, r.err)
	}
	got := testservers.SnmpGet(t, "-v3", "-l", "authPriv", "-u", v3User, "-a", "SHA", "-A", v3AuthPass,
		"-x", "AES", "-X", v3PrivPass, "-Oqv", agent.Addr, "1.3.6.1.2.1.1.4.0", "1.3.6.1.2.1.1.6.0")
	if !strings.Contains(got, "Secure Ops x9000") || !strings.Contains(got, "Vault") {
		t.Fatalf("snmpget over v3 = %s", got)
	}
	if r := runIn(t, dir, env, "plan", "-detailed-exitcode"); r.code != ExitOK {
		t.Fatalf("plan after apply: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

func TestSnmpdV3WrongPassphraseIsClearError(t *testing.T) {
	agent := startSnmpd(t)
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", v3Config(agent.Addr))
	env := []string{"INKFORM_VAR_auth=not-the-passphrase", "INKFORM_VAR_priv=" + v3PrivPass}

	r := runIn(t, dir, env, "plan")
	out := r.out + r.err
	if !strings.Contains(out, "secure-agent") || !strings.Contains(strings.ToLower(out), "authentication failed") {
		t.Fatalf("plan with a wrong passphrase does not say so clearly: exit %d\n%s", r.code, out)
	}
	for _, secret := range []string{"not-the-passphrase", v3PrivPass} {
		if strings.Contains(out, secret) {
			t.Fatalf("output contains a passphrase:\n%s", out)
		}
	}
	if got := testservers.SnmpGet(t, "-v2c", "-c", "public", "-Oqv", agent.Addr, "1.3.6.1.2.1.1.4.0"); strings.Contains(got, "Secure Ops") {
		t.Fatal("the agent was written with a wrong passphrase")
	}
}
