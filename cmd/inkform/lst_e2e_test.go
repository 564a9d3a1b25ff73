package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
)

// A secured printer reached only over LST: planned and applied through the
// CLI against the simulator, after which plan finds nothing to do; the
// values land in the printer's one settings store (SNMP sees them). With a
// wrong password the plan names the refused login for that printer alone.
func TestSecuredPrinterOverLST(t *testing.T) {
	sim, dir := startFleet(t, simulator.Options{Printers: 2, Secured: 2, AdminPassword: "inkform-sim"})
	vault, other := sim.Printers()[0], sim.Printers()[1]
	printer := func(name string, p *simulator.Printer, creds string) string {
		return fmt.Sprintf(`
printer %q {
  address         = %q
  serial          = %q
  credentials     = credentials.%s
  secured         = true
  transports      = ["lst"]
  ports           = { lst = %d }
  tls_fingerprint = %q
  location        = "Vault 1"
  settings = {
    "network.ntp_server" = "ntp.example.net"
  }
}
`, name, p.Addr(), p.Serial(), creds, p.Port("lst"), p.TLSFingerprint())
	}
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), []byte(credentialsHCL+body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(printer("vault", vault, "sim"))

	plan := inkform(t, dir, ExitChanges, "plan", "-detailed-exitcode")
	for _, want := range []string{`system.location    = "Vault 1"`, "via lst", "network.ntp_server"} {
		if !strings.Contains(plan.out, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.out)
		}
	}
	inkform(t, dir, ExitOK, "apply", "-auto-approve")
	if v, _ := vault.Setting("system.location"); v != "Vault 1" {
		t.Errorf("system.location after apply = %q", v)
	}
	if pdu, ok := vault.Get(simulator.OIDSysLocation); !ok || string(pdu.Value.([]byte)) != "Vault 1" {
		t.Errorf("sysLocation (SNMP) after apply = %v", pdu.Value)
	}
	if v, _ := vault.Setting("network.ntp_server"); v != "ntp.example.net" {
		t.Errorf("network.ntp_server after apply = %q", v)
	}
	inkform(t, dir, ExitOK, "plan", "-detailed-exitcode")

	// The second printer's login is refused: reported for it alone, and
	// the first is still checked (a printer never stops the fleet).
	write(printer("vault", vault, "sim") + printer("vault-b", other, "wrong") + `
credentials "wrong" {
  snmp {
    version   = "2c"
    community = "private"
  }
  admin {
    username = "admin"
    password = "not-the-Password"
  }
}
`)
	r := inkform(t, dir, ExitOK, "plan", "-detailed-exitcode")
	if !strings.Contains(r.out, `! printer.vault-b`) || !strings.Contains(r.out, `login refused for user "admin"`) || !strings.Contains(r.out, "No changes to the 1 printer checked") {
		t.Errorf("plan does not report the refused login of vault-b:\nstdout:\n%s\nstderr:\n%s", r.out, r.err)
	}
	if strings.Contains(r.out+r.err, "not-the-Password") {
		t.Error("the plan shows the wrong password")
	}
}
