package watch_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/watch"
)

func raised(name string, sev alerts.Severity, code int, index, descr string) alerts.Signal {
	return alerts.Signal{Kind: alerts.Raised, Name: name, Severity: sev, Code: code, Index: index, Description: descr}
}

func TestActiveSignals(t *testing.T) {
	toner := func(level, max int) fleet.Supply {
		return fleet.Supply{Description: "Black Toner", Kind: fleet.SupplyKindToner, Level: level, Max: max}
	}
	for _, tc := range []struct {
		name string
		obs  fleet.Observation
		low  int
		want []alerts.Signal
	}{
		{"healthy printer", fleet.Observation{Supplies: []fleet.Supply{toner(80, 100)}, AlertsRead: true}, 0, []alerts.Signal{}},
		{"jam in the table and the error bits is one alert",
			fleet.Observation{
				Alerts: []fleet.Alert{{Index: 12, Severity: 3, Group: 8, GroupIndex: 2, Code: 8, Description: "Jam in tray 2"}},
				Errors: []string{"jammed"}, AlertsRead: true},
			0, []alerts.Signal{raised(alerts.Jam, alerts.Critical, 8, "8.2", "Jam in tray 2")}},
		{"two jams in two places are two alerts",
			fleet.Observation{Alerts: []fleet.Alert{
				{Index: 1, Severity: 3, Group: 8, GroupIndex: 1, Code: 8, Description: "Jam"},
				{Index: 2, Severity: 3, Group: 13, GroupIndex: 1, Code: 8, Description: "Jam"}}},
			0, []alerts.Signal{raised(alerts.Jam, alerts.Critical, 8, "13.1", "Jam"), raised(alerts.Jam, alerts.Critical, 8, "8.1", "Jam")}},
		{"error bits without a table",
			fleet.Observation{Errors: []string{"doorOpen", "lowToner", "noPaper", "inputTrayEmpty", "outputTrayMissing", "outputNearFull",
				"serviceRequested", "overduePreventMaint", "unknownBit"}},
			0, []alerts.Signal{
				raised(alerts.DoorOpen, alerts.Critical, 0, "", "a door is open"),
				raised(alerts.Other, alerts.Critical, 0, "outputTrayMissing", "an output tray is missing"),
				raised(alerts.OutputAlmostFull, alerts.Warning, 0, "", "output bin almost full"),
				raised(alerts.PaperEmpty, alerts.Critical, 0, "", "out of paper"),
				raised(alerts.ServiceRequested, alerts.Critical, 0, "", "service requested"),
				raised(alerts.TonerLow, alerts.Warning, 0, "", "toner low"),
			}},
		{"more error bits", fleet.Observation{Errors: []string{"jammed", "noToner", "lowPaper", "inputTrayMissing", "outputFull", "markerSupplyMissing", "offline"}},
			0, []alerts.Signal{
				raised(alerts.InputTrayMissing, alerts.Critical, 0, "", "an input tray is missing"),
				raised(alerts.Jam, alerts.Critical, 0, "", "paper jam"),
				raised(alerts.Offline, alerts.Critical, 0, "", "the printer reports itself offline"),
				raised(alerts.OutputFull, alerts.Critical, 0, "", "output bin full"),
				raised(alerts.PaperLow, alerts.Warning, 0, "", "paper low"),
				raised(alerts.TonerEmpty, alerts.Critical, 0, "", "toner empty"),
				raised(alerts.TonerMissing, alerts.Critical, 0, "", "a marker supply is missing"),
			}},
		{"a toner low in the table hides the lowToner bit; the warning severity is the printer's",
			fleet.Observation{Alerts: []fleet.Alert{{Index: 3, Severity: 4, Group: 11, GroupIndex: 1, Code: 1104}}, Errors: []string{"lowToner"}},
			0, []alerts.Signal{raised(alerts.TonerLow, alerts.Warning, 1104, "11.1", "printer alert code 1104")}},
		{"closing rows raise nothing; unknown codes are other",
			fleet.Observation{Alerts: []fleet.Alert{{Index: 1, Severity: 5, Group: 6, GroupIndex: 1, Code: 502}, {Index: 2, Severity: 1, Code: 1801, Description: "Sleep mode"}}},
			0, []alerts.Signal{raised(alerts.Other, alerts.Info, 1801, "", "Sleep mode")}},
		{"supply below the default threshold", fleet.Observation{Supplies: []fleet.Supply{toner(14, 100)}},
			0, []alerts.Signal{raised(alerts.SupplyLow, alerts.Warning, 0, "Black Toner", "Black Toner: 14% left")}},
		{"supply at the default threshold is not low", fleet.Observation{Supplies: []fleet.Supply{toner(15, 100)}}, 0, []alerts.Signal{}},
		{"supply below a configured threshold", fleet.Observation{Supplies: []fleet.Supply{toner(25, 100)}},
			30, []alerts.Signal{raised(alerts.SupplyLow, alerts.Warning, 0, "Black Toner", "Black Toner: 25% left")}},
		{"empty supply, and the noToner bit too", fleet.Observation{Supplies: []fleet.Supply{toner(0, 100)}, Errors: []string{"noToner"}},
			0, []alerts.Signal{
				raised(alerts.SupplyEmpty, alerts.Critical, 0, "Black Toner", "Black Toner is empty"),
				raised(alerts.TonerEmpty, alerts.Critical, 0, "", "toner empty"),
			}},
		{"unknown and some-remaining levels raise nothing",
			fleet.Observation{Supplies: []fleet.Supply{toner(-3, 100), toner(-2, -2), {Description: "Drum", Level: 5, Max: -2}}}, 0, []alerts.Signal{}},
		{"full waste box; shared and missing descriptions by position",
			fleet.Observation{Supplies: []fleet.Supply{
				{Description: "Waste Toner Box", Kind: fleet.SupplyKindWaste, Level: 0, Max: 100},
				{Description: "Toner", Kind: fleet.SupplyKindToner, Level: 1, Max: 100},
				{Description: "Toner", Kind: fleet.SupplyKindToner, Level: 2, Max: 100},
				{Kind: fleet.SupplyKindDrum, Level: 0, Max: 100},
			}},
			0, []alerts.Signal{
				raised(alerts.SupplyEmpty, alerts.Critical, 0, "#4", "supply 4 is empty"),
				raised(alerts.SupplyLow, alerts.Warning, 0, "#2", "Toner: 1% left"),
				raised(alerts.SupplyLow, alerts.Warning, 0, "#3", "Toner: 2% left"),
				raised(alerts.WasteTonerFull, alerts.Critical, 0, "Waste Toner Box", "Waste Toner Box is full"),
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := watch.ActiveSignals(tc.obs, tc.low)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAlertIndex(t *testing.T) {
	for _, tc := range []struct {
		group, index int
		want         string
	}{{8, 2, "8.2"}, {6, 0, "6"}, {6, -1, "6"}, {0, 3, ""}, {-1, 1, ""}} {
		if got := watch.AlertIndex(tc.group, tc.index); got != tc.want {
			t.Errorf("AlertIndex(%d, %d) = %q, want %q", tc.group, tc.index, got, tc.want)
		}
	}
}
