package plans

import (
	"time"

	"github.com/inkform/inkform/fleet"
)

// Observed is what a plan keeps of a printer's observation: the facts,
// never a setting value (those may be secret; a plan keeps them only as
// changes and hashes). It is also the observation's one JSON form, in
// plan -json and in plan files.
//
// Errors and Supplies are empty, not nil, when the printer reports none
// (in plans made by planner or read from a plan file), so that JSON shows
// them as [].
type Observed struct {
	Model      string         `json:"model"`
	Serial     string         `json:"serial"`
	Firmware   string         `json:"firmware"`
	Status     string         `json:"status"` // hrPrinterStatus: "idle", "printing", …
	Errors     []string       `json:"errors"` // hrPrinterDetectedErrorState bits by name, e.g. "lowToner"
	Supplies   []fleet.Supply `json:"supplies"`
	PageCount  int64          `json:"page_count"` // -1 when unknown
	ObservedAt time.Time      `json:"observed_at"`
}
