package views

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/inkform/inkform/state"
)

// The recorded state, as show shows it without a plan file.

// RenderState writes what state records of each printer, for a person.
func RenderState(w io.Writer, printers []state.Printer) error {
	for i, p := range printers {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if err := RenderRecord(w, p); err != nil {
			return err
		}
	}
	return nil
}

// RenderRecord writes what state records of one printer, for a person:
// the value applied of each setting, but for sensitive ones. No hash of a
// setting is shown.
func RenderRecord(w io.Writer, p state.Printer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "# printer.%s\n", p.Name)
	fmt.Fprintf(tw, "address\t%s\n", p.Address)
	fmt.Fprintf(tw, "serial\t%s\n", p.Serial)
	fmt.Fprintf(tw, "model\t%s\n", p.Model)
	fmt.Fprintf(tw, "firmware\t%s\n", p.Firmware)
	fmt.Fprintf(tw, "observed\t%s\n", FormatTime(p.ObservedAt))
	fmt.Fprintf(tw, "applied\t%s\n", FormatTime(p.AppliedAt))
	names := make([]string, 0, len(p.Settings))
	for n := range p.Settings {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(tw, "managed settings\t%d\n", len(names))
	for _, n := range names {
		shown := notRecordedText
		switch v, known, sensitive := recorded(p, n); {
		case sensitive:
			shown = sensitiveText
		case known:
			shown = strconv.Quote(v)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", safe(n), shown)
	}
	if len(p.Files) > 0 {
		fmt.Fprintf(tw, "deployed files\t%d\n", len(p.Files))
		for _, dest := range slices.Sorted(maps.Keys(p.Files)) {
			fmt.Fprintf(tw, "  %s\t%s\n", dest, p.Files[dest])
		}
	}
	return tw.Flush()
}

// notRecordedText stands for a value the state does not know: recorded
// by an inkform that kept hashes only.
const notRecordedText = "(not recorded)"

// recorded returns what p records of setting: its value in clear when
// known; sensitive when it is recorded keyed, and then never its value.
func recorded(p state.Printer, setting string) (value string, known, sensitive bool) {
	if state.IsKeyedHash(p.Settings[setting]) {
		return "", false, true
	}
	value, known = p.Values[setting]
	return value, known, false
}

// stateJSONVersion is the format_version of the JSON renderings of the
// recorded printers: show -json without a plan, state list -json and
// state show -json.
// 1.1: deployed files are under file_hashes, no longer among the
// setting_hashes as "file:<dest>".
// 1.2: settings replace setting_hashes: the value applied of each (null
// when sensitive or not recorded) and whether it is sensitive.
const stateJSONVersion = "1.2"

// recordJSON is a recorded printer as JSON: the value applied of each
// setting that is not sensitive, and no hash of any.
type recordJSON struct {
	Name       string                 `json:"name"`
	Address    string                 `json:"address"`
	Serial     string                 `json:"serial"`
	Model      string                 `json:"model"`
	Firmware   string                 `json:"firmware"`
	ObservedAt string                 `json:"observed_at"`
	AppliedAt  string                 `json:"applied_at"`
	Settings   map[string]settingJSON `json:"settings"`
	Files      map[string]string      `json:"file_hashes,omitempty"`
}

type settingJSON struct {
	Value     *string `json:"value"`
	Sensitive bool    `json:"sensitive"`
}

func recordJSONOf(p state.Printer) recordJSON {
	settings := make(map[string]settingJSON, len(p.Settings))
	for n := range p.Settings {
		var s settingJSON
		v, known, sensitive := recorded(p, n)
		s.Sensitive = sensitive
		if known {
			s.Value = &v
		}
		settings[n] = s
	}
	return recordJSON{
		Name: p.Name, Address: p.Address, Serial: p.Serial, Model: p.Model, Firmware: p.Firmware,
		ObservedAt: FormatTime(p.ObservedAt), AppliedAt: FormatTime(p.AppliedAt), Settings: settings, Files: p.Files,
	}
}

// RenderStateJSON writes the recorded printers as JSON for machines
// (show -json without a plan file).
func RenderStateJSON(w io.Writer, printers []state.Printer) error {
	out := struct {
		FormatVersion string       `json:"format_version"`
		Printers      []recordJSON `json:"printers"`
	}{FormatVersion: stateJSONVersion, Printers: []recordJSON{}}
	for _, p := range printers {
		out.Printers = append(out.Printers, recordJSONOf(p))
	}
	return writeJSON(w, out)
}

// RenderRecordJSON writes what state records of one printer as JSON for
// machines (state show -json).
func RenderRecordJSON(w io.Writer, p state.Printer) error {
	return writeJSON(w, struct {
		FormatVersion string     `json:"format_version"`
		Printer       recordJSON `json:"printer"`
	}{stateJSONVersion, recordJSONOf(p)})
}

// RenderPrinterList writes the names of the printers under management,
// one printer.NAME a line (state list).
func RenderPrinterList(w io.Writer, printers []state.Printer) error {
	bw := bufio.NewWriter(w)
	for _, p := range printers {
		fmt.Fprintf(bw, "printer.%s\n", p.Name)
	}
	return bw.Flush()
}

// RenderPrinterListJSON writes the printers under management as JSON for
// machines (state list -json): objects, so that fields can be added.
func RenderPrinterListJSON(w io.Writer, printers []state.Printer) error {
	type entry struct {
		Name string `json:"name"`
	}
	out := struct {
		FormatVersion string  `json:"format_version"`
		Printers      []entry `json:"printers"`
	}{FormatVersion: stateJSONVersion, Printers: make([]entry, 0, len(printers))}
	for _, p := range printers {
		out.Printers = append(out.Printers, entry{p.Name})
	}
	return writeJSON(w, out)
}

// FormatTime is a time as the views show it: RFC 3339 in UTC, or "never"
// for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
