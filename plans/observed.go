package plans

import (
	"encoding/json"
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
	Vendor     string         `json:"vendor"`
	Model      string         `json:"model"`
	Serial     string         `json:"serial"`
	Firmware   string         `json:"firmware"`
	SysDescr   string         `json:"sys_descr"` // raw, for reference
	Status     string         `json:"status"`    // fleet.Status*: "idle", "printing", "warning", …
	Errors     []string       `json:"errors"`    // hrPrinterDetectedErrorState bits by name, e.g. "lowToner"
	Supplies   []fleet.Supply `json:"supplies"`
	PageCount  int64          `json:"page_count"` // -1 when unknown; null in JSON
	ObservedAt time.Time      `json:"observed_at"`
}

// observedJSON is Observed with the page count as JSON has it.
type observedJSON struct {
	Vendor     string         `json:"vendor"`
	Model      string         `json:"model"`
	Serial     string         `json:"serial"`
	Firmware   string         `json:"firmware"`
	SysDescr   string         `json:"sys_descr"`
	Status     string         `json:"status"`
	Errors     []string       `json:"errors"`
	Supplies   []fleet.Supply `json:"supplies"`
	PageCount  *int64         `json:"page_count"`
	ObservedAt time.Time      `json:"observed_at"`
}

// MarshalJSON writes an unknown page count as null rather than -1.
func (o Observed) MarshalJSON() ([]byte, error) {
	j := observedJSON{Vendor: o.Vendor, Model: o.Model, Serial: o.Serial, Firmware: o.Firmware,
		SysDescr: o.SysDescr, Status: o.Status, Errors: o.Errors, Supplies: o.Supplies, ObservedAt: o.ObservedAt}
	if o.PageCount >= 0 {
		n := o.PageCount
		j.PageCount = &n
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads null (or an absent or negative count) as -1.
func (o *Observed) UnmarshalJSON(b []byte) error {
	var j observedJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*o = Observed{Vendor: j.Vendor, Model: j.Model, Serial: j.Serial, Firmware: j.Firmware,
		SysDescr: j.SysDescr, Status: j.Status, Errors: j.Errors, Supplies: j.Supplies,
		PageCount: -1, ObservedAt: j.ObservedAt}
	if j.PageCount != nil && *j.PageCount >= 0 {
		o.PageCount = *j.PageCount
	}
	return nil
}
