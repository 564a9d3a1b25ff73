package discovery

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers/snmp"
)

// expectation is the part of a recording's NAME.expect.json (what
// LibreNMS reads from it, testdata/interop/SOURCES.md) a sweep checks.
type expectation struct {
	Hardware *string `json:"hardware"`
	Serial   *string `json:"serial"`
	SysDescr string  `json:"sysDescr"`
}

var macSuffix = regexp.MustCompile(`\s*\[[0-9A-Fa-f:]{12,17}\]$`)

// Every recording of a real printer, served by snmpsimd, is found by a
// sweep (v1 and v2c, after a community it ignores) with the identity a
// full observation reads, and what LibreNMS reads: its hardware within
// the model, its serial.
func TestSweepRecordings(t *testing.T) {
	dir := testservers.InteropDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.snmprec"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings in %s: %v", dir, err)
	}
	sim := testservers.StartSnmpsim(t, files...)
	addr := netip.AddrPortFrom(netip.MustParseAddr(sim.Host), uint16(sim.Port))
	conn := snmp.New(nil, snmp.Options{})
	defer conn.Close()
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".snmprec")
		var want expectation
		b, err := os.ReadFile(filepath.Join(dir, name+".expect.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s.expect.json: %v", name, err)
		}
		for _, version := range []string{fleet.SNMPv1, fleet.SNMPv2c} {
			t.Run(name+"/v"+version, func(t *testing.T) {
				profile := Profile{Name: "recorded", SNMP: fleet.SNMP{Version: version, Community: name}}
				got, st := sweep(t, []netip.AddrPort{addr}, Options{
					Profiles: []Profile{{Name: "other", SNMP: fleet.SNMP{Version: version, Community: "no-such-recording"}}, profile},
					Timeout:  300 * time.Millisecond, Retries: -1,
				})
				if len(got) != 1 {
					t.Fatalf("found %d devices (%+v)", len(got), st)
				}
				r := got[0]
				if r.Profile != "recorded" || !r.Printer {
					t.Errorf("profile %q, printer %v", r.Profile, r.Printer)
				}
				if want.SysDescr != "" && r.SysDescr == "" {
					t.Errorf("no sysDescr; LibreNMS reads %q", want.SysDescr)
				}
				if want.Hardware != nil && !strings.Contains(strings.ToLower(r.Model), strings.ToLower(macSuffix.ReplaceAllString(*want.Hardware, ""))) &&
					name != "konica" { // LibreNMS reads the print driver there (providers/snmp's interop test says why)
					t.Errorf("model %q does not contain LibreNMS's %q", r.Model, *want.Hardware)
				}
				if want.Serial != nil && r.Serial != *want.Serial {
					t.Errorf("serial %q, LibreNMS reads %q", r.Serial, *want.Serial)
				}
				p := fleet.Printer{Name: name, Host: sim.Host, Port: sim.Port, Credentials: fleet.Credentials{SNMP: profile.SNMP}}
				s, err := conn.Connect(context.Background(), p)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				obs, err := s.Observe(context.Background(), nil)
				if err != nil {
					t.Fatalf("Observe: %v", err)
				}
				have := [4]string{r.Vendor, r.Model, r.Serial, r.Firmware}
				if exp := [4]string{obs.Vendor, obs.Model, obs.Serial, obs.Firmware}; have != exp {
					t.Errorf("the sweep reads %q, an observation %q", have, exp)
				}
			})
		}
	}
}
