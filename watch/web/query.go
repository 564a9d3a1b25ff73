package web

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
)

// Paging.
const (
	defaultPerPage = 50
	maxPerPage     = 500
	maxPage        = 1_000_000
	maxParam       = 256 // bytes of one filter value
)

// fleetQuery is the fleet page's (and /api/v1/printers') filters, order
// and page.
type fleetQuery struct {
	Name    string // substring of the name, any case
	Keyword string // one of the printer's keywords, any case
	Model   string // substring of the model, any case
	Status  string // one of the statuses, exactly
	Drift   string // "", "yes", "no"
	Alerts  string // "", "yes", "no"
	Sort    string // a sortKeys key
	Desc    bool
	Page    int
	PerPage int
}

// sortKeys are the fleet's columns one can sort by.
var sortKeys = []string{"name", "status", "model", "firmware", "pages", "seen", "alerts", "supply"}

// statuses are the statuses a printer is shown with, worst first.
var statuses = []string{fleet.StatusDown, fleet.StatusOffline, fleet.StatusWarning, fleet.StatusUnknown,
	fleet.StatusWarmup, fleet.StatusPrinting, fleet.StatusIdle}

// errBadParam is wrapped by every parameter error (400).
var errBadParam = errors.New("bad parameter")

func badParam(name, format string, args ...any) error {
	return fmt.Errorf("%w %s: %s", errBadParam, name, fmt.Sprintf(format, args...))
}

// text reads one free-text parameter.
func text(v url.Values, name string) (string, error) {
	s := strings.TrimSpace(v.Get(name))
	if len(s) > maxParam {
		return "", badParam(name, "longer than %d bytes", maxParam)
	}
	if !utf8.ValidString(s) {
		return "", badParam(name, "not UTF-8")
	}
	return s, nil
}

// oneOf reads a parameter that must be one of allowed, or empty.
func oneOf(v url.Values, name string, allowed []string) (string, error) {
	s, err := text(v, name)
	if err != nil || s == "" {
		return s, err
	}
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a, nil
		}
	}
	return "", badParam(name, "%q is not one of %s", s, strings.Join(allowed, ", "))
}

// number reads a positive integer parameter up to hi; def when absent.
func number(v url.Values, name string, def, hi int) (int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, badParam(name, "%q is not a whole number from 1", truncate(s))
	}
	if n > hi {
		return 0, badParam(name, "%d is more than %d", n, hi)
	}
	return n, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// paging reads page and per_page.
func paging(v url.Values) (page, per int, err error) {
	if page, err = number(v, "page", 1, maxPage); err != nil {
		return 0, 0, err
	}
	if per, err = number(v, "per_page", defaultPerPage, maxPerPage); err != nil {
		return 0, 0, err
	}
	return page, per, nil
}

// parseFleetQuery reads the fleet's query string.
func parseFleetQuery(v url.Values) (fleetQuery, error) {
	var q fleetQuery
	var err error
	if q.Name, err = text(v, "name"); err != nil {
		return q, err
	}
	if q.Keyword, err = text(v, "keyword"); err != nil {
		return q, err
	}
	if q.Model, err = text(v, "model"); err != nil {
		return q, err
	}
	if q.Status, err = oneOf(v, "status", statuses); err != nil {
		return q, err
	}
	yesNo := []string{"yes", "no"}
	if q.Drift, err = oneOf(v, "drift", yesNo); err != nil {
		return q, err
	}
	if q.Alerts, err = oneOf(v, "alerts", yesNo); err != nil {
		return q, err
	}
	sortBy, err := text(v, "sort")
	if err != nil {
		return q, err
	}
	sortBy, q.Desc = strings.CutPrefix(sortBy, "-")
	if sortBy == "" {
		sortBy = "name"
	}
	if q.Sort, err = oneOf(url.Values{"sort": {sortBy}}, "sort", sortKeys); err != nil {
		return q, err
	}
	q.Page, q.PerPage, err = paging(v)
	return q, err
}

// values is q as a query string, without its defaults; with sort and page
// replaced when given.
func (q fleetQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"name": q.Name, "keyword": q.Keyword, "model": q.Model, "status": q.Status, "drift": q.Drift, "alerts": q.Alerts} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Sort != "name" || q.Desc {
		v.Set("sort", sortParam(q.Sort, q.Desc))
	}
	if q.PerPage != defaultPerPage {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

func sortParam(key string, desc bool) string {
	if desc {
		return "-" + key
	}
	return key
}

// alertQuery is the alerts page's (and /api/v1/alerts') filters.
type alertQuery struct {
	State    string // "active" (default), "cleared", "all"
	Printer  string // a printer name, or a path.Match glob
	Event    string // an event name
	Severity string
	Acked    string // "", "yes", "no"
	Page     int
	PerPage  int
}

// parseAlertQuery reads the alerts' query string.
func parseAlertQuery(v url.Values) (alertQuery, error) {
	var q alertQuery
	var err error
	if q.State, err = oneOf(v, "state", []string{"active", "cleared", "all"}); err != nil {
		return q, err
	}
	if q.State == "" {
		q.State = "active"
	}
	if q.Printer, err = text(v, "printer"); err != nil {
		return q, err
	}
	if _, err := path.Match(q.Printer, ""); err != nil {
		return q, badParam("printer", "%q is not a valid pattern", truncate(q.Printer))
	}
	if q.Event, err = text(v, "event"); err != nil {
		return q, err
	}
	if q.Severity, err = oneOf(v, "severity", []string{string(alerts.Critical), string(alerts.Warning), string(alerts.Info)}); err != nil {
		return q, err
	}
	if q.Acked, err = oneOf(v, "acked", []string{"yes", "no"}); err != nil {
		return q, err
	}
	q.Page, q.PerPage, err = paging(v)
	return q, err
}

func (q alertQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"printer": q.Printer, "event": q.Event, "severity": q.Severity, "acked": q.Acked} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.State != "active" {
		v.Set("state", q.State)
	}
	if q.PerPage != defaultPerPage {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// matchPrinter reports whether name matches a filter: exactly, or as a
// glob when the filter has one.
func matchPrinter(filter, name string) bool {
	if filter == "" || filter == name {
		return true
	}
	ok, _ := path.Match(filter, name)
	return ok
}

// maxSilence is the longest silence the page sets.
const maxSilence = 90 * 24 * time.Hour

// silenceForm is a new silence as the form or the API gives it.
type silenceForm struct {
	Printer  string
	Event    string
	Duration time.Duration
	Comment  string
}

// parseSilence reads a silence: printer (name or glob, "" any), event
// ("" any; else a known event name), duration (a Go duration such as
// "2h", up to 90 days), comment (required, to say why).
func parseSilence(v url.Values) (silenceForm, error) {
	var f silenceForm
	var err error
	if f.Printer, err = text(v, "printer"); err != nil {
		return f, err
	}
	if _, err := path.Match(f.Printer, ""); err != nil {
		return f, badParam("printer", "%q is not a valid pattern", truncate(f.Printer))
	}
	if f.Event, err = text(v, "event"); err != nil {
		return f, err
	}
	if f.Event != "" && !knownEvent(f.Event) {
		return f, badParam("event", "%q is not an event name", truncate(f.Event))
	}
	if f.Printer == "" && f.Event == "" {
		return f, badParam("printer", "a silence of every event of every printer is refused; name a printer or an event")
	}
	d, err := text(v, "duration")
	if err != nil {
		return f, err
	}
	if d == "" {
		return f, badParam("duration", "missing")
	}
	f.Duration, err = time.ParseDuration(d)
	if err != nil || f.Duration <= 0 {
		return f, badParam("duration", "%q is not a positive duration such as 2h or 30m", truncate(d))
	}
	if f.Duration > maxSilence {
		return f, badParam("duration", "%s is longer than %s", f.Duration, maxSilence)
	}
	if f.Comment, err = text(v, "comment"); err != nil {
		return f, err
	}
	if f.Comment == "" {
		return f, badParam("comment", "say why the alerts are silenced")
	}
	return f, nil
}

func knownEvent(name string) bool {
	for _, e := range alerts.Names() {
		if e == name {
			return true
		}
	}
	return false
}

// parseID reads a positive id from a path.
func parseID(what, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, badParam(what, "%q is not an id", truncate(s))
	}
	return n, nil
}

// safeNext is where to go after logging in: a path of this page only.
func safeNext(next string) string {
	if next == "" || len(next) > 1024 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(u.Path, "/login") {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
