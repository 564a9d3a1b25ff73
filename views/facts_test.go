package views

import (
	"testing"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans"
)

func TestFactsLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *plans.Observed
		want string
	}{
		{"nil", nil, ""},
		{"nothing known", &plans.Observed{Status: fleet.StatusUnknown, PageCount: -1}, ""},
		{"lowest of several, by colour and kind", &plans.Observed{
			Model: "Lexmark MS821", Firmware: "MSNGM.230.037", Status: fleet.StatusIdle,
			Supplies: []fleet.Supply{
				{Description: "Black Cartridge", Kind: fleet.SupplyKindToner, Color: "black", Level: 12, Max: 100},
				{Description: "Imaging Unit", Kind: fleet.SupplyKindDrum, Level: 800, Max: 1000},
				{Description: "Waste", Kind: fleet.SupplyKindWaste, Level: -3, Max: -2},
			}},
			"Lexmark MS821 · MSNGM.230.037 · idle · black toner 12 %"},
		{"description when colour unknown, first of equals", &plans.Observed{
			Model: "HP LaserJet M507", Status: fleet.StatusDown,
			Supplies: []fleet.Supply{
				{Description: "Maintenance Kit", Kind: fleet.SupplyKindOther, Color: "", Level: 5, Max: 100},
				{Description: "Black Cartridge", Kind: fleet.SupplyKindToner, Color: "black", Level: 50, Max: 1000},
			}},
			"HP LaserJet M507 · down · Maintenance Kit 5 %"},
		{"no percent anywhere", &plans.Observed{Model: "EPSON WF-C5790BA", Status: fleet.StatusWarning,
			Supplies: []fleet.Supply{{Description: "Black Ink", Level: -3, Max: -2}}},
			"EPSON WF-C5790BA · warning"},
		{"terminal escapes from the network are shown escaped", &plans.Observed{Model: "Evil\x1b[31m", Firmware: "1.0"},
			`Evil\x1b[31m · 1.0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendFacts(nil, tc.in)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func BenchmarkAppendFacts(b *testing.B) {
	o := &plans.Observed{Model: "Lexmark CX725", Firmware: "CXTPC.230.037", Status: fleet.StatusIdle,
		Supplies: []fleet.Supply{
			{Kind: fleet.SupplyKindToner, Color: "black", Level: 12, Max: 100},
			{Kind: fleet.SupplyKindToner, Color: "cyan", Level: 40, Max: 100},
			{Kind: fleet.SupplyKindToner, Color: "magenta", Level: 50, Max: 100},
			{Kind: fleet.SupplyKindToner, Color: "yellow", Level: 60, Max: 100},
		}}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendFacts(buf[:0], o)
	}
}
