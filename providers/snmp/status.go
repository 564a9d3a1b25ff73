package snmp

import (
	"slices"

	"github.com/inkform/inkform/fleet"
)

// hrDeviceStatus (RFC 2790) and hrPrinterStatus values.
const (
	deviceRunning = 2
	deviceWarning = 3
	deviceDown    = 5

	printerIdle     = 3
	printerPrinting = 4
	printerWarmup   = 5
)

// status reads the printer's state in one vocabulary (fleet.Status*) from
// hrPrinterStatus, hrDeviceStatus and the detected errors, as RFC 3805
// (section 2.2.13.2) combines them; 0 means the agent lacks the object.
// What needs attention comes before what the printer is doing: an idle
// printer with a warning is a "warning", a printing one that went down
// (a jam mid-job) is "down".
func status(printerStatus, deviceStatus int64, errors []string) string {
	switch {
	case slices.Contains(errors, "offline"):
		return fleet.StatusOffline
	case deviceStatus == deviceDown && printerStatus == printerWarmup:
		return fleet.StatusWarmup // moving on-line
	case deviceStatus == deviceDown:
		return fleet.StatusDown
	case deviceStatus == deviceWarning:
		return fleet.StatusWarning
	}
	switch printerStatus {
	case printerIdle:
		return fleet.StatusIdle
	case printerPrinting:
		return fleet.StatusPrinting
	case printerWarmup:
		return fleet.StatusWarmup
	}
	// hrPrinterStatus other, unknown or absent: RFC 3805's "standby" is a
	// running device with printer status other; agents without
	// hrPrinterStatus say only that the device runs.
	if deviceStatus == deviceRunning {
		return fleet.StatusIdle
	}
	return fleet.StatusUnknown
}
