package fleet

import "encoding/json"

// Supply is one marker supply (toner, drum, waste box…).
type Supply struct {
	// Description is the supply's name without part or serial numbers,
	// e.g. "Black Toner".
	Description string
	PartNumber  string
	Serial      string
	// Kind is one of the SupplyKind* values.
	Kind string
	// Color is the colorant in lower case ("black", "cyan", …), "" when
	// the supply has none or the printer does not say.
	Color string
	// Level and Max are as the printer reports them, in its units
	// (RFC 3805): Level -1 other, -2 unknown, -3 some remaining; Max -1
	// no restriction, -2 unknown. For a receptacle (a waste box) Level is
	// the space left.
	Level int
	Max   int
}

// Supply kinds.
const (
	SupplyKindToner     = "toner"
	SupplyKindInk       = "ink"
	SupplyKindDrum      = "drum" // photoconductor (OPC), imaging unit
	SupplyKindDeveloper = "developer"
	SupplyKindFuser     = "fuser"
	SupplyKindWaste     = "waste"
	SupplyKindTransfer  = "transfer"
	SupplyKindStaples   = "staples"
	SupplyKindOther     = "other"
)

// Supply states: how much is left (of the supply, or of a receptacle's
// space).
const (
	SupplyOK            = "ok"
	SupplyLow           = "low"
	SupplyEmpty         = "empty"
	SupplySomeRemaining = "some_remaining" // the printer says only that some is left
	SupplyUnknown       = "unknown"
)

// LowPercent is the level at or below which a supply is low. RFC 3805
// has no "low" level; printers warn at 5–20 %.
const LowPercent = 10

// Percent returns the level in percent of Max (0–100, rounded), or -1
// when the printer does not say: a special Level or an unknown Max.
func (s Supply) Percent() int {
	if s.Max <= 0 || s.Level < 0 {
		return -1
	}
	if s.Level >= s.Max {
		return 100
	}
	// Rounded, in int64: Level*100 overflows int32 for large counters.
	return int((int64(s.Level)*100 + int64(s.Max)/2) / int64(s.Max))
}

// State says how much is left.
func (s Supply) State() string {
	switch {
	case s.Level == -3:
		return SupplySomeRemaining
	case s.Level < 0:
		return SupplyUnknown
	case s.Level == 0:
		return SupplyEmpty
	}
	p := s.Percent()
	switch {
	case p < 0:
		// Some left, but of an unknown capacity.
		return SupplySomeRemaining
	case p <= LowPercent:
		return SupplyLow
	}
	return SupplyOK
}

// supplyJSON is a supply's JSON form: the stored fields and the derived
// percent (null when unknown) and state.
type supplyJSON struct {
	Description string `json:"description"`
	PartNumber  string `json:"part_number"`
	Serial      string `json:"serial"`
	Kind        string `json:"kind"`
	Color       string `json:"color"`
	Level       int    `json:"level"`
	Max         int    `json:"max"`
	Percent     *int   `json:"percent"`
	State       string `json:"state"`
}

// MarshalJSON writes the supply with its percent and state.
func (s Supply) MarshalJSON() ([]byte, error) {
	j := supplyJSON{Description: s.Description, PartNumber: s.PartNumber, Serial: s.Serial,
		Kind: s.Kind, Color: s.Color, Level: s.Level, Max: s.Max, State: s.State()}
	if p := s.Percent(); p >= 0 {
		j.Percent = &p
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote; percent and state follow
// from the level and max and are not read.
func (s *Supply) UnmarshalJSON(b []byte) error {
	var j supplyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Supply{Description: j.Description, PartNumber: j.PartNumber, Serial: j.Serial,
		Kind: j.Kind, Color: j.Color, Level: j.Level, Max: j.Max}
	return nil
}
