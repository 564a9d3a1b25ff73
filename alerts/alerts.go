// Package alerts is the model of watch mode: what a printer signals
// (Signal), what inkform records of it (Event), the stable event names
// with their Printer-MIB codes and severities, and the configuration that
// routes events to people (Route, SMTP, Watch, Report). Like fleet it has
// no I/O: intake sources produce Signals, state stores Events, watch routes
// them.
package alerts

import (
	"time"
)

// Severity says how urgent an event is.
type Severity string

// Severities, most urgent first.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Kind says whether an event starts or ends an alert.
type Kind string

// Event kinds.
const (
	Raised  Kind = "raised"
	Cleared Kind = "cleared"
)

// Stable event names. Names are part of the configuration language
// (alert_route match.events) and of the JSON and CSV outputs: never rename.
const (
	Jam              = "jam"
	CoverOpen        = "cover_open"
	DoorOpen         = "door_open"
	InputTrayMissing = "input_tray_missing"
	PaperLow         = "paper_low"
	PaperEmpty       = "paper_empty"
	OutputAlmostFull = "output_almost_full"
	OutputFull       = "output_full"
	TonerEmpty       = "toner_empty"
	TonerLow         = "toner_low"
	WasteTonerFull   = "waste_toner_full"
	TonerMissing     = "toner_missing"
	ServiceRequested = "service_requested"
	Offline          = "offline"
	SupplyLow        = "supply_low"
	SupplyEmpty      = "supply_empty"
	Drift            = "drift"
	Other            = "other"
)

// Sources of events.
const (
	SourceTrap  = "trap"
	SourcePoll  = "poll"
	SourceNPAP  = "npap"
	SourceDrift = "drift"
	SourceTest  = "test"
)

// Signal is one alert as an intake source decoded it, before it is
// attributed to a printer and recorded.
type Signal struct {
	Kind     Kind
	Name     string // one of the event names; Other when not known
	Severity Severity
	// Code is the Printer-MIB prtAlertCode (RFC 3805), 0 when none.
	Code int
	// Index identifies the alert within the printer (prtAlertIndex, a
	// supply index, …), so that two jams in two places are two alerts and
	// a clearing signal ends the right one; "" when the source has none.
	Index string
	// OID is the trap's snmpTrapOID (for Other, what kind of trap it was).
	OID         string
	Description string
}

// Event is a Signal attributed to a printer, as recorded in state. An
// event is written to state before anything else is done with it.
type Event struct {
	ID      int64 // set by state when recorded
	Printer string
	// Key identifies the alert the event raises or clears, within the
	// whole fleet: KeyFor(printer, name, index).
	Key      string
	Kind     Kind
	Name     string
	Severity Severity
	Source   string // one of the Source* values
	// From is the address the signal came from ("" for polls and drift).
	From string
	Code int
	OID  string
	// Description says what happened in the printer's words (its
	// prtAlertDescription) or inkform's; never a secret.
	Description string
	At          time.Time
}

// KeyFor is the key of the alert that name raises on printer at index.
func KeyFor(printer, name, index string) string {
	if index == "" {
		return printer + "/" + name
	}
	return printer + "/" + name + "/" + index
}
