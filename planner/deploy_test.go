package planner_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
)

func TestPlanFirmwareFilesTransportsAndNotes(t *testing.T) {
	f := plannertest.DeployFleet()
	pp := f.Plan(t, planner.PlanOptions{}).Printers[0]
	if pp.Firmware == nil || pp.Firmware.From != "CXTPC.230.037" || pp.Firmware.To != "CXTPC.240.001" || pp.Firmware.Via != "ftp" {
		t.Fatalf("firmware change = %+v", pp.Firmware)
	}
	ca := f.Printers[0].Files[0]
	if d := cmp.Diff([]plans.FileChange{{Dest: "ca.pem", Action: plans.Adopt, Size: 1234, SHA256: ca.SHA256, Via: "pjl"}}, pp.Files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	for _, c := range pp.Changes {
		want := map[string]string{"system.contact": "snmp", "system.location": "pjl"}[c.Setting]
		if c.Transport != want {
			t.Errorf("%s via %q, want %q", c.Setting, c.Transport, want)
		}
	}
	if d := cmp.Diff([]string{"http: port 80 closed; falling back to snmp"}, pp.Notes); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
}

func TestFirmwareNotPlanned(t *testing.T) {
	f := plannertest.DeployFleet()
	fw := f.Printers[0].Firmware
	f.Printers = nil
	for i, d := range []struct{ name, model, firmware string }{
		{"p1", "Lexmark CX725", "CXTPC.250.000"}, // newer
		{"p2", "HP LaserJet M507", "CXTPC.230.037"},
		{"p3", "Lexmark CX725", "cxtpc.240.01"}, // the same version
	} {
		p := plannertest.Printer(d.name, fmt.Sprintf("10.0.0.%d", i+1))
		p.Firmware = fw
		f.Printers = append(f.Printers, p)
		f.Conn.Add(d.name, plannertest.Device{Observation: fleet.Observation{Model: d.model, Serial: "S-" + d.name, Firmware: d.firmware}})
	}
	plan := f.Plan(t, planner.PlanOptions{})
	for _, pp := range plan.Printers {
		if pp.Firmware != nil {
			t.Errorf("%s: upgrade planned: %+v", pp.Name, pp.Firmware)
		}
	}
	if n := plan.Printers[0].Notes; len(n) != 1 || !strings.Contains(n[0], "not downgraded") {
		t.Errorf("p1 notes = %q", n)
	}
}

// Versions of different firmware lines have no order: the declared one is
// installed, and the plan says it could not tell whether it is newer.
func TestFirmwareOfAnotherLine(t *testing.T) {
	f := plannertest.DeployFleet()
	fw := *f.Printers[0].Firmware
	fw.Models = []string{"Lexmark *"}
	p := plannertest.Printer("ms821", "10.0.0.9")
	p.Firmware = &fw
	f.Printers = []fleet.Printer{p}
	f.Conn.Add("ms821", plannertest.Device{Observation: fleet.Observation{Model: "Lexmark MS821", Serial: "S-ms821", Firmware: "MSNGM.230.037"}})
	pp := f.Plan(t, planner.PlanOptions{}).Printers[0]
	if pp.Firmware == nil || pp.Firmware.From != "MSNGM.230.037" || pp.Firmware.To != fw.Version {
		t.Fatalf("firmware change = %+v", pp.Firmware)
	}
	if len(pp.Notes) != 1 || !strings.Contains(pp.Notes[0], "cannot be ordered") {
		t.Errorf("notes = %q", pp.Notes)
	}
}

// TestSecuredFilesPlannedOverAuthenticatedTransport: a secured printer's
// files are planned over its first authenticated file transport, not its
// first file transport.
func TestSecuredFilesPlannedOverAuthenticatedTransport(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secured bool
		admin   string
		want    string
	}{
		{"ordinary", false, "admin", "pjl"},
		{"secured", true, "admin", "https"},
		{"secured without credentials", true, "", ""},
	} {
		f := plannertest.NewFleet()
		p := plannertest.Printer("vault", "10.0.7.1")
		p.Secured, p.Transports = tc.secured, []string{"pjl", "ftp", "https"}
		p.Credentials.Admin = fleet.Admin{Username: tc.admin}
		p.Files = []fleet.File{{Source: "ca.pem", Dest: "ca.pem", Size: 4, SHA256: strings.Repeat("ab", 32)}}
		f.Printers = []fleet.Printer{p}
		f.Conn.Add("vault", plannertest.NewDevice("V1", nil))
		pp := f.Plan(t, planner.PlanOptions{}).Printers[0]
		if len(pp.Files) != 1 || pp.Files[0].Via != tc.want {
			t.Errorf("%s: files %+v, want one via %q", tc.name, pp.Files, tc.want)
		}
	}
}
