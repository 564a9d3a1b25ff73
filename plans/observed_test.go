package plans

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/fleet"
)

func TestObservedJSON(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		in        Observed
		pageCount string
	}{
		{"counted", Observed{Model: "Lexmark CX725", PageCount: 12345, ObservedAt: at}, `"page_count":12345`},
		{"zero", Observed{PageCount: 0, ObservedAt: at}, `"page_count":0`},
		{"unknown", Observed{Vendor: "HP", SysDescr: "HP ETHERNET MULTI-ENVIRONMENT", PageCount: -1,
			Supplies: []fleet.Supply{{Description: "Black Cartridge", Level: -3, Max: -2}}, ObservedAt: at}, `"page_count":null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.pageCount) {
				t.Errorf("JSON %s lacks %s", b, tc.pageCount)
			}
			var back Observed
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.in, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	// Plan files written before page_count could be null.
	var old Observed
	if err := json.Unmarshal([]byte(`{"model":"X","page_count":-1}`), &old); err != nil || old.PageCount != -1 {
		t.Errorf("old plan file: %+v, %v", old, err)
	}
	var absent Observed
	if err := json.Unmarshal([]byte(`{"model":"X"}`), &absent); err != nil || absent.PageCount != -1 {
		t.Errorf("no page_count: %+v, %v", absent, err)
	}
}
