package views

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
)

// PrinterDetail is one printer in full, as show printer.NAME shows it:
// what it says of itself now, its settings as declared and as observed,
// and what state records of it.
type PrinterDetail struct {
	Name    string
	Address string
	// Observed is what the printer said of itself; nil when it could not
	// be observed, and then Error says why.
	Observed *plans.Observed
	Error    string
	// Uptime is the printer's sysUpTime; 0 when not observed.
	Uptime time.Duration
	// Settings are the declared settings, sorted by name.
	Settings []SettingDetail
	// Unsupported lists declared settings the printer does not support.
	Unsupported []string
	// Firmware is the version a firmware block declares for this printer's
	// model; nil when none applies.
	Firmware *FirmwareDetail
	// Notes explain what the observation found (a serial mismatch, a
	// transport fallback).
	Notes []string
	// Recorded is what state records of the printer; nil when it is not
	// under management yet.
	Recorded *state.Printer
}

// SettingDetail is one declared setting: its value as declared and as
// observed. Values of a sensitive setting are never shown.
type SettingDetail struct {
	Name      string
	Sensitive bool
	Desired   string
	// Observed is the value read from the printer; nil when it was not
	// read (the printer was not observed, or lacks the setting).
	Observed *string
	// InSync says the printer has the declared value.
	InSync    bool
	Transport string // the transport that reads and writes it
}

// FirmwareDetail is a firmware block that applies to the printer.
type FirmwareDetail struct {
	Name    string
	Version string // the version declared
}

// printerDetailVersion is the format_version of show printer.NAME -json.
const printerDetailVersion = "1.0"

type printerDetailJSON struct {
	FormatVersion string          `json:"format_version"`
	Printer       printerFullJSON `json:"printer"`
}

type printerFullJSON struct {
	Name        string              `json:"name"`
	Address     string              `json:"address"`
	Observed    *plans.Observed     `json:"observed"` // null when not observed
	Error       string              `json:"error,omitempty"`
	Uptime      *int64              `json:"uptime_seconds"` // null when not observed
	Settings    []settingDetailJSON `json:"settings"`
	Unsupported []string            `json:"unsupported"`
	Firmware    *firmwareJSON       `json:"firmware"`
	Notes       []string            `json:"notes"`
	Recorded    *recordJSON         `json:"recorded"` // null when not in state
}

type settingDetailJSON struct {
	Name      string  `json:"name"`
	Sensitive bool    `json:"sensitive"`
	Desired   *string `json:"desired"`  // null when sensitive
	Observed  *string `json:"observed"` // null when sensitive or not read
	InSync    bool    `json:"in_sync"`
	Transport string  `json:"transport,omitempty"`
}

type firmwareJSON struct {
	Name     string `json:"name"`
	Desired  string `json:"desired"`
	Observed string `json:"observed"`
}

// RenderPrinterDetailJSON writes one printer in full as JSON for
// machines (show printer.NAME -json).
func RenderPrinterDetailJSON(w io.Writer, d PrinterDetail) error {
	j := printerFullJSON{
		Name: d.Name, Address: d.Address, Observed: d.Observed, Error: d.Error,
		Settings: make([]settingDetailJSON, 0, len(d.Settings)), Unsupported: nonNil(d.Unsupported),
		Notes: nonNil(d.Notes),
	}
	if d.Observed != nil {
		secs := int64(d.Uptime / time.Second)
		j.Uptime = &secs
	}
	for _, s := range d.Settings {
		sj := settingDetailJSON{Name: s.Name, Sensitive: s.Sensitive, InSync: s.InSync, Transport: s.Transport}
		if !s.Sensitive {
			desired := s.Desired
			sj.Desired, sj.Observed = &desired, s.Observed
		}
		j.Settings = append(j.Settings, sj)
	}
	if d.Firmware != nil {
		j.Firmware = &firmwareJSON{Name: d.Firmware.Name, Desired: d.Firmware.Version}
		if d.Observed != nil {
			j.Firmware.Observed = d.Observed.Firmware
		}
	}
	if d.Recorded != nil {
		r := recordJSONOf(*d.Recorded)
		j.Recorded = &r
	}
	return writeJSON(w, printerDetailJSON{FormatVersion: printerDetailVersion, Printer: j})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RenderPrinterDetail writes one printer in full, for a person: identity,
// status and errors, every supply, the page count, the declared settings
// beside the observed ones, and what state records.
func RenderPrinterDetail(w io.Writer, d PrinterDetail) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "# printer.%s\n", safe(d.Name))
	fmt.Fprintf(tw, "address\t%s\n", safe(d.Address))
	o := d.Observed
	if o == nil {
		fmt.Fprintf(tw, "observed\tnot observed: %s\n", safe(d.Error))
	} else {
		for _, f := range [][2]string{
			{"vendor", o.Vendor}, {"model", o.Model}, {"serial", o.Serial}, {"firmware", o.Firmware},
			{"sys_descr", o.SysDescr},
		} {
			fmt.Fprintf(tw, "%s\t%s\n", f[0], orDash(safe(f[1])))
		}
		status := o.Status
		if len(o.Errors) > 0 {
			status += " (" + safe(strings.Join(o.Errors, ", ")) + ")"
		}
		fmt.Fprintf(tw, "status\t%s\n", status)
		pages := "-"
		if o.PageCount >= 0 {
			pages = strconv.FormatInt(o.PageCount, 10)
		}
		fmt.Fprintf(tw, "page count\t%s\n", pages)
		fmt.Fprintf(tw, "uptime\t%s\n", d.Uptime.Round(time.Second))
		fmt.Fprintf(tw, "observed\t%s\n", FormatTime(o.ObservedAt))
	}
	if d.Firmware != nil {
		fmt.Fprintf(tw, "firmware declared\t%s (firmware %q)\n", safe(d.Firmware.Version), d.Firmware.Name)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(tw, "note\t%s\n", safe(n))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if o != nil {
		fmt.Fprintf(w, "\nsupplies (%d)\n", len(o.Supplies))
		if len(o.Supplies) > 0 {
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  description\tkind\tcolor\tpart number\tserial\tlevel\tmax\tpercent\tstate")
			for _, s := range o.Supplies {
				pct := "-"
				if p := s.Percent(); p >= 0 {
					pct = strconv.Itoa(p) + " %"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safe(s.Description), orDash(s.Kind),
					orDash(safe(s.Color)), orDash(safe(s.PartNumber)), orDash(safe(s.Serial)),
					supplyLevelText(s.Level), supplyMaxText(s.Max), pct, s.State())
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}

	fmt.Fprintf(w, "\nsettings (%d declared)\n", len(d.Settings))
	if len(d.Settings) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  setting\tdeclared\tobserved\t\tvia")
		for _, s := range d.Settings {
			desired, observed, verdict := strconv.Quote(s.Desired), "-", "differs"
			if s.Observed != nil {
				observed = strconv.Quote(*s.Observed)
			}
			if s.Sensitive {
				desired = sensitiveText
				if s.Observed != nil {
					observed = sensitiveText
				}
			}
			switch {
			case s.InSync:
				verdict = "in sync"
			case s.Observed == nil:
				verdict = "not read"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", safe(s.Name), desired, observed, verdict, orDash(s.Transport))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(d.Unsupported) > 0 {
		names := make([]string, len(d.Unsupported))
		for i, u := range d.Unsupported {
			names[i] = safe(u)
		}
		fmt.Fprintf(w, "  not supported by the printer: %s\n", strings.Join(names, ", "))
	}

	fmt.Fprintln(w, "\nrecorded in state")
	if d.Recorded == nil {
		_, err := fmt.Fprintln(w, "  not under management yet (apply adopts it)")
		return err
	}
	var b strings.Builder
	if err := RenderRecord(&b, *d.Recorded); err != nil {
		return err
	}
	// The record's own heading is this view's.
	_, rest, _ := strings.Cut(b.String(), "\n")
	for line := range strings.Lines(rest) {
		if _, err := io.WriteString(w, "  "+line); err != nil {
			return err
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// supplyLevelText is a supply's level with RFC 3805's special values
// named.
func supplyLevelText(n int) string {
	switch n {
	case -1:
		return "other"
	case -2:
		return "unknown"
	case -3:
		return "some left"
	}
	return strconv.Itoa(n)
}

func supplyMaxText(n int) string {
	switch n {
	case -1:
		return "unlimited"
	case -2:
		return "unknown"
	}
	return strconv.Itoa(n)
}
