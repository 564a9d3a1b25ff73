package views

import (
	"fmt"
	"sort"
	"strings"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/plans"
)

// How firmware, files, per-setting transports and transport notes appear
// in the three renderings. The renderers call these so that all views say
// the same.

const ansiCyan = "\x1b[36m"

// deployLines are the firmware line then the file lines of a printer's
// block: "^ firmware CXTPC.221.010 -> CXTPC.230.037 (48.2 MiB) via ftp",
// "+ file ca.pem (1.2 KiB) via ftp".
func deployLines(pp *plans.PrinterPlan) []line {
	var out []line
	if fc := pp.Firmware; fc != nil {
		out = append(out, line{action: plans.Upgrade, setting: "firmware",
			value: safe(fc.From) + " -> " + safe(fc.To) + " (" + sizeText(fc.Size) + ")" + viaSuffix(fc.Via)})
	}
	for _, f := range pp.Files {
		out = append(out, line{action: f.Action, setting: "file " + safe(f.Dest),
			value: "(" + sizeText(f.Size) + ")" + viaSuffix(f.Via)})
	}
	return out
}

// noFileTransport is the suffix of a file planned over no transport.
var noFileTransport = " (no file transport: add " + catalog.FileTransportsText() + " to transports)"

func viaSuffix(t string) string {
	if t == "" {
		return noFileTransport
	}
	return " via " + safe(t)
}

// settingVia is the " via pjl" suffix of a setting line whose transport is
// not the printer's own.
func settingVia(pp *plans.PrinterPlan, c plans.Change) string {
	if c.Transport == "" || c.Transport == pp.Transport || !c.Write() {
		return ""
	}
	return " via " + safe(c.Transport)
}

// transportsText lists the transports a printer's writes go over: the
// printer's own first, then the others sorted ("snmp, pjl").
func transportsText(pp *plans.PrinterPlan) string {
	set := map[string]bool{}
	for _, c := range pp.Changes {
		if c.Write() {
			t := c.Transport
			if t == "" {
				t = pp.Transport
			}
			set[t] = true
		}
	}
	if pp.Firmware != nil && pp.Firmware.Via != "" {
		set[pp.Firmware.Via] = true
	}
	for _, f := range pp.Files {
		if f.Via != "" {
			set[f.Via] = true
		}
	}
	delete(set, "")
	var out []string
	if set[pp.Transport] {
		out = append(out, pp.Transport)
		delete(set, pp.Transport)
	}
	rest := make([]string, 0, len(set))
	for t := range set {
		rest = append(rest, t)
	}
	sort.Strings(rest)
	out = append(out, rest...)
	for i := range out {
		out[i] = safe(out[i])
	}
	return strings.Join(out, ", ")
}

// noteLines are a printer's notes as shown under its block.
func noteLines(pp *plans.PrinterPlan) []string {
	out := make([]string, len(pp.Notes))
	for i, n := range pp.Notes {
		out[i] = "# " + safe(n)
	}
	return out
}

// deployNames are the Markdown table's entries for firmware and files.
func deployNames(pp *plans.PrinterPlan) []string {
	var out []string
	if pp.Firmware != nil {
		out = append(out, plans.Upgrade.Symbol()+"firmware "+mdText(pp.Firmware.To))
	}
	for _, f := range pp.Files {
		out = append(out, f.Action.Symbol()+"file "+mdText(f.Dest))
	}
	return out
}

// JSON views.

type jsonFile struct {
	Dest      string   `json:"dest"`
	Actions   []string `json:"actions"`
	Size      int64    `json:"size"`
	SHA256    string   `json:"sha256"`
	Transport string   `json:"transport,omitempty"`
}

type jsonFirmware struct {
	Name      string   `json:"name"`
	Actions   []string `json:"actions"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	Size      int64    `json:"size"`
	SHA256    string   `json:"sha256"`
	Transport string   `json:"transport,omitempty"`
}

func jsonDeploys(pp *plans.PrinterPlan) ([]jsonFile, *jsonFirmware) {
	var files []jsonFile
	for _, f := range pp.Files {
		files = append(files, jsonFile{Dest: f.Dest, Actions: []string{f.Action.String()}, Size: f.Size, SHA256: f.SHA256, Transport: f.Via})
	}
	var fw *jsonFirmware
	if fc := pp.Firmware; fc != nil {
		fw = &jsonFirmware{Name: fc.Name, Actions: []string{plans.Upgrade.String()}, From: fc.From, To: fc.To, Size: fc.Size, SHA256: fc.SHA256, Transport: fc.Via}
	}
	return files, fw
}

// deploySummary is ", 2 files, 3 firmware upgrades" ("" when none).
func deploySummary(s plans.Summary) string {
	out := ""
	if s.Files > 0 {
		out += ", " + plural(s.Files, "file", "files")
	}
	if s.Upgrades > 0 {
		out += ", " + plural(s.Upgrades, "firmware upgrade", "firmware upgrades")
	}
	return out
}

// sizeText is a byte count for people: "1.2 KiB", "48.2 MiB".
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
