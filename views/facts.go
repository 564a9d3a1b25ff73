package views

import (
	"strconv"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans"
)

// factsSep separates the facts of a printer's one-line summary.
const factsSep = " · "

// appendFacts appends the facts that matter of an observed printer in one
// short line, "Lexmark MS821 · MSNGM.230.037 · idle · black toner 12 %":
// model, firmware, status and the supply with the least left. Facts the
// printer does not give are left out; it appends nothing when it gives
// none. It appends rather than formats: a plan renders it per printer.
func appendFacts(b []byte, o *plans.Observed) []byte {
	if o == nil {
		return b
	}
	start := len(b)
	field := func(s string) {
		if s == "" {
			return
		}
		if len(b) > start {
			b = append(b, factsSep...)
		}
		b = append(b, safe(s)...)
	}
	field(o.Model)
	field(o.Firmware)
	if o.Status != "" && o.Status != fleet.StatusUnknown {
		field(o.Status)
	}
	if s, pct, ok := lowestSupply(o.Supplies); ok {
		field(supplyLabel(s))
		b = append(strconv.AppendInt(append(b, ' '), int64(pct), 10), " %"...)
	}
	return b
}

// lowestSupply is the supply with the least left in percent, the first
// of equals; ok is false when no supply says how much is left.
func lowestSupply(supplies []fleet.Supply) (s fleet.Supply, pct int, ok bool) {
	for _, c := range supplies {
		p := c.Percent()
		if p >= 0 && (!ok || p < pct) {
			s, pct, ok = c, p, true
		}
	}
	return s, pct, ok
}

// supplyLabel names a supply briefly: its colour and kind when both are
// known ("black toner"), else its description.
func supplyLabel(s fleet.Supply) string {
	if s.Color != "" && s.Kind != "" && s.Kind != fleet.SupplyKindOther {
		return s.Color + " " + s.Kind
	}
	if s.Description == "" {
		return "supply"
	}
	return s.Description
}
