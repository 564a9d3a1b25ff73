package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
)

// A printer with transports = ["npap"] (and one with ["xmlnt"]) is
// planned and applied through the CLI against the simulator: facts over
// SNMP, every setting over the Lexmark protocol; the written values are
// seen over SNMP too, and the next plan has nothing to do.
func TestSettingsOverNPAPAndXMLNT(t *testing.T) {
	sim, dir := startFleet(t, simulator.Options{Printers: 5, Services: []string{"npap", "xmlnt"}})
	p0, p1 := sim.Printers()[0], sim.Printers()[1]
	for _, p := range []*simulator.Printer{p0, p1} {
		if p.Family() != "lexmark" {
			t.Fatalf("%s is a %s, not a Lexmark", p.Name(), p.Model())
		}
	}
	hcl := credentialsHCL + fmt.Sprintf(`
printer "np" {
  address     = %q
  serial      = %q
  credentials = credentials.sim
  transports  = ["npap"]
  ports       = { npap = %d }
  contact     = "IT Service Desk x4000"
  location    = "HQ 2F"
  settings = {
    "power.sleep_timeout_min" = 25
    "power.energy_saver"      = false
    "network.ntp_server"      = "ntp.example.net"
  }
}

printer "xml" {
  address     = %q
  serial      = %q
  credentials = credentials.sim
  transports  = ["xmlnt"]
  ports       = { xmlnt = %d }
  location    = "HQ 3F"
  settings    = { "panel.language" = "fr" }
}
`, p0.Addr(), p0.Serial(), p0.Port("npap"), p1.Addr(), p1.Serial(), p1.Port("xmlnt"))
	if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}

	plan := inkform(t, dir, ExitChanges, "plan", "-detailed-exitcode")
	for _, want := range []string{
		`system.contact          = "IT Service Desk x4000" via npap`,
		`power.sleep_timeout_min = "25" (the device has "15") via npap`,
		`panel.language  = "fr" (the device has "en") via xmlnt`,
		"printer.np (" + p0.Addr() + ") will be adopted via npap",
		"printer.xml (" + p1.Addr() + ") will be adopted via xmlnt",
	} {
		if !strings.Contains(plan.out, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.out)
		}
	}
	inkform(t, dir, ExitOK, "apply", "-auto-approve")
	for _, c := range []struct {
		p           *simulator.Printer
		name, value string
	}{
		{p0, "system.contact", "IT Service Desk x4000"}, {p0, "system.location", "HQ 2F"},
		{p0, "power.sleep_timeout_min", "25"}, {p0, "power.energy_saver", "false"},
		{p0, "network.ntp_server", "ntp.example.net"},
		{p1, "system.location", "HQ 3F"}, {p1, "panel.language", "fr"},
	} {
		if v, _ := c.p.Setting(c.name); v != c.value {
			t.Errorf("%s %s on the device = %q, want %q", c.p.Name(), c.name, v, c.value)
		}
	}
	// Written over NPAP, read over SNMP: sysContact.
	if pdu, ok := p0.Get(".1.3.6.1.2.1.1.4.0"); !ok || string(pdu.Value.([]byte)) != "IT Service Desk x4000" {
		t.Errorf("sysContact over SNMP = %v", pdu.Value)
	}
	inkform(t, dir, ExitOK, "plan", "-detailed-exitcode")
	if st := p0.NPAPStats(); st.Answered == 0 {
		t.Errorf("printer np answered no NPAP request: %+v", st)
	}
}
