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
	"syscall"
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
			// alerts test takes the same smtp block, password and CA.
			out, errs, code := f.cli("alerts", "test", "doors")
			if code != ExitOK {
				t.Fatalf("alerts test: exit %d: %s%s", code, out, errs)
			}
			msgs := f.mail.WaitMessages(2, 30*time.Second)
			if len(msgs) != 2 || msgs[0].Subject != `[inkform] test message for alert_route "doors"` ||
				!slices.Equal(addresses(msgs[0].To), []string{"helpdesk@example.test", "night-shift@example.test"}) {
				t.Errorf("test email: %+v", msgs)
			}
			f.shutdown()
			if strings.Contains(f.logs.String()+out+errs, mailPassword) {
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
	Key, Printer, Event, Comment string
	AckedBy                      string    `json:"acked_by"`
	AckedAt                      time.Time `json:"acked_at"`
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
	// One read: the next report may arrive meanwhile.
	msgs := f.mail.Messages()
	msg := f.mail.Message(msgs[len(msgs)-1].ID)
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

const repeatRoute = `
alert_route "doors" {
  match {
    events   = ["door_open", "jam"]
    printers = ["lab-*"]
  }
  email {
    to = ["helpdesk@example.test"]
  }
  grace      = "0s"
  group_wait = "0s"
  repeat     = "1s"
}
`

func countKind(ds []deliveryRow, kind string) int {
	n := 0
	for _, d := range ds {
		if d.Kind == kind {
			n++
		}
	}
	return n
}

// The alerts commands on a running watch: list (active, -all, -json),
// show, ack (its repeats stop), silence (a new alert on the printer sends
// nothing and show says why), silences, unsilence, test; and the errors
// of a bad key, a bad silence target and an unknown route.
func TestWatchAlertsCommands(t *testing.T) {
	// One printer: the simulator's printers share one address, and
	// traps are attributed by address.
	f := startWatchFixtureWith(t, watchFixtureOptions{Extra: repeatRoute, Tuning: fastRetries})
	p1 := f.sim.Printers()[0]
	p1.RaiseAlert(frontDoor)
	rows := f.waitActive(1)
	door := rows[0]
	if door.Printer != "lab-1" || door.Event != "door_open" {
		t.Fatalf("active %+v", rows)
	}
	f.waitSubjects(1)

	if v, _ := f.listJSON(); v != alertsFormatVersion {
		t.Errorf("format_version %q", v)
	}
	out, _, code := f.cli("alerts", "list")
	if code != ExitOK || !strings.Contains(out, door.Key) || !strings.Contains(out, "Front door open") {
		t.Errorf("alerts list: exit %d\n%s", code, out)
	}
	out, _, code = f.cli("alerts", "show", door.Key)
	if code != ExitOK || !strings.Contains(out, "route doors to helpdesk@example.test: sent") {
		t.Errorf("alerts show: exit %d\n%s", code, out)
	}

	// Acknowledged, the door's repeats stop while an unacknowledged
	// alert's go on.
	if out, errs, code := f.cli("alerts", "ack", door.Key, "--comment", "on it"); code != ExitOK || !strings.Contains(out, "Acknowledged") {
		t.Fatalf("alerts ack: exit %d: %s%s", code, out, errs)
	}
	_, rows = f.listJSON()
	if len(rows) != 1 || rows[0].AckedBy == "" || rows[0].Comment != "on it" || rows[0].AckedAt.IsZero() {
		t.Errorf("acked alert %+v", rows)
	}
	if out, _, _ := f.cli("alerts", "list"); !strings.Contains(out, rows[0].AckedBy) {
		t.Errorf("alerts list does not show the acknowledgement:\n%s", out)
	}
	if out, _, _ := f.cli("alerts", "show", door.Key); !strings.Contains(out, "Acknowledged by "+rows[0].AckedBy) || !strings.Contains(out, ": on it") {
		t.Errorf("alerts show does not show the acknowledgement:\n%s", out)
	}
	repeatsAtAck := countKind(f.deliveries(door.Key), "repeat")
	jam := simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupMediaPath, GroupIndex: 1,
		Code: simulator.CodeJam, Description: "Paper jam in tray 2"}
	p1.RaiseAlert(jam)
	rows = f.waitActive(2)
	var jamKey string
	for _, r := range rows {
		if r.Event == "jam" {
			jamKey = r.Key
		}
	}
	waitUntil(t, "the jam repeated twice", 30*time.Second, func() bool { return countKind(f.deliveries(jamKey), "repeat") >= 2 }, f.logs.String)
	// One repeat may have been made in the moment of the ack; no more.
	if n := countKind(f.deliveries(door.Key), "repeat"); n > repeatsAtAck+1 {
		t.Errorf("the acknowledged alert repeated %d times after its ack", n-repeatsAtAck)
	}

	// Silenced, a printer's new alert sends nothing, and show says why.
	out, errs, code := f.cli("alerts", "silence", "printer.lab-1", "--for", "1h", "--comment", "being serviced")
	m := regexp.MustCompile(`^Silence (\d+) until`).FindStringSubmatch(out)
	if code != ExitOK || m == nil {
		t.Fatalf("alerts silence: exit %d: %s%s", code, out, errs)
	}
	out, _, _ = f.cli("alerts", "silences", "-json")
	var sils struct {
		FormatVersion string `json:"format_version"`
		Silences      []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &sils); err != nil || sils.FormatVersion != alertsFormatVersion || len(sils.Silences) != 1 ||
		fmt.Sprint(sils.Silences[0]["id"]) != m[1] || sils.Silences[0]["printer"] != "lab-1" || sils.Silences[0]["comment"] != "being serviced" {
		t.Errorf("alerts silences -json (%v):\n%s", err, out)
	}
	// Every document starts with its format_version (docs/json.md).
	for _, args := range [][]string{{"alerts", "list", "-json"}, {"alerts", "list", "-json", "-all"}, {"alerts", "show", door.Key, "-json"}, {"alerts", "silences", "-json"}} {
		if o, _, _ := f.cli(args...); !strings.HasPrefix(o, "{\n  \"format_version\": \"1.0\",\n") {
			t.Errorf("%s does not start with format_version:\n%s", strings.Join(args, " "), o)
		}
	}
	out, _, _ = f.cli("alerts", "silences")
	if lines := strings.Split(out, "\n"); len(lines) < 2 || !strings.HasPrefix(lines[1], m[1]+" ") ||
		!strings.Contains(out, "lab-1") || !strings.Contains(out, "being serviced") {
		t.Errorf("alerts silences:\n%s", out)
	}
	p1.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupMediaPath, GroupIndex: 2,
		Code: simulator.CodeJam, Description: "Paper jam in tray 3"})
	var silenced activeJSON
	waitUntil(t, "the second jam", 30*time.Second, func() bool {
		_, rows = f.listJSON()
		for _, r := range rows {
			if r.Event == "jam" && r.Key != jamKey {
				silenced = r
			}
		}
		return silenced.Key != ""
	}, f.logs.String)
	waitUntil(t, "its delivery suppressed", 30*time.Second, func() bool {
		ds := f.deliveries(silenced.Key)
		return len(ds) > 0 && ds[0].Status == "suppressed"
	}, f.logs.String)
	for _, d := range f.deliveries(silenced.Key) {
		if d.Status != "suppressed" {
			t.Errorf("a silenced alert's delivery %+v", d)
		}
	}
	if out, _, _ := f.cli("alerts", "show", silenced.Key); !strings.Contains(out, ": suppressed (silenced (silence "+m[1]) {
		t.Errorf("alerts show of a silenced alert:\n%s", out)
	}
	if out, errs, code := f.cli("alerts", "unsilence", m[1]); code != ExitOK || !strings.Contains(out, "Silence "+m[1]+" ended.") {
		t.Errorf("alerts unsilence: exit %d: %s%s", code, out, errs)
	}
	if out, _, _ := f.cli("alerts", "silences"); !strings.Contains(out, "No silences in force.") {
		t.Errorf("alerts silences after unsilence:\n%s", out)
	}

	// alerts test: one email to the route's recipients.
	before := len(f.mail.Messages())
	if out, errs, code := f.cli("alerts", "test", "doors"); code != ExitOK || !strings.Contains(out, "helpdesk@example.test") {
		t.Fatalf("alerts test: exit %d: %s%s", code, out, errs)
	}
	var testMsgs []testservers.MailpitSummary
	for _, msg := range f.mail.WaitMessages(before+1, 30*time.Second) {
		if strings.Contains(msg.Subject, "test message") {
			testMsgs = append(testMsgs, msg)
		}
	}
	if len(testMsgs) != 1 || !slices.Equal(addresses(testMsgs[0].To), []string{"helpdesk@example.test"}) ||
		testMsgs[0].Subject != `[inkform] test message for alert_route "doors"` {
		t.Errorf("test emails %+v", testMsgs)
	}

	// Errors: clear, naming what is wrong, exit code 1.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"alerts", "show", "lab-9/jam/1.1"}, `no alert "lab-9/jam/1.1"`},
		{[]string{"alerts", "ack", "lab-9/jam/1.1"}, `no active alert "lab-9/jam/1.1"`},
		{[]string{"alerts", "silence", "printer.", "--for", "1h"}, "not valid"},
		{[]string{"alerts", "silence", "printer.lab-[", "--for", "1h"}, "not valid"},
		{[]string{"alerts", "silence", "paper_jam", "--for", "1h"}, `"paper_jam" is not an event`},
		{[]string{"alerts", "silence", "printer.lab-1", "--for", "0s"}, "--for must be a positive duration"},
		{[]string{"alerts", "unsilence", "999"}, "no silence 999; inkform alerts silences lists those in force"},
		{[]string{"alerts", "unsilence", "x"}, `"x" is not a silence id`},
		{[]string{"alerts", "test", "nope"}, `no alert_route "nope"; the routes are: doors`},
	} {
		out, errs, code := f.cli(tc.args...)
		if code != ExitError || !strings.Contains(errs, tc.want) || strings.Contains(errs, "panic") {
			t.Errorf("%s: exit %d, stderr %q, want %q\n%s", strings.Join(tc.args, " "), code, errs, tc.want, out)
		}
	}
}

// A trap from an address that is neither a printer nor allowed is dropped,
// never stored, and counted: watch logs the counters while they change
// and once more when it stops.
func TestWatchTrapRefusedSource(t *testing.T) {
	snmptrap := testservers.FindSnmptrap(t)
	f := startWatchFixtureWith(t, watchFixtureOptions{Allow: []string{"127.0.0.1/32"}, TrapStatsEvery: 50 * time.Millisecond})
	to := "127.0.0.1:" + strconv.Itoa(f.trapPrt)
	const oid = "1.3.6.1.4.1.99999.0.1"
	snmptrap.Send(t, "-v", "2c", "-c", "private", "--clientaddr=127.0.0.9", to, "", oid)
	waitUntil(t, "the refused trap logged", 30*time.Second, func() bool {
		return strings.Contains(f.logs.String(), "dropped_refused_source=1")
	}, f.logs.String)
	// The same trap from the printer's address is taken, so the first
	// was refused for its source alone.
	snmptrap.Send(t, "-v", "2c", "-c", "private", "--clientaddr=127.0.0.1", to, "", oid)
	var evs []activeJSON
	waitUntil(t, "the printer's trap stored", 30*time.Second, func() bool {
		_, evs = f.listJSON("-all")
		return len(evs) > 0
	}, f.logs.String)
	f.shutdown()
	_, evs = f.listJSON("-all")
	if len(evs) != 1 || evs[0].Printer != "lab-1" || evs[0].Event != alerts.Other {
		t.Errorf("events %+v, want the printer's trap only", evs)
	}
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	var last string
	logged := 0
	for _, l := range lines {
		if strings.Contains(l, "msg=traps ") {
			last = l
			logged++
		}
	}
	// Logged when they changed (once or twice) and at the stop; not at
	// every tick.
	if logged < 2 || logged > 3 {
		t.Errorf("the traps counters logged %d times, want 2 or 3\n%s", logged, f.logs.String())
	}
	for _, want := range []string{"received=2", "accepted=1", "dropped_refused_source=1", "dropped_credentials=0"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last traps log %q lacks %s\n%s", last, want, f.logs.String())
		}
	}
	if !strings.Contains(lines[len(lines)-1], "watch stopped") || !strings.Contains(lines[len(lines)-2], "msg=traps ") {
		t.Errorf("the counters are not logged as watch stops:\n%s", f.logs.String())
	}
}

// A reload that changes a report's schedule takes effect at once: the
// report loop is woken by every reload, not only when the drift loop
// does not take the wake-up first.
func TestWatchReloadReportSchedule(t *testing.T) {
	report := `
report "fleet" {
  schedule = "%s"
  view     = "page_counts"
  email {
    to = ["reports@example.test"]
  }
}
`
	f := startWatchFixtureWith(t, watchFixtureOptions{Extra: fmt.Sprintf(report, "0 0 1 1 *")})
	for i := 0; i < 3; i++ {
		// Each reload wakes both loops; with one wake-up shared, an even
		// chance per reload that the report loop misses it.
		f.writeConfig(fmt.Sprintf(report, "0 0 1 1 *"))
		f.hup <- syscall.SIGHUP
		waitUntil(t, "the reload", 20*time.Second, func() bool {
			return strings.Count(f.logs.String(), `msg="configuration reloaded"`) == i+1
		}, f.logs.String)
	}
	f.writeConfig(fmt.Sprintf(report, "@every 1s"))
	f.hup <- syscall.SIGHUP
	msgs := f.mail.WaitMessages(1, 20*time.Second)
	if len(msgs) == 0 || !strings.HasPrefix(msgs[0].Subject, "[inkform] report fleet") {
		t.Fatalf("no report after its schedule was reloaded: %+v\n%s", msgs, f.logs.String())
	}
}

// The traps listener keeps the credentials it started with: a reload that
// changes them says that a restart is needed, rather than dropping the
// new traps in silence.
func TestWatchReloadTrapCredentials(t *testing.T) {
	f := startWatchFixture(t, "")
	path := filepath.Join(f.dir, "main.hcl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(`community = "private"`), []byte(`community = "changed"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	f.hup <- syscall.SIGHUP
	waitUntil(t, "the reload", 20*time.Second, func() bool {
		return strings.Contains(f.logs.String(), `msg="configuration reloaded"`)
	}, f.logs.String)
	if !strings.Contains(f.logs.String(), "credentials changed: restart watch") || strings.Contains(f.logs.String(), "changed\"") {
		t.Errorf("no warning of the changed credentials, or the community in it:\n%s", f.logs.String())
	}
}
