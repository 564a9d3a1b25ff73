package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/state/sqlite"
)

// startFleet starts a simulator for a test and returns it with a folder
// for the configuration.
func startFleet(t *testing.T, o simulator.Options) (*simulator.Sim, string) {
	t.Helper()
	sim, err := simulator.Start(t.Context(), o)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, t.TempDir()
}

// inkform runs the command in dir with the simulator's credentials.
func inkform(t *testing.T, dir string, want ExitCode, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	io := streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: []string{"NO_COLOR=1", "INKFORM_VAR_admin_pw=inkform-sim"}}
	args = append(args[:1:1], append([]string{"-config", dir}, args[1:]...)...)
	r := result{runContext(context.Background(), args, io), out.String(), errb.String()}
	if r.code != want {
		t.Fatalf("inkform %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.out, r.err)
	}
	if strings.Contains(r.out+r.err, "inkform-sim") {
		t.Fatalf("inkform %s: output shows the admin password", strings.Join(args, " "))
	}
	return r
}

const credentialsHCL = `
variable "admin_pw" {
  type      = string
  sensitive = true
}
credentials "sim" {
  snmp {
    version   = "2c"
    community = "private"
    timeout   = "300ms"
    retries   = 1
  }
  admin {
    username = "admin"
    password = var.admin_pw
  }
}
`

// A 30-printer rollout where the first two printers reject the image:
// the canary wave holds both failures, so with max_failures = 1 the rest
// halts; state knows who upgraded, and once the two are fixed the next
// apply finishes the job.
func TestFirmwareRolloutHaltsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("30-printer rollout")
	}
	const version = "SIMFW.300.001"
	sim, dir := startFleet(t, simulator.Options{
		Printers: 30, Services: []string{"ftp"}, FirmwareFail: 2, RebootDelay: 300 * time.Millisecond,
	})
	image := simulator.MakeFirmwareImage("Lexmark *", version, bytes.Repeat([]byte("firmware"), 8<<10))
	if err := os.MkdirAll(filepath.Join(dir, "firmware"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "firmware", version+".fls"), image, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(image)
	var b strings.Builder
	b.WriteString(credentialsHCL)
	fmt.Fprintf(&b, `
firmware "lexmark" {
  models  = ["Lexmark *"]
  version = %q
  file    = "firmware/%s.fls"
  sha256  = %q
  via     = "ftp"
  rollout {
    batch        = 4
    max_failures = 1
  }
}
configuration "office" {
  contact    = "IT Service Desk x4000"
  firmware   = firmware.lexmark
  transports = ["snmp", "ftp"]
}
`, version, version, hex.EncodeToString(sum[:]))
	lexmark := map[int]bool{}
	for _, p := range sim.Printers() {
		if strings.HasPrefix(p.Model(), "Lexmark ") {
			lexmark[p.Index()] = true
		}
		fmt.Fprintf(&b, `
printer "p%02d" {
  address       = %q
  serial        = %q
  configuration = configuration.office
  credentials   = credentials.sim
  ports         = { ftp = %d }
}
`, p.Index(), p.Addr(), p.Serial(), p.Port("ftp"))
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if len(lexmark) != 12 {
		t.Fatalf("%d Lexmark printers in the fleet, the test expects 12", len(lexmark))
	}

	plan := inkform(t, dir, ExitChanges, "plan", "-detailed-exitcode")
	if !strings.Contains(plan.out, "^ firmware") || !strings.Contains(plan.out, "-> "+version+" (64.0 KiB) via ftp") {
		t.Fatalf("plan does not show the upgrades:\n%s", plan.out)
	}
	if !strings.Contains(plan.out, "12 firmware upgrades") {
		t.Errorf("plan summary does not count the upgrades:\n%s", plan.out)
	}

	first := inkform(t, dir, ExitError, "apply", "-auto-approve", "-reboot-timeout", "20s")
	if !strings.Contains(first.out, "rollout of firmware lexmark halted: 2 failed upgrades exceed max_failures = 1") {
		t.Fatalf("apply does not say the rollout halted:\n%s", first.out)
	}
	// The canary wave is p00, p01 (both reject), p05 and p06.
	upgraded := map[string]bool{}
	for _, p := range sim.Printers() {
		if p.Firmware() == version {
			upgraded[fmt.Sprintf("p%02d", p.Index())] = true
		}
	}
	if len(upgraded) != 2 || !upgraded["p05"] || !upgraded["p06"] {
		t.Fatalf("upgraded after the halt: %v, want p05 and p06", upgraded)
	}
	recorded := firmwareInState(t, filepath.Join(dir, "inkform.db"))
	for name := range upgraded {
		if recorded[name] != version {
			t.Errorf("state does not record %s's upgrade (has %q)", name, recorded[name])
		}
	}
	for _, name := range []string{"p00", "p01", "p10"} {
		if recorded[name] == version {
			t.Errorf("state records an upgrade of %s", name)
		}
	}
	for _, want := range []string{"printer.p00: failed", "printer.p10: skipped", "rejected"} {
		if !strings.Contains(first.out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, first.out)
		}
	}

	// Fixed, the failing printers take the image; the next apply resumes.
	sim.Printers()[0].SetFirmwareFail(false)
	sim.Printers()[1].SetFirmwareFail(false)
	resumed := inkform(t, dir, ExitOK, "plan", "-json")
	var jp struct {
		Summary struct {
			Upgrades int `json:"upgrades"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(resumed.out), &jp); err != nil {
		t.Fatal(err)
	}
	if jp.Summary.Upgrades != 10 {
		t.Errorf("upgrades left = %d, want 10", jp.Summary.Upgrades)
	}
	inkform(t, dir, ExitOK, "apply", "-auto-approve", "-reboot-timeout", "20s")
	for _, p := range sim.Printers() {
		if lexmark[p.Index()] && p.Firmware() != version {
			t.Errorf("p%02d runs %s after the resumed apply", p.Index(), p.Firmware())
		}
	}
	inkform(t, dir, ExitOK, "plan", "-detailed-exitcode")
}

func firmwareInState(t *testing.T, path string) map[string]string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open state: %v", err)
	}
	defer st.Close()
	ps, err := st.Printers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range ps {
		out[p.Name] = p.Firmware
	}
	return out
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// A PJL-only setting goes over pjl and the plan says so; with the pjl
// port closed, a setting bound to both pjl and snmp falls back to snmp
// and the plan says that too.
func TestSettingsRouteOverPJLAndFallBack(t *testing.T) {
	sim, dir := startFleet(t, simulator.Options{Printers: 2, Services: []string{"pjl"}})
	p0, p1 := sim.Printers()[0], sim.Printers()[1]
	closed := closedPort(t)
	hcl := credentialsHCL + fmt.Sprintf(`
setting "acme.desk" {
  type = "string"
  snmp {
    oid  = "1.3.6.1.2.1.1.4.0"
    type = "octetstring"
  }
  pjl {
    variable = "LDESK"
  }
}

printer "raw" {
  address     = %q
  serial      = %q
  credentials = credentials.sim
  transports  = ["pjl", "snmp"]
  ports       = { pjl = %d }
  settings    = { "print.default_copies" = 3 }
}

printer "fallback" {
  address     = %q
  serial      = %q
  credentials = credentials.sim
  transports  = ["pjl", "snmp"]
  ports       = { pjl = %d }
  settings    = { "acme.desk" = "Desk 7" }
}
`, p0.Addr(), p0.Serial(), p0.Port("pjl"), p1.Addr(), p1.Serial(), closed)
	if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}

	plan := inkform(t, dir, ExitChanges, "plan", "-detailed-exitcode")
	for _, want := range []string{
		`print.default_copies = "3" (the device has "1") via pjl`,
		fmt.Sprintf("# pjl: port %d closed; falling back to snmp", closed),
		"printer.raw (" + p0.Addr() + ") will be adopted via pjl",
		"printer.fallback (" + p1.Addr() + ") will be adopted via snmp",
	} {
		if !strings.Contains(plan.out, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.out)
		}
	}
	md := inkform(t, dir, ExitOK, "plan", "-markdown")
	if !strings.Contains(md.out, "falling back to snmp") || !strings.Contains(md.out, "via pjl") {
		t.Errorf("markdown plan lacks the transports:\n%s", md.out)
	}
	js := inkform(t, dir, ExitOK, "plan", "-json")
	var jp struct {
		Printers []struct {
			Name    string   `json:"name"`
			Notes   []string `json:"notes"`
			Changes []struct {
				Setting   string `json:"setting"`
				Transport string `json:"transport"`
			} `json:"changes"`
		} `json:"printers"`
	}
	if err := json.Unmarshal([]byte(js.out), &jp); err != nil {
		t.Fatal(err)
	}
	via := map[string]string{}
	notes := map[string][]string{}
	for _, p := range jp.Printers {
		notes[p.Name] = p.Notes
		for _, c := range p.Changes {
			via[p.Name+" "+c.Setting] = c.Transport
		}
	}
	if via["raw print.default_copies"] != "pjl" || via["fallback acme.desk"] != "snmp" {
		t.Errorf("JSON transports = %v", via)
	}
	if len(notes["fallback"]) != 1 || len(notes["raw"]) != 0 {
		t.Errorf("JSON notes = %v", notes)
	}

	inkform(t, dir, ExitOK, "apply", "-auto-approve")
	if v, _ := p0.Setting("print.default_copies"); v != "3" {
		t.Errorf("copies on the device = %q", v)
	}
	if v, _ := p1.Setting("system.contact"); v != "Desk 7" {
		t.Errorf("contact on the fallback device = %q", v)
	}
	inkform(t, dir, ExitOK, "plan", "-detailed-exitcode")
}
