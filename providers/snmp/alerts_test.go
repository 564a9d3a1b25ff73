package snmp

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers"
)

// Recordings served by snmpsim: "alerting" has three alerts of the
// printer's device (and one of another device); "quiet" has the alert
// counters and an empty table; the interop Brother has no table at all.
func TestObserveAlertsSnmpsim(t *testing.T) {
	sim := testservers.StartSnmpsim(t,
		filepath.Join("testdata", "alerting.snmprec"),
		filepath.Join("testdata", "quiet.snmprec"),
		filepath.Join(testservers.InteropDir(t), "brother.snmprec"))
	wantAlerting := []fleet.Alert{
		{Index: 3, Severity: 3, Training: 4, Group: 8, GroupIndex: 2, Code: 8, Description: "Paper jam in tray 2"},
		{Index: 7, Severity: 4, Training: 3, Group: 11, GroupIndex: 1, Code: 1104, Description: "Black toner low"},
		{Index: 9, Severity: 3, Training: 3, Group: 6, GroupIndex: 1, Code: 501, Description: "Front door open"},
	}
	for _, tc := range []struct {
		community string
		want      []fleet.Alert
		read      bool
	}{
		{"alerting", wantAlerting, true},
		{"quiet", nil, true},
		{"brother", nil, false},
	} {
		for _, version := range []string{"1", "2c"} {
			t.Run(tc.community+"/v"+version, func(t *testing.T) {
				s := connect(t, New(nil, Options{}), printerAt(sim.Host, sim.Port, fleet.SNMP{Version: version, Community: tc.community}))
				got, err := providers.ObserveAlerts(context.Background(), s, nil)
				if err != nil {
					t.Fatalf("ObserveAlerts: %v", err)
				}
				if diff := cmp.Diff(tc.want, got.Alerts); diff != "" {
					t.Errorf("alerts (-want +got):\n%s", diff)
				}
				if got.AlertsRead != tc.read {
					t.Errorf("AlertsRead = %v, want %v", got.AlertsRead, tc.read)
				}
				if got.Model == "" || len(got.Supplies) == 0 {
					t.Errorf("the rest of the observation is missing: model %q, %d supplies", got.Model, len(got.Supplies))
				}
				plain, err := s.Observe(context.Background(), nil)
				if err != nil {
					t.Fatalf("Observe: %v", err)
				}
				if plain.Alerts != nil || plain.AlertsRead {
					t.Errorf("Observe read the alert table: %+v, %v", plain.Alerts, plain.AlertsRead)
				}
			})
		}
	}
}

// Plans do not pay for the alert table: Observe never walks it, and
// ObserveAlerts costs one walk more in the same number of GETs.
func TestObserveAlertsCost(t *testing.T) {
	data := append(printerData(), []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.43.5.1.1.19.2", Type: gosnmp.Counter32, Value: uint32(2)},
		{Name: ".1.3.6.1.2.1.43.18.1.1.2.2.4", Type: gosnmp.Integer, Value: 3},
		{Name: ".1.3.6.1.2.1.43.18.1.1.4.2.4", Type: gosnmp.Integer, Value: 13},
		{Name: ".1.3.6.1.2.1.43.18.1.1.7.2.4", Type: gosnmp.Integer, Value: 8},
		{Name: ".1.3.6.1.2.1.43.18.1.1.8.2.4", Type: gosnmp.OctetString, Value: []byte("Jam")},
	}...)
	agent := startFakeAgent(t, gosnmp.Version2c, 0, data)
	s := connect(t, New(nil, Options{}), printerAt("127.0.0.1", agent.addr.Port, fleet.SNMP{Community: "public"})).(*Session)
	if _, err := s.Observe(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	observed := agent.log()
	for _, r := range observed {
		for _, oid := range r.oids {
			if len(oid) > len(oidPrtAlertEntry) && oid[:len(oidPrtAlertEntry)] == oidPrtAlertEntry || strings.HasPrefix(oid, oidPrtAlertAllEvents) {
				t.Errorf("Observe asked for %s", oid)
			}
		}
	}
	got, err := s.ObserveAlerts(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(agent.log()) - len(observed); n != len(observed)+1 {
		t.Errorf("ObserveAlerts sent %d requests, Observe %d; want one more (the walk)", n, len(observed))
	}
	want := []fleet.Alert{{Index: 4, Severity: 3, Group: 13, Code: 8, Description: "Jam"}}
	if diff := cmp.Diff(want, got.Alerts); diff != "" || !got.AlertsRead {
		t.Errorf("alerts (-want +got), read %v:\n%s", got.AlertsRead, diff)
	}
	if !slices.Equal(got.Errors, wantFakePrinter.Errors) {
		t.Errorf("errors %v", got.Errors)
	}
}
