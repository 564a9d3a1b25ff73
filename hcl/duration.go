package hcl

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// evalDuration reads a duration written as Go writes them ("30s", "5m",
// "1h30m"), at least min. set is false for an unset (null) value and
// after an error.
func evalDuration(ctx *hhcl.EvalContext, attr *hhcl.Attribute, where string, min time.Duration) (time.Duration, bool, hhcl.Diagnostics) {
	s, ev, set, diags := evalString(ctx, attr, attr.Name)
	if !set {
		return 0, false, diags
	}
	d, err := parseDuration(strings.TrimSpace(s))
	var problem string
	switch {
	case err != nil && strings.Contains(err.Error(), "missing unit"):
		problem = fmt.Sprintf("%s %s has no unit; write it as a duration such as \"30s\", \"5m\" or \"1h30m\".", attr.Name, show(s, ev.sensitive))
	case err != nil:
		problem = fmt.Sprintf("%s %s is not a duration such as \"30s\", \"5m\" or \"1h30m\".", attr.Name, show(s, ev.sensitive))
	case d < 0:
		problem = fmt.Sprintf("%s must not be negative.", attr.Name)
	case d < min:
		problem = fmt.Sprintf("%s must be at least %s.", attr.Name, shortDuration(min))
	default:
		return d, true, diags
	}
	return 0, false, append(diags, errorAt(attr.Expr.Range(), "Invalid duration", fmt.Sprintf("In %s: %s", where, problem)))
}

// parseDuration is time.ParseDuration, and whole days as "90d" (a day
// being 24h), as retention periods are written.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 100*365 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	return time.ParseDuration(s)
}

// shortDuration writes d as people do: "10s", "5m", "4h", not "5m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// evalWhole reads a whole number from lo to hi.
func evalWhole(ctx *hhcl.EvalContext, attr *hhcl.Attribute, where string, lo, hi int) (int, bool, hhcl.Diagnostics) {
	ev, ok, diags := eval(ctx, attr.Expr, cty.Number, attr.Name)
	if !ok || ev.val.IsNull() {
		return 0, false, diags
	}
	n, whole := wholeNumber(ev.val)
	if !whole || n < lo || n > hi {
		return 0, false, append(diags, errorAt(attr.Expr.Range(), fmt.Sprintf("Invalid %s", attr.Name),
			fmt.Sprintf("In %s: %s must be a whole number from %d to %d.", where, attr.Name, lo, hi)))
	}
	return n, true, diags
}

// evalBool reads a bool; set is false for null and after an error.
func evalBool(ctx *hhcl.EvalContext, attr *hhcl.Attribute) (bool, bool, hhcl.Diagnostics) {
	ev, ok, diags := eval(ctx, attr.Expr, cty.Bool, attr.Name)
	if !ok || ev.val.IsNull() {
		return false, false, diags
	}
	return ev.val.True(), true, diags
}

// listElem is one element of a list of strings with where it was written.
type listElem struct {
	value string
	rng   hhcl.Range
}

// evalStringList reads a list of strings that is shown in clear (so not
// sensitive), with each element's own range when the list is written out
// as a literal. Null elements are errors; set is false for a null list.
func evalStringList(ctx *hhcl.EvalContext, attr *hhcl.Attribute, where string) ([]listElem, bool, hhcl.Diagnostics) {
	ev, ok, diags := eval(ctx, attr.Expr, cty.List(cty.String), attr.Name)
	if !ok || ev.val.IsNull() {
		return nil, false, diags
	}
	if d := notSensitive(ev, attr.Name, where); d != nil {
		return nil, false, append(diags, d...)
	}
	n := ev.val.LengthInt()
	var exprs []hclsyntax.Expression
	if t, ok := attr.Expr.(*hclsyntax.TupleConsExpr); ok && len(t.Exprs) == n {
		exprs = t.Exprs
	}
	out := make([]listElem, 0, n)
	i := -1
	for it := ev.val.ElementIterator(); it.Next(); {
		i++
		_, e := it.Element()
		rng := attr.Expr.Range()
		if exprs != nil {
			rng = exprs[i].Range()
		}
		if e.IsNull() {
			diags = append(diags, errorAt(rng, fmt.Sprintf("Invalid %s", attr.Name),
				fmt.Sprintf("In %s: %s must not contain null.", where, attr.Name)))
			continue
		}
		out = append(out, listElem{value: e.AsString(), rng: rng})
	}
	return out, true, diags
}

// notSensitive refuses a sensitive value for an attribute that watch shows
// in logs, emails and the status page.
func notSensitive(ev evaluated, what, where string) hhcl.Diagnostics {
	if !ev.sensitive {
		return nil
	}
	return hhcl.Diagnostics{errorAt(ev.rng, "Sensitive value not allowed",
		fmt.Sprintf("The %s of %s is shown in logs, emails and the status page, so it cannot come from a sensitive value.", what, where))}
}

func warningAt(rng hhcl.Range, summary, detail string) *hhcl.Diagnostic {
	return &hhcl.Diagnostic{Severity: hhcl.DiagWarning, Summary: summary, Detail: detail, Subject: rng.Ptr()}
}

// literalRange returns the range in the source of value[from:to] when
// expr is a string written as one literal (a quoted string or a heredoc
// without interpolation). Lines are exact when the literal spans as many
// lines as the value; columns when the source is the value byte for byte
// (no escapes, no heredoc indentation). Otherwise it returns expr's range.
func (l *loader) literalRange(expr hhcl.Expression, value string, from, to int) hhcl.Range {
	whole := expr.Range()
	t, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok || len(t.Parts) != 1 {
		return whole
	}
	lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr)
	if !ok {
		return whole
	}
	r := lit.Range()
	f := l.files[r.Filename]
	if f == nil || r.End.Byte > len(f.Bytes) || from < 0 || to < from || to > len(value) {
		return whole
	}
	src := string(f.Bytes[r.Start.Byte:r.End.Byte])
	if src == value {
		return hhcl.Range{Filename: r.Filename, Start: advance(r.Start, value[:from]), End: advance(r.Start, value[:to])}
	}
	if sFrom, ok := sourceOffset(src, value, from); ok {
		if sTo, ok := sourceOffset(src, value, to); ok {
			return hhcl.Range{Filename: r.Filename, Start: advance(r.Start, src[:sFrom]), End: advance(r.Start, src[:sTo])}
		}
	}
	if strings.Count(src, "\n") != strings.Count(value, "\n") {
		return whole
	}
	// Same lines, different bytes: point at the start of the line.
	line := strings.Count(value[:from], "\n")
	start := r.Start
	if line > 0 {
		cut := 0
		for range line {
			cut += strings.IndexByte(src[cut:], '\n') + 1
		}
		start = advance(r.Start, src[:cut])
	}
	end := start
	if nl := strings.IndexByte(src[start.Byte-r.Start.Byte:], '\n'); nl >= 0 {
		end = advance(start, src[start.Byte-r.Start.Byte:start.Byte-r.Start.Byte+nl])
	}
	return hhcl.Range{Filename: r.Filename, Start: start, End: end}
}

// advance moves pos over text.
func advance(pos hhcl.Pos, text string) hhcl.Pos {
	for _, c := range text {
		if c == '\n' {
			pos.Line++
			pos.Column = 1
		} else {
			pos.Column++
		}
	}
	pos.Byte += len(text)
	return pos
}

// sourceOffset maps an offset in value to the offset in src, the quoted
// literal that value was decoded from (with \" \\ \n \t \r \uXXXX
// \UXXXXXXXX, $${ and %%{ escapes). ok is false when src does not decode
// to value this way.
func sourceOffset(src, value string, off int) (int, bool) {
	if off > len(value) {
		return 0, false
	}
	simple := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '"': "\"", '\\': "\\"}
	i, j := 0, 0
	for i < len(src) && j < off {
		var decoded string
		n := 1
		switch {
		case src[i] == '\\' && i+1 < len(src) && simple[src[i+1]] != "":
			decoded, n = simple[src[i+1]], 2
		case src[i] == '\\' && i+1 < len(src) && (src[i+1] == 'u' || src[i+1] == 'U'):
			n = 6
			if src[i+1] == 'U' {
				n = 10
			}
			if i+n > len(src) {
				return 0, false
			}
			r, err := strconv.ParseUint(src[i+2:i+n], 16, 32)
			if err != nil {
				return 0, false
			}
			decoded = string(rune(r))
		case strings.HasPrefix(src[i:], "$${") || strings.HasPrefix(src[i:], "%%{"):
			decoded, n = src[i+1:i+3], 3
		default:
			decoded = src[i : i+1]
		}
		if !strings.HasPrefix(value[j:], decoded) {
			return 0, false
		}
		i += n
		j += len(decoded)
	}
	if j != off {
		return 0, false
	}
	return i, true
}
