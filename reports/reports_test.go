package reports_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/reports"
	"github.com/inkform/inkform/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	t0 = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	// A zone other than UTC: the CSV must still say UTC.
	berlin = time.FixedZone("CET", 3600)
)

// fleetInput is a small fleet with every case a view must show: observed,
// unreachable, never observed, a description that looks like a formula,
// unknown counters and levels.
func fleetInput() reports.Input {
	return reports.Input{
		Printers: []fleet.Printer{
			{Name: "lab-2", Host: "10.0.0.12", Port: 161, Keywords: []string{"lab", "color"}, Configuration: "office"},
			{Name: "hq-1", Host: "10.0.0.1", Port: 161},
			{Name: "lab-1", Host: "10.0.0.11", Port: 1161, Keywords: []string{"lab"}, Configuration: "office"},
			{Name: "new-1", Host: "printer-new.example.test", Port: 161},
		},
		Observations: map[string]reports.Observed{
			"lab-1": {Observation: fleet.Observation{
				Vendor: "Lexmark", Model: "Lexmark CX725", Serial: "7531XYZ", Firmware: "CXTPC.230.037",
				Status: fleet.StatusWarning, PageCount: 123456, ObservedAt: t0.In(berlin),
				Supplies: []fleet.Supply{
					{Description: "Black Toner", PartNumber: "84C2HK0", Kind: fleet.SupplyKindToner, Color: "black", Level: 1200, Max: 10000},
					{Description: "Cyan Toner", Kind: fleet.SupplyKindToner, Color: "cyan", Level: 0, Max: 10000},
					{Description: "Waste Toner Bottle", Kind: fleet.SupplyKindWaste, Level: -3, Max: -2},
					{Description: "=HYPERLINK(\"http://evil.example\",\"Fuser\")", Kind: fleet.SupplyKindFuser, Level: 50, Max: 100},
				},
			}},
			"lab-2": {Observation: fleet.Observation{
				Vendor: "HP", Model: "+HP \"Color\" LaserJet, M553", Serial: "@JPBCS", Status: fleet.StatusIdle,
				PageCount: -1, ObservedAt: t0.Add(time.Minute),
			}},
			"hq-1": {Err: errors.New("no answer from 10.0.0.1:161 within 2s")},
		},
		Recorded: []state.Printer{
			{Name: "hq-1", Model: "Dell S5830dn", Serial: "CN-0001", Firmware: "1.2.3",
				ObservedAt: t0.Add(-24 * time.Hour), AppliedAt: t0.Add(-48 * time.Hour)},
			{Name: "lab-1", Model: "Lexmark CX725", Serial: "7531XYZ", AppliedAt: t0.Add(-time.Hour)},
			{Name: "gone-1", Model: "Old", Serial: "X"},
		},
		Active: []state.ActiveAlert{
			{Event: alerts.Event{ID: 7, Printer: "lab-1", Key: "lab-1/jam/3", Kind: alerts.Raised, Name: alerts.Jam,
				Severity: alerts.Critical, Source: alerts.SourceTrap, From: "10.0.0.11", Code: 8,
				Description: "Paper jam, tray 2", At: t0.Add(-5 * time.Minute)},
				AckedBy: "mia", AckedAt: t0.Add(-time.Minute), Comment: "-on my way"},
			{Event: alerts.Event{ID: 3, Printer: "hq-1", Key: "hq-1/offline", Kind: alerts.Raised, Name: alerts.Offline,
				Severity: alerts.Critical, Source: alerts.SourcePoll, Description: "unreachable for 2 polls", At: t0.Add(-time.Hour)}},
			{Event: alerts.Event{ID: 5, Printer: "lab-1", Key: "lab-1/toner_low/1", Kind: alerts.Raised, Name: alerts.TonerLow,
				Severity: alerts.Warning, Source: alerts.SourcePoll, Code: 1104, Description: "Black toner low", At: t0.Add(-30 * time.Minute)}},
		},
		Drift: []reports.Drift{
			{Printer: "lab-2", CheckedAt: t0, Changes: []reports.DriftChange{
				{Kind: reports.DriftSetting, Name: "power.sleep_timeout_min", Desired: "15", Observed: "60"},
				{Kind: reports.DriftSetting, Name: "snmp.write_community", Desired: "s3cret", Observed: "public", Sensitive: true},
				{Kind: reports.DriftFirmware, Desired: "CXTPC.230.037", Observed: "CXTPC.220.001"},
			}},
			{Printer: "hq-1", CheckedAt: t0},
		},
		LowPercent: 15,
	}
}

func render(t *testing.T, view string, in reports.Input) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := reports.Write(&b, view, in); err != nil {
		t.Fatalf("Write %s: %v", view, err)
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".csv")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// parse reads a rendered view back, checking it is RFC 4180 with a
// header of the documented columns and rows as wide.
func parse(t *testing.T, view string, data []byte) []map[string]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s does not parse as CSV: %v", view, err)
	}
	cols, err := reports.Columns(view)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], cols) {
		t.Fatalf("%s header %q, want %q", view, recs[0], cols)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, c := range cols {
			row[c] = rec[i]
		}
		out = append(out, row)
	}
	return out
}

func TestGolden(t *testing.T) {
	in := fleetInput()
	for _, view := range reports.Views {
		t.Run(view, func(t *testing.T) {
			got := render(t, view, in)
			if !bytes.HasSuffix(got, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(got, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("%s: lines must end in CRLF (RFC 4180)", view)
			}
			parse(t, view, got)
			golden(t, view, got)
		})
	}
	t.Run("events", func(t *testing.T) {
		var evs []alerts.Event
		for _, a := range in.Active {
			evs = append(evs, a.Event)
		}
		evs = append(evs, alerts.Event{ID: 8, Printer: "lab-1", Key: "lab-1/jam/3", Kind: alerts.Cleared, Name: alerts.Jam,
			Severity: alerts.Critical, Source: alerts.SourcePoll, At: t0})
		var b bytes.Buffer
		if err := reports.WriteEvents(&b, evs); err != nil {
			t.Fatal(err)
		}
		golden(t, "events", b.Bytes())
	})
}

func rowOf(t *testing.T, rows []map[string]string, key, value string) map[string]string {
	t.Helper()
	for _, r := range rows {
		if r[key] == value {
			return r
		}
	}
	t.Fatalf("no row with %s=%q in %v", key, value, rows)
	return nil
}

// TestCells checks, view by view, the cells whose rules the golden files
// could hide: unknowns empty, times in UTC, fallbacks, formula guards.
func TestCells(t *testing.T) {
	in := fleetInput()
	inv := parse(t, alerts.ViewInventory, render(t, alerts.ViewInventory, in))
	sup := parse(t, alerts.ViewSupplies, render(t, alerts.ViewSupplies, in))
	pages := parse(t, alerts.ViewPageCounts, render(t, alerts.ViewPageCounts, in))
	act := parse(t, alerts.ViewAlerts, render(t, alerts.ViewAlerts, in))
	dr := parse(t, alerts.ViewDrift, render(t, alerts.ViewDrift, in))

	var names []string
	for _, r := range inv {
		names = append(names, r["printer"])
	}
	if want := []string{"hq-1", "lab-1", "lab-2", "new-1"}; !slices.Equal(names, want) {
		t.Errorf("inventory printers %v, want the declared ones sorted: %v", names, want)
	}

	for _, tc := range []struct {
		name      string
		row       map[string]string
		col, want string
	}{
		{"observed time in UTC", rowOf(t, inv, "printer", "lab-1"), "observed_at", "2026-03-02T07:00:00Z"},
		{"address with port", rowOf(t, inv, "printer", "lab-1"), "address", "10.0.0.11:1161"},
		{"keywords", rowOf(t, inv, "printer", "lab-2"), "keywords", "lab;color"},
		{"page count", rowOf(t, inv, "printer", "lab-1"), "page_count", "123456"},
		{"page count unknown is empty", rowOf(t, inv, "printer", "lab-2"), "page_count", ""},
		{"model formula guarded", rowOf(t, inv, "printer", "lab-2"), "model", `'+HP "Color" LaserJet, M553`},
		{"serial formula guarded", rowOf(t, inv, "printer", "lab-2"), "serial", "'@JPBCS"},
		{"unreachable: recorded model", rowOf(t, inv, "printer", "hq-1"), "model", "Dell S5830dn"},
		{"unreachable: recorded time", rowOf(t, inv, "printer", "hq-1"), "observed_at", "2026-03-01T07:00:00Z"},
		{"unreachable: no status", rowOf(t, inv, "printer", "hq-1"), "status", ""},
		{"unreachable: the error", rowOf(t, inv, "printer", "hq-1"), "error", "no answer from 10.0.0.1:161 within 2s"},
		{"applied", rowOf(t, inv, "printer", "hq-1"), "applied_at", "2026-02-28T07:00:00Z"},
		{"never observed: empty", rowOf(t, inv, "printer", "new-1"), "observed_at", ""},
		{"never applied: empty", rowOf(t, inv, "printer", "lab-2"), "applied_at", ""},

		{"percent", rowOf(t, sup, "supply", "Black Toner"), "percent", "12"},
		{"low against low_percent", rowOf(t, sup, "supply", "Black Toner"), "state", "low"},
		{"empty", rowOf(t, sup, "supply", "Cyan Toner"), "state", "empty"},
		{"percent null is empty", rowOf(t, sup, "supply", "Waste Toner Bottle"), "percent", ""},
		{"special level is empty", rowOf(t, sup, "supply", "Waste Toner Bottle"), "level", ""},
		{"unknown max is empty", rowOf(t, sup, "supply", "Waste Toner Bottle"), "max", ""},
		{"some remaining", rowOf(t, sup, "supply", "Waste Toner Bottle"), "state", "some_remaining"},
		{"description formula guarded", rowOf(t, sup, "kind", "fuser"), "supply", `'=HYPERLINK("http://evil.example","Fuser")`},
		{"printer without supplies", rowOf(t, sup, "printer", "lab-2"), "supply", ""},
		{"unreachable printer's supplies", rowOf(t, sup, "printer", "hq-1"), "error", "no answer from 10.0.0.1:161 within 2s"},

		{"page counts unknown", rowOf(t, pages, "printer", "lab-2"), "page_count", ""},
		{"page counts unreachable", rowOf(t, pages, "printer", "hq-1"), "page_count", ""},

		{"alert code", rowOf(t, act, "event", "jam"), "code", "8"},
		{"alert without code", rowOf(t, act, "event", "offline"), "code", ""},
		{"ack comment guarded", rowOf(t, act, "event", "jam"), "comment", "'-on my way"},
		{"since", rowOf(t, act, "event", "toner_low"), "since", "2026-03-02T06:30:00Z"},
		{"not acked", rowOf(t, act, "event", "offline"), "acked_at", ""},

		{"sensitive desired hidden", rowOf(t, dr, "name", "snmp.write_community"), "desired", "(sensitive)"},
		{"sensitive observed hidden", rowOf(t, dr, "name", "snmp.write_community"), "observed", "(sensitive)"},
		{"drift without detail", rowOf(t, dr, "printer", "hq-1"), "kind", ""},
	} {
		if got := tc.row[tc.col]; got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.name, tc.col, got, tc.want)
		}
	}
	if n := len(sup); n != 4+1+1+1 {
		t.Errorf("supplies has %d rows, want 7 (4 supplies, and one row each for lab-2, hq-1 and new-1)", n)
	}
	for _, view := range reports.Views {
		if bytes.Contains(render(t, view, in), []byte("s3cret")) {
			t.Errorf("%s shows a sensitive value", view)
		}
	}
}

func TestFormulaGuard(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+2", "'=1+2"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"Black Toner", "Black Toner"},
		{"a=1", "a=1"},
		{"", ""},
	} {
		in := reports.Input{Printers: []fleet.Printer{{Name: "p", Host: "h", Port: 161}},
			Observations: map[string]reports.Observed{"p": {Observation: fleet.Observation{Model: tc.in, PageCount: -1}}}}
		rows := parse(t, alerts.ViewPageCounts, render(t, alerts.ViewPageCounts, in))
		if got := rows[0]["model"]; got != tc.want {
			t.Errorf("model %q shows as %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFormulaGuardCR: a cell starting with a carriage return is guarded
// too: encoding/csv drops a lone CR when it writes CRLF line ends, which
// would bring the formula to the front.
func TestFormulaGuardCR(t *testing.T) {
	in := reports.Input{Printers: []fleet.Printer{{Name: "p", Host: "h", Port: 161}},
		Observations: map[string]reports.Observed{"p": {Observation: fleet.Observation{Model: "\r=1", PageCount: -1}}}}
	if got := render(t, alerts.ViewPageCounts, in); !bytes.Contains(got, []byte(`"'=1"`)) {
		t.Errorf("model CR=1 rendered as %q", got)
	}
}

func TestSupplyState(t *testing.T) {
	for _, tc := range []struct {
		level, max, lowPercent int
		want                   string
	}{
		{1400, 10000, 15, "low"},
		{1500, 10000, 15, "ok"},
		{1400, 10000, 0, fleet.Supply{Level: 1400, Max: 10000}.State()},
		{0, 10000, 15, "empty"},
		{-2, 10000, 15, "unknown"},
		{-3, -2, 15, "some_remaining"},
		{700, -2, 15, "some_remaining"},
	} {
		in := reports.Input{Printers: []fleet.Printer{{Name: "p", Host: "h"}}, LowPercent: tc.lowPercent,
			Observations: map[string]reports.Observed{"p": {Observation: fleet.Observation{
				Supplies: []fleet.Supply{{Description: "t", Level: tc.level, Max: tc.max}}}}}}
		rows := parse(t, alerts.ViewSupplies, render(t, alerts.ViewSupplies, in))
		if got := rows[0]["state"]; got != tc.want {
			t.Errorf("level %d of %d, low below %d%%: state %q, want %q", tc.level, tc.max, tc.lowPercent, got, tc.want)
		}
	}
}

func TestEmptyAndUnknown(t *testing.T) {
	for _, view := range reports.Views {
		got := render(t, view, reports.Input{})
		cols, _ := reports.Columns(view)
		if want := strings.Join(cols, ",") + "\r\n"; string(got) != want {
			t.Errorf("%s of nothing = %q, want the header only", view, got)
		}
	}
	if err := reports.Write(&bytes.Buffer{}, "toner", reports.Input{}); err == nil || !strings.Contains(err.Error(), `"toner"`) {
		t.Errorf("unknown view: %v", err)
	}
	if _, err := reports.Columns("toner"); err == nil {
		t.Error("Columns of an unknown view: no error")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	err := reports.Write(failingWriter{}, alerts.ViewInventory, fleetInput())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write to a failing writer = %v", err)
	}
}
