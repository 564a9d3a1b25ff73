// Package views renders for people and machines: plans (human, JSON and
// Markdown), the results of applying them, and the recorded state (show).
// A PlanView renders each printer's part of a plan as soon as the printer
// is planned, while the rest of the fleet is still observed.
package views

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/inkform/inkform/plans"
)

// RenderOptions shape the human rendering.
type RenderOptions struct {
	// Color adds ANSI colours; set it only for a terminal.
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// painter applies colours only when enabled.
type painter bool

func (p painter) paint(color, s string) string {
	if !p || s == "" {
		return s
	}
	return color + s + ansiReset
}

// appendPaint is paint for a byte slice.
func (p painter) appendPaint(b []byte, color, s string) []byte {
	if !p || s == "" {
		return append(b, s...)
	}
	return append(append(append(b, color...), s...), ansiReset...)
}

// appendAction appends s in the colour of action a.
func (p painter) appendAction(b []byte, a plans.Action, s string) []byte {
	switch a {
	case plans.Adopt:
		return p.appendPaint(b, ansiGreen, s)
	case plans.Update:
		return p.appendPaint(b, ansiYellow, s)
	case plans.Forget:
		return p.appendPaint(b, ansiRed, s)
	case plans.Upgrade:
		return p.appendPaint(b, ansiCyan, s)
	}
	return append(b, s...)
}

const sensitiveText = "(sensitive)"

// Safe is what views do to text from printers, state or the network
// before a terminal shows it: control characters escaped.
func Safe(s string) string { return safe(s) }

// safe makes text from configuration or from the network harmless on a
// terminal: non-printable characters are shown escaped.
func safe(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}

// line is one setting line of a printer's block: its symbol, the setting
// name, and what follows the name.
type line struct {
	action  plans.Action
	setting string
	value   string // "" for a bare name
}

// changeLines turns a printer's changes into display lines, shared by the
// human and Markdown renderings.
func changeLines(pp *plans.PrinterPlan) []line {
	out := deployLines(pp)
	if out == nil {
		out = make([]line, 0, len(pp.Changes))
	}
	var buf []byte // one value at a time; each line keeps its own copy
	for _, c := range pp.Changes {
		l := line{action: c.Action, setting: safe(c.Setting)}
		switch {
		case c.Action == plans.Forget && pp.Status == plans.StatusForgotten:
		case c.Action == plans.Forget:
			l.value = "(no longer managed; the device keeps its value)"
		case c.Write() && c.Action == plans.Adopt:
			// Adopting records the declared value; the device's shows
			// only when there is one to lose.
			buf = appendShown(append(buf[:0], "= "...), c, c.After)
			if c.Sensitive || c.Before != "" {
				buf = appendShown(append(buf, " (the device has "...), c, c.Before)
				buf = append(buf, ')')
			}
			l.value = string(append(buf, settingVia(pp, c)...))
		case c.Write():
			buf = append(appendShown(append(buf[:0], "= "...), c, c.Before), " -> "...)
			buf = append(appendShown(buf, c, c.After), settingVia(pp, c)...)
			if c.Drift {
				buf = append(buf, " (changed on the device)"...)
			}
			l.value = string(buf)
		default:
			buf = append(appendShown(append(buf[:0], "= "...), c, c.After), " (already set on the device)"...)
			l.value = string(buf)
		}
		out = append(out, l)
	}
	return out
}

// appendBlockName appends how a printer's block is named: printer "lobby",
// or for an instance of a for_each block the address HCL would write,
// printer.branch["branch-a"] (quoting that whole name would escape its
// quotes).
func appendBlockName(b []byte, name string) []byte {
	if strings.IndexByte(name, '[') >= 0 {
		return append(append(b, "printer."...), safe(name)...)
	}
	return strconv.AppendQuote(append(b, "printer "...), name)
}

// appendShown appends a setting's value as a plan shows it: quoted, or
// "(sensitive)".
func appendShown(b []byte, c plans.Change, v string) []byte {
	if c.Sensitive {
		return append(b, sensitiveText...)
	}
	return strconv.AppendQuote(b, v)
}

// header says what will happen to a printer, without the leading "# ".
func header(pp *plans.PrinterPlan) string {
	where := "printer." + safe(pp.Name)
	if pp.Address != "" {
		where += " (" + safe(pp.Address) + ")"
	}
	via := ""
	if t := transportsText(pp); t != "" {
		via = " via " + t
	}
	writes := pp.Writes()
	switch {
	case pp.Action == plans.Forget:
		return "printer." + safe(pp.Name) + " will be forgotten (removed from configuration; the device is left as it is)"
	case pp.Action == plans.Adopt && writes > 0:
		return where + " will be adopted" + via
	case pp.Action == plans.Adopt:
		return where + " will be adopted (recorded in state; nothing is written)"
	case writes > 0:
		return where + " will be updated in place" + via
	default:
		return where + " will be updated in state only (nothing is written)"
	}
}

// problem returns the "!" line for a printer that cannot be planned or has
// unsupported settings, or "" when it has none.
func problems(pp *plans.PrinterPlan) []string {
	name := "printer." + safe(pp.Name)
	addr := ""
	if pp.Address != "" {
		addr = " (" + safe(pp.Address) + ")"
	}
	var out []string
	switch pp.Status {
	case plans.StatusUnreachable:
		out = append(out, name+addr+" is unreachable: "+safe(reasonText(pp))+" (skipped)")
	case plans.StatusMismatch:
		out = append(out, name+" "+safe(pp.Reason)+" (not written)")
	case plans.StatusError:
		out = append(out, name+addr+" could not be observed: "+safe(reasonText(pp))+" (skipped)")
	}
	if len(pp.Unsupported) > 0 {
		out = append(out, name+" does not support: "+unsupportedText(pp))
	}
	return out
}

// reasonText is why a printer was not observed, without the "printer
// NAME (ADDRESS): " the provider's error starts with, which the line or
// table row shows already.
func reasonText(pp *plans.PrinterPlan) string {
	r := strings.TrimPrefix(pp.Reason, "printer "+pp.Name+": ")
	if pp.Address != "" {
		r = strings.TrimPrefix(r, "printer "+pp.Name+" ("+pp.Address+"): ")
	}
	return r
}

// unsupportedText lists a printer's unsupported settings, each with why
// when known: "paper.default_size (pjl: port 9100 closed)".
func unsupportedText(pp *plans.PrinterPlan) string {
	names := make([]string, len(pp.Unsupported))
	for i, u := range pp.Unsupported {
		names[i] = safe(u)
		if why := pp.UnsupportedWhy[u]; why != "" {
			names[i] += " (" + safe(why) + ")"
		}
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// summaryText is "2 printers to adopt, 5 to update, 1 to forget; 9 setting
// changes": printers first, as a reader counts devices.
func summaryText(s plans.Summary) string {
	return fmt.Sprintf("%s to adopt, %d to update, %d to forget; %s",
		plural(s.AdoptPrinters, "printer", "printers"), s.UpdatePrinters, s.ForgetPrinters,
		plural(s.Adopt+s.Update+s.Forget, "setting change", "setting changes")) + deploySummary(s)
}

// NotCheckedText is "2 printers not checked (1 unreachable, 1 could not
// be observed)": how many printers were not compared with the
// configuration, and why; "" when every printer was checked.
func NotCheckedText(s plans.Summary) string {
	if s.NotChecked == 0 {
		return ""
	}
	var why []string
	if s.Unreachable > 0 {
		why = append(why, fmt.Sprintf("%d unreachable", s.Unreachable))
	}
	if s.Mismatch > 0 {
		why = append(why, fmt.Sprintf("%d mismatched", s.Mismatch))
	}
	if s.Errors > 0 {
		why = append(why, fmt.Sprintf("%d could not be observed", s.Errors))
	}
	return plural(s.NotChecked, "printer", "printers") + " not checked (" + strings.Join(why, ", ") + ")"
}

// problemText is NotCheckedText and the unsupported settings, or "" when
// every printer was checked in full.
func problemText(s plans.Summary) string {
	var parts []string
	if t := NotCheckedText(s); t != "" {
		parts = append(parts, t)
	}
	if s.Unsupported > 0 {
		parts = append(parts, plural(s.Unsupported, "unsupported setting", "unsupported settings"))
	}
	return strings.Join(parts, ", ")
}

// uncheckedNoChangesText says that a plan with printers not checked has
// no changes: of the printers checked only, never that the printers match
// the configuration.
func uncheckedNoChangesText(s plans.Summary) string {
	if s.Checked == 0 {
		return "No printer could be checked: whether any differs from the configuration is unknown."
	}
	return "No changes to the " + plural(s.Checked, "printer", "printers") + " checked; the others may differ from the configuration."
}

// RenderHuman writes the plan for a person, Terraform style.
func RenderHuman(w io.Writer, p *plans.Plan, o RenderOptions) error {
	return renderHuman(w, p, o, nil)
}

// renderHuman is RenderHuman copying the printer blocks in parts, by
// printer name, rather than rendering them.
func renderHuman(w io.Writer, p *plans.Plan, o RenderOptions, parts map[string][]byte) error {
	bw := bufio.NewWriter(w)
	c := painter(o.Color)
	s := p.Summary()

	var bad []string
	for i := range p.Printers {
		bad = append(bad, problems(&p.Printers[i])...)
	}
	writeProblems := func() {
		for _, b := range bad {
			fmt.Fprintf(bw, "  %s %s\n", c.paint(ansiRed, "!"), b)
		}
		if len(bad) > 0 {
			fmt.Fprintln(bw)
		}
	}

	switch {
	case p.RefreshOnly:
		observed := 0
		for i := range p.Printers {
			if p.Printers[i].Status == plans.StatusReady {
				observed++
			}
		}
		writeProblems()
		fmt.Fprintf(bw, "%s %s observed; applying records the observations of managed printers and writes nothing.\n",
			c.paint(ansiBold, "Refresh only:"), plural(observed, "printer", "printers"))
	case !p.HasChanges() && s.NotChecked == 0:
		writeProblems()
		fmt.Fprintf(bw, "%s Your printers match the configuration.\n", c.paint(ansiGreen+ansiBold, "No changes."))
	case !p.HasChanges():
		writeProblems()
		fmt.Fprintln(bw, c.paint(ansiYellow+ansiBold, uncheckedNoChangesText(s)))
	default:
		fmt.Fprint(bw, "inkform will perform the following actions:\n\n")
		for i := range p.Printers {
			pp := &p.Printers[i]
			if pp.Action == plans.NoOp {
				continue
			}
			if b, ok := parts[pp.Name]; ok {
				bw.Write(b)
				continue
			}
			bw.Write(appendHumanBlock(nil, c, pp))
		}
		writeProblems()
		fmt.Fprintf(bw, "%s %s.", c.paint(ansiBold, "Plan:"), summaryText(s))
		if t := problemText(s); t != "" {
			fmt.Fprintf(bw, " %s.", t)
		}
		fmt.Fprintln(bw)
		return bw.Flush()
	}
	if t := problemText(s); t != "" {
		fmt.Fprintf(bw, "%s %s.\n", c.paint(ansiBold, "Attention:"), t)
	}
	return bw.Flush()
}

// appendHumanBlock appends the block of one printer that has something to
// do, as RenderHuman shows it. It appends rather than prints: at fleet
// scale a plan renders hundreds of thousands of lines.
func appendHumanBlock(b []byte, c painter, pp *plans.PrinterPlan) []byte {
	lines := changeLines(pp)
	width := 0
	for _, l := range lines {
		if l.value != "" && len(l.setting) > width {
			width = len(l.setting)
		}
	}
	b = slices.Grow(b, 128+len(lines)*(width+64))
	b = append(c.appendPaint(append(b, "  "...), ansiBold, "# "+header(pp)), '\n')
	if pp.Observed != nil {
		n := len(b)
		b = appendFacts(append(b, "  # "...), pp.Observed)
		if len(b) == n+len("  # ") {
			b = b[:n]
		} else {
			b = append(b, '\n')
		}
	}
	b = c.appendAction(append(b, "  "...), pp.Action, pp.Action.Symbol())
	b = append(appendBlockName(append(b, ' '), pp.Name), " {\n"...)
	for _, l := range lines {
		b = c.appendAction(append(b, "      "...), l.action, l.action.Symbol())
		b = append(append(b, ' '), l.setting...)
		if l.value != "" {
			for range width - utf8.RuneCountInString(l.setting) { // as fmt pads
				b = append(b, ' ')
			}
			b = append(append(b, ' '), l.value...)
		}
		b = append(b, '\n')
	}
	for _, n := range noteLines(pp) {
		b = append(append(append(b, "        "...), n...), '\n')
	}
	return append(b, "    }\n\n"...)
}

// The JSON rendering's types: a view of the plan, separate from both the
// live model and the plan file.
type jsonPlan struct {
	FormatVersion string        `json:"format_version"`
	CreatedAt     time.Time     `json:"created_at"`
	ConfigHash    string        `json:"config_hash"`
	RefreshOnly   bool          `json:"refresh_only"`
	Targets       []string      `json:"targets,omitempty"`
	Printers      []jsonPrinter `json:"printers"`
	Summary       plans.Summary `json:"summary"`
	HasChanges    bool          `json:"has_changes"`
}

type jsonPrinter struct {
	Name        string              `json:"name"`
	Address     string              `json:"address"`
	Action      []string            `json:"action"`
	Status      plans.PrinterStatus `json:"status"`
	Reason      string              `json:"reason,omitempty"`
	Transport   string              `json:"transport,omitempty"`
	Observed    *plans.Observed     `json:"observed,omitempty"`
	Changes     []jsonChange        `json:"changes"`
	Unchanged   int                 `json:"unchanged"`
	Unsupported []string            `json:"unsupported,omitempty"`
	// UnsupportedWhy says why each unsupported setting is, when known.
	UnsupportedWhy map[string]string `json:"unsupported_reasons,omitempty"`
	Firmware       *jsonFirmware     `json:"firmware,omitempty"`
	Files          []jsonFile        `json:"files,omitempty"`
	Notes          []string          `json:"notes,omitempty"`
}

type jsonChange struct {
	Setting   string   `json:"setting"`
	Actions   []string `json:"actions"`
	Before    *string  `json:"before"` // null when sensitive or not known
	After     *string  `json:"after"`
	Sensitive bool     `json:"sensitive"`
	Write     bool     `json:"write"`
	// Drift: changed on the device since inkform applied it.
	Drift     bool   `json:"drift,omitempty"`
	Transport string `json:"transport,omitempty"`
}

// RenderJSON writes the plan as JSON for machines: a jsonPlan.
func RenderJSON(w io.Writer, p *plans.Plan) error {
	return renderJSON(w, p, nil)
}

// renderJSON is RenderJSON written piece by piece, so that the printers
// in parts, by name, are copied rather than encoded again.
func renderJSON(w io.Writer, p *plans.Plan, parts map[string][]byte) error {
	head, err := json.MarshalIndent(jsonHead{
		FormatVersion: plans.FormatVersion,
		CreatedAt:     p.CreatedAt,
		ConfigHash:    p.ConfigHash,
		RefreshOnly:   p.RefreshOnly,
		Targets:       p.Targets,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("render plan as JSON: %w", err)
	}
	tail, err := json.MarshalIndent(jsonTail{Summary: p.Summary(), HasChanges: p.HasChanges()}, "", "  ")
	if err != nil {
		return fmt.Errorf("render plan as JSON: %w", err)
	}
	bw := bufio.NewWriter(w)
	bw.Write(bytes.TrimSuffix(head, []byte("\n}")))
	bw.WriteString(",\n  \"printers\": [")
	var b bytes.Buffer
	for i := range p.Printers {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		if part, ok := parts[p.Printers[i].Name]; ok {
			bw.Write(part)
			continue
		}
		b.Reset()
		if err := writeJSONPrinter(&b, &p.Printers[i]); err != nil {
			return fmt.Errorf("render printer %s as JSON: %w", p.Printers[i].Name, err)
		}
		bw.Write(b.Bytes())
	}
	if len(p.Printers) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("],")
	bw.Write(bytes.TrimPrefix(tail, []byte("{")))
	bw.WriteByte('\n')
	return bw.Flush()
}

// jsonHead and jsonTail are the fields of a jsonPlan before and after its
// printers.
type jsonHead struct {
	FormatVersion string    `json:"format_version"`
	CreatedAt     time.Time `json:"created_at"`
	ConfigHash    string    `json:"config_hash"`
	RefreshOnly   bool      `json:"refresh_only"`
	Targets       []string  `json:"targets,omitempty"`
}

type jsonTail struct {
	Summary    plans.Summary `json:"summary"`
	HasChanges bool          `json:"has_changes"`
}

// jsonPrinterOf is one printer of the JSON rendering.
func jsonPrinterOf(pp *plans.PrinterPlan) jsonPrinter {
	jp := jsonPrinter{
		Name:           pp.Name,
		Address:        pp.Address,
		Action:         []string{pp.Action.String()},
		Status:         pp.Status,
		Reason:         pp.Reason,
		Transport:      pp.Transport,
		Changes:        make([]jsonChange, 0, len(pp.Changes)),
		Unchanged:      pp.Unchanged,
		Unsupported:    pp.Unsupported,
		UnsupportedWhy: pp.UnsupportedWhy,
		Observed:       pp.Observed,
		Notes:          pp.Notes,
	}
	jp.Files, jp.Firmware = jsonDeploys(pp)
	for _, c := range pp.Changes {
		jc := jsonChange{
			Setting: c.Setting, Actions: []string{c.Action.String()},
			Sensitive: c.Sensitive, Write: c.Write(), Drift: c.Drift, Transport: c.Transport,
		}
		if !c.Sensitive && c.Action != plans.Forget {
			before, after := c.Before, c.After
			jc.Before, jc.After = &before, &after
		}
		jp.Changes = append(jp.Changes, jc)
	}
	return jp
}

// mdText escapes text for a Markdown table cell or paragraph.
func mdText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "#", `\#`,
		"&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(safe(s))
}

// markdownMaxBytes bounds RenderMarkdown's output. The Markdown is meant
// for a pull-request comment, and GitHub refuses comments over 65,536
// characters while a fleet's full tables and diff run to megabytes: rows
// and printer blocks that do not fit are counted instead of shown.
const markdownMaxBytes = 60000

// mdSettingTableAt is how many changed printers make RenderMarkdown add a
// per-setting count table: beyond a screenful of rows, what changes across
// the fleet reads better than printer by printer.
const mdSettingTableAt = 20

// RenderMarkdown writes the plan as a pull-request comment: a heading with
// the summary, a table of changed printers (after a per-setting count when
// there are many), the printers that could not be planned, and the full
// per-setting diff folded away; at most markdownMaxBytes in all.
func RenderMarkdown(w io.Writer, p *plans.Plan) error {
	var out bytes.Buffer
	s := p.Summary()
	switch {
	case p.RefreshOnly:
		out.WriteString("### inkform plan (refresh only): nothing is written\n\n")
	case !p.HasChanges() && s.NotChecked == 0:
		out.WriteString("### inkform plan: no changes\n\n")
	case !p.HasChanges() && s.Checked == 0:
		out.WriteString("### inkform plan: no printer could be checked\n\n")
	case !p.HasChanges():
		fmt.Fprintf(&out, "### inkform plan: no changes to the %s checked, %d not checked\n\n", plural(s.Checked, "printer", "printers"), s.NotChecked)
	default:
		fmt.Fprintf(&out, "### inkform plan: %s\n\n", summaryText(s))
	}
	if t := problemText(s); t != "" {
		fmt.Fprintf(&out, "**Attention:** %s.\n\n", t)
	}
	// What every section after this one closes with, kept free.
	const reserve = 512
	budget := func() int { return markdownMaxBytes - reserve - out.Len() }

	var changed []*plans.PrinterPlan
	for i := range p.Printers {
		if p.Printers[i].Action != plans.NoOp {
			changed = append(changed, &p.Printers[i])
		}
	}
	if p.HasChanges() && len(changed) > mdSettingTableAt {
		out.WriteString(mdSettingTable(changed))
	}
	if p.HasChanges() {
		rows := make([]string, len(changed))
		for i, pp := range changed {
			names := deployNames(pp)
			for _, c := range pp.Changes {
				if c.Counts() {
					names = append(names, c.Action.Symbol()+mdText(c.Setting))
				}
			}
			rows[i] = fmt.Sprintf("| %s | %s | %s |\n", mdText(pp.Name), pp.Action, strings.Join(names, ", "))
		}
		writeMDTable(&out, "| Printer | Action | Settings changed |\n|---|---|---|\n", rows, budget()/2, "printers")
	}

	var rows []string
	for i := range p.Printers {
		pp := &p.Printers[i]
		switch pp.Status {
		case plans.StatusUnreachable, plans.StatusMismatch, plans.StatusError:
			rows = append(rows, fmt.Sprintf("| %s | %s | %s |\n", mdText(pp.Name), pp.Status, mdText(reasonText(pp))))
		}
		if len(pp.Unsupported) > 0 {
			rows = append(rows, fmt.Sprintf("| %s | unsupported | %s |\n", mdText(pp.Name), mdText(unsupportedText(pp))))
		}
	}
	if len(rows) > 0 {
		out.WriteString("#### Not planned or incomplete\n\n")
		writeMDTable(&out, "| Printer | Status | Reason |\n|---|---|---|\n", rows, budget()/2, "rows")
	}

	if p.HasChanges() {
		// Symbols in the first column so that the diff is highlighted,
		// and "!" for "~", which GitHub's diff highlighting does not
		// colour (as tfcmt does); "=" aligned as in the terminal.
		out.WriteString("<details><summary>Full diff</summary>\n\n```diff\n")
		var block bytes.Buffer
		for i, pp := range changed {
			block.Reset()
			if i > 0 {
				block.WriteByte('\n')
			}
			fmt.Fprintf(&block, "# %s\n", header(pp))
			fmt.Fprintf(&block, "%s %s {\n", diffSymbol(pp.Action), appendBlockName(nil, pp.Name))
			lines := changeLines(pp)
			width := 0
			for _, l := range lines {
				if l.value != "" && utf8.RuneCountInString(l.setting) > width {
					width = utf8.RuneCountInString(l.setting)
				}
			}
			for _, l := range lines {
				text := l.setting
				if l.value != "" {
					text += strings.Repeat(" ", width-utf8.RuneCountInString(l.setting)) + " " + l.value
				}
				fmt.Fprintf(&block, "%s     %s\n", diffSymbol(l.action), text)
			}
			for _, n := range noteLines(pp) {
				fmt.Fprintf(&block, "      %s\n", n)
			}
			block.WriteString("  }\n")
			if block.Len() > budget() {
				more := "printers"
				if len(changed)-i == 1 {
					more = "printer"
				}
				fmt.Fprintf(&out, "# … and %d more %s, left out to keep this comment within %d bytes; inkform plan shows them all\n",
					len(changed)-i, more, markdownMaxBytes)
				break
			}
			out.Write(block.Bytes())
		}
		out.WriteString("```\n\n</details>\n")
	}
	_, err := w.Write(out.Bytes())
	return err
}

// diffSymbol is an action's symbol for a Markdown diff block: "!" for
// an update, which GitHub colours, where the terminal shows "~".
func diffSymbol(a plans.Action) string {
	if s := a.Symbol(); s != "~" {
		return s
	}
	return "!"
}

// writeMDTable writes a table's head and as many rows as fit in max bytes,
// then one row counting the rest.
func writeMDTable(out *bytes.Buffer, head string, rows []string, max int, what string) {
	out.WriteString(head)
	used := len(head)
	for i, r := range rows {
		if used+len(r) > max {
			fmt.Fprintf(out, "| … | | %d more %s, left out to keep this comment short |\n", len(rows)-i, what)
			break
		}
		out.WriteString(r)
		used += len(r)
	}
	out.WriteString("\n")
}

// mdSettingTable counts, per setting (and firmware and files), how many
// printers each action touches.
func mdSettingTable(changed []*plans.PrinterPlan) string {
	counts := map[string]map[plans.Action]int{}
	count := func(name string, a plans.Action) {
		if counts[name] == nil {
			counts[name] = map[plans.Action]int{}
		}
		counts[name][a]++
	}
	for _, pp := range changed {
		if pp.Firmware != nil {
			count("firmware", plans.Upgrade)
		}
		for _, f := range pp.Files {
			count("file "+f.Dest, f.Action)
		}
		for _, c := range pp.Changes {
			if c.Counts() {
				count(c.Setting, c.Action)
			}
		}
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("| Setting | Printers |\n|---|---|\n")
	for _, n := range names {
		var parts []string
		for _, a := range []plans.Action{plans.Adopt, plans.Update, plans.Forget, plans.Upgrade} {
			if k := counts[n][a]; k > 0 {
				parts = append(parts, fmt.Sprintf("%s%d", a.Symbol(), k))
			}
		}
		fmt.Fprintf(&b, "| %s | %s |\n", mdText(n), strings.Join(parts, " "))
	}
	b.WriteString("\n")
	return b.String()
}

// applyJSONVersion is the format_version of apply -json.
// 2.0: snake_case keys under a format_version; before, the result was
// encoded as it is held in Go, with CamelCase keys and no version.
// 2.1: cancelled.
const applyJSONVersion = "2.1"

type jsonApplyResult struct {
	FormatVersion string              `json:"format_version"`
	RunID         int64               `json:"run_id"`
	Printers      []jsonPrinterResult `json:"printers"`
	Notes         []string            `json:"notes,omitempty"`
	Cancelled     bool                `json:"cancelled,omitempty"`
}

type jsonPrinterResult struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Detail   string `json:"detail"`
	Changes  int    `json:"changes"`
	Firmware string `json:"firmware,omitempty"`
}

// RenderApplyJSON writes the result of an apply as JSON for machines.
func RenderApplyJSON(w io.Writer, r *plans.ApplyResult) error {
	out := jsonApplyResult{FormatVersion: applyJSONVersion, RunID: r.RunID,
		Printers: make([]jsonPrinterResult, 0, len(r.Printers)), Notes: r.Notes, Cancelled: r.Cancelled}
	for _, pr := range r.Printers {
		out.Printers = append(out.Printers, jsonPrinterResult{
			Name: pr.Name, Status: pr.Status, Detail: pr.Detail, Changes: pr.Changes, Firmware: pr.Firmware,
		})
	}
	return writeJSON(w, out)
}

// writeJSON writes v indented, as every JSON rendering is.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// RenderApplyResult writes one line per printer that was not simply
// unchanged, then the totals.
func RenderApplyResult(w io.Writer, r *plans.ApplyResult, o RenderOptions) error {
	bw := bufio.NewWriter(w)
	c := painter(o.Color)
	counts := map[string]int{}
	for _, pr := range r.Printers {
		counts[pr.Status]++
		if pr.Status == plans.ResultUnchanged && pr.Detail == "" {
			continue
		}
		status := pr.Status
		switch pr.Status {
		case plans.ResultApplied:
			status = c.paint(ansiGreen, status)
		case plans.ResultFailed, plans.ResultStale:
			status = c.paint(ansiRed, status)
		case plans.ResultSkipped:
			status = c.paint(ansiYellow, status)
		}
		text := "printer." + safe(pr.Name) + ": " + status
		if pr.Status == plans.ResultApplied {
			text += " (" + plural(pr.Changes, "change", "changes") + ")"
		}
		if pr.Detail != "" {
			text += ": " + safe(pr.Detail)
		}
		fmt.Fprintln(bw, text)
	}
	if len(r.Printers) > 0 {
		fmt.Fprintln(bw)
	}
	var parts []string
	for _, st := range []string{plans.ResultApplied, plans.ResultUnchanged, plans.ResultFailed, plans.ResultStale, plans.ResultSkipped} {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no printers"}
	}
	head := c.paint(ansiGreen+ansiBold, "Apply complete:")
	switch {
	case r.Cancelled:
		head = c.paint(ansiYellow+ansiBold, "Apply cancelled:")
	case r.Failed():
		head = c.paint(ansiRed+ansiBold, "Apply finished with failures:")
	}
	fmt.Fprintf(bw, "%s %s.\n", head, strings.Join(parts, ", "))
	for _, n := range r.Notes {
		fmt.Fprintf(bw, "%s %s\n", c.paint(ansiYellow, "!"), safe(n))
	}
	return bw.Flush()
}
