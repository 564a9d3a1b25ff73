package watch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
)

// Templates see alerts.TemplateData: the first (for one event: the
// only) alert's fields at the top, every alert in .Alerts, and .Count.

// DefaultSubject is the subject of a route that sets none: one line.
const DefaultSubject = `[inkform] ` +
	`{{if eq .Count 1}}{{.Event}}{{if eq .Kind "cleared"}} cleared{{end}}{{if .Repeat}} still active{{end}} on {{.Printer}} ({{.Severity}})` +
	`{{else}}{{.Count}} alerts on route {{.Route}}{{end}}`

// DefaultBody is the body of a route that sets none.
const DefaultBody = `{{range .Alerts -}}
{{.Event}} {{if .Repeat}}still active{{else}}{{.Kind}}{{end}} on {{.Printer}} ({{.Severity}}) at {{.Time.Format "2006-01-02 15:04:05 MST"}}
{{- with .Description}}
  {{.}}{{end}}
{{- if or .Model .Serial .Location}}
  {{.Model}}{{with .Serial}} serial {{.}}{{end}}{{with .Location}} at {{.}}{{end}}{{end}}
{{- with .Link}}
  {{.}}{{end}}

{{end -}}
-- 
inkform watch, alert_route "{{.Route}}"
`

// render renders the email of ds, deliveries of one route.
func (e *Engine) render(sc *sendCycle, r *route, name string, ds []state.Delivery) (Message, error) {
	data := alerts.TemplateData{Route: name, Count: len(ds), StatusPage: sc.cfg.statusURL}
	for _, d := range ds {
		ev := sc.events[d.EventID]
		p := sc.cfg.printer(ev.Printer)
		a := alerts.TemplateAlert{
			Printer: ev.Printer, Model: p.Model, Serial: p.Serial, Location: p.Location,
			Keywords: slices.Clone(p.Keywords), Event: ev.Name, Severity: ev.Severity,
			Kind: ev.Kind, Repeat: d.Kind == state.DeliveryRepeat, Description: ev.Description,
			Time: ev.At, Code: ev.Code, Source: ev.Source, Key: ev.Key,
		}
		if sc.cfg.statusURL != "" {
			a.Link = strings.TrimRight(sc.cfg.statusURL, "/") + "/printers/" + url.PathEscape(ev.Printer)
		}
		data.Alerts = append(data.Alerts, a)
	}
	data.TemplateAlert = data.Alerts[0]
	var subj, body bytes.Buffer
	if err := r.subject.Execute(&subj, data); err != nil {
		return Message{}, fmt.Errorf("route %s: subject template: %w", name, err)
	}
	if err := r.body.Execute(&body, data); err != nil {
		return Message{}, fmt.Errorf("route %s: body template: %w", name, err)
	}
	return Message{
		ID: messageID(ds, sc.cfg.domain), To: ds[0].To, Cc: ds[0].Cc,
		Subject: oneLine(subj.String()), Body: body.String(),
	}, nil
}

// testMessage is what `inkform alerts test ROUTE` sends.
func testMessage(c *compiled, route string, d state.Delivery) Message {
	return Message{
		ID: messageID([]state.Delivery{d}, c.domain), To: d.To, Cc: d.Cc,
		Subject: fmt.Sprintf("[inkform] test message for alert_route %q", route),
		Body:    fmt.Sprintf("This is a test of alert_route %q: its emails reach you.\n\n-- \ninkform watch\n", route),
	}
}

// oneLine makes a subject one line: a template's line breaks become
// spaces, and never reach the mail header.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// messageID derives the Message-ID (without angle brackets) from the
// deliveries an email carries: a resend of the same deliveries has the
// same one, so that receivers can tell.
func messageID(ds []state.Delivery, domain string) string {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	slices.Sort(ids)
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	if len(ids) <= 4 {
		return "inkform.d" + b.String() + "@" + domain
	}
	sum := sha256.Sum256([]byte(b.String()))
	return fmt.Sprintf("inkform.d%d-%d.n%d.%s@%s", ids[0], ids[len(ids)-1], len(ids), hex.EncodeToString(sum[:8]), domain)
}
