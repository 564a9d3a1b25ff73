package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/apply"
)

// registerPrinterTimeout adds apply's -printer-timeout.
func registerPrinterTimeout(cmd *cobra.Command, d *time.Duration) {
	cmd.Flags().DurationVar(d, "printer-timeout", 0, fmt.Sprintf(
		"how long apply may spend on one printer, firmware upload and reboot wait included; a printer past it fails and the rest go on (0: -reboot-timeout plus %s, %s by default)",
		apply.DefaultPrinterTimeout-apply.DefaultRebootTimeout, apply.DefaultPrinterTimeout))
}
