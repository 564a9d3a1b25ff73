package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
)

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	return v
}

func TestAPIPrinter(t *testing.T) {
	e := newEnv(t, 10)
	ctx := context.Background()
	e.store.PutPrinter(ctx, state.Printer{Name: "p00001", Address: "10.0.0.1", Settings: map[string]string{
		"system.contact": state.HashValue("IT x4000"), "security.admin_pin": mustKey(t, e.store).Hash("4321")},
		Values: map[string]string{"system.contact": "IT x4000"}})
	rec, _, _ := e.store.Printer(ctx, "p00001")
	e.views[1].Recorded = &rec
	id, _ := e.store.BeginRun(ctx, state.Run{Command: "apply", User: "ana", Host: "ci", StartedAt: t0})
	e.store.RecordOutcome(ctx, id, state.Outcome{Printer: "p00001", Status: "applied", Changes: 1, At: t0,
		Changed: map[string]string{"security.admin_pin": mustKey(t, e.store).Hash("4321")}})
	e.store.FinishRun(ctx, id, state.RunOK)
	raise(t, e.store, "p00001", alerts.Jam, t0)
	c := e.login("vera", "viewer-pw")

	w := e.do("GET", "/api/v1/printers/p00001", nil, nil, c)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	for _, secret := range []string{"4321", "hmac-sha256:", "sha256:"} {
		if strings.Contains(w.Body.String(), secret) {
			t.Errorf("the printer's JSON holds %q:\n%s", secret, w.Body)
		}
	}
	p := decode[printerJSON](t, w.Body.Bytes())
	if p.FormatVersion != apiVersion || p.Printer.Name != "p00001" || p.Printer.Model != "Lexmark MS823" || len(p.Printer.Supplies) != 2 {
		t.Errorf("printer %+v", p.Printer)
	}
	want := map[string]settingRow{
		"system.contact":     {Name: "system.contact", Desired: "IT x4000", Observed: "IT x4000", Applied: "IT x4000"},
		"security.admin_pin": {Name: "security.admin_pin", Desired: "(sensitive)", Observed: "(sensitive)", Applied: "(sensitive)", Sensitive: true},
	}
	for _, s := range p.Settings {
		if s != want[s.Name] {
			t.Errorf("setting %+v, want %+v", s, want[s.Name])
		}
	}
	if len(p.ActiveAlerts) != 1 || p.ActiveAlerts[0].Key != "p00001/jam" || p.Printer.Alerts != 1 {
		t.Errorf("active alerts %+v", p.ActiveAlerts)
	}
	if len(p.History) != 1 || p.History[0].RunID != id || p.History[0].Status != "applied" {
		t.Errorf("history %+v", p.History)
	}
	// The HTML page shows no secret either.
	page := e.do("GET", "/printers/p00001", nil, nil, c).Body.String()
	if strings.Contains(page, "4321") || !strings.Contains(page, "(sensitive)") {
		t.Error("the printer page shows a sensitive value")
	}
	// The run: settings written by name, never their hashes.
	w = e.do("GET", "/api/v1/runs/1", nil, nil, c)
	run := decode[runJSON](t, w.Body.Bytes())
	if w.Code != 200 || run.Run.Status != state.RunOK || len(run.Outcomes) != 1 || strings.Join(run.Outcomes[0].Changed, ",") != "security.admin_pin" || strings.Contains(w.Body.String(), "hmac") {
		t.Errorf("run: %d %s", w.Code, w.Body)
	}
	runs := decode[runsJSON](t, e.do("GET", "/api/v1/runs?limit=5", nil, nil, c).Body.Bytes())
	if len(runs.Runs) != 1 || runs.Runs[0].User != "ana" || runs.Runs[0].FinishedAt == nil {
		t.Errorf("runs %+v", runs)
	}
	for _, path := range []string{"/api/v1/printers/nope", "/api/v1/runs/99", "/printers/nope"} {
		if w := e.do("GET", path, nil, nil, c); w.Code != 404 {
			t.Errorf("%s: %d", path, w.Code)
		}
	}
	if w := e.do("GET", "/api/v1/runs/x", nil, nil, c); w.Code != 400 {
		t.Errorf("/api/v1/runs/x: %d", w.Code)
	}
	// A name with brackets and quotes (for_each instances).
	e.views[2].Printer.Name = `office["a b"]`
	if w := e.do("GET", "/api/v1/printers/office%5B%22a%20b%22%5D", nil, nil, c); w.Code != 200 {
		t.Errorf("for_each name: %d", w.Code)
	}
}

func mustKey(t *testing.T, s state.Store) state.Key {
	k, err := s.ValueKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAPIAlertsAndSilences(t *testing.T) {
	e := newEnv(t, 10)
	ctx := context.Background()
	raise(t, e.store, "lab-1", alerts.Jam, t0)
	raise(t, e.store, "lab-2", alerts.TonerLow, t0.Add(time.Minute))
	raise(t, e.store, "hq-1", alerts.Jam, t0.Add(2*time.Minute))
	e.store.AppendEvents(ctx, []alerts.Event{{Printer: "hq-1", Key: "hq-1/jam", Kind: alerts.Cleared, Name: alerts.Jam, Severity: alerts.Critical, Source: alerts.SourcePoll, At: t0.Add(3 * time.Minute)}})
	sam := http.Header{"Authorization": {"Basic " + basic("sam", "desk-pw")}}
	get := func(q string) alertsJSON {
		w := e.do("GET", "/api/v1/alerts"+q, nil, sam)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", q, w.Code, w.Body)
		}
		return decode[alertsJSON](t, w.Body.Bytes())
	}
	keys := func(a alertsJSON) string {
		var ks []string
		for _, r := range a.Alerts {
			ks = append(ks, r.Key+":"+r.Kind)
		}
		return strings.Join(ks, " ")
	}
	for q, want := range map[string]string{
		"":                        "lab-1/jam:raised lab-2/toner_low:raised",
		"?printer=lab-*":          "lab-1/jam:raised lab-2/toner_low:raised",
		"?severity=warning":       "lab-2/toner_low:raised",
		"?event=jam":              "lab-1/jam:raised",
		"?state=cleared":          "hq-1/jam:cleared",
		"?state=all&printer=hq-1": "hq-1/jam:cleared hq-1/jam:raised",
		"?per_page=1&page=2":      "lab-2/toner_low:raised",
		"?acked=yes":              "",
	} {
		if got := keys(get(q)); got != want {
			t.Errorf("alerts%s = %q, want %q", q, got, want)
		}
	}
	js := sam.Clone()
	js.Set("Content-Type", "application/json")
	post := func(path, body string) *jsonResp {
		w := e.do("POST", path, strings.NewReader(body), js)
		return &jsonResp{w.Code, w.Body.String()}
	}
	if r := post("/api/v1/alerts/ack", `{"key":"lab-1/jam","comment":"on my way"}`); r.code != 200 {
		t.Errorf("ack: %+v", r)
	}
	if got := keys(get("?acked=yes")); got != "lab-1/jam:raised" {
		t.Errorf("acked = %q", got)
	}
	a := get("?acked=yes").Alerts[0]
	if a.AckedBy != "sam" || a.Comment != "on my way" || a.AckedAt == nil {
		t.Errorf("acked alert %+v", a)
	}
	for body, want := range map[string]int{
		`{"key":"hq-1/jam"}`:    404, // cleared
		`{"key":""}`:            400,
		`{"key":"x","extra":1}`: 400,
		`not json`:              400,
	} {
		if r := post("/api/v1/alerts/ack", body); r.code != want {
			t.Errorf("ack %s: %+v, want %d", body, r, want)
		}
	}
	r := post("/api/v1/silences", `{"printer":"lab-*","event":"toner_low","duration":"4h","comment":"toner on order"}`)
	if r.code != 201 {
		t.Fatalf("silence: %+v", r)
	}
	sl := decode[oneSilenceJSON](t, []byte(r.body)).Silence
	if sl.ID == 0 || sl.By != "sam" || !sl.Ends.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("silence %+v", sl)
	}
	for body, want := range map[string]string{
		`{"printer":"","event":"","duration":"1h","comment":"x"}`:           "every event of every printer",
		`{"printer":"a","event":"explosion","duration":"1h","comment":"x"}`: "not an event name",
		`{"printer":"a","duration":"forever","comment":"x"}`:                "duration",
		`{"printer":"a","duration":"2400h","comment":"x"}`:                  "longer than",
		`{"printer":"a","duration":"1h"}`:                                   "comment",
		`{"printer":"[","duration":"1h","comment":"x"}`:                     "pattern",
	} {
		if r := post("/api/v1/silences", body); r.code != 400 || !strings.Contains(r.body, want) {
			t.Errorf("silence %s: %+v, want 400 saying %q", body, r, want)
		}
	}
	sils := decode[silencesJSON](t, e.do("GET", "/api/v1/silences", nil, sam).Body.Bytes())
	if len(sils.Silences) != 1 {
		t.Errorf("silences %+v", sils)
	}
	if r := post("/api/v1/silences/"+itoa(sl.ID)+"/expire", `{}`); r.code != 200 {
		t.Errorf("expire: %+v", r)
	}
	if r := post("/api/v1/silences/999/expire", `{}`); r.code != 404 {
		t.Errorf("expire unknown: %+v", r)
	}
	e.clock.Add(time.Second)
	if sils := decode[silencesJSON](t, e.do("GET", "/api/v1/silences", nil, sam).Body.Bytes()); len(sils.Silences) != 0 {
		t.Errorf("silences after expiry %+v", sils)
	}
	if sils := decode[silencesJSON](t, e.do("GET", "/api/v1/silences?all=yes", nil, sam).Body.Bytes()); len(sils.Silences) != 1 {
		t.Errorf("all silences %+v", sils)
	}
	// Every action is in the audit log, which an admin reads.
	w := e.do("GET", "/api/v1/audit", nil, http.Header{"Authorization": {"Basic " + basic("ada", "admin-pw")}})
	var audit struct {
		FormatVersion string           `json:"format_version"`
		Entries       []auditEntryJSON `json:"entries"`
	}
	json.Unmarshal(w.Body.Bytes(), &audit)
	var actions []string
	for _, a := range audit.Entries {
		actions = append(actions, a.Action+":"+a.User+":"+a.Target)
	}
	got := strings.Join(actions, " ")
	want := "expire_silence:sam:" + itoa(sl.ID) + " silence:sam:" + itoa(sl.ID) + " ack:sam:lab-1/jam"
	if w.Code != 200 || got != want {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

type jsonResp struct {
	code int
	body string
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
