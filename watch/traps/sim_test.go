package traps_test

import (
	"net/netip"
	"testing"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/watch/traps"
)

// A simulated printer's critical alerts arrive as printerV2Alert traps
// from its own address, and decode.
func TestSimulatorTraps(t *testing.T) {
	r := start(t, traps.Config{
		Credentials: []fleet.SNMP{{Community: "sim-traps"}},
		Attributor: func(a netip.Addr) (string, bool) {
			return "sim", a == netip.MustParseAddr("127.0.0.1")
		},
	}, nil)
	sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 2, AlertsTo: r.addr, AlertCommunity: "sim-traps"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	p := sim.Printers()[0]

	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupInput, GroupIndex: 2,
		Code: simulator.CodeJam, Description: "Paper jam in Tray 2"})
	got := r.next(t)
	want := alerts.Signal{Kind: alerts.Raised, Name: alerts.Jam, Severity: alerts.Critical, Code: 8, Index: "8.2",
		OID: traps.OIDPrinterV2Alert, Description: "Paper jam in Tray 2"}
	if got.Printer != "sim" || len(got.Signals) != 1 || got.Signals[0] != want {
		t.Errorf("received %+v, want %+v from sim", got, want)
	}

	// A warning sends nothing (RFC 3805 traps critical alerts only); the
	// door that follows is the next trap, and its closing clears it.
	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityWarning, Group: 8, GroupIndex: 1, Code: 807, Description: "Tray 1 low"})
	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupCover, GroupIndex: 1,
		Code: simulator.CodeDoorOpen, Description: "Front door"})
	if got := r.next(t); len(got.Signals) != 1 || got.Signals[0].Name != alerts.DoorOpen || got.Signals[0].Kind != alerts.Raised {
		t.Errorf("received %+v, want door_open raised", got.Signals)
	}
	p.ClearAlert(simulator.CodeDoorOpen, simulator.GroupCover, 1)
	got = r.next(t)
	if len(got.Signals) != 1 || got.Signals[0].Name != alerts.DoorOpen || got.Signals[0].Kind != alerts.Cleared || got.Signals[0].Index != "6.1" {
		t.Errorf("received %+v, want door_open cleared at 6.1", got.Signals)
	}
	if n := sim.TrapsSent(); n != 3 {
		t.Errorf("%d traps sent, want 3", n)
	}
}

// --alert-storm: N alerts a second across the fleet reach the listener.
func TestSimulatorStorm(t *testing.T) {
	r := start(t, traps.Config{Credentials: []fleet.SNMP{{Community: "public"}}}, nil)
	sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 5, AlertsTo: r.addr, AlertRate: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	for i := 0; i < 10; i++ {
		got := r.next(t)
		if len(got.Signals) != 1 || (got.Signals[0].Name != alerts.Jam && got.Signals[0].Name != alerts.DoorOpen) {
			t.Fatalf("trap %d: %+v", i, got.Signals)
		}
	}
}
