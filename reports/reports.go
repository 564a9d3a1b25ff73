// Package reports renders the fleet as CSV views — inventory, supplies,
// page_counts, alerts, drift — from plain inputs: the declared printers,
// what was just observed of them, what state recorded, the active alerts
// and the drift found. It does no I/O beyond the io.Writer it is given, so
// `inkform report NAME -o file.csv` and a scheduled report email write the
// same bytes. docs/reports.md documents every column; they are stable:
// new columns are added at the end, none is renamed or removed.
package reports

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/state"
)

// ContentType is the MIME type of every view.
const ContentType = "text/csv; charset=utf-8"

// Input is everything a view may show.
type Input struct {
	// Printers are the declared printers; every view but alerts and drift
	// has a row (at least) for each, sorted by name.
	Printers []fleet.Printer
	// Observations are what was observed of each printer, by name. A
	// printer absent from the map was not observed.
	Observations map[string]Observed
	// Recorded is what state holds of each printer: the inventory falls
	// back to it for a printer not observed now.
	Recorded []state.Printer
	// Active are the alerts raised and not cleared.
	Active []state.ActiveAlert
	// Drift are the printers whose live settings differ from the
	// configuration.
	Drift []Drift
	// LowPercent is the level below which a supply is low (the watch
	// block's low_percent); 0 uses the printer-independent default of
	// fleet.Supply.State.
	LowPercent int
}

// Observed is one printer's observation, or why there is none.
type Observed struct {
	Observation fleet.Observation
	// Err is why the printer could not be observed; Observation is then
	// empty.
	Err error
}

// Drift is one printer that differs from its configuration.
type Drift struct {
	Printer   string
	CheckedAt time.Time
	// Changes lists what differs; a printer found drifted with no detail
	// gets one row with empty kind and name.
	Changes []DriftChange
}

// Kinds of drift.
const (
	DriftSetting  = "setting"
	DriftFile     = "file"
	DriftFirmware = "firmware"
)

// DriftChange is one difference between configuration and printer.
type DriftChange struct {
	Kind      string // DriftSetting, DriftFile or DriftFirmware
	Name      string // the setting or file name; "" for firmware
	Desired   string
	Observed  string
	Sensitive bool // the values are shown as (sensitive)
}

// Views, in the order docs/reports.md lists them.
var Views = []string{alerts.ViewInventory, alerts.ViewSupplies, alerts.ViewPageCounts, alerts.ViewAlerts, alerts.ViewDrift}

// columns of each view; docs/reports.md explains them.
var columns = map[string][]string{
	alerts.ViewInventory: {"printer", "address", "keywords", "configuration", "vendor", "model", "serial",
		"firmware", "status", "page_count", "observed_at", "applied_at", "error"},
	alerts.ViewSupplies: {"printer", "model", "supply", "kind", "color", "part_number", "level", "max",
		"percent", "state", "observed_at", "error"},
	alerts.ViewPageCounts: {"printer", "model", "serial", "page_count", "observed_at", "error"},
	alerts.ViewAlerts: {"printer", "event", "severity", "since", "description", "code", "source", "from",
		"key", "acked_by", "acked_at", "comment"},
	alerts.ViewDrift: {"printer", "kind", "name", "desired", "observed", "checked_at"},
}

// eventColumns are the columns of WriteEvents.
var eventColumns = []string{"id", "at", "printer", "event", "kind", "severity", "description", "code",
	"source", "from", "key"}

// Columns returns the header of view.
func Columns(view string) ([]string, error) {
	c, ok := columns[view]
	if !ok {
		return nil, unknownView(view)
	}
	return slices.Clone(c), nil
}

func unknownView(view string) error {
	return fmt.Errorf("report view %q: must be one of %s", view, strings.Join(Views, ", "))
}

// Write writes view as CSV (RFC 4180, CRLF line ends, a header row).
func Write(w io.Writer, view string, in Input) error {
	var rows [][]string
	switch view {
	case alerts.ViewInventory:
		rows = inventory(in)
	case alerts.ViewSupplies:
		rows = supplies(in)
	case alerts.ViewPageCounts:
		rows = pageCounts(in)
	case alerts.ViewAlerts:
		rows = activeAlerts(in.Active)
	case alerts.ViewDrift:
		rows = drift(in.Drift)
	default:
		return unknownView(view)
	}
	return write(w, columns[view], rows)
}

// WriteEvents writes recorded events as CSV, oldest first: the event log
// (`inkform alerts list -o csv`), in the same conventions as the views.
func WriteEvents(w io.Writer, evs []alerts.Event) error {
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b alerts.Event) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	rows := make([][]string, 0, len(sorted))
	for _, e := range sorted {
		rows = append(rows, []string{
			idText(e.ID), timeText(e.At), text(e.Printer), text(e.Name), text(string(e.Kind)),
			text(string(e.Severity)), text(e.Description), codeText(e.Code), text(e.Source), text(e.From), text(e.Key),
		})
	}
	return write(w, eventColumns, rows)
}

func write(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func sortedPrinters(ps []fleet.Printer) []fleet.Printer {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b fleet.Printer) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func recordedByName(rs []state.Printer) map[string]state.Printer {
	m := make(map[string]state.Printer, len(rs))
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}

// observed returns a printer's observation, whether there is one, and the
// text of its error.
func observed(in Input, name string) (fleet.Observation, bool, string) {
	o, ok := in.Observations[name]
	if !ok {
		return fleet.Observation{}, false, ""
	}
	if o.Err != nil {
		return fleet.Observation{}, false, o.Err.Error()
	}
	return o.Observation, true, ""
}

func inventory(in Input) [][]string {
	recorded := recordedByName(in.Recorded)
	var rows [][]string
	for _, p := range sortedPrinters(in.Printers) {
		obs, ok, errText := observed(in, p.Name)
		var vendor, model, serial, firmware, status, pages, at string
		if ok {
			vendor, model, serial, firmware = obs.Vendor, obs.Model, obs.Serial, obs.Firmware
			status, pages, at = obs.Status, countText(obs.PageCount), timeText(obs.ObservedAt)
		} else if r, known := recorded[p.Name]; known {
			// The last known identity, with when it was seen.
			model, serial, firmware, at = r.Model, r.Serial, r.Firmware, timeText(r.ObservedAt)
		}
		var applied string
		if r, known := recorded[p.Name]; known {
			applied = timeText(r.AppliedAt)
		}
		rows = append(rows, []string{
			text(p.Name), text(p.Address()), text(strings.Join(p.Keywords, ";")), text(p.Configuration),
			text(vendor), text(model), text(serial), text(firmware), text(status), pages, at, applied, text(errText),
		})
	}
	return rows
}

func supplies(in Input) [][]string {
	var rows [][]string
	for _, p := range sortedPrinters(in.Printers) {
		obs, ok, errText := observed(in, p.Name)
		if !ok || len(obs.Supplies) == 0 {
			// Every printer shows, even without supplies to list.
			rows = append(rows, []string{text(p.Name), text(obs.Model), "", "", "", "", "", "", "", "",
				timeText(obs.ObservedAt), text(errText)})
			continue
		}
		for _, s := range obs.Supplies {
			level, max, percent := "", "", ""
			if s.Level >= 0 {
				level = strconv.Itoa(s.Level)
			}
			if s.Max >= 0 {
				max = strconv.Itoa(s.Max)
			}
			if pc := s.Percent(); pc >= 0 {
				percent = strconv.Itoa(pc)
			}
			rows = append(rows, []string{
				text(p.Name), text(obs.Model), text(s.Description), text(s.Kind), text(s.Color), text(s.PartNumber),
				level, max, percent, supplyState(s, in.LowPercent), timeText(obs.ObservedAt), "",
			})
		}
	}
	return rows
}

// supplyState is the supply's state, with low measured against lowPercent
// when one is given (below it is low, as the supply_low alert has it).
func supplyState(s fleet.Supply, lowPercent int) string {
	st := s.State()
	if lowPercent <= 0 || (st != fleet.SupplyOK && st != fleet.SupplyLow) {
		return st
	}
	if s.Percent() < lowPercent {
		return fleet.SupplyLow
	}
	return fleet.SupplyOK
}

func pageCounts(in Input) [][]string {
	var rows [][]string
	for _, p := range sortedPrinters(in.Printers) {
		obs, ok, errText := observed(in, p.Name)
		pages := ""
		if ok {
			pages = countText(obs.PageCount)
		}
		rows = append(rows, []string{text(p.Name), text(obs.Model), text(obs.Serial), pages,
			timeText(obs.ObservedAt), text(errText)})
	}
	return rows
}

func activeAlerts(active []state.ActiveAlert) [][]string {
	sorted := slices.Clone(active)
	slices.SortStableFunc(sorted, func(a, b state.ActiveAlert) int {
		if c := strings.Compare(a.Event.Printer, b.Event.Printer); c != 0 {
			return c
		}
		if c := a.Event.At.Compare(b.Event.At); c != 0 {
			return c
		}
		return strings.Compare(a.Event.Key, b.Event.Key)
	})
	rows := make([][]string, 0, len(sorted))
	for _, a := range sorted {
		e := a.Event
		rows = append(rows, []string{
			text(e.Printer), text(e.Name), text(string(e.Severity)), timeText(e.At), text(e.Description),
			codeText(e.Code), text(e.Source), text(e.From), text(e.Key), text(a.AckedBy), timeText(a.AckedAt), text(a.Comment),
		})
	}
	return rows
}

func drift(ds []Drift) [][]string {
	sorted := slices.Clone(ds)
	slices.SortStableFunc(sorted, func(a, b Drift) int { return strings.Compare(a.Printer, b.Printer) })
	var rows [][]string
	for _, d := range sorted {
		at := timeText(d.CheckedAt)
		if len(d.Changes) == 0 {
			rows = append(rows, []string{text(d.Printer), "", "", "", "", at})
			continue
		}
		for _, c := range d.Changes {
			desired, obs := c.Desired, c.Observed
			if c.Sensitive {
				desired, obs = "(sensitive)", "(sensitive)"
			}
			rows = append(rows, []string{text(d.Printer), text(c.Kind), text(c.Name), text(desired), text(obs), at})
		}
	}
	return rows
}

// text makes a cell of a value that may come from a printer (a
// description, a model name) safe to open in a spreadsheet: a cell that
// starts like a formula is prefixed with an apostrophe, so that
// "=HYPERLINK(…)" shows as text instead of running (CSV injection).
func text(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// timeText is t in RFC 3339, UTC, to the second; "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// countText is a counter, "" when unknown (negative).
func countText(n int64) string {
	if n < 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func codeText(c int) string {
	if c == 0 {
		return ""
	}
	return strconv.Itoa(c)
}

func idText(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
