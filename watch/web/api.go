package web

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inkform/inkform/state"
)

// apiVersion is the format_version of every JSON document of the API.
const apiVersion = "1.0"

// maxJSONBody bounds a POST's body.
const maxJSONBody = 64 << 10

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		s.log.Debug("status page: write JSON", "err", err)
	}
}

type apiErrorBody struct {
	FormatVersion string   `json:"format_version"`
	Error         apiError `json:"error"`
}

type apiError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func (s *Server) apiError(w http.ResponseWriter, status int, msg string) {
	s.writeJSON(w, status, apiErrorBody{FormatVersion: apiVersion, Error: apiError{Status: status, Message: msg}})
}

// readJSON decodes a POST's JSON body into v, refusing unknown fields.
func readJSON(r *http.Request, v any) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return badParam("body", "must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badParam("body", "%v", err)
	}
	return nil
}

type whoamiJSON struct {
	FormatVersion string `json:"format_version"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	Method        string `json:"method"`
	// CSRFToken is what POSTs made with this session's cookie must send
	// in X-CSRF-Token; absent without a session.
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (s *Server) apiWhoami(w http.ResponseWriter, r *http.Request, p *principal) {
	s.writeJSON(w, http.StatusOK, whoamiJSON{FormatVersion: apiVersion, Name: p.Name, Role: p.Role, Method: p.Method, CSRFToken: p.csrf})
}

type printersJSON struct {
	FormatVersion string         `json:"format_version"`
	Total         int            `json:"total"`
	All           int            `json:"all"`
	Page          int            `json:"page"`
	PerPage       int            `json:"per_page"`
	Pages         int            `json:"pages"`
	ByStatus      map[string]int `json:"by_status"`
	Printers      []printerRow   `json:"printers"`
}

func (s *Server) apiPrinters(w http.ResponseWriter, r *http.Request, p *principal) {
	q, err := parseFleetQuery(r.URL.Query())
	if err != nil {
		s.apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	res := s.fleetResult(r.Context(), q)
	s.writeJSON(w, http.StatusOK, printersJSON{FormatVersion: apiVersion, Total: res.Total, All: res.All, Page: res.Page,
		PerPage: res.PerPage, Pages: res.Pages, ByStatus: res.ByStatus, Printers: res.Rows})
}

type printerJSON struct {
	FormatVersion string       `json:"format_version"`
	Printer       printerRow   `json:"printer"`
	Settings      []settingRow `json:"settings"`
	ActiveAlerts  []alertRow   `json:"active_alerts"`
	Events        []alertRow   `json:"events"`
	History       []historyRow `json:"history"`
	Notes         []string     `json:"notes"`
}

func (s *Server) apiPrinter(w http.ResponseWriter, r *http.Request, p *principal) {
	d, err := s.printerDetail(r.Context(), r.PathValue("name"))
	if err != nil {
		s.failed(w, r, p, "printer", err)
		return
	}
	s.writeJSON(w, http.StatusOK, printerJSON{FormatVersion: apiVersion, Printer: d.Row, Settings: d.Settings,
		ActiveAlerts: orEmpty(d.Active), Events: orEmpty(d.Events), History: orEmpty(d.History), Notes: orEmpty(d.Notes)})
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type alertsJSON struct {
	FormatVersion string     `json:"format_version"`
	State         string     `json:"state"`
	Total         int        `json:"total"`
	Page          int        `json:"page"`
	PerPage       int        `json:"per_page"`
	Pages         int        `json:"pages"`
	Alerts        []alertRow `json:"alerts"`
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request, p *principal) {
	q, err := parseAlertQuery(r.URL.Query())
	if err != nil {
		s.apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.queryAlerts(r.Context(), q)
	if err != nil {
		s.failed(w, r, p, "alerts", err)
		return
	}
	s.writeJSON(w, http.StatusOK, alertsJSON{FormatVersion: apiVersion, State: q.State, Total: res.Total, Page: res.Page,
		PerPage: res.PerPage, Pages: res.Pages, Alerts: res.Rows})
}

type ackRequest struct {
	Key     string `json:"key"`
	Comment string `json:"comment"`
}

type ackJSON struct {
	FormatVersion string `json:"format_version"`
	Acked         string `json:"acked"`
	By            string `json:"by"`
}

func (s *Server) apiAck(w http.ResponseWriter, r *http.Request, p *principal) {
	var req ackRequest
	if err := readJSON(r, &req); err != nil {
		s.apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.ack(r.Context(), r, p, req.Key, strings.TrimSpace(req.Comment)); err != nil {
		s.failed(w, r, p, "acknowledge", err)
		return
	}
	s.writeJSON(w, http.StatusOK, ackJSON{FormatVersion: apiVersion, Acked: req.Key, By: p.Name})
}

type planJSON struct {
	FormatVersion string `json:"format_version"`
	Started       bool   `json:"started"`
	By            string `json:"by"`
}

// apiPlanNow starts a plan of the fleet; its drift shows on the fleet
// and in the alerts once done.
func (s *Server) apiPlanNow(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := s.planNow(r.Context(), r, p); err != nil {
		s.failed(w, r, p, "plan", err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, planJSON{FormatVersion: apiVersion, Started: true, By: p.Name})
}

type silenceJSON struct {
	ID      int64     `json:"id"`
	Printer string    `json:"printer"`
	Event   string    `json:"event"`
	Starts  time.Time `json:"starts"`
	Ends    time.Time `json:"ends"`
	Comment string    `json:"comment"`
	By      string    `json:"by"`
}

func silenceOf(sl state.Silence) silenceJSON {
	return silenceJSON{ID: sl.ID, Printer: sl.Printer, Event: sl.Event, Starts: sl.Starts, Ends: sl.Ends, Comment: sl.Comment, By: sl.By}
}

type silencesJSON struct {
	FormatVersion string        `json:"format_version"`
	Silences      []silenceJSON `json:"silences"`
}

func (s *Server) apiSilences(w http.ResponseWriter, r *http.Request, p *principal) {
	if s.outbox == nil {
		s.failed(w, r, p, "silences", errNoOutbox)
		return
	}
	all, err := oneOf(r.URL.Query(), "all", []string{"yes", "no"})
	if err != nil {
		s.apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	at := s.now()
	if all == "yes" {
		at = time.Time{}
	}
	sils, err := s.outbox.Silences(r.Context(), at)
	if err != nil {
		s.failed(w, r, p, "silences", err)
		return
	}
	out := silencesJSON{FormatVersion: apiVersion, Silences: make([]silenceJSON, 0, len(sils))}
	for _, sl := range sils {
		out.Silences = append(out.Silences, silenceOf(sl))
	}
	s.writeJSON(w, http.StatusOK, out)
}

type silenceRequest struct {
	Printer  string `json:"printer"`
	Event    string `json:"event"`
	Duration string `json:"duration"`
	Comment  string `json:"comment"`
}

type oneSilenceJSON struct {
	FormatVersion string      `json:"format_version"`
	Silence       silenceJSON `json:"silence"`
}

func (s *Server) apiSilence(w http.ResponseWriter, r *http.Request, p *principal) {
	var req silenceRequest
	if err := readJSON(r, &req); err != nil {
		s.apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	f, err := parseSilence(url.Values{"printer": {req.Printer}, "event": {req.Event}, "duration": {req.Duration}, "comment": {req.Comment}})
	if err != nil {
		s.apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	sl, err := s.silence(r.Context(), r, p, f)
	if err != nil {
		s.failed(w, r, p, "silence", err)
		return
	}
	s.writeJSON(w, http.StatusCreated, oneSilenceJSON{FormatVersion: apiVersion, Silence: silenceOf(sl)})
}

func (s *Server) apiExpire(w http.ResponseWriter, r *http.Request, p *principal) {
	if err := s.expire(r.Context(), r, p, r.PathValue("id")); err != nil {
		s.failed(w, r, p, "silence", err)
		return
	}
	s.writeJSON(w, http.StatusOK, struct {
		FormatVersion string `json:"format_version"`
		Expired       string `json:"expired"`
	}{apiVersion, r.PathValue("id")})
}

type runsJSON struct {
	FormatVersion string   `json:"format_version"`
	Runs          []runRow `json:"runs"`
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request, p *principal) {
	limit, err := number(r.URL.Query(), "limit", runsShown, maxPerPage)
	if err != nil {
		s.apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	rows, err := s.runRows(r.Context(), limit)
	if err != nil {
		s.failed(w, r, p, "runs", err)
		return
	}
	s.writeJSON(w, http.StatusOK, runsJSON{FormatVersion: apiVersion, Runs: rows})
}

type runJSON struct {
	FormatVersion string       `json:"format_version"`
	Run           runRow       `json:"run"`
	Outcomes      []outcomeRow `json:"outcomes"`
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request, p *principal) {
	d, err := s.runDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failed(w, r, p, "run", err)
		return
	}
	s.writeJSON(w, http.StatusOK, runJSON{FormatVersion: apiVersion, Run: d.Run, Outcomes: d.Outcomes})
}

type auditEntryJSON struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Address string    `json:"address"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Detail  string    `json:"detail"`
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, p *principal) {
	es, err := s.auditLog(r.Context())
	if err != nil {
		s.failed(w, r, p, "audit log", err)
		return
	}
	out := struct {
		FormatVersion string           `json:"format_version"`
		Entries       []auditEntryJSON `json:"entries"`
	}{apiVersion, make([]auditEntryJSON, 0, len(es))}
	for _, e := range es {
		out.Entries = append(out.Entries, auditEntryJSON(e))
	}
	s.writeJSON(w, http.StatusOK, out)
}
