package snmp

import (
	"context"
	"encoding/json"
	"github.com/google/go-cmp/cmp"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/simulator"
)

// The simulator's printers (one of each family it has) are read as they
// describe themselves, and their standard objects settle the identity
// rules but for HP's, whose model lives in its device ID: one GET of the
// facts and one GETBULK of the supplies, and one GET more for HP.
func TestSimulatorPrinters(t *testing.T) {
	sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c := New(nil, Options{})
	for _, sp := range sim.Printers() {
		t.Run(sp.Model(), func(t *testing.T) {
			host, port, err := net.SplitHostPort(sp.Addr())
			if err != nil {
				t.Fatal(err)
			}
			n, _ := strconv.Atoi(port)
			s := connect(t, c, printerAt(host, n, fleet.SNMP{Community: "public"})).(*Session)
			if err := s.begin(context.Background()); err != nil {
				t.Fatal(err)
			}
			// Counted as the client finishes each request, retries or not.
			requests := 0
			s.g.OnFinish = func(*gosnmp.GoSNMP) { requests++ }
			got, err := s.Observe(context.Background(), nil)
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			s.g.OnFinish = nil
			if got.Vendor == "" || got.Model != sp.Model() || got.Firmware != sp.Firmware() || got.Serial != sp.Serial() || got.Status != fleet.StatusIdle {
				t.Errorf("read %q %q %q %q %q; the simulator says model %q, firmware %q, serial %q, idle",
					got.Vendor, got.Model, got.Firmware, got.Serial, got.Status, sp.Model(), sp.Firmware(), sp.Serial())
			}
			want := 2
			if got.Vendor == "HP" {
				want = 3
			}
			if requests != want {
				t.Errorf("%d requests, want %d", requests, want)
			}
			for _, sup := range got.Supplies {
				if sup.Kind == fleet.SupplyKindOther || sup.State() == fleet.SupplyUnknown {
					t.Errorf("supply %+v: kind %s, state %s", sup, sup.Kind, sup.State())
				}
			}
		})
	}
}

// A fleet cloned from a recording of a real printer reads as that printer
// does (as TestInteropRecordings reads it from snmpsimd), but for each
// printer's own serial, and its settings are written per printer.
func TestSimulatorClonesRecordings(t *testing.T) {
	dir := testservers.InteropDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.snmprec"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings in %s: %v", dir, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".snmprec")
		t.Run(name, func(t *testing.T) {
			rec, err := simulator.LoadRecording(f)
			if err != nil {
				t.Fatal(err)
			}
			var lib libreNMSReading
			b, err := os.ReadFile(filepath.Join(dir, name+".expect.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &lib); err != nil {
				t.Fatal(err)
			}
			sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 2, Recording: rec})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sim.Close() })
			c := New(nil, Options{})
			var serials []string
			for i, sp := range sim.Printers() {
				host, port, _ := net.SplitHostPort(sp.Addr())
				n, _ := strconv.Atoi(port)
				s := connect(t, c, printerAt(host, n, fleet.SNMP{Community: "private"}))
				got, err := s.Observe(context.Background(), []string{"system.contact"})
				if err != nil {
					t.Fatalf("printer %d: Observe: %v", i, err)
				}
				if want, ok := inkformReads[name]; ok {
					have := [4]string{got.Vendor, got.Model, got.Firmware, got.Status}
					if have != [4]string{want.vendor, want.model, want.firmware, want.status} {
						t.Errorf("printer %d: read %q; the device reads %q", i, have, [4]string{want.vendor, want.model, want.firmware, want.status})
					}
				}
				if got.Model != sp.Model() {
					t.Errorf("printer %d: model %q, the simulator says %q", i, got.Model, sp.Model())
				}
				if got.Serial != sp.Serial() || !strings.HasPrefix(got.Serial, rec.Serial()) || got.Serial == rec.Serial() {
					t.Errorf("printer %d: serial %q, the simulator says %q (recorded %q)", i, got.Serial, sp.Serial(), rec.Serial())
				}
				serials = append(serials, got.Serial)
				noSerial := lib
				noSerial.Serial = nil
				compareWithLibreNMS(t, got, supplyIndexes(t, s.(*Session)), noSerial)

				// Settings are the printer's own.
				contact := "desk " + strconv.Itoa(i)
				if err := s.Set(context.Background(), []fleet.Desired{{Name: "system.contact", Value: contact}}); err != nil {
					t.Fatalf("printer %d: Set: %v", i, err)
				}
				again, err := s.Observe(context.Background(), []string{"system.contact"})
				if err != nil {
					t.Fatal(err)
				}
				if again.Settings["system.contact"] != contact {
					t.Errorf("printer %d: system.contact %q after setting %q", i, again.Settings["system.contact"], contact)
				}
			}
			if serials[0] == serials[1] {
				t.Errorf("both printers read serial %q", serials[0])
			}
		})
	}
}

// A simulated printer's jam is in its prtAlertTable and its error bits
// as the provider reads them, and gone once cleared.
func TestSimulatorAlerts(t *testing.T) {
	sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	sp := sim.Printers()[1]
	host, port, _ := net.SplitHostPort(sp.Addr())
	n, _ := strconv.Atoi(port)
	for _, version := range []string{"1", "2c"} {
		t.Run("v"+version, func(t *testing.T) {
			s := connect(t, New(nil, Options{}), printerAt(host, n, fleet.SNMP{Version: version, Community: "public"}))
			read := func() fleet.Observation {
				t.Helper()
				got, err := s.(*Session).ObserveAlerts(context.Background(), nil)
				if err != nil {
					t.Fatalf("ObserveAlerts: %v", err)
				}
				return got
			}
			if got := read(); !got.AlertsRead || len(got.Alerts) != 0 {
				t.Fatalf("before the jam: read %v, alerts %+v", got.AlertsRead, got.Alerts)
			}
			sp.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupInput, GroupIndex: 2,
				Code: simulator.CodeJam, Description: "Paper jam in Tray 2"})
			got := read()
			want := []fleet.Alert{{Index: 1, Severity: 3, Training: 3, Group: 8, GroupIndex: 2, Code: 8, Description: "Paper jam in Tray 2"}}
			if diff := cmp.Diff(want, got.Alerts); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
			if !slices.Contains(got.Errors, "jammed") {
				t.Errorf("errors %v without jammed", got.Errors)
			}
			sp.ClearAlert(simulator.CodeJam, simulator.GroupInput, 2)
			if got := read(); len(got.Alerts) != 0 || slices.Contains(got.Errors, "jammed") || !got.AlertsRead {
				t.Errorf("after clearing: alerts %+v, errors %v, read %v", got.Alerts, got.Errors, got.AlertsRead)
			}
		})
	}
}
