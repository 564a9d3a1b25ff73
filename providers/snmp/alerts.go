package snmp

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/inkform/inkform/fleet"
)

// prtAlertTable (RFC 3805): prtAlertEntry's columns, indexed by
// hrDeviceIndex.prtAlertIndex.
const (
	oidPrtAlertEntry = ".1.3.6.1.2.1.43.18.1.1"
	// prtAlertCriticalEvents and prtAlertAllEvents (prtGeneralTable,
	// indexed by hrDeviceIndex): counters an agent with the alert table
	// keeps, so that an empty table can be told from none.
	oidPrtAlertCriticalEvents = ".1.3.6.1.2.1.43.5.1.1.18"
	oidPrtAlertAllEvents      = ".1.3.6.1.2.1.43.5.1.1.19"
)

// alertColumns are walked side by side: severity, training level, group,
// group index, location, code, description (columns 2 to 8; prtAlertIndex
// is not readable on RFC 1759 agents and is in the row index anyway).
var alertColumns = func() []string {
	out := make([]string, 0, 7)
	for c := 2; c <= 8; c++ {
		out = append(out, oidPrtAlertEntry+"."+strconv.Itoa(c))
	}
	return out
}()

// maxAlertRows bounds the table read: printers keep a few dozen alerts.
const maxAlertRows = 128

// ObserveAlerts is Observe with the printer's alert table (prtAlertTable)
// in Observation.Alerts: one walk more, which watch's polls need and
// plans do not. AlertsRead is true when the agent has the table (rows, or
// the prtGeneralTable alert counters beside an empty one).
func (s *Session) ObserveAlerts(ctx context.Context, settings []string) (fleet.Observation, error) {
	return s.observe(ctx, settings, readOptions{supplies: true, alerts: true})
}

// alerts walks prtAlertTable for the printer's device (hrDeviceIndex
// printerIndex; the rows of other devices are left out).
func (s *Session) alerts(ctx context.Context, printerIndex string) ([]fleet.Alert, error) {
	cols, err := s.walkColumns(ctx, "walk prtAlertTable", alertColumns, maxAlertRows)
	if err != nil {
		return nil, err
	}
	rows := map[int]*fleet.Alert{}
	var order []int
	for c, col := range cols {
		for _, cell := range col {
			dev, idx, ok := strings.Cut(cell.index, ".")
			if !ok || dev != printerIndex {
				continue
			}
			n, err := strconv.Atoi(idx)
			if err != nil || n <= 0 {
				continue
			}
			a := rows[n]
			if a == nil {
				a = &fleet.Alert{Index: n}
				rows[n] = a
				order = append(order, n)
			}
			v, _ := intValue(cell.pdu)
			switch c + 2 {
			case 2:
				a.Severity = clampInt(v)
			case 3:
				a.Training = clampInt(v)
			case 4:
				a.Group = clampInt(v)
			case 5:
				a.GroupIndex = clampInt(v)
			case 6:
				a.Location = clampInt(v)
			case 7:
				a.Code = clampInt(v)
			case 8:
				a.Description = textValue(cell.pdu)
			}
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	// Table order: by prtAlertIndex (every column walks in that order).
	out := make([]fleet.Alert, 0, len(order))
	slices.Sort(order)
	for _, n := range order {
		out = append(out, *rows[n])
	}
	return out, nil
}
