package plans

// Printer result statuses.
const (
	ResultApplied   = "applied"
	ResultUnchanged = "unchanged"
	ResultFailed    = "failed"
	ResultSkipped   = "skipped"
	ResultStale     = "stale"
)

// PrinterResult is how one printer fared when a plan was applied.
type PrinterResult struct {
	Name    string
	Status  string // ResultApplied, ResultUnchanged, ResultFailed, ResultSkipped or ResultStale
	Detail  string // why, for any status but applied/unchanged; never a secret
	Changes int    // settings written and verified: those the run's history lists as changed
	// Firmware is FirmwareUpgraded, FirmwareFailed or FirmwareHalted when
	// the plan upgrades the printer's firmware and the upgrade was tried
	// or halted; "" otherwise.
	Firmware string
}

// ApplyResult is the outcome of applying a plan, one entry per printer of
// the plan in plan order.
type ApplyResult struct {
	Printers []PrinterResult
	RunID    int64
	// Notes say which firmware rollouts halted.
	Notes []string
	// Cancelled is true when the apply was stopped before it was done
	// (a signal): printers it did not reach are skipped.
	Cancelled bool
}

// Firmware results in PrinterResult.Firmware.
const (
	FirmwareUpgraded = "upgraded"
	FirmwareFailed   = "failed"
	FirmwareHalted   = "halted"
)

// Failed reports whether any printer failed or was refused as stale.
func (r *ApplyResult) Failed() bool {
	for _, p := range r.Printers {
		if p.Status == ResultFailed || p.Status == ResultStale {
			return true
		}
	}
	return false
}
