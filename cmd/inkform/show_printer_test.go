package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
)

func TestShowPrinterObservesItInFullAndWritesNothing(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	sim := f.sim.Printers()[1] // a Lexmark MS821
	requests := f.sim.Requests()

	r := f.mustRun(ExitOK, "show", "printer.p01")
	for _, want := range []string{
		"# printer.p01", "vendor", "Lexmark", "model", "Lexmark MS821", "serial", sim.Serial(),
		"firmware", "MSNGM.230.037", "sys_descr", "status", "idle",
		"supplies (2)", "Black Cartridge", "toner", "black", "Black Imaging Unit", "drum",
		"page count", "system.contact", `"IT Service Desk x4000"`, "differs",
		"system.name", "(sensitive)", "not under management yet",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("show printer.p01 lacks %q:\n%s", want, r.out)
		}
	}
	if got := f.get(1, oidContact); got != "" {
		t.Fatalf("show wrote the printer: sysContact = %q", got)
	}
	if f.sim.Requests() == requests {
		t.Fatal("show did not observe the printer")
	}

	// Once applied: every setting in sync, and the record shown.
	f.mustRun(ExitOK, "apply", "-auto-approve")
	r = f.mustRun(ExitOK, "show", "printer.p01", "-json")
	var doc struct {
		FormatVersion string `json:"format_version"`
		Printer       struct {
			Name     string `json:"name"`
			Observed *struct {
				Vendor    string `json:"vendor"`
				Model     string `json:"model"`
				Serial    string `json:"serial"`
				Firmware  string `json:"firmware"`
				Status    string `json:"status"`
				PageCount *int64 `json:"page_count"`
				Supplies  []struct {
					Description string `json:"description"`
					Kind        string `json:"kind"`
					Percent     *int   `json:"percent"`
					State       string `json:"state"`
				} `json:"supplies"`
			} `json:"observed"`
			Settings []struct {
				Name      string  `json:"name"`
				Sensitive bool    `json:"sensitive"`
				Desired   *string `json:"desired"`
				Observed  *string `json:"observed"`
				InSync    bool    `json:"in_sync"`
			} `json:"settings"`
			Recorded *struct {
				Serial string `json:"serial"`
			} `json:"recorded"`
		} `json:"printer"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("show -json: %v\n%s", err, r.out)
	}
	p := doc.Printer
	if doc.FormatVersion != "1.0" || p.Name != "p01" || p.Observed == nil || p.Recorded == nil {
		t.Fatalf("show -json:\n%s", r.out)
	}
	if o := p.Observed; o.Vendor != "Lexmark" || o.Model != "Lexmark MS821" || o.Serial != sim.Serial() ||
		o.Firmware != "MSNGM.230.037" || o.Status != "idle" || o.PageCount == nil || len(o.Supplies) != 2 ||
		o.Supplies[0].Kind != "toner" || o.Supplies[0].Percent == nil {
		t.Errorf("observed = %+v", *o)
	}
	if p.Recorded.Serial != sim.Serial() {
		t.Errorf("recorded serial = %q", p.Recorded.Serial)
	}
	if len(p.Settings) != 3 {
		t.Fatalf("settings = %+v", p.Settings)
	}
	for _, s := range p.Settings {
		if !s.InSync {
			t.Errorf("%s not in sync after apply", s.Name)
		}
		if s.Sensitive != (s.Name == "system.name") || s.Sensitive && (s.Desired != nil || s.Observed != nil) {
			t.Errorf("setting %+v", s)
		}
	}
}

func TestShowPrinterUnknownOrUnreachable(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{Offline: 1})
	r := f.mustRun(ExitError, "show", "printer.nope")
	if !strings.Contains(r.err, `printer "nope" is not in the configuration`) {
		t.Errorf("stderr: %s", r.err)
	}
	r = f.mustRun(ExitError, "show", "printer.p00")
	if !strings.Contains(r.out, "not observed:") || !strings.Contains(r.err, "could not be observed") {
		t.Errorf("offline printer:\nstdout:\n%s\nstderr:\n%s", r.out, r.err)
	}
}

// A configuration's device block reads printers its way, in plan and show.
func TestDeviceBlockReadsPrinters(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	rule := `
device "lexmark_site" {
  vendor = "Lexmark (site)"
  match { enterprise = 641 }
  model {
    from   = "hr_device_descr"
    prefix = "Site "
  }
  firmware {
    from    = "sys_descr"
    pattern = "kernel (\\S+)"
  }
}
`
	if err := os.WriteFile(filepath.Join(f.dir, "devices.hcl"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.mustRun(ExitOK, "show", "printer.p00", "-json")
	var doc struct {
		Printer struct {
			Observed struct{ Vendor, Model, Serial, Firmware string } `json:"observed"`
		} `json:"printer"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatal(err)
	}
	// The block's sources come first; the serial, which it does not say,
	// from the default rule's sources after them.
	if o := doc.Printer.Observed; o.Vendor != "Lexmark (site)" || o.Model != "Site Lexmark CX725" || o.Firmware != "5.4.178" ||
		o.Serial != f.sim.Printers()[0].Serial() {
		t.Errorf("observed %+v", o)
	}
	p := f.planJSON()
	if len(p.Printers) != 1 || p.Printers[0].Observed == nil || p.Printers[0].Observed.Model != "Site Lexmark CX725" {
		t.Errorf("plan reads %+v", p.Printers)
	}
}
