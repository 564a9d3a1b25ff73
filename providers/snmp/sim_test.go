package snmp

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/fleet"
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
