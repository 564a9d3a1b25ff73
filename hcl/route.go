package hcl

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/alerts"
)

var (
	eventNames    = alerts.Names()
	severityNames = func() []string {
		var out []string
		for _, s := range alerts.Severities() {
			out = append(out, string(s))
		}
		return out
	}()
)

// decodeRoute reads one alert_route block. Printer names and globs are
// checked against the declared printers, so it runs after decodePrinters.
func (l *loader) decodeRoute(ctx *hhcl.EvalContext, b *hhcl.Block) (alerts.Route, hhcl.Diagnostics) {
	name := b.Labels[0]
	where := fmt.Sprintf("alert_route %q", name)
	out := alerts.Route{
		Name:          name,
		Repeat:        alerts.DefaultRepeat,
		GroupWait:     alerts.DefaultGroupWait,
		GroupInterval: alerts.DefaultGroupInterval,
	}
	content, diags := b.Body.Content(alertRouteSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)

	blocks, d := singleBlocks(content.Blocks)
	diags = append(diags, d...)
	if m := blocks["match"]; m != nil {
		out.Match, d = l.decodeMatch(ctx, m, where)
		diags = append(diags, d...)
	}
	if e := blocks["email"]; e != nil {
		out.Email, d = l.decodeEmail(ctx, e, where)
		diags = append(diags, d...)
	} else {
		diags = append(diags, errorAt(b.DefRange, "Missing email block",
			fmt.Sprintf("In %s: nothing is sent; add an email block saying who gets the alerts, as in email { to = [\"helpdesk@example.com\"] }.", where)))
	}

	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{
		{"grace", &out.Grace}, {"repeat", &out.Repeat},
		{"group_wait", &out.GroupWait}, {"group_interval", &out.GroupInterval},
	} {
		attr, ok := attrs[f.name]
		if !ok {
			continue
		}
		v, set, d := evalDuration(ctx, attr, where, 0)
		diags = append(diags, d...)
		if set {
			*f.dst = v
		}
	}
	if attr, ok := attrs["also_on_clear"]; ok {
		v, _, d := evalBool(ctx, attr)
		diags = append(diags, d...)
		out.AlsoOnClear = v
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"subject", &out.Subject}, {"body", &out.Body}} {
		attr, ok := attrs[f.name]
		if !ok {
			continue
		}
		s, ev, set, d := evalString(ctx, attr, f.name)
		diags = append(diags, d...)
		diags = append(diags, notSensitive(ev, f.name, where)...)
		if !set || ev.sensitive {
			continue
		}
		if strings.TrimSpace(s) == "" {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid email template",
				fmt.Sprintf("In %s: the %s template is empty; leave %s out for the default.", where, f.name, f.name)))
			continue
		}
		if d := l.checkTemplate(attr, s, where); d != nil {
			diags = append(diags, d)
			continue
		}
		*f.dst = s
	}
	return out, diags
}

// singleBlocks indexes nested blocks by type, reporting a type given twice.
func singleBlocks(blocks hhcl.Blocks) (map[string]*hhcl.Block, hhcl.Diagnostics) {
	var diags hhcl.Diagnostics
	out := map[string]*hhcl.Block{}
	for _, b := range blocks {
		if first, ok := out[b.Type]; ok {
			diags = append(diags, duplicate(b.Type+" block", "", b.DefRange, first.DefRange))
			continue
		}
		out[b.Type] = b
	}
	return out, diags
}

func (l *loader) decodeMatch(ctx *hhcl.EvalContext, b *hhcl.Block, where string) (alerts.Match, hhcl.Diagnostics) {
	var out alerts.Match
	content, diags := b.Body.Content(matchSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	list := func(name string) []listElem {
		attr, ok := attrs[name]
		if !ok {
			return nil
		}
		elems, _, d := evalStringList(ctx, attr, where)
		diags = append(diags, d...)
		return elems
	}
	for _, e := range list("events") {
		if !slices.Contains(eventNames, e.value) {
			diags = append(diags, errorAt(e.rng, "Unknown event",
				fmt.Sprintf("In %s: %q is not an event name; the events are %s.%s", where, e.value, quotedList(eventNames), didYouMean(e.value, eventNames))))
			continue
		}
		out.Events = appendNew(out.Events, e.value)
	}
	for _, e := range list("severity") {
		if !slices.Contains(severityNames, e.value) {
			diags = append(diags, errorAt(e.rng, "Unknown severity",
				fmt.Sprintf("In %s: %q is not a severity; use %s.%s", where, e.value, quotedList(severityNames), didYouMean(e.value, severityNames))))
			continue
		}
		if !slices.Contains(out.Severity, alerts.Severity(e.value)) {
			out.Severity = append(out.Severity, alerts.Severity(e.value))
		}
	}
	for _, e := range list("printers") {
		if strings.TrimSpace(e.value) == "" {
			diags = append(diags, errorAt(e.rng, "Invalid printer pattern", fmt.Sprintf("In %s: printer names must not be empty.", where)))
			continue
		}
		if !l.anyPrinterMatches(e.value) {
			if _, err := path.Match(e.value, ""); err != nil {
				diags = append(diags, errorAt(e.rng, "Invalid printer pattern",
					fmt.Sprintf("In %s: %q is neither a declared printer nor a valid glob (%s). In a glob, * is any text, ? one character and [...] a class; write \\\\[ for a bracket, as in \"fleet\\\\[*\".", where, e.value, err)))
				continue
			}
			diags = append(diags, warningAt(e.rng, "No printer matches",
				fmt.Sprintf("In %s: no declared printer is named or matches %q, so this entry selects nothing.%s", where, e.value, didYouMean(e.value, l.printerNames()))))
		}
		out.Printers = appendNew(out.Printers, e.value)
	}
	for _, e := range list("keywords") {
		out.Keywords = appendNew(out.Keywords, e.value)
	}
	return out, diags
}

// anyPrinterMatches reports whether pattern selects a declared printer
// as watch will match it (alerts.PrinterMatches).
func (l *loader) anyPrinterMatches(pattern string) bool {
	i := sort.Search(len(l.printers), func(i int) bool { return l.printers[i].Name >= pattern })
	if i < len(l.printers) && l.printers[i].Name == pattern {
		return true
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return false
	}
	for _, p := range l.printers {
		if alerts.PrinterMatches(pattern, p.Name) {
			return true
		}
	}
	return false
}

func (l *loader) printerNames() []string {
	out := make([]string, len(l.printers))
	for i, p := range l.printers {
		out[i] = p.Name
	}
	return out
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// decodeEmail reads an email block: to (at least one) and cc.
func (l *loader) decodeEmail(ctx *hhcl.EvalContext, b *hhcl.Block, where string) (alerts.Email, hhcl.Diagnostics) {
	var out alerts.Email
	content, diags := b.Body.Content(emailSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"to", &out.To}, {"cc", &out.Cc}} {
		attr, ok := attrs[f.name]
		if !ok {
			continue
		}
		elems, set, d := evalStringList(ctx, attr, where)
		diags = append(diags, d...)
		if f.name == "to" && (!set && !d.HasErrors() || set && len(elems) == 0) {
			diags = append(diags, errorAt(attr.Expr.Range(), "Missing recipients",
				fmt.Sprintf("In %s: email to must list at least one address.", where)))
		}
		for _, e := range elems {
			if msg := checkMailAddress(e.value); msg != "" {
				diags = append(diags, errorAt(e.rng, "Invalid email address", fmt.Sprintf("In %s: %s %s", where, f.name, msg)))
				continue
			}
			*f.dst = appendNew(*f.dst, strings.TrimSpace(e.value))
		}
	}
	if l.smtpBlock == nil {
		diags = append(diags, errorAt(b.DefRange, "No smtp block",
			fmt.Sprintf("In %s: email needs an smtp block saying through which server it goes, and the configuration has none.", where)))
	}
	return out, diags
}

// templateError matches text/template's parse errors: "template:
// NAME:LINE: …".
var templateError = regexp.MustCompile(`^template: [^:]*:(\d+): (.*)$`)

// checkTemplate parses a subject or body template as watch will and checks
// every field it names against what templates see (alerts.TemplateData),
// so that a misspelt field or function is found now rather than when a
// printer jams. It returns nil when the template is fine, or a diagnostic
// at the place of the mistake.
func (l *loader) checkTemplate(attr *hhcl.Attribute, src, where string) *hhcl.Diagnostic {
	rng := attr.Expr.Range()
	at, msg := "", ""
	t, err := alerts.ParseTemplate(attr.Name, src)
	switch {
	case err != nil:
		msg = strings.TrimPrefix(err.Error(), "template: ") + "."
		if m := templateError.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			msg = m[2] + "."
			if off, ok := lineOffset(src, line); ok {
				rng = l.literalRange(attr.Expr, src, off, off)
			}
			at = fmt.Sprintf(" at line %d", line)
		}
	default:
		p := checkTemplateFields(t, attr.Name)
		if p == nil {
			return nil
		}
		off := min(max(p.offset, 0), len(src))
		rng = l.literalRange(attr.Expr, src, off, off+len(p.given)+1)
		line := strings.Count(src[:off], "\n") + 1
		col := off - strings.LastIndexByte(src[:off], '\n')
		at = fmt.Sprintf(" at line %d, column %d", line, col)
		msg = p.msg
		if len(p.fields) > 0 {
			msg += "; its fields are " + strings.Join(p.fields, ", ")
		}
		msg += "." + didYouMean(p.given, p.fields)
	}
	return errorAt(rng, "Invalid email template",
		fmt.Sprintf("In %s: the %s template has an error%s: %s", where, attr.Name, at, msg))
}

// lineOffset returns the byte offset of line (1-based) in src.
func lineOffset(src string, line int) (int, bool) {
	off := 0
	for i := 1; i < line; i++ {
		nl := strings.IndexByte(src[off:], '\n')
		if nl < 0 {
			return 0, false
		}
		off += nl + 1
	}
	return off, true
}
