package mail_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/reports"
	"github.com/inkform/inkform/watch"
	"github.com/inkform/inkform/watch/mail"
)

const (
	testUser     = "inkform-alerts"
	testPassword = "Tr0ub4dor&3-not-in-logs"
)

var testUsers = map[string]string{testUser: testPassword}

// encryptionFor is the smtp block's encryption that matches a Mailpit mode.
func encryptionFor(mode testservers.MailpitTLS) string {
	switch mode {
	case testservers.MailpitSTARTTLS:
		return alerts.EncryptionSTARTTLS
	case testservers.MailpitImplicitTLS:
		return alerts.EncryptionSSL
	}
	return alerts.EncryptionNone
}

// smtpFor is an smtp block for mp, logging in as the test user.
func smtpFor(mp *testservers.Mailpit, encryption string) alerts.SMTP {
	return alerts.SMTP{
		Host:       mp.Host,
		Port:       mp.SMTPPort,
		Encryption: encryption,
		Username:   testUser,
		Password:   testPassword,
		From:       "inkform <inkform@example.test>",
		CACertFile: mp.CACertFile,
		Timeout:    5 * time.Second,
	}
}

func newNotifier(t *testing.T, cfg alerts.SMTP) *mail.Notifier {
	t.Helper()
	n, err := mail.New(cfg)
	if err != nil {
		t.Fatalf("mail.New: %v", err)
	}
	return n
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// reportCSV is a supplies report as the reports package renders it, with
// the cells that make CSV hard: a comma, quotes, an empty unknown, a guarded
// formula, non-ASCII text.
var reportCSV = func() []byte {
	in := reports.Input{
		Printers: []fleet.Printer{{Name: "lab-1", Host: "10.0.0.11", Port: 161}, {Name: "lab-2", Host: "10.0.0.12", Port: 161}},
		Observations: map[string]reports.Observed{
			"lab-1": {Observation: fleet.Observation{Model: `HP "Color" LaserJet, M553`, PageCount: -1,
				ObservedAt: time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC),
				Supplies: []fleet.Supply{
					{Description: "Schwarzer Toner", Kind: fleet.SupplyKindToner, Color: "black", Level: 1200, Max: 10000},
					{Description: "=cmd|' /C calc'!A0", Kind: fleet.SupplyKindOther, Level: -2, Max: -2},
				}}},
			"lab-2": {Err: errors.New("no answer within 2s")},
		},
	}
	var b bytes.Buffer
	if err := reports.Write(&b, alerts.ViewSupplies, in); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

func alertMessage(id string) watch.Message {
	return watch.Message{
		ID:      id,
		To:      []string{"helpdesk@example.test", "Lab Team <lab@example.test>"},
		Cc:      []string{"facilities@example.test"},
		Subject: "[inkform] jam on lab-1 — Fach 2 prüfen",
		Body:    "lab-1 (Lexmark CX725, Raum 2.14): jam in tray 2.\nGrüße, inkform\n",
		Attachments: []watch.Attachment{{
			Name: "supplies.csv", ContentType: reports.ContentType, Data: reportCSV,
		}},
	}
}

func addresses(as []testservers.MailpitAddress) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Address
	}
	slices.Sort(out)
	return out
}

// TestSendArrives sends through the real Mailpit in each TLS mode, logged
// in with SMTP AUTH against Mailpit's password file, and reads back what
// arrived.
func TestSendArrives(t *testing.T) {
	for _, mode := range []testservers.MailpitTLS{testservers.MailpitPlain, testservers.MailpitSTARTTLS, testservers.MailpitImplicitTLS} {
		enc := encryptionFor(mode)
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			mp := testservers.StartMailpit(t, testservers.MailpitOptions{TLS: mode, Users: testUsers})
			n := newNotifier(t, smtpFor(mp, enc))
			ctx := ctxFor(t)
			if err := n.Check(ctx); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if err := n.Send(ctx, alertMessage("delivery-7.42")); err != nil {
				t.Fatalf("Send: %v", err)
			}

			msgs := mp.WaitMessages(1, 10*time.Second)
			if len(msgs) != 1 {
				t.Fatalf("Mailpit holds %d messages, want 1", len(msgs))
			}
			got := mp.Message(msgs[0].ID)
			if want := "[inkform] jam on lab-1 — Fach 2 prüfen"; got.Subject != want {
				t.Errorf("subject %q, want %q", got.Subject, want)
			}
			if want := []string{"helpdesk@example.test", "lab@example.test"}; !slices.Equal(addresses(got.To), want) {
				t.Errorf("to %v, want %v", addresses(got.To), want)
			}
			if want := []string{"facilities@example.test"}; !slices.Equal(addresses(got.Cc), want) {
				t.Errorf("cc %v, want %v", addresses(got.Cc), want)
			}
			if got.From.Address != "inkform@example.test" {
				t.Errorf("from %q", got.From.Address)
			}
			if want := "delivery-7.42@example.test"; got.MessageID != want {
				t.Errorf("Message-ID %q, want %q", got.MessageID, want)
			}
			if want := "lab-1 (Lexmark CX725, Raum 2.14): jam in tray 2.\nGrüße, inkform"; strings.TrimSpace(strings.ReplaceAll(got.Text, "\r\n", "\n")) != want {
				t.Errorf("body %q, want %q", got.Text, want)
			}
			if len(got.Attachments) != 1 {
				t.Fatalf("attachments %+v, want 1", got.Attachments)
			}
			att := got.Attachments[0]
			if att.FileName != "supplies.csv" || !strings.HasPrefix(att.ContentType, "text/csv") {
				t.Errorf("attachment %q of type %q", att.FileName, att.ContentType)
			}
			data := mp.Attachment(got.ID, att.PartID)
			if !bytes.Equal(data, reportCSV) {
				t.Errorf("attachment content changed on the way:\n%q\nwant\n%q", data, reportCSV)
			}
			rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil {
				t.Fatalf("attachment does not parse as CSV: %v", err)
			}
			if len(rows) != 4 || rows[0][0] != "printer" || rows[1][1] != `HP "Color" LaserJet, M553` ||
				rows[1][2] != "Schwarzer Toner" || rows[2][2] != "'=cmd|' /C calc'!A0" || rows[2][8] != "" ||
				rows[3][0] != "lab-2" || rows[3][11] != "no answer within 2s" {
				t.Errorf("CSV rows %q", rows)
			}
			raw := string(mp.Raw(got.ID))
			for _, h := range []string{"Auto-Submitted: auto-generated", "Message-ID: <delivery-7.42@example.test>"} {
				if !strings.Contains(raw, h) {
					t.Errorf("raw message lacks %q", h)
				}
			}
			if strings.Contains(raw, testPassword) {
				t.Error("the password is in the message")
			}
		})
	}
}

// assertTemporary fails unless err is a temporary error without the password.
func assertTemporary(t *testing.T, err error, wantText ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var pe *watch.PermanentError
	if errors.As(err, &pe) {
		t.Errorf("error is permanent, want temporary: %v", err)
	}
	assertText(t, err, wantText...)
}

func assertPermanent(t *testing.T, err error, wantText ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var pe *watch.PermanentError
	if !errors.As(err, &pe) {
		t.Errorf("error is temporary, want permanent: %v", err)
	}
	assertText(t, err, wantText...)
}

func assertText(t *testing.T, err error, wantText ...string) {
	t.Helper()
	msg := err.Error()
	t.Logf("error: %s", msg)
	if strings.Contains(msg, testPassword) {
		t.Errorf("the password is in the error: %v", err)
	}
	for _, w := range wantText {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
}

func assertNothingArrived(t *testing.T, mp *testservers.Mailpit) {
	t.Helper()
	if msgs := mp.Messages(); len(msgs) != 0 {
		t.Errorf("Mailpit holds %d messages, want none", len(msgs))
	}
}

// TestSTARTTLSNeverDowngrades: a server without STARTTLS is an error, and
// nothing goes out in clear.
func TestSTARTTLSNeverDowngrades(t *testing.T) {
	t.Parallel()
	mp := testservers.StartMailpit(t, testservers.MailpitOptions{TLS: testservers.MailpitPlain, Users: testUsers})
	n := newNotifier(t, smtpFor(mp, alerts.EncryptionSTARTTLS))
	ctx := ctxFor(t)
	assertTemporary(t, n.Send(ctx, alertMessage("no-downgrade")), "STARTTLS", mp.SMTPAddr())
	assertTemporary(t, n.Check(ctx), "STARTTLS")
	assertNothingArrived(t, mp)
}

// TestWrongCA: a server whose certificate the configured CA did not sign
// is refused before anything is sent.
func TestWrongCA(t *testing.T) {
	for _, mode := range []testservers.MailpitTLS{testservers.MailpitSTARTTLS, testservers.MailpitImplicitTLS} {
		enc := encryptionFor(mode)
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			mp := testservers.StartMailpit(t, testservers.MailpitOptions{TLS: mode, Users: testUsers})
			other, _ := testservers.SelfSignedCert(t, t.TempDir(), "other")
			cfg := smtpFor(mp, enc)
			cfg.CACertFile = other
			n := newNotifier(t, cfg)
			assertTemporary(t, n.Send(ctxFor(t), alertMessage("wrong-ca")), "certificate", "tls")
			assertNothingArrived(t, mp)

			// Without ca_cert the system roots do not know it either.
			cfg.CACertFile = ""
			assertTemporary(t, newNotifier(t, cfg).Send(ctxFor(t), alertMessage("no-ca")), "certificate")
			assertNothingArrived(t, mp)
		})
	}
}

// TestWrongPassword: AUTH refused is temporary (the block is fixed and
// reloaded, then the queued mail goes out) and never shows the password.
func TestWrongPassword(t *testing.T) {
	t.Parallel()
	mp := testservers.StartMailpit(t, testservers.MailpitOptions{TLS: testservers.MailpitSTARTTLS, Users: testUsers})
	cfg := smtpFor(mp, alerts.EncryptionSTARTTLS)
	cfg.Password = testPassword + "-wrong"
	n := newNotifier(t, cfg)
	err := n.Send(ctxFor(t), alertMessage("wrong-password"))
	assertTemporary(t, err, "AUTH", "535")
	if strings.Contains(err.Error(), cfg.Password) {
		t.Errorf("the password is in the error: %v", err)
	}
	assertNothingArrived(t, mp)
}

// TestChaos: Mailpit refusing MAIL FROM with 451 is temporary, with 550
// permanent; healed, the same message is accepted once.
func TestChaos(t *testing.T) {
	t.Parallel()
	mp := testservers.StartMailpit(t, testservers.MailpitOptions{TLS: testservers.MailpitSTARTTLS, Users: testUsers, Chaos: true})
	n := newNotifier(t, smtpFor(mp, alerts.EncryptionSTARTTLS))
	ctx := ctxFor(t)
	m := alertMessage("chaos-1")

	mp.SetChaos(451, 100)
	assertTemporary(t, n.Send(ctx, m), "451")
	mp.SetChaos(550, 100)
	assertPermanent(t, n.Send(ctx, m), "550")
	assertNothingArrived(t, mp)

	mp.SetChaos(0, 0)
	if err := n.Send(ctx, m); err != nil {
		t.Fatalf("Send after healing: %v", err)
	}
	msgs := mp.WaitMessages(1, 10*time.Second)
	if len(msgs) != 1 || msgs[0].MessageID != "chaos-1@example.test" {
		t.Fatalf("Mailpit holds %+v, want the one message", msgs)
	}
}

// TestOutage: a stopped server is a temporary error; restarted on the same
// port and database, the same send succeeds.
func TestOutage(t *testing.T) {
	t.Parallel()
	mp := testservers.StartMailpit(t, testservers.MailpitOptions{TLS: testservers.MailpitImplicitTLS, Users: testUsers})
	n := newNotifier(t, smtpFor(mp, alerts.EncryptionSSL))
	ctx := ctxFor(t)
	if err := n.Send(ctx, alertMessage("before-outage")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	mp.WaitMessages(1, 10*time.Second)

	mp.Stop()
	m := alertMessage("during-outage")
	assertTemporary(t, n.Send(ctx, m), mp.SMTPAddr(), "connect")
	assertTemporary(t, n.Check(ctx), "connect")

	mp.Restart()
	if err := n.Send(ctx, m); err != nil {
		t.Fatalf("Send after restart: %v", err)
	}
	msgs := mp.WaitMessages(2, 10*time.Second)
	var ids []string
	for _, s := range msgs {
		ids = append(ids, s.MessageID)
	}
	slices.Sort(ids)
	if want := []string{"before-outage@example.test", "during-outage@example.test"}; !slices.Equal(ids, want) {
		t.Fatalf("Mailpit holds %v, want %v", ids, want)
	}
}

// TestConcurrentSends: one Notifier serves concurrent sends, each on its
// own session, and every message arrives once.
func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	mp := testservers.StartMailpit(t, testservers.MailpitOptions{TLS: testservers.MailpitSTARTTLS, Users: testUsers})
	n := newNotifier(t, smtpFor(mp, alerts.EncryptionSTARTTLS))
	ctx := ctxFor(t)
	const count = 12
	var wg sync.WaitGroup
	errs := make(chan error, count)
	for i := range count {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := alertMessage(fmt.Sprintf("concurrent-%d", i))
			m.Subject = fmt.Sprintf("message %d", i)
			errs <- n.Send(ctx, m)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	msgs := mp.WaitMessages(count, 10*time.Second)
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.MessageID]++
	}
	for i := range count {
		if id := fmt.Sprintf("concurrent-%d@example.test", i); seen[id] != 1 {
			t.Errorf("%s arrived %d times", id, seen[id])
		}
	}
}
