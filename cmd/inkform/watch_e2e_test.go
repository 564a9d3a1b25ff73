package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/reports"
	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/watch"
)

const mailUser, mailPassword = "inkform", "mailpit-s3cret-pw"

var frontDoor = simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupCover, GroupIndex: 1,
	Code: simulator.CodeDoorOpen, Description: "Front door open"}

const ccRoute = `
alert_route "doors" {
  match {
    events   = ["door_open", "jam"]
    printers = ["lab-*"]
  }
  email {
    to = ["helpdesk@example.test", "night-shift@example.test"]
    cc = ["facilities@example.test"]
  }
  grace          = "0s"
  group_wait     = "0s"
  group_interval = "1s"
}
`

func addresses(as []testservers.MailpitAddress) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Address)
	}
	slices.Sort(out)
	return out
}

// The routed email arrives through Mailpit with SMTP AUTH in each of the
// three encryptions, the TLS ones verified against the configured CA:
// recipients, subject and body as routed; the password nowhere in the
// logs.
func TestWatchEmailEncryptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  testservers.MailpitTLS
	}{{"none", testservers.MailpitPlain}, {"starttls", testservers.MailpitSTARTTLS}, {"ssl", testservers.MailpitImplicitTLS}} {
		t.Run(tc.name, func(t *testing.T) {
			f := startWatchFixtureWith(t, watchFixtureOptions{
				Mail: testservers.MailpitOptions{TLS: tc.tls, Users: map[string]string{mailUser: mailPassword}},
				User: mailUser, Password: mailPassword, Extra: ccRoute,
			})
			f.sim.Printers()[0].RaiseAlert(frontDoor)
			f.waitSubjects(1)
			sum := f.mail.Messages()[0]
			msg := f.mail.Message(sum.ID)
			if got := addresses(msg.To); !slices.Equal(got, []string{"helpdesk@example.test", "night-shift@example.test"}) {
				t.Errorf("to %v", got)
			}
			if got := addresses(msg.Cc); !slices.Equal(got, []string{"facilities@example.test"}) {
				t.Errorf("cc %v", got)
			}
			if msg.From.Address != "inkform@example.test" || msg.Subject != "[inkform] door_open on lab-1 (critical)" {
				t.Errorf("from %q subject %q", msg.From.Address, msg.Subject)
			}
			for _, want := range []string{"Front door open", "lab-1", "critical"} {
				if !strings.Contains(msg.Text, want) {
					t.Errorf("body lacks %q:\n%s", want, msg.Text)
				}
			}
			if !strings.HasPrefix(sum.MessageID, "inkform.d") {
				t.Errorf("Message-ID %q", sum.MessageID)
			}
			f.shutdown()
			if strings.Contains(f.logs.String(), mailPassword) {
				t.Errorf("the SMTP password is in the log:\n%s", f.logs.String())
			}
		})
	}
}

// A wrong SMTP password sends nothing and says so in the delivery, not
// with the password.
func TestWatchEmailAuthRefused(t *testing.T) {
	f := startWatchFixtureWith(t, watchFixtureOptions{
		Mail: testservers.MailpitOptions{TLS: testservers.MailpitSTARTTLS, Users: map[string]string{mailUser: mailPassword}},
		User: mailUser, Password: "wrong-" + mailPassword, Extra: ccRoute,
		Tuning: watch.Tuning{RetryMin: 100 * time.Millisecond, RetryMax: 200 * time.Millisecond, Tick: 100 * time.Millisecond},
	})
	f.sim.Printers()[0].RaiseAlert(frontDoor)
	key := f.waitActive(1)[0].Key
	waitUntil(t, "a failed attempt", 30*time.Second, func() bool {
		for _, d := range f.deliveries(key) {
			if d.Attempts >= 2 && d.Status == "pending" && d.Detail != "" {
				return true
			}
		}
		return false
	}, f.logs.String)
	if n := len(f.mail.Messages()); n != 0 {
		t.Errorf("%d emails with a wrong password", n)
	}
	f.shutdown()
	show, _, _ := f.cli("alerts", "show", key)
	if strings.Contains(f.logs.String()+show, mailPassword) {
		t.Errorf("the SMTP password is shown:\n%s\n%s", f.logs.String(), show)
	}
}

// activeJSON is an alert of `alerts list -json`.
type activeJSON struct {
	Key, Printer, Event, AckedBy, Comment string
	AckedAt                               time.Time `json:"acked_at"`
}

type deliveryRow struct {
	ID       int64
	Route    string
	Kind     string
	To       []string
	Status   string
	Attempts int
	Detail   string
}

// listJSON runs `alerts list -json` with extra flags.
func (f *watchFixture) listJSON(flags ...string) (version string, rows []activeJSON) {
	f.t.Helper()
	out, errs, code := f.cli(append([]string{"alerts", "list", "-json"}, flags...)...)
	if code != ExitOK {
		f.t.Fatalf("alerts list -json: exit %d: %s", code, errs)
	}
	var doc struct {
		FormatVersion string       `json:"format_version"`
		Alerts        []activeJSON `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		f.t.Fatalf("alerts list -json: %v\n%s", err, out)
	}
	return doc.FormatVersion, doc.Alerts
}

// waitActive waits for n active alerts and returns them.
func (f *watchFixture) waitActive(n int) []activeJSON {
	f.t.Helper()
	var rows []activeJSON
	waitUntil(f.t, fmt.Sprintf("%d active alerts", n), 30*time.Second, func() bool {
		_, rows = f.listJSON()
		return len(rows) >= n
	}, f.logs.String)
	return rows
}

// deliveries are the deliveries of one alert, from `alerts show -json`.
func (f *watchFixture) deliveries(key string) []deliveryRow {
	f.t.Helper()
	out, errs, code := f.cli("alerts", "show", key, "-json")
	if code != ExitOK {
		f.t.Fatalf("alerts show %s -json: exit %d: %s", key, code, errs)
	}
	var doc struct {
		Deliveries []deliveryRow `json:"deliveries"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		f.t.Fatalf("alerts show -json: %v\n%s", err, out)
	}
	return doc.Deliveries
}

// allDeliveries are the deliveries of every recorded alert, by ID.
func (f *watchFixture) allDeliveries() map[int64]deliveryRow {
	f.t.Helper()
	_, evs := f.listJSON("-all", "-limit", "1000")
	out := map[int64]deliveryRow{}
	for _, ev := range evs {
		for _, d := range f.deliveries(ev.Key) {
			out[d.ID] = d
		}
	}
	return out
}

var deliveryIDs = regexp.MustCompile(`^inkform\.d([0-9.]+)@`)

// checkExactlyOnce checks that every delivery was sent, and that Mailpit
// holds each exactly once: no Message-ID twice, every sent delivery in
// one message.
func (f *watchFixture) checkExactlyOnce() {
	f.t.Helper()
	var ds map[int64]deliveryRow
	waitUntil(f.t, "every delivery sent", 60*time.Second, func() bool {
		ds = f.allDeliveries()
		for _, d := range ds {
			if d.Status != "sent" {
				return false
			}
		}
		return len(ds) > 0
	}, func() string { return fmt.Sprintf("%+v\n%s", ds, f.logs.String()) })
	msgs := f.mail.Messages()
	carried := map[int64]int{}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.MessageID] {
			f.t.Errorf("Message-ID %s arrived twice", m.MessageID)
		}
		seen[m.MessageID] = true
		sub := deliveryIDs.FindStringSubmatch(m.MessageID)
		if sub == nil {
			f.t.Errorf("Message-ID %q names no deliveries", m.MessageID)
			continue
		}
		for _, s := range strings.Split(sub[1], ".") {
			id, _ := strconv.ParseInt(s, 10, 64)
			carried[id]++
		}
	}
	for id := range ds {
		if carried[id] != 1 {
			f.t.Errorf("delivery %d in %d emails, want 1", id, carried[id])
		}
	}
	for id := range carried {
		if _, ok := ds[id]; !ok {
			f.t.Errorf("an email carries delivery %d, which state does not have", id)
		}
	}
}

var fastRetries = watch.Tuning{RetryMin: 200 * time.Millisecond, RetryMax: 500 * time.Millisecond, Tick: 200 * time.Millisecond}

// Mailpit answers MAIL FROM with 451 while alerts come in; healed, every
// due email arrives exactly once.
func TestWatchMailChaos(t *testing.T) {
	f := startWatchFixtureWith(t, watchFixtureOptions{Mail: testservers.MailpitOptions{Chaos: true}, Extra: ccRoute, Tuning: fastRetries})
	f.mail.SetChaos(451, 100)
	p := f.sim.Printers()[0]
	p.RaiseAlert(frontDoor)
	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupMediaPath, GroupIndex: 1,
		Code: simulator.CodeJam, Description: "Paper jam in tray 2"})
	rows := f.waitActive(2)
	waitUntil(t, "refused attempts", 30*time.Second, func() bool {
		for _, r := range rows {
			for _, d := range f.deliveries(r.Key) {
				if d.Attempts >= 2 && strings.Contains(d.Detail, "451") {
					return true
				}
			}
		}
		return false
	}, func() string { return f.logs.String() })
	if n := len(f.mail.Messages()); n != 0 {
		t.Fatalf("%d emails while Mailpit refused", n)
	}
	f.mail.SetChaos(0, 0)
	f.checkExactlyOnce()
}

// Mailpit stopped while alerts come in and started again: every due email
// arrives exactly once.
func TestWatchMailOutage(t *testing.T) {
	f := startWatchFixtureWith(t, watchFixtureOptions{Extra: ccRoute, Tuning: fastRetries})
	p := f.sim.Printers()[0]
	p.RaiseAlert(frontDoor)
	f.waitSubjects(1)
	f.mail.Stop()
	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupMediaPath, GroupIndex: 1,
		Code: simulator.CodeJam, Description: "Paper jam in tray 2"})
	rows := f.waitActive(2)
	waitUntil(t, "failed attempts during the outage", 30*time.Second, func() bool {
		for _, r := range rows {
			for _, d := range f.deliveries(r.Key) {
				if d.Status == "pending" && d.Attempts >= 2 {
					return true
				}
			}
		}
		return false
	}, func() string { return f.logs.String() })
	f.mail.Restart()
	f.checkExactlyOnce()
	if n := len(f.mail.Messages()); n != 2 {
		t.Errorf("%d emails, want 2", n)
	}
}

// A report scheduled every two seconds arrives as an email with its CSV
// attached, one row per printer; `inkform report NAME -o` writes the
// same columns.
func TestWatchScheduledReport(t *testing.T) {
	f := startWatchFixtureWith(t, watchFixtureOptions{Printers: 2, Extra: `
report "fleet" {
  schedule = "@every 2s"
  view     = "page_counts"
  email {
    to = ["reports@example.test"]
  }
}
`})
	f.waitSubjects(1)
	sum := f.mail.Messages()[len(f.mail.Messages())-1]
	msg := f.mail.Message(sum.ID)
	if !strings.HasPrefix(msg.Subject, "[inkform] report fleet: page_counts") || addresses(msg.To)[0] != "reports@example.test" {
		t.Errorf("report email: subject %q to %v", msg.Subject, msg.To)
	}
	if len(msg.Attachments) != 1 || !strings.HasSuffix(msg.Attachments[0].FileName, ".csv") {
		t.Fatalf("attachments %+v", msg.Attachments)
	}
	recs, err := csv.NewReader(bytes.NewReader(f.mail.Attachment(msg.ID, msg.Attachments[0].PartID))).ReadAll()
	if err != nil {
		t.Fatalf("the attachment does not parse as CSV: %v", err)
	}
	want, err := reports.Columns(alerts.ViewPageCounts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], want) {
		t.Errorf("header %q, want %q", recs[0], want)
	}
	printers := map[string]bool{}
	col := slices.Index(want, "printer")
	for _, r := range recs[1:] {
		printers[r[col]] = true
	}
	if len(recs) != 3 || !printers["lab-1"] || !printers["lab-2"] {
		t.Errorf("rows %q, want one per printer", recs)
	}

	out := filepath.Join(t.TempDir(), "fleet.csv")
	if _, errs, code := f.cli("report", "fleet", "-o", out); code != ExitOK {
		t.Fatalf("report -o: exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	onDemand, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(onDemand) != 3 || !slices.Equal(onDemand[0], want) {
		t.Errorf("report -o wrote %q (%v)", onDemand, err)
	}
	if _, errs, code := f.cli("report", "nope"); code != ExitError || !strings.Contains(errs, "the reports are: fleet") {
		t.Errorf("report nope: exit %d: %s", code, errs)
	}
}

// waitUntil polls cond until it holds or d passes; diag says what was
// seen when it fails.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool, diag func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s\n%s", what, d, diag())
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not synchronisation
	}
}
