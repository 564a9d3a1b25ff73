package watch

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
)

// ActiveSignals is the set of alerts an observation shows active, as
// Raised signals: what a poll compares with the previous poll's set to
// find what was raised and what cleared. It is a pure function of the
// observation and the supply threshold (lowPercent; alerts.DefaultLowPercent
// when 0 or less).
//
// Three parts of the observation say what is wrong:
//   - the prtAlertTable rows (when read): one signal per row, named after
//     prtAlertCode, at AlertIndex(group, group index). Rows of "closed"
//     codes (coverClosed, doorClosed) raise nothing: they say an alert
//     ended.
//   - the hrPrinterDetectedErrorState bits (Observation.Errors): jammed,
//     doorOpen, lowToner, noToner, lowPaper, noPaper, inputTrayEmpty,
//     inputTrayMissing, outputTrayMissing, outputNearFull, outputFull,
//     markerSupplyMissing, serviceRequested, overduePreventMaint, offline.
//     They say what, not where (Index ""), so a bit whose event the table
//     already has is left out: a jam in both is one alert.
//   - the supplies: supply_low below lowPercent, supply_empty at 0 (for a
//     waste box, whose level is the space left, waste_toner_full), at
//     Index the supply's description (or its position when the
//     description is missing or shared).
//
// Two signals with the same name and index are one; the more severe is
// kept. The result is sorted by name, then index.
func ActiveSignals(obs fleet.Observation, lowPercent int) []alerts.Signal {
	if lowPercent <= 0 {
		lowPercent = alerts.DefaultLowPercent
	}
	type key struct{ name, index string }
	set := map[key]alerts.Signal{}
	add := func(s alerts.Signal) {
		k := key{s.Name, s.Index}
		if old, ok := set[k]; ok && severityRank(old.Severity) <= severityRank(s.Severity) {
			return
		}
		set[k] = s
	}

	inTable := map[string]bool{}
	for _, a := range obs.Alerts {
		if _, closing := alerts.ClearedBy(a.Code); closing {
			continue
		}
		name := alerts.NameForCode(a.Code)
		descr := a.Description
		if descr == "" {
			descr = fmt.Sprintf("printer alert code %d", a.Code)
		}
		add(alerts.Signal{Kind: alerts.Raised, Name: name, Severity: alerts.SeverityFromMIB(a.Severity, name),
			Code: a.Code, Index: AlertIndex(a.Group, a.GroupIndex), Description: descr})
		inTable[name] = true
	}

	for _, e := range obs.Errors {
		b, ok := errorBits[e]
		if !ok || inTable[b.name] {
			continue
		}
		sev := b.severity
		if sev == "" {
			sev = alerts.DefaultSeverity(b.name)
		}
		s := alerts.Signal{Kind: alerts.Raised, Name: b.name, Severity: sev, Description: b.description}
		if b.name == alerts.Other {
			// Other has many causes: the bit tells them apart.
			s.Index = e
		}
		add(s)
	}

	descriptions := map[string]int{}
	for _, s := range obs.Supplies {
		descriptions[s.Description]++
	}
	for i, s := range obs.Supplies {
		index := s.Description
		if index == "" || descriptions[index] > 1 {
			index = "#" + strconv.Itoa(i+1)
		}
		label := s.Description
		if label == "" {
			label = "supply " + strconv.Itoa(i+1)
		}
		waste := s.Kind == fleet.SupplyKindWaste
		switch {
		case s.Level == 0 && waste:
			add(alerts.Signal{Kind: alerts.Raised, Name: alerts.WasteTonerFull, Severity: alerts.DefaultSeverity(alerts.WasteTonerFull),
				Index: index, Description: label + " is full"})
		case s.Level == 0:
			add(alerts.Signal{Kind: alerts.Raised, Name: alerts.SupplyEmpty, Severity: alerts.DefaultSeverity(alerts.SupplyEmpty),
				Index: index, Description: label + " is empty"})
		default:
			p := s.Percent()
			if p < 0 || p >= lowPercent {
				continue
			}
			what := "left"
			if waste {
				what = "of its space left"
			}
			add(alerts.Signal{Kind: alerts.Raised, Name: alerts.SupplyLow, Severity: alerts.DefaultSeverity(alerts.SupplyLow),
				Index: index, Description: fmt.Sprintf("%s: %d%% %s", label, p, what)})
		}
	}

	out := make([]alerts.Signal, 0, len(set))
	for _, s := range set {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b alerts.Signal) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Index, b.Index))
	})
	return out
}

// errorBit is what an hrPrinterDetectedErrorState bit raises.
type errorBit struct {
	name        string
	severity    alerts.Severity // "" for the name's default
	description string
}

// errorBits maps the bits (by their RFC 3805 names, as Observation.Errors
// has them) to events.
var errorBits = map[string]errorBit{
	"jammed":              {alerts.Jam, "", "paper jam"},
	"doorOpen":            {alerts.DoorOpen, "", "a door is open"},
	"lowToner":            {alerts.TonerLow, "", "toner low"},
	"noToner":             {alerts.TonerEmpty, "", "toner empty"},
	"lowPaper":            {alerts.PaperLow, "", "paper low"},
	"noPaper":             {alerts.PaperEmpty, "", "out of paper"},
	"inputTrayEmpty":      {alerts.PaperEmpty, alerts.Warning, "an input tray is empty"},
	"inputTrayMissing":    {alerts.InputTrayMissing, "", "an input tray is missing"},
	"outputTrayMissing":   {alerts.Other, alerts.Critical, "an output tray is missing"},
	"outputNearFull":      {alerts.OutputAlmostFull, "", "output bin almost full"},
	"outputFull":          {alerts.OutputFull, "", "output bin full"},
	"markerSupplyMissing": {alerts.TonerMissing, "", "a marker supply is missing"},
	"serviceRequested":    {alerts.ServiceRequested, "", "service requested"},
	"overduePreventMaint": {alerts.ServiceRequested, alerts.Warning, "preventive maintenance overdue"},
	"offline":             {alerts.Offline, "", "the printer reports itself offline"},
}

func severityRank(s alerts.Severity) int {
	switch s {
	case alerts.Critical:
		return 0
	case alerts.Warning:
		return 1
	}
	return 2
}
