package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch/web/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Limits of what one page shows of a history.
const (
	eventsShown  = 50
	historyShown = 20
	runsShown    = 100
	maxEvents    = 5000 // events read to filter cleared alerts
)

var errNoAudit = errors.New("this state keeps no audit log")

// pages holds one template set per page, each with the layout.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"pct":         supplyPercent,
		"supplyLabel": supplyLabel,
		"supplyClass": supplyClass,
		"supplyName":  func(sp fleet.Supply) string { return supplyName(sp.Description, sp.Color, sp.Kind) },
		"ts":          formatTime,
		"tsp":         func(t *time.Time) string { return formatTimePtr(t) },
		"pathEscape":  url.PathEscape,
		"join":        strings.Join,
		"split":       strings.Fields,
		"alertArgs": func(rows []alertRow, can bool, csrf, back string) alertTableArgs {
			return alertTableArgs{Rows: rows, Can: can, CSRF: csrf, Back: back}
		},
	}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	out := map[string]*template.Template{}
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		n = strings.TrimPrefix(n, "templates/")
		if n == "layout.html" {
			continue
		}
		out[strings.TrimSuffix(n, ".html")] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n))
	}
	return out
}()

// alertTableArgs are the shared alert table's.
type alertTableArgs struct {
	Rows []alertRow
	Can  bool
	CSRF string
	Back string
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string
	User    *principal
	CanAct  bool // may acknowledge and silence
	IsAdmin bool
	Now     time.Time
	Data    any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, p *principal, status int, name, title string, data any) {
	v := view{Title: title, Nav: name, User: p, Now: s.now(), Data: data}
	if p != nil {
		v.CanAct = auth.RoleAtLeast(p.Role, alerts.RoleServiceDesk)
		v.IsAdmin = auth.RoleAtLeast(p.Role, alerts.RoleAdmin)
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.Error("status page: render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, p *principal, status int, msg string) {
	s.render(w, r, p, status, "error", http.StatusText(status), struct {
		Status  int
		Message string
	}{status, msg})
}

// failed answers a request whose state read or write failed.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, p *principal, what string, err error) {
	status, msg := http.StatusServiceUnavailable, what+": the state did not answer"
	switch {
	case errors.Is(err, errBadParam):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, state.ErrNotFound):
		status, msg = http.StatusNotFound, what+": not found"
	case errors.Is(err, errNoAudit), errors.Is(err, errNoOutbox), errors.Is(err, errNoHistory):
		status, msg = http.StatusNotImplemented, err.Error()
	default:
		s.log.Error("status page: "+what, "err", err)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.apiError(w, status, msg)
		return
	}
	s.errorPage(w, r, p, status, msg)
}

var (
	errNoOutbox  = errors.New("this state keeps no alerts")
	errNoHistory = errors.New("this state keeps no history of runs")
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *principal) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if _, err := s.cfg.Store.Runs(ctx, 1); err != nil {
		s.log.Error("status page: health check", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "state unavailable")
		return
	}
	fmt.Fprintln(w, "ok")
}

// static serves the embedded stylesheet and script.
func (s *Server) static(w http.ResponseWriter, r *http.Request, _ *principal) {
	sub, _ := fs.Sub(staticFS, "static")
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if name == "" || strings.HasSuffix(name, "/") {
		http.NotFound(w, r)
		return
	}
	if name == "style.css" {
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(b)
		w.Write(widthRules)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/static/", http.FileServerFS(sub)).ServeHTTP(w, r)
}

// widthRules size the supply bars: inline styles are not allowed by the
// page's CSP.
var widthRules = func() []byte {
	var b bytes.Buffer
	for i := 0; i <= 100; i++ {
		fmt.Fprintf(&b, ".w%d{width:%d%%}", i, i)
	}
	b.WriteByte('\n')
	return b.Bytes()
}()

// Supplies as shown: a percent bar when the level is known, the RFC 3805
// special values in words otherwise.
func supplyPercent(sp fleet.Supply) int { return max(sp.Percent(), 0) }

func supplyLabel(sp fleet.Supply) string {
	if p := sp.Percent(); p >= 0 {
		return strconv.Itoa(p) + " %"
	}
	switch sp.Level {
	case -1:
		return "other"
	case -2:
		return "unknown"
	case -3:
		return "some remaining"
	}
	switch sp.Max {
	case -1:
		return fmt.Sprintf("%d (no maximum)", sp.Level)
	case -2, 0:
		return fmt.Sprintf("%d (maximum unknown)", sp.Level)
	}
	return "unknown"
}

func supplyClass(sp fleet.Supply) string {
	c := "s-" + sp.State()
	if sp.Color != "" {
		c += " c-" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r
			}
			return '-'
		}, strings.ToLower(sp.Color))
	}
	return c
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return formatTime(*t)
}

// fleetData is the fleet page's.
type fleetData struct {
	Q        fleetQuery
	Res      fleetResult
	Statuses []string
	Sorts    []sortLink
	Prev     string
	Next     string
}

type sortLink struct {
	Key, Label, URL string
	Active, Desc    bool
}

func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request, p *principal) {
	q, err := parseFleetQuery(r.URL.Query())
	if err != nil {
		s.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	res := s.fleetResult(r.Context(), q)
	d := fleetData{Q: q, Res: res, Statuses: statuses}
	labels := map[string]string{"name": "Printer", "status": "Status", "model": "Model", "firmware": "Firmware",
		"supply": "Supplies", "pages": "Pages", "alerts": "Alerts", "seen": "Last seen"}
	for _, k := range []string{"name", "status", "model", "firmware", "supply", "pages", "alerts", "seen"} {
		sq := q
		sq.Page = 1
		sq.Desc = k == q.Sort && !q.Desc
		sq.Sort = k
		d.Sorts = append(d.Sorts, sortLink{Key: k, Label: labels[k], URL: "/?" + sq.values().Encode(), Active: k == q.Sort, Desc: q.Desc})
	}
	if q.Page > 1 {
		pq := q
		pq.Page = min(q.Page-1, res.Pages)
		d.Prev = "/?" + pq.values().Encode()
	}
	if q.Page < res.Pages {
		nq := q
		nq.Page++
		d.Next = "/?" + nq.values().Encode()
	}
	s.render(w, r, p, http.StatusOK, "fleet", "Fleet", d)
}

// printerDetail is the printer page's and /api/v1/printers/{name}'s.
type printerDetail struct {
	Row      printerRow
	Settings []settingRow
	Active   []alertRow
	Events   []alertRow
	History  []historyRow
	Notes    []string
}

type historyRow struct {
	RunID   int64     `json:"run_id"`
	Command string    `json:"command"`
	User    string    `json:"user"`
	Status  string    `json:"status"`
	Detail  string    `json:"detail"`
	Changes int       `json:"changes"`
	At      time.Time `json:"at"`
}

func (s *Server) printerDetail(ctx context.Context, name string) (printerDetail, error) {
	views := s.cfg.Fleet()
	v, ok := findView(views, name)
	if !ok {
		return printerDetail{}, fmt.Errorf("printer %q: %w", name, state.ErrNotFound)
	}
	d := printerDetail{Row: rowOf(v, 0), Settings: settingRows(v)}
	if v.Observation != nil {
		d.Notes = v.Observation.Notes
	}
	if s.outbox != nil {
		active, err := s.outbox.ActiveAlerts(ctx)
		if err != nil {
			return d, err
		}
		for _, a := range active {
			if a.Event.Printer == name {
				d.Active = append(d.Active, activeRow(a))
			}
		}
		d.Row.Alerts = len(d.Active)
		evs, err := s.outbox.Events(ctx, state.EventFilter{Printer: name, Limit: eventsShown})
		if err != nil {
			return d, err
		}
		for _, e := range evs {
			d.Events = append(d.Events, eventRow(e))
		}
	}
	if s.history != nil {
		hist, err := s.history.PrinterHistory(ctx, name, historyShown)
		if err != nil {
			return d, err
		}
		for _, h := range hist {
			d.History = append(d.History, historyRow{RunID: h.Run.ID, Command: h.Run.Command, User: h.Run.User,
				Status: h.Outcome.Status, Detail: h.Outcome.Detail, Changes: h.Outcome.Changes, At: h.Outcome.At})
		}
	}
	return d, nil
}

func (s *Server) printerPage(w http.ResponseWriter, r *http.Request, p *principal) {
	d, err := s.printerDetail(r.Context(), r.PathValue("name"))
	if err != nil {
		s.failed(w, r, p, "printer", err)
		return
	}
	s.render(w, r, p, http.StatusOK, "printer", d.Row.Name, d)
}

// alertRow is one alert (active) or event (cleared, or a printer's past).
type alertRow struct {
	EventID     int64      `json:"event_id"`
	Key         string     `json:"key"`
	Printer     string     `json:"printer"`
	Name        string     `json:"name"`
	Severity    string     `json:"severity"`
	Kind        string     `json:"kind"`
	Source      string     `json:"source"`
	Description string     `json:"description"`
	At          time.Time  `json:"at"`
	Active      bool       `json:"active"`
	AckedBy     string     `json:"acked_by,omitempty"`
	AckedAt     *time.Time `json:"acked_at,omitempty"`
	Comment     string     `json:"comment,omitempty"`
}

func eventRow(e alerts.Event) alertRow {
	return alertRow{EventID: e.ID, Key: e.Key, Printer: e.Printer, Name: e.Name, Severity: string(e.Severity), Kind: string(e.Kind),
		Source: e.Source, Description: e.Description, At: e.At}
}

func activeRow(a state.ActiveAlert) alertRow {
	r := eventRow(a.Event)
	r.Active = true
	r.AckedBy, r.Comment = a.AckedBy, a.Comment
	if !a.AckedAt.IsZero() {
		t := a.AckedAt
		r.AckedAt = &t
	}
	return r
}

// alertsResult is one page of alerts.
type alertsResult struct {
	Rows    []alertRow
	Total   int
	Page    int
	PerPage int
	Pages   int
}

// queryAlerts reads the alerts q selects: the active ones, or the most
// recent events (cleared, or all).
func (s *Server) queryAlerts(ctx context.Context, q alertQuery) (alertsResult, error) {
	if s.outbox == nil {
		return alertsResult{}, errNoOutbox
	}
	var rows []alertRow
	keep := func(r alertRow) bool {
		return matchPrinter(q.Printer, r.Printer) && (q.Event == "" || r.Name == q.Event) &&
			(q.Severity == "" || r.Severity == q.Severity) &&
			(q.Acked == "" || (q.Acked == "yes") == (r.AckedBy != ""))
	}
	if q.State == "active" {
		active, err := s.outbox.ActiveAlerts(ctx)
		if err != nil {
			return alertsResult{}, err
		}
		for _, a := range active {
			if r := activeRow(a); keep(r) {
				rows = append(rows, r)
			}
		}
		// Most urgent first, then the most recent.
		slices.SortStableFunc(rows, func(a, b alertRow) int {
			if c := strings.Compare(sevRank(a.Severity), sevRank(b.Severity)); c != 0 {
				return c
			}
			if c := b.At.Compare(a.At); c != 0 {
				return c
			}
			return strings.Compare(a.Key, b.Key)
		})
	} else {
		f := state.EventFilter{Limit: maxEvents}
		if !strings.ContainsAny(q.Printer, `*?[\`) {
			f.Printer = q.Printer
		}
		evs, err := s.outbox.Events(ctx, f)
		if err != nil {
			return alertsResult{}, err
		}
		for _, e := range evs {
			r := eventRow(e)
			if (q.State == "all" || e.Kind == alerts.Cleared) && keep(r) {
				rows = append(rows, r)
			}
		}
	}
	res := alertsResult{Total: len(rows), Page: q.Page, PerPage: q.PerPage}
	res.Pages = max(1, (res.Total+q.PerPage-1)/q.PerPage)
	lo := min((q.Page-1)*q.PerPage, res.Total)
	res.Rows = rows[lo:min(lo+q.PerPage, res.Total)]
	if res.Rows == nil {
		res.Rows = []alertRow{}
	}
	return res, nil
}

func sevRank(s string) string {
	switch alerts.Severity(s) {
	case alerts.Critical:
		return "0"
	case alerts.Warning:
		return "1"
	case alerts.Info:
		return "2"
	}
	return "3" + s
}

type alertsData struct {
	Q        alertQuery
	Res      alertsResult
	Silences []state.Silence
	Events   []string
	Prev     string
	Next     string
	Back     string
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	q, err := parseAlertQuery(r.URL.Query())
	if err != nil {
		s.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.queryAlerts(r.Context(), q)
	if err != nil {
		s.failed(w, r, p, "alerts", err)
		return
	}
	sils, err := s.outbox.Silences(r.Context(), s.now())
	if err != nil {
		s.failed(w, r, p, "silences", err)
		return
	}
	d := alertsData{Q: q, Res: res, Silences: sils, Events: alerts.Names(), Back: r.URL.RequestURI()}
	if q.Page > 1 {
		pq := q
		pq.Page = min(q.Page-1, res.Pages)
		d.Prev = "/alerts?" + pq.values().Encode()
	}
	if q.Page < res.Pages {
		nq := q
		nq.Page++
		d.Next = "/alerts?" + nq.values().Encode()
	}
	s.render(w, r, p, http.StatusOK, "alerts", "Alerts", d)
}

// ack acknowledges the active alert key and audits it.
func (s *Server) ack(ctx context.Context, r *http.Request, p *principal, key, comment string) error {
	if s.outbox == nil {
		return errNoOutbox
	}
	if key == "" || len(key) > 4*maxParam {
		return badParam("key", "missing or too long")
	}
	if len(comment) > maxParam*4 {
		return badParam("comment", "longer than %d bytes", maxParam*4)
	}
	if err := s.outbox.Ack(ctx, key, p.Name, comment, s.now()); err != nil {
		return err
	}
	s.forgetCounts()
	s.record(ctx, r, p.Name, actionAck, key, comment)
	return nil
}

func (s *Server) ackForm(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := s.ack(r.Context(), r, p, r.PostFormValue("key"), strings.TrimSpace(r.PostFormValue("comment"))); err != nil {
		s.failed(w, r, p, "acknowledge", err)
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
}

// silence adds a silence and audits it.
func (s *Server) silence(ctx context.Context, r *http.Request, p *principal, f silenceForm) (state.Silence, error) {
	if s.outbox == nil {
		return state.Silence{}, errNoOutbox
	}
	now := s.now()
	sl := state.Silence{Printer: f.Printer, Event: f.Event, Starts: now, Ends: now.Add(f.Duration), Comment: f.Comment, By: p.Name}
	id, err := s.outbox.AddSilence(ctx, sl)
	if err != nil {
		return sl, err
	}
	sl.ID = id
	s.record(ctx, r, p.Name, actionSilence, strconv.FormatInt(id, 10),
		fmt.Sprintf("printer %q event %q for %s: %s", f.Printer, f.Event, f.Duration, f.Comment))
	return sl, nil
}

func (s *Server) silenceForm(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, p, http.StatusBadRequest, "the form could not be read")
		return
	}
	f, err := parseSilence(r.PostForm)
	if err != nil {
		s.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	if _, err := s.silence(r.Context(), r, p, f); err != nil {
		s.failed(w, r, p, "silence", err)
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
}

func (s *Server) expire(ctx context.Context, r *http.Request, p *principal, idText string) error {
	if s.outbox == nil {
		return errNoOutbox
	}
	id, err := parseID("silence", idText)
	if err != nil {
		return err
	}
	if err := s.outbox.ExpireSilence(ctx, id, s.now()); err != nil {
		return err
	}
	s.record(ctx, r, p.Name, actionExpireSilent, strconv.FormatInt(id, 10), "")
	return nil
}

func (s *Server) expireForm(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := s.expire(r.Context(), r, p, r.PathValue("id")); err != nil {
		s.failed(w, r, p, "silence", err)
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
}

// runRow is one run as shown.
type runRow struct {
	ID         int64      `json:"id"`
	Command    string     `json:"command"`
	User       string     `json:"user"`
	Host       string     `json:"host"`
	GitCommit  string     `json:"git_commit"`
	ConfigHash string     `json:"config_hash"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Status     string     `json:"status"`
}

type outcomeRow struct {
	Printer string    `json:"printer"`
	Status  string    `json:"status"`
	Detail  string    `json:"detail"`
	Changes int       `json:"changes"`
	At      time.Time `json:"at"`
	// Changed names the settings written (never their values or hashes).
	Changed []string `json:"changed"`
}

func (s *Server) runRows(ctx context.Context, limit int) ([]runRow, error) {
	runs, err := s.cfg.Store.Runs(ctx, limit)
	if err != nil {
		return nil, err
	}
	var lock *state.LockInfo
	if la, ok := s.cfg.Store.(state.LockAdmin); ok {
		if info, held, err := la.LockHolder(ctx); err == nil && held {
			lock = &info
		}
	}
	now := s.now()
	out := make([]runRow, 0, len(runs))
	for _, r := range runs {
		row := runRow{ID: r.ID, Command: r.Command, User: r.User, Host: r.Host, GitCommit: r.GitCommit, ConfigHash: r.ConfigHash,
			StartedAt: r.StartedAt, Status: r.ShownStatus(lock, now)}
		if !r.FinishedAt.IsZero() {
			t := r.FinishedAt
			row.FinishedAt = &t
		}
		out = append(out, row)
	}
	return out, nil
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request, p *principal) {
	rows, err := s.runRows(r.Context(), runsShown)
	if err != nil {
		s.failed(w, r, p, "runs", err)
		return
	}
	s.render(w, r, p, http.StatusOK, "runs", "Runs", runsData{Runs: rows, CanPlan: s.cfg.PlanNow != nil, Started: r.URL.Query().Get("planned") == "1"})
}

type runsData struct {
	Runs    []runRow
	CanPlan bool // the process offers a plan now
	Started bool // a plan was just started from here
}

// planNow starts a plan and audits it.
func (s *Server) planNow(ctx context.Context, r *http.Request, p *principal) error {
	if err := s.cfg.PlanNow(ctx, p.Name); err != nil {
		return err
	}
	s.record(ctx, r, p.Name, actionPlanNow, "fleet", "")
	return nil
}

func (s *Server) planNowForm(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := s.planNow(r.Context(), r, p); err != nil {
		s.failed(w, r, p, "plan", err)
		return
	}
	http.Redirect(w, r, "/runs?planned=1", http.StatusSeeOther)
}

type runDetail struct {
	Run      runRow
	Outcomes []outcomeRow
}

func (s *Server) runDetail(ctx context.Context, idText string) (runDetail, error) {
	id, err := parseID("run", idText)
	if err != nil {
		return runDetail{}, err
	}
	if s.history == nil {
		return runDetail{}, errNoHistory
	}
	rows, err := s.runRows(ctx, 0)
	if err != nil {
		return runDetail{}, err
	}
	i := slices.IndexFunc(rows, func(r runRow) bool { return r.ID == id })
	if i < 0 {
		return runDetail{}, fmt.Errorf("run %d: %w", id, state.ErrNotFound)
	}
	outs, err := s.history.Outcomes(ctx, id)
	if err != nil {
		return runDetail{}, err
	}
	d := runDetail{Run: rows[i], Outcomes: make([]outcomeRow, 0, len(outs))}
	for _, o := range outs {
		changed := make([]string, 0, len(o.Changed))
		for k := range o.Changed {
			changed = append(changed, k)
		}
		slices.Sort(changed)
		d.Outcomes = append(d.Outcomes, outcomeRow{Printer: o.Printer, Status: o.Status, Detail: o.Detail, Changes: o.Changes, At: o.At, Changed: changed})
	}
	return d, nil
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request, p *principal) {
	d, err := s.runDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failed(w, r, p, "run", err)
		return
	}
	s.render(w, r, p, http.StatusOK, "run", fmt.Sprintf("Run %d", d.Run.ID), d)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, p *principal) {
	es, err := s.auditLog(r.Context())
	if err != nil {
		s.failed(w, r, p, "audit log", err)
		return
	}
	s.render(w, r, p, http.StatusOK, "audit", "Audit log", es)
}

// loginData is the login page's.
type loginData struct {
	CSRF     string
	Next     string
	Name     string
	Message  string
	Kerberos bool
	Password bool
	NoAuth   bool
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, _ *principal) {
	s.showLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, name, msg string) {
	tok, err := loginToken(w, r)
	if err != nil {
		http.Error(w, "no randomness", http.StatusInternalServerError)
		return
	}
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	d := loginData{CSRF: tok, Next: safeNext(next), Name: name, Message: msg,
		Kerberos: s.cfg.Negotiator != nil, Password: s.cfg.Passwords != nil, NoAuth: s.noAuth}
	s.render(w, r, nil, status, "login", "Log in", d)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request, _ *principal) {
	if s.cfg.Passwords == nil {
		s.showLogin(w, r, http.StatusNotFound, "", "This page takes no passwords.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.showLogin(w, r, http.StatusBadRequest, "", "The form could not be read.")
		return
	}
	if !loginTokenOK(r, r.PostFormValue("csrf")) {
		s.showLogin(w, r, http.StatusForbidden, "", "The login form expired; try again.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("username"))
	if name == "" || len(name) > maxParam {
		s.showLogin(w, r, http.StatusUnauthorized, "", auth.ErrBadCredentials.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), authTimeout)
	defer cancel()
	u, err := s.checkPassword(ctx, r, name, r.PostFormValue("password"), "")
	if err != nil {
		s.showLogin(w, r, statusOf(err), name, reasonOf(err))
		return
	}
	s.startSession(w, r, u)
}

// startSession issues the session cookie, audits the login and goes on to
// where the user was going.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u auth.User) {
	if _, err := s.setSession(w, u); err != nil {
		s.log.Error("status page: session", "err", err)
		s.errorPage(w, r, nil, http.StatusInternalServerError, "no session could be made")
		return
	}
	clearCookie(w, loginCookie)
	s.record(r.Context(), r, u.Name, actionLogin, "", u.Method+" as "+u.Role)
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// loginNegotiate logs in with Kerberos: it answers 401 Negotiate until the
// browser sends a ticket.
func (s *Server) loginNegotiate(w http.ResponseWriter, r *http.Request, _ *principal) {
	if s.cfg.Negotiator == nil {
		s.errorPage(w, r, nil, http.StatusNotFound, "this page takes no Kerberos logins")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), authTimeout)
	defer cancel()
	u, err := s.negotiate(ctx, r)
	if err != nil {
		status := statusOf(err)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Negotiate")
		}
		msg := "Kerberos login did not work: " + reasonOf(err) + ". Use the login form instead."
		s.errorPage(w, r, nil, status, msg)
		return
	}
	s.startSession(w, r, u)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *principal) {
	if p.session != nil {
		if err := s.keys.end(r.Context(), *p.session); err != nil {
			s.failed(w, r, p, "logout", err)
			return
		}
	}
	clearCookie(w, sessionCookie)
	s.record(r.Context(), r, p.Name, actionLogout, "", "")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
