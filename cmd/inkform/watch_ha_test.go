package main

import (
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
)

// Two watch processes on one Firebird state, both receiving every trap
// (printers sending to two servers): each alert is emailed once, every
// event routed once (the second raise of an alert is routed to nobody).
func TestWatchTwoProcessesOneFirebird(t *testing.T) {
	if testing.Short() {
		t.Skip("two processes on Firebird in -short mode")
	}
	mail := testservers.StartMailpit(t, testservers.MailpitOptions{})
	loc := firebirdLoc(t, "watch")
	key := keyEnv + "=" + strings.Repeat("k", 32)
	lease := watchLeaseEnv + "=30s"
	a, b := newBurstSite(t, mail), newBurstSite(t, mail)
	pa := a.start(t, loc, key, lease)
	pb := b.start(t, loc, key, lease)
	// Firebird routes some tens of events a second with two processes
	// contending: a burst of 200 traps (400 events) keeps the test short.
	n := 200
	if raceDetector {
		n = 100
	}
	bu := sendBurst(t, n, 200, a.trapPort, b.trapPort)
	<-bu.done
	ob, closeOb := outboxAt(t, loc)
	defer closeOb()
	deadline := time.Now().Add(2 * time.Minute) // a loaded machine routes slowly on Firebird
	for mail.Count() == 0 || !settled(t, ob) {
		if time.Now().After(deadline) {
			t.Fatalf("no emails, or not settled: %d emails\n%s\n%s", mail.Count(), lastLines(pa.err.String(), 20), lastLines(pb.err.String(), 20))
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
	for _, p := range []*cliProcess{pa, pb} {
		if _, err := stopCLI(t, p); err != nil {
			t.Fatalf("watch: %v\n%s", err, lastLines(p.err.String(), 30))
		}
		if !strings.Contains(p.err.String(), "lost=0") {
			t.Errorf("a watch lost events:\n%s", lastLines(p.err.String(), 5))
		}
	}
	// What either recorded while stopping is routed and sent by a third.
	pc := a.start(t, loc, key, lease)
	waitFor(t, "everything routed and sent", 2*time.Minute, func() bool { return settled(t, ob) }, pc.done)
	if _, err := stopCLI(t, pc); err != nil {
		t.Fatal(err)
	}
	o := checkDelivered(t, ob, mail, 0)
	if len(o.alertsOf) < n/2 {
		t.Errorf("only %d of %d alerts recorded", len(o.alertsOf), n)
	}
	if o.raised <= len(o.alertsOf) {
		t.Errorf("%d raises for %d alerts: the processes did not both record the traps", o.raised, len(o.alertsOf))
	}
	sentBy := 0
	for _, p := range []*cliProcess{pa, pb} {
		if strings.Contains(p.err.String(), "watch: sent") {
			sentBy++
		}
	}
	t.Logf("%d alerts, %d raises, %d emails; processes that sent: %d", len(o.alertsOf), o.raised, o.messages, sentBy)
}
