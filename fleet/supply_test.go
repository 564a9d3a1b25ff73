package fleet

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSupplyPercentAndState(t *testing.T) {
	for _, tc := range []struct {
		level, max int
		percent    int
		state      string
	}{
		{1060, 5300, 20, SupplyOK},
		{11501, 12000, 96, SupplyOK}, // rounded
		{5, 100, 5, SupplyLow},
		{10, 100, 10, SupplyLow},
		{0, 100, 0, SupplyEmpty},
		{0, -2, -1, SupplyEmpty},
		{-3, -2, -1, SupplySomeRemaining},
		{-3, 100, -1, SupplySomeRemaining},
		{-2, 100, -1, SupplyUnknown},
		{-1, 100, -1, SupplyUnknown},
		{100, -2, -1, SupplySomeRemaining}, // some left of an unknown capacity
		{150, 100, 100, SupplyOK},          // above max: full
		{2_000_000_000, 2_100_000_000, 95, SupplyOK},
	} {
		s := Supply{Level: tc.level, Max: tc.max}
		if got := s.Percent(); got != tc.percent {
			t.Errorf("Percent(%d/%d) = %d, want %d", tc.level, tc.max, got, tc.percent)
		}
		if got := s.State(); got != tc.state {
			t.Errorf("State(%d/%d) = %q, want %q", tc.level, tc.max, got, tc.state)
		}
	}
}

func TestSupplyJSON(t *testing.T) {
	s := Supply{Description: "Black Toner", PartNumber: "006R01509", Serial: "48178080E0000481",
		Kind: SupplyKindToner, Color: "black", Level: 1060, Max: 5300}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"description":"Black Toner","part_number":"006R01509","serial":"48178080E0000481","kind":"toner","color":"black","level":1060,"max":5300,"percent":20,"state":"ok"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	var back Supply
	if err := json.Unmarshal(b, &back); err != nil || back != s {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	b, _ = json.Marshal(Supply{Description: "Waste", Kind: SupplyKindWaste, Level: -3, Max: -2})
	if want := `"percent":null,"state":"some_remaining"`; !json.Valid(b) || !strings.Contains(string(b), want) {
		t.Errorf("JSON %s lacks %s", b, want)
	}
}
