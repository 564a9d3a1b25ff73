package watch_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch"
)

func jamsRoute(mods ...func(*alerts.Route)) alerts.Route {
	return route("jams", append([]func(*alerts.Route){func(r *alerts.Route) {
		r.Match = alerts.Match{Events: []string{alerts.Jam, alerts.DoorOpen}, Printers: []string{"lab-*"}}
	}}, mods...)...)
}

func TestTrapRaisedSendsOneEmail(t *testing.T) {
	h := start(t, nil, nil, defaultConfig(jamsRoute()))
	h.src.trap("lab-1", jam("1"))
	waitFor(t, "one email", func() bool { return h.notif.count() == 1 })
	h.stop()

	m := h.notif.sent()[0]
	if m.Subject != "[inkform] jam on lab-1 (critical)" {
		t.Errorf("subject = %q", m.Subject)
	}
	if len(m.To) != 1 || m.To[0] != "jams@example.test" {
		t.Errorf("to = %v", m.To)
	}
	for _, want := range []string{"jam raised on lab-1 (critical) at 2026-03-02 09:00:00 UTC", "paper jam in tray 1",
		"Lexmark MS821 serial LX123 at Lab, 2nd floor", "https://inkform.example.test/printers/lab-1", `alert_route "jams"`} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
	ds := h.deliveries(state.DeliveryFilter{})
	if len(ds) != 1 || ds[0].Status != state.DeliverySent || !ds[0].SentAt.Equal(t0) {
		t.Fatalf("deliveries = %+v", ds)
	}
	if m.ID != fmt.Sprintf("inkform.d%d@inkform.invalid", ds[0].ID) {
		t.Errorf("message id = %q", m.ID)
	}
	evs := h.events()
	if len(evs) != 1 || evs[0].Key != "lab-1/jam/1" || evs[0].Source != alerts.SourceTrap || evs[0].From != "127.0.0.10" || !evs[0].At.Equal(t0) {
		t.Fatalf("events = %+v", evs)
	}
}

func TestRouteMatching(t *testing.T) {
	cases := []struct {
		name    string
		match   alerts.Match
		printer string
		sig     alerts.Signal
		want    bool
	}{
		{"everything", alerts.Match{}, "office-1", jam("1"), true},
		{"event listed", alerts.Match{Events: []string{alerts.DoorOpen, alerts.Jam}}, "lab-1", jam("1"), true},
		{"event not listed", alerts.Match{Events: []string{alerts.TonerLow}}, "lab-1", jam("1"), false},
		{"severity", alerts.Match{Severity: []alerts.Severity{alerts.Warning}}, "lab-1", jam("1"), false},
		{"glob", alerts.Match{Printers: []string{"lab-*"}}, "lab-2", jam("1"), true},
		{"glob misses", alerts.Match{Printers: []string{"lab-*"}}, "office-1", jam("1"), false},
		{"keyword", alerts.Match{Keywords: []string{"hq"}}, "office-1", jam("1"), true},
		{"keyword misses", alerts.Match{Keywords: []string{"hq"}}, "lab-1", jam("1"), false},
		{"lists are ANDed", alerts.Match{Keywords: []string{"hq"}, Printers: []string{"lab-*"}}, "lab-2", jam("1"), true},
		{"lists are ANDed, one misses", alerts.Match{Keywords: []string{"hq"}, Printers: []string{"lab-*"}, Events: []string{alerts.Offline}}, "lab-2", jam("1"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := start(t, nil, nil, defaultConfig(route("r", func(r *alerts.Route) { r.Match = c.match })))
			h.src.trap(c.printer, c.sig)
			waitFor(t, "the event routed", func() bool { return h.eng.Stats().Routed == 1 })
			if c.want {
				waitFor(t, "one email", func() bool { return h.notif.count() == 1 })
			}
			h.stop()
			if got := h.notif.count() == 1; got != c.want {
				t.Fatalf("sent = %v, want %v", got, c.want)
			}
		})
	}
}

func TestTrapStormIsOneAlert(t *testing.T) {
	h := start(t, nil, nil, defaultConfig(jamsRoute()))
	for range 200 {
		h.src.trap("lab-1", jam("1"))
	}
	waitFor(t, "one email", func() bool { return h.notif.count() == 1 })
	h.stop()
	if n := len(h.events()); n != 1 {
		t.Fatalf("%d events recorded, want 1", n)
	}
	if st := h.eng.Stats(); st.Received != 200 || st.Duplicates != 199 || st.EventsRecorded != 1 || st.Messages != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestAlsoOnClear(t *testing.T) {
	onClear := route("on-clear", func(r *alerts.Route) { r.AlsoOnClear = true; r.Body = keysBody })
	h := start(t, nil, nil, defaultConfig(onClear, route("raise-only", func(r *alerts.Route) { r.Body = keysBody })))
	h.src.trap("lab-1", jam("1"))
	waitFor(t, "two raise emails", func() bool { return h.notif.count() == 2 })
	h.src.trap("lab-1", cleared(jam("1")))
	waitFor(t, "the clear email", func() bool { return h.notif.count() == 3 })
	waitFor(t, "the clear routed", func() bool { return h.eng.Stats().Routed == 2 })
	h.stop()
	byRoute := map[string][]string{}
	for _, m := range h.notif.sent() {
		byRoute[m.To[0]] = append(byRoute[m.To[0]], m.Subject)
	}
	if got := byRoute["on-clear@example.test"]; len(got) != 2 || got[1] != "[inkform] jam cleared on lab-1 (critical)" {
		t.Errorf("on-clear got %q", got)
	}
	if got := byRoute["raise-only@example.test"]; len(got) != 1 {
		t.Errorf("raise-only got %q", got)
	}
}

func TestGrace(t *testing.T) {
	cases := []struct {
		name  string
		flap  time.Duration // raise to clear
		wantN int           // emails
	}{
		{"clears within grace: nothing", 10 * time.Second, 0},
		{"clears just before grace ends: nothing", 59 * time.Second, 0},
		{"clears after grace: raise and clear", 90 * time.Second, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := route("r", func(r *alerts.Route) { r.Grace = time.Minute; r.AlsoOnClear = true; r.Body = keysBody })
			h := start(t, nil, nil, defaultConfig(r))
			h.src.trap("lab-1", jam("1"))
			waitFor(t, "the raise routed", func() bool { return h.eng.Stats().Routed == 1 })
			if d := h.deliveries(state.DeliveryFilter{}); !d[0].DueAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("raise due %v, want after grace", d[0].DueAt)
			}
			if c.flap > time.Minute {
				h.clock.Advance(time.Minute)
				waitFor(t, "the raise sent", func() bool { return h.notif.count() == 1 })
				h.clock.Advance(c.flap - time.Minute)
			} else {
				h.clock.Advance(c.flap)
			}
			h.src.trap("lab-1", cleared(jam("1")))
			waitFor(t, "the clear routed", func() bool { return h.eng.Stats().Routed == 2 })
			h.clock.Advance(2 * time.Minute)
			if c.wantN == 0 {
				h.waitDeliveries(state.DeliverySuppressed, 2)
			} else {
				h.waitDeliveries(state.DeliverySent, 2)
			}
			h.stop()
			if n := h.notif.count(); n != c.wantN {
				t.Fatalf("%d emails, want %d", n, c.wantN)
			}
			for _, d := range h.deliveries(state.DeliveryFilter{Status: state.DeliverySuppressed}) {
				if d.Detail != "cleared within grace (1m0s)" {
					t.Errorf("suppressed with %q", d.Detail)
				}
			}
		})
	}
}

func TestGroupWaitDigest(t *testing.T) {
	r := route("jams", func(r *alerts.Route) { r.GroupWait = 30 * time.Second; r.GroupInterval = 5 * time.Minute })
	h := start(t, nil, nil, defaultConfig(r))
	for i := range 100 {
		h.src.trap("lab-1", jam(fmt.Sprint(i)))
		if i == 50 {
			h.clock.Advance(10 * time.Second) // a storm takes a while: the group stays one
		}
	}
	waitFor(t, "100 events routed", func() bool { return h.eng.Stats().Routed == 100 })
	if h.notif.count() != 0 {
		t.Fatal("sent before group_wait")
	}
	h.clock.Advance(20 * time.Second)
	h.waitDeliveries(state.DeliverySent, 100)
	h.stop()
	msgs := h.notif.sent()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want one digest", len(msgs))
	}
	if msgs[0].Subject != "[inkform] 100 alerts on route jams" {
		t.Errorf("subject = %q", msgs[0].Subject)
	}
	if n := strings.Count(msgs[0].Body, "jam raised on lab-1"); n != 100 {
		t.Errorf("digest lists %d alerts, want 100", n)
	}
	if !strings.HasPrefix(msgs[0].ID, "inkform.d1-100.n100.") {
		t.Errorf("digest message id = %q", msgs[0].ID)
	}
}

func TestGroupInterval(t *testing.T) {
	r := route("jams", func(r *alerts.Route) { r.GroupInterval = 5 * time.Minute; r.Body = keysBody })
	h := start(t, nil, nil, defaultConfig(r))
	h.src.trap("lab-1", jam("1"))
	waitFor(t, "the first email", func() bool { return h.notif.count() == 1 })
	h.clock.Advance(time.Minute)
	h.src.trap("lab-1", jam("2"))
	h.src.trap("lab-2", jam("1"))
	waitFor(t, "both postponed to group_interval", func() bool {
		ds := h.deliveries(state.DeliveryFilter{Status: state.DeliveryPending})
		return len(ds) == 2 && ds[0].DueAt.Equal(t0.Add(5*time.Minute)) && ds[1].DueAt.Equal(t0.Add(5*time.Minute)) && ds[0].ClaimedBy == ""
	})
	if h.notif.count() != 1 {
		t.Fatal("sent within group_interval")
	}
	h.clock.Advance(4 * time.Minute)
	h.waitDeliveries(state.DeliverySent, 3)
	h.stop()
	msgs := h.notif.sent()
	if len(msgs) != 2 || lines(msgs[1:])["lab-1/jam/2|raised"] != 1 || lines(msgs[1:])["lab-2/jam/1|raised"] != 1 {
		t.Fatalf("emails = %+v", msgs)
	}
	if ds := h.deliveries(state.DeliveryFilter{Limit: 1}); !ds[0].SentAt.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("second email sent at %v, want %v", ds[0].SentAt, t0.Add(5*time.Minute))
	}
}

func TestRepeat(t *testing.T) {
	r := route("r", func(r *alerts.Route) { r.Repeat = time.Hour; r.Body = keysBody })
	cfg := defaultConfig(r)
	cfg.Watch.TrapTTL = 24 * time.Hour // nothing polls: trap alerts would end after an hour
	h := start(t, nil, nil, cfg)
	h.src.trap("lab-1", jam("1"))
	h.src.trap("lab-1", jam("2"))
	h.src.trap("lab-1", jam("3"))
	waitFor(t, "the raises sent", func() bool { return len(lines(h.notif.sent())) == 3 })
	// jam 2 is acknowledged, jam 3 cleared: only jam 1 repeats.
	if err := h.store.Ack(context.Background(), "lab-1/jam/2", "ann", "", t0); err != nil {
		t.Fatal(err)
	}
	h.src.trap("lab-1", cleared(jam("3")))
	waitFor(t, "the clear routed", func() bool { return h.eng.Stats().Routed == 4 })
	n := h.notif.count()
	h.clock.Advance(time.Hour)
	waitFor(t, "a repeat", func() bool { return h.notif.count() == n+1 })
	m := h.notif.sent()[n]
	if m.Body != "lab-1/jam/1|repeat\n" {
		t.Fatalf("repeat email body %q, want jam 1 only", m.Body)
	}
	if want := "[inkform] jam still active on lab-1 (critical)"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	h.clock.Advance(time.Hour)
	waitFor(t, "the second repeat", func() bool { return h.notif.count() == n+2 })
	h.stop()
	reps := h.deliveries(state.DeliveryFilter{Status: state.DeliverySent})
	if reps[0].Dedupe != "repeat:lab-1/jam/1:1.2" || reps[1].Dedupe != "repeat:lab-1/jam/1:1.1" {
		t.Fatalf("repeat dedupes %q, %q", reps[0].Dedupe, reps[1].Dedupe)
	}
}

func TestSilence(t *testing.T) {
	h := start(t, nil, nil, defaultConfig(jamsRoute()))
	if _, err := h.store.AddSilence(context.Background(), state.Silence{Printer: "lab-*", Event: alerts.Jam, Starts: t0, Ends: t0.Add(time.Hour), Comment: "maintenance"}); err != nil {
		t.Fatal(err)
	}
	h.src.trap("lab-1", jam("1"))
	h.src.trap("lab-1", alerts.Signal{Name: alerts.DoorOpen, Index: "1"})
	h.waitDeliveries(state.DeliverySuppressed, 1)
	waitFor(t, "the door email", func() bool { return h.notif.count() == 1 })
	h.stop()
	if s := h.notif.sent()[0].Subject; s != "[inkform] door_open on lab-1 (critical)" {
		t.Fatalf("sent %q, want only the door", s)
	}
	if d := h.deliveries(state.DeliveryFilter{Status: state.DeliverySuppressed}); d[0].Detail != "silenced (silence 1: maintenance)" {
		t.Fatalf("detail %q", d[0].Detail)
	}
}

func TestOfflineInhibits(t *testing.T) {
	poller := &fakePoller{}
	poller.set("lab-1", watch.PollResult{Unreachable: true, Err: errors.New("timeout")})
	cfg := defaultConfig(route("all", func(r *alerts.Route) { r.AlsoOnClear = true; r.Body = keysBody }))
	cfg.Watch = alerts.Watch{Poll: 5 * time.Minute, OfflineAfter: 2}
	h := start(t, nil, nil, cfg, func(c *watch.Config, d *watch.Deps) { d.Poller = poller })
	waitFor(t, "the first poll", func() bool { return poller.count() == 1 })
	h.clock.Advance(5 * time.Minute)
	waitFor(t, "the offline email", func() bool { return h.notif.count() == 1 })
	if m := h.notif.sent()[0]; m.Subject != "[inkform] offline on lab-1 (critical)" {
		t.Fatalf("subject %q", m.Subject)
	}
	if evs := h.events(); !strings.Contains(evs[0].Description, "no answer to 2 polls: timeout") {
		t.Fatalf("offline description %q", evs[0].Description)
	}
	h.src.trap("lab-1", jam("1"))
	h.waitDeliveries(state.DeliverySuppressed, 1)
	if d := h.deliveries(state.DeliveryFilter{Status: state.DeliverySuppressed}); d[0].Detail != "inhibited: lab-1 is offline" {
		t.Fatalf("detail %q", d[0].Detail)
	}
	// Back: the offline alert clears; the jam (no prtAlertTable) stays.
	poller.set("lab-1", watch.PollResult{})
	h.clock.Advance(5 * time.Minute)
	waitFor(t, "the offline clear", func() bool { return h.notif.count() == 2 })
	h.src.trap("lab-1", alerts.Signal{Name: alerts.DoorOpen})
	waitFor(t, "the door email", func() bool { return h.notif.count() == 3 })
	h.stop()
	got := lines(h.notif.sent())
	want := map[string]int{"lab-1/offline|raised": 1, "lab-1/offline|cleared": 1, "lab-1/door_open|raised": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("emails %v, want %v", got, want)
	}
}

func TestPollDiff(t *testing.T) {
	poller := &fakePoller{}
	cfg := defaultConfig(route("all", func(r *alerts.Route) { r.AlsoOnClear = true; r.Body = keysBody }))
	cfg.Watch = alerts.Watch{Poll: 5 * time.Minute, TrapTTL: time.Hour}
	tonerLow := alerts.Signal{Name: alerts.TonerLow, Code: 1104, Index: "4", Severity: alerts.Warning}
	poller.set("lab-1", watch.PollResult{AlertsRead: true, Signals: []alerts.Signal{tonerLow}})
	poller.set("lab-2", watch.PollResult{AlertsRead: false})
	h := start(t, nil, nil, cfg, func(c *watch.Config, d *watch.Deps) { d.Poller = poller })
	waitFor(t, "toner low from the poll", func() bool { return h.notif.count() == 1 })
	// A trap on each: lab-1 has the table, so its poll right after (the
	// debounce) clears the jam it does not list; lab-2 has none, so its
	// jam stays until trap_ttl.
	h.src.trap("lab-1", jam("1"))
	h.src.trap("lab-2", jam("1"))
	waitFor(t, "the two jams sent", func() bool { return len(lines(h.notif.sent())) == 3 })
	polls := poller.count()
	h.clock.Advance(5 * time.Second)
	waitFor(t, "the debounced poll", func() bool { return poller.count() == polls+1 })
	waitFor(t, "lab-1's jam cleared", func() bool { return len(lines(h.notif.sent())) == 4 })
	h.clock.Advance(time.Hour)
	waitFor(t, "lab-2's jam cleared by trap_ttl", func() bool { return len(lines(h.notif.sent())) == 5 })
	h.stop()
	want := map[string]int{"lab-1/toner_low/4|raised": 1, "lab-1/jam/1|raised": 1, "lab-1/jam/1|cleared": 1,
		"lab-2/jam/1|raised": 1, "lab-2/jam/1|cleared": 1}
	if got := lines(h.notif.sent()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("emails %v, want %v", got, want)
	}
	for _, ev := range h.events() {
		if ev.Key == "lab-2/jam/1" && ev.Kind == alerts.Cleared && !strings.Contains(ev.Description, "trap_ttl") {
			t.Errorf("ttl clear says %q", ev.Description)
		}
	}
}

func TestTemporaryFailureRetriesWithBackoff(t *testing.T) {
	h := start(t, nil, nil, defaultConfig(jamsRoute()), func(c *watch.Config, d *watch.Deps) {
		d.Tuning.RetryMin, d.Tuning.RetryMax = time.Minute, 10*time.Minute
	})
	h.notif.fail = func(ctx context.Context, n int, m watch.Message) error {
		if n <= 2 {
			return errors.New("451 4.3.0 try again later")
		}
		return nil
	}
	h.src.trap("lab-1", jam("1"))
	for attempt, window := range [][2]time.Duration{{30 * time.Second, time.Minute}, {time.Minute, 2 * time.Minute}} {
		var due time.Time
		waitFor(t, fmt.Sprintf("failure %d released", attempt+1), func() bool {
			ds := h.deliveries(state.DeliveryFilter{})
			if len(ds) == 0 {
				return false
			}
			d := ds[0]
			due = d.DueAt
			return d.Attempts == attempt+1 && d.ClaimedBy == ""
		})
		wait := due.Sub(h.clock.Now())
		if wait < window[0] || wait > window[1] {
			t.Fatalf("retry %d in %v, want within %v", attempt+1, wait, window)
		}
		h.clock.Advance(wait)
	}
	h.waitDeliveries(state.DeliverySent, 1)
	h.stop()
	if h.notif.count() != 1 || h.notif.calls != 3 {
		t.Fatalf("%d emails in %d calls, want 1 in 3", h.notif.count(), h.notif.calls)
	}
	if d := h.deliveries(state.DeliveryFilter{})[0]; d.Attempts != 2 {
		t.Fatalf("delivery %+v", d)
	}
}

func TestPermanentFailures(t *testing.T) {
	cases := []struct {
		name    string
		subject string
		fail    error
		detail  string
		calls   int
	}{
		{"refused", "", &watch.PermanentError{Err: errors.New("550 5.1.1 no such user")}, "550 5.1.1 no such user", 1},
		{"template", "{{.Nope}}", nil, `route jams: subject template: template: subject:1:2: executing "subject" at <.Nope>: can't evaluate field Nope in type alerts.TemplateData`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := start(t, nil, nil, defaultConfig(jamsRoute(func(r *alerts.Route) { r.Subject = c.subject })))
			h.notif.fail = func(context.Context, int, watch.Message) error { return c.fail }
			h.src.trap("lab-1", jam("1"))
			h.waitDeliveries(state.DeliveryFailed, 1)
			h.stop()
			d := h.deliveries(state.DeliveryFilter{})[0]
			if d.Detail != c.detail || d.Attempts != 0 {
				t.Fatalf("detail %q (attempts %d), want %q", d.Detail, d.Attempts, c.detail)
			}
			if h.notif.calls != c.calls {
				t.Fatalf("%d sends, want %d", h.notif.calls, c.calls)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		r    alerts.Route
		want string
	}{
		{route("r", func(r *alerts.Route) { r.Match.Events = []string{"jamm"} }), `alert_route "r": match.events: unknown event "jamm"`},
		{route("r", func(r *alerts.Route) { r.Match.Printers = []string{"lab-["} }), `alert_route "r": match.printers: pattern "lab-["`},
		{route("r", func(r *alerts.Route) { r.Body = "{{.Printer" }), `alert_route "r": body template:`},
		{route("r", func(r *alerts.Route) { r.Email = alerts.Email{} }), `alert_route "r": email: no recipients`},
	}
	h := start(t, nil, nil, defaultConfig(jamsRoute()))
	for _, c := range cases {
		if _, err := watch.New(defaultConfig(c.r), watch.Deps{Outbox: h.store, Notifier: h.notif}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New: %v, want %q", err, c.want)
		}
		if err := h.eng.Reload(defaultConfig(c.r)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Reload: %v, want %q", err, c.want)
		}
	}
	// The refused reloads kept the running configuration.
	h.src.trap("lab-1", jam("1"))
	waitFor(t, "an email by the old route", func() bool { return h.notif.count() == 1 })
}

func TestTestAndReportDeliveries(t *testing.T) {
	var composed []int64
	h := start(t, nil, nil, defaultConfig(jamsRoute(func(r *alerts.Route) { r.GroupInterval = time.Hour })), func(c *watch.Config, d *watch.Deps) {
		d.Compose = func(ctx context.Context, d state.Delivery) (watch.Message, error) {
			composed = append(composed, d.ID)
			return watch.Message{ID: "report", To: d.To, Subject: "[inkform] report supplies",
				Attachments: []watch.Attachment{{Name: "supplies.csv", ContentType: "text/csv", Data: []byte("printer\n")}}}, nil
		}
	})
	h.src.trap("lab-1", jam("1"))
	waitFor(t, "the jam email", func() bool { return h.notif.count() == 1 })
	// Neither waits for the route's group_interval, nor joins a digest.
	n, err := h.store.AddDeliveries(context.Background(), []state.Delivery{
		{Route: "jams", Kind: state.DeliveryTest, Dedupe: "test:1", To: []string{"ops@example.test"}, DueAt: t0},
		{Route: "report:supplies", Kind: state.DeliveryReport, Dedupe: "report:supplies:1", To: []string{"ops@example.test"}, DueAt: t0},
	})
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	h.clock.Advance(time.Second)
	waitFor(t, "the test and the report", func() bool { return h.notif.count() == 3 })
	h.stop()
	subjects := map[string]bool{}
	for _, m := range h.notif.sent() {
		subjects[m.Subject] = true
	}
	if !subjects[`[inkform] test message for alert_route "jams"`] || !subjects["[inkform] report supplies"] || len(composed) != 1 {
		t.Fatalf("subjects %v, composed %v", subjects, composed)
	}
}

func TestPollReadErrorKeepsAlerts(t *testing.T) {
	poller := &fakePoller{}
	cfg := defaultConfig(route("all", func(r *alerts.Route) { r.AlsoOnClear = true; r.Body = keysBody }))
	cfg.Watch = alerts.Watch{Poll: 5 * time.Minute}
	low := alerts.Signal{Name: alerts.TonerLow, Code: 1104, Index: "1"}
	poller.set("lab-1", watch.PollResult{AlertsRead: true, Signals: []alerts.Signal{low}})
	h := start(t, nil, nil, cfg, func(c *watch.Config, d *watch.Deps) { d.Poller = poller })
	waitFor(t, "toner low", func() bool { return h.notif.count() == 1 })
	// A reading that failed part-way says nothing about the alerts.
	poller.set("lab-1", watch.PollResult{AlertsRead: true, Err: errors.New("get 1.3.6.1.2.1.43.18.1.1: timeout")})
	h.clock.Advance(5 * time.Minute)
	waitFor(t, "the second poll", func() bool { return poller.count() == 2 })
	poller.set("lab-1", watch.PollResult{AlertsRead: true, Signals: []alerts.Signal{low}})
	// Reloaded with a shorter poll interval, the next poll comes sooner.
	cfg.Watch.Poll = time.Minute
	if err := h.eng.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	waitFor(t, "the third poll", func() bool { return poller.count() == 3 })
	// Had the failed reading cleared it, this poll would raise it again.
	poller.set("lab-1", watch.PollResult{AlertsRead: true})
	h.clock.Advance(time.Minute)
	waitFor(t, "the toner clear", func() bool { return h.notif.count() == 2 })
	h.stop()
	want := map[string]int{"lab-1/toner_low/1|raised": 1, "lab-1/toner_low/1|cleared": 1}
	if got := lines(h.notif.sent()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("emails %v, want %v", got, want)
	}
	if polls := poller.count(); polls != 4 {
		t.Fatalf("%d polls, want 4", polls)
	}
}

// lockedBuffer is a log destination the engine and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Each poll cycle is logged with the printers it polled and how long it
// took (the performance figures read the line).
func TestPollCycleLogged(t *testing.T) {
	poller := &fakePoller{}
	cfg := defaultConfig()
	cfg.Watch = alerts.Watch{Poll: 5 * time.Minute, TrapTTL: time.Hour}
	logs := &lockedBuffer{}
	h := start(t, nil, nil, cfg, func(c *watch.Config, d *watch.Deps) {
		d.Poller = poller
		d.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	line := regexp.MustCompile(`msg="watch: polled" printers=3 seconds=[0-9.e+-]+\n`)
	waitFor(t, "the poll cycle's log line", func() bool { return line.MatchString(logs.String()) })
	polls := poller.count()
	h.clock.Advance(5 * time.Minute)
	waitFor(t, "the next poll", func() bool { return poller.count() > polls })
	waitFor(t, "its log line", func() bool { return len(line.FindAllString(logs.String(), -1)) == 2 })
}
