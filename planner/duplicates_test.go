package planner_test

import (
	"strings"
	"testing"

	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
)

// TestOneDeviceDeclaredTwice: printers that are one device, by address
// as resolved or by the serial number the device reports, are errors,
// are not changed, and the rest of the fleet is planned as usual.
func TestOneDeviceDeclaredTwice(t *testing.T) {
	f := plannertest.NewFleet()
	want := plannertest.Desired("system.contact", "new")
	local := plannertest.Printer("by-name", "localhost", want...)
	literal := plannertest.Printer("by-ip", "127.0.0.1", want...)
	local.Port, literal.Port = 16101, 16101
	f.Printers = append(f.Printers,
		local, literal,
		plannertest.Printer("twin-a", "10.0.0.5", want...),
		plannertest.Printer("twin-b", "10.0.0.6", want...),
		plannertest.Printer("other", "10.0.0.7", want...),
	)
	for name, serial := range map[string]string{"by-name": "S1", "by-ip": "S2", "twin-a": "SAME", "twin-b": "same ", "other": "S3"} {
		f.Conn.Add(name, plannertest.NewDevice(serial, map[string]string{"system.contact": "old"}))
	}
	plan := f.Plan(t, planner.PlanOptions{})
	got := map[string]*plans.PrinterPlan{}
	for i := range plan.Printers {
		got[plan.Printers[i].Name] = &plan.Printers[i]
	}
	for name, reason := range map[string]string{
		"by-name": "printers printer.by-ip, printer.by-name all resolve to 127.0.0.1:16101",
		"by-ip":   "printers printer.by-ip, printer.by-name all resolve to 127.0.0.1:16101",
		"twin-a":  "report the same serial number SAME",
		"twin-b":  "report the same serial number SAME",
	} {
		pp := got[name]
		if pp.Status != plans.StatusError || !strings.Contains(pp.Reason, reason) || len(pp.Changes) != 0 {
			t.Errorf("%s: status %s, %d changes, reason %q; want an error saying %q", name, pp.Status, len(pp.Changes), pp.Reason, reason)
		}
	}
	if n := f.Conn.Observes("by-name") + f.Conn.Observes("by-ip"); n != 0 {
		t.Errorf("printers sharing an address were observed %d times", n)
	}
	if pp := got["other"]; pp.Status != plans.StatusReady || len(pp.Changes) != 1 {
		t.Errorf("other: %s with %d changes, want ready with 1", pp.Status, len(pp.Changes))
	}
}
