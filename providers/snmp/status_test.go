package snmp

import (
	"testing"

	"github.com/inkform/inkform/fleet"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		printer, device int64
		errors          []string
		want            string
	}{
		{printerIdle, deviceRunning, nil, fleet.StatusIdle},
		{printerPrinting, deviceRunning, nil, fleet.StatusPrinting},
		{printerWarmup, deviceRunning, nil, fleet.StatusWarmup},
		{printerIdle, deviceWarning, []string{"lowToner"}, fleet.StatusWarning},     // non-critical alert
		{printerPrinting, deviceWarning, []string{"lowPaper"}, fleet.StatusWarning}, // printing, but needs attention
		{printerPrinting, deviceDown, []string{"jammed"}, fleet.StatusDown},         // critical alert mid-job
		{1, deviceDown, []string{"doorOpen"}, fleet.StatusDown},                     // unavailable
		{1, deviceDown, []string{"offline"}, fleet.StatusOffline},                   // off-line
		{printerIdle, deviceWarning, []string{"offline"}, fleet.StatusOffline},      // moving off-line
		{printerWarmup, deviceDown, nil, fleet.StatusWarmup},                        // moving on-line
		{1, deviceRunning, nil, fleet.StatusIdle},                                   // standby
		{0, deviceRunning, nil, fleet.StatusIdle},                                   // no hrPrinterStatus
		{0, deviceWarning, nil, fleet.StatusWarning},
		{0, deviceDown, nil, fleet.StatusDown},
		{printerIdle, 0, nil, fleet.StatusIdle}, // no hrDeviceStatus
		{2, 1, nil, fleet.StatusUnknown},        // both unknown
		{0, 4, nil, fleet.StatusUnknown},        // testing
		{0, 0, nil, fleet.StatusUnknown},        // neither answered
	} {
		if got := status(tc.printer, tc.device, tc.errors); got != tc.want {
			t.Errorf("status(%d, %d, %v) = %q, want %q", tc.printer, tc.device, tc.errors, got, tc.want)
		}
	}
}
