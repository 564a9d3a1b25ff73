package hcl

import (
	"fmt"
	"slices"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/robfig/cron/v3"

	"github.com/inkform/inkform/alerts"
)

var viewNames = alerts.Views()

// cronFields name the five fields of a schedule, in order.
var cronFields = []string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// decodeReport reads one report block.
func (l *loader) decodeReport(ctx *hhcl.EvalContext, b *hhcl.Block) (alerts.Report, hhcl.Diagnostics) {
	name := b.Labels[0]
	where := fmt.Sprintf("report %q", name)
	out := alerts.Report{Name: name}
	content, diags := b.Body.Content(reportSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)

	if attr, ok := attrs["schedule"]; ok {
		s, ev, set, d := evalString(ctx, attr, "schedule")
		diags = append(diags, d...)
		diags = append(diags, notSensitive(ev, "schedule", where)...)
		if set && !ev.sensitive {
			if msg, from, to := scheduleProblem(s); msg != "" {
				rng := attr.Expr.Range()
				if from >= 0 {
					rng = l.literalRange(attr.Expr, s, from, to)
				}
				diags = append(diags, errorAt(rng, "Invalid schedule", fmt.Sprintf("In %s: schedule %q %s", where, s, msg)))
			} else {
				out.Schedule = strings.TrimSpace(s)
			}
		}
	}
	if attr, ok := attrs["view"]; ok {
		s, ev, set, d := evalString(ctx, attr, "view")
		diags = append(diags, d...)
		diags = append(diags, notSensitive(ev, "view", where)...)
		if set && !ev.sensitive {
			if slices.Contains(viewNames, s) {
				out.View = s
			} else {
				diags = append(diags, errorAt(attr.Expr.Range(), "Unknown view",
					fmt.Sprintf("In %s: %q is not a view; the views are %s.%s", where, s, quotedList(viewNames), didYouMean(s, viewNames))))
			}
		}
	}
	blocks, d := singleBlocks(content.Blocks)
	diags = append(diags, d...)
	if e := blocks["email"]; e != nil {
		out.Email, d = l.decodeEmail(ctx, e, where)
		diags = append(diags, d...)
	} else {
		diags = append(diags, errorAt(b.DefRange, "Missing email block",
			fmt.Sprintf("In %s: the report goes nowhere; add an email block saying who gets it, as in email { to = [\"ops@example.com\"] }.", where)))
	}
	return out, diags
}

// scheduleProblem returns why s is not a schedule watch can run (robfig/cron's
// standard parser: five fields, or a descriptor such as "@daily"), and
// the bytes of s the mistake is in (from < 0 when it is the whole).
func scheduleProblem(s string) (msg string, from, to int) {
	_, err := cron.ParseStandard(s)
	if err == nil {
		return "", -1, -1
	}
	whole := fmt.Sprintf("is not a schedule: %s.", err)
	rest := strings.TrimSpace(s)
	if strings.HasPrefix(rest, "@") {
		return whole, -1, -1
	}
	base := strings.Index(s, rest)
	if strings.HasPrefix(rest, "TZ=") || strings.HasPrefix(rest, "CRON_TZ=") {
		tz, after, _ := strings.Cut(rest, " ")
		if _, err := cron.ParseStandard(tz + " * * * * *"); err != nil {
			return fmt.Sprintf("names an unknown time zone %q.", tz), base, base + len(tz)
		}
		base += len(tz)
		rest = after
		base += strings.Index(s[base:], rest)
	}
	fields := strings.Fields(rest)
	if len(fields) != 5 {
		return fmt.Sprintf("has %d fields; a schedule has 5 (minute, hour, day of month, month, day of week), as in \"0 7 * * MON\", or is a descriptor such as \"@daily\".", len(fields)), -1, -1
	}
	off := base
	for i, f := range fields {
		at := off + strings.Index(s[off:], f)
		off = at + len(f)
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, err := cron.ParseStandard(strings.Join(probe, " ")); err != nil {
			return fmt.Sprintf("has a mistake in its %s field %q: %s.", cronFields[i], f, err), at, at + len(f)
		}
	}
	return whole, -1, -1
}
