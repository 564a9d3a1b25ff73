// Package plans holds what planning produces and applying carries out: a
// Plan, printer by printer (actions, setting changes, files and firmware
// to deploy, what was observed), and the ApplyResult of carrying one out.
// It is plain data, made by planner, carried out by apply, rendered by
// views and stored by plans/planfile.
//
// A Plan never holds a sensitive value: for settings marked sensitive only
// value hashes keyed with the state's key are kept, so no rendering or
// plan file can leak one, nor a hash that trying every value would undo.
package plans

import (
	"fmt"
	"time"
)

// FormatVersion is the version of the JSON rendering and of plan files.
const FormatVersion = "1.1"

// Action is what a plan does to a printer or a setting. Its value is also
// its display symbol.
type Action rune

// Actions.
const (
	// NoOp: nothing to do.
	NoOp Action = 0
	// Adopt: first time under management (printer or setting not in state).
	// The device is written only if its value differs.
	Adopt Action = '+'
	// Update: managed, and the device's value differs from the configuration.
	Update Action = '~'
	// Forget: in state but removed from the configuration. State forgets it;
	// the device is left as it is.
	Forget Action = '-'
	// Upgrade: a firmware upgrade. Apply installs firmware before the
	// printer's files and settings, in rollout waves across the fleet.
	Upgrade Action = '^'
)

// String returns the action's name as used in JSON.
func (a Action) String() string {
	switch a {
	case NoOp:
		return "no-op"
	case Adopt:
		return "adopt"
	case Update:
		return "update"
	case Forget:
		return "forget"
	case Upgrade:
		return "upgrade"
	}
	return fmt.Sprintf("Action(%d)", rune(a))
}

// Symbol returns the one-character display symbol (" " for NoOp).
func (a Action) Symbol() string {
	if a == NoOp {
		return " "
	}
	return string(rune(a))
}

// ParseAction is the inverse of String.
func ParseAction(s string) (Action, error) {
	for _, a := range []Action{NoOp, Adopt, Update, Forget, Upgrade} {
		if a.String() == s {
			return a, nil
		}
	}
	return NoOp, fmt.Errorf("unknown action %q", s)
}

// Change is the planned change of one setting on one printer.
//
// For a sensitive setting Before and After are always empty; only the hashes
// say whether the values differ.
type Change struct {
	Setting   string
	Action    Action
	Before    string // observed value ("" for Forget)
	After     string // desired value ("" for Forget)
	Sensitive bool
	Transport string
	// BeforeHash and AfterHash are the hashes of the observed and the
	// desired value as values.Memo makes them: keyed for a sensitive
	// setting. Both are empty for Forget.
	BeforeHash string
	AfterHash  string
	// Drift: the device no longer holds the value state recorded as
	// applied, which is still the one declared: it was changed on the
	// device (the front panel, another tool), not in the configuration.
	Drift bool
}

// Write reports whether the device must be written for this change.
func (c Change) Write() bool {
	if c.Action != Adopt && c.Action != Update {
		return false
	}
	if c.BeforeHash != "" && c.AfterHash != "" {
		return c.BeforeHash != c.AfterHash
	}
	return c.Before != c.After
}

// Counts reports whether the change counts as one in a plan's summary and
// exit code: it writes the device, or state forgets the setting. Adopting
// a value the device already holds ("already set on the device") writes
// nothing and only records the value, so it counts as none.
func (c Change) Counts() bool { return c.Write() || c.Action == Forget }

// PrinterStatus says whether a printer could be planned.
type PrinterStatus string

// Printer statuses.
const (
	StatusReady       PrinterStatus = "ready"
	StatusUnreachable PrinterStatus = "unreachable"
	StatusMismatch    PrinterStatus = "mismatch" // serial differs from the pin
	StatusError       PrinterStatus = "error"    // any other observe error, e.g. authentication
	StatusForgotten   PrinterStatus = "forgotten"
)

// Valid reports whether s is one of the statuses above.
func (s PrinterStatus) Valid() bool {
	switch s {
	case StatusReady, StatusUnreachable, StatusMismatch, StatusError, StatusForgotten:
		return true
	}
	return false
}

// PrinterPlan is the plan for one printer.
type PrinterPlan struct {
	Name    string
	Address string
	Action  Action
	Status  PrinterStatus
	Reason  string // why the printer is not ready; "" when ready
	// Observed is what was read from the printer, without setting values
	// (those are in Changes and ObservedHashes); nil when not observed.
	Observed *Observed
	// Changes holds the settings that change, sorted by setting name.
	// Settings already as desired are only counted in Unchanged, but for
	// those newly declared on a printer the plan adopts or changes: they
	// are Adopt changes that write nothing and do not count (Counts).
	Changes   []Change
	Unchanged int
	// Unsupported lists requested settings the model does not support.
	Unsupported []string
	// UnsupportedWhy says why, per setting, when known.
	UnsupportedWhy map[string]string
	// ObservedHashes maps each observed setting to the hash of its value,
	// as values.Memo makes it; apply compares them to refuse a printer
	// that changed since.
	ObservedHashes map[string]string
	Transport      string
	// Firmware is the firmware upgrade planned (nil: none); Files are the
	// files to deploy, in declaration order. Apply does firmware first.
	Firmware *FirmwareChange
	Files    []FileChange
	// Notes explain transport choices and upgrades not made, e.g.
	// "pjl: port 9100 closed; falling back to snmp".
	Notes []string
}

// Deploys reports whether the printer's plan sends files or firmware.
func (pp *PrinterPlan) Deploys() bool { return len(pp.Files) > 0 || pp.Firmware != nil }

// Writes returns how many settings, files and firmware images must be
// written to the device.
func (pp *PrinterPlan) Writes() int {
	n := len(pp.Files)
	if pp.Firmware != nil {
		n++
	}
	for _, c := range pp.Changes {
		if c.Write() {
			n++
		}
	}
	return n
}

// Plan is the result of planning: what would change, printer by printer.
type Plan struct {
	FormatVersion string
	CreatedAt     time.Time
	ConfigHash    string
	RefreshOnly   bool
	Targets       []string
	Printers      []PrinterPlan // sorted by name
}

// Summary counts a plan's changes and problems.
type Summary struct {
	// Printers by action: the headline counts.
	AdoptPrinters  int `json:"adopt_printers"`
	UpdatePrinters int `json:"update_printers"`
	ForgetPrinters int `json:"forget_printers"`
	// Settings by action, of the changes that count (Change.Counts).
	Adopt           int `json:"adopt"`
	Update          int `json:"update"`
	Forget          int `json:"forget"`
	PrintersChanged int `json:"printers_changed"`
	// Checked printers were observed and compared with the configuration;
	// NotChecked ones were not, and are also counted by why: Unreachable,
	// Mismatch (another serial) or Errors. Printers only forgotten are
	// neither.
	Checked     int `json:"checked"`
	NotChecked  int `json:"not_checked"`
	Unreachable int `json:"unreachable"`
	Mismatch    int `json:"mismatch"`
	Errors      int `json:"errors"`
	Unsupported int `json:"unsupported"`
	// Files to deploy and firmware upgrades.
	Files    int `json:"files,omitempty"`
	Upgrades int `json:"upgrades,omitempty"`
}

// Summary counts printers by action and by status, and changes per setting.
func (p *Plan) Summary() Summary {
	var s Summary
	for i := range p.Printers {
		pp := &p.Printers[i]
		for _, c := range pp.Changes {
			if !c.Counts() {
				continue
			}
			switch c.Action {
			case Adopt:
				s.Adopt++
			case Update:
				s.Update++
			case Forget:
				s.Forget++
			}
		}
		switch pp.Action {
		case Adopt:
			s.AdoptPrinters++
		case Update:
			s.UpdatePrinters++
		case Forget:
			s.ForgetPrinters++
		}
		if pp.Action != NoOp {
			s.PrintersChanged++
		}
		switch pp.Status {
		case StatusReady:
			s.Checked++
		case StatusUnreachable:
			s.Unreachable++
		case StatusMismatch:
			s.Mismatch++
		case StatusError:
			s.Errors++
		}
		s.Unsupported += len(pp.Unsupported)
		s.Files += len(pp.Files)
		if pp.Firmware != nil {
			s.Upgrades++
		}
	}
	s.NotChecked = s.Unreachable + s.Mismatch + s.Errors
	return s
}

// HasChanges reports whether applying the plan would change the devices or
// the state's record of them.
func (p *Plan) HasChanges() bool {
	if p.RefreshOnly {
		return false
	}
	for i := range p.Printers {
		if p.Printers[i].Action != NoOp {
			return true
		}
	}
	return false
}

// FileChange is a file the plan deploys to one printer. State records the
// SHA-256 of every file deployed (under the key "file:<dest>" among the
// printer's settings), so an unchanged file is not sent again.
type FileChange struct {
	Dest   string // name on the printer
	Action Action // Adopt: never deployed; Update: other content was deployed
	Size   int64
	SHA256 string // hex SHA-256 of the content the configuration names
	Via    string // the transport planned; apply may fall back on a closed port
}

// FirmwareChange is a firmware upgrade the plan makes on one printer.
type FirmwareChange struct {
	Name   string // the firmware block
	From   string // observed version
	To     string // declared version
	Size   int64
	SHA256 string // hex, declared
	Via    string // transport planned
	// Batch and MaxFailures are the firmware's rollout: apply upgrades the
	// printers of one firmware in waves of Batch (0: all at once) and
	// halts the rest once more than MaxFailures upgrades failed.
	Batch       int
	MaxFailures int
}
