package statetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inkform/inkform/state"
)

// RunAudit runs the conformance suite of state.Audit and state.Sessions.
// open must return a fresh, empty store each call; the suite closes it.
// A store that lacks them skips, saying so.
func RunAudit(t *testing.T, open func(t *testing.T) state.Store) {
	fresh := func(t *testing.T) state.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	t.Run("AuditLog", func(t *testing.T) {
		a, ok := fresh(t).(state.Audit)
		if !ok {
			t.Skip("audit suite NOT RUN: the store does not implement state.Audit")
		}
		testAuditLog(t, a)
	})
	t.Run("Sessions", func(t *testing.T) {
		s, ok := fresh(t).(state.Sessions)
		if !ok {
			t.Skip("sessions suite NOT RUN: the store does not implement state.Sessions")
		}
		testSessions(t, s)
	})
}

func testAuditLog(t *testing.T, a state.Audit) {
	ctx := ctxFor(t)
	if err := a.AppendAudit(ctx, state.AuditEntry{User: "ana"}); err == nil {
		t.Error("an entry without an action was recorded")
	}
	entries := []state.AuditEntry{
		{At: base, User: "ana", Address: "10.0.0.1", Action: "login"},
		{At: base.Add(time.Minute), User: "bob", Address: "10.0.0.2", Action: "login_failed", Detail: "wrong user name or password"},
		{At: base.Add(time.Minute), User: "ana", Address: "10.0.0.1", Action: "ack", Target: "lobby/jam", Detail: "on it — ünïcode"},
		{At: base.Add(2 * time.Minute), User: "ana", Address: "10.0.0.1", Action: "logout"},
	}
	for _, e := range entries {
		if err := a.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit(%+v): %v", e, err)
		}
	}
	got, err := a.AuditLog(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Most recent first; the two entries of one instant by id, the later
	// recorded first.
	want := []state.AuditEntry{entries[3], entries[2], entries[1], entries[0]}
	if diff := cmp.Diff(want, got, cmpMillis, cmpopts.IgnoreFields(state.AuditEntry{}, "ID")); diff != "" {
		t.Errorf("AuditLog (-want +got):\n%s", diff)
	}
	for i, e := range got {
		wantUTC(t, "audit entry", e.At)
		if e.ID == 0 {
			t.Errorf("entry %d has no id", i)
		}
	}
	if len(got) == 4 && got[1].ID <= got[2].ID {
		t.Errorf("entries of one instant: ids %d, %d; want the later recorded first", got[1].ID, got[2].ID)
	}
	two, err := a.AuditLog(ctx, 2)
	if err != nil || len(two) != 2 || two[0].Action != "logout" || two[1].Action != "ack" {
		t.Errorf("AuditLog(2) = %+v, %v", two, err)
	}

	before := time.Now().Add(-time.Second)
	if err := a.AppendAudit(ctx, state.AuditEntry{User: "carl", Action: "silence", Target: "1"}); err != nil {
		t.Fatal(err)
	}
	latest, err := a.AuditLog(ctx, 1)
	if err != nil || len(latest) != 1 || latest[0].User != "carl" || latest[0].At.Before(before) {
		t.Errorf("an entry without a time: AuditLog(1) = %+v, %v; want carl's, stamped now", latest, err)
	}
}

func testSessions(t *testing.T, s state.Sessions) {
	ctx := ctxFor(t)
	until := time.Now().Add(time.Hour)
	if ok, err := s.SessionRevoked(ctx, "hmac:aaaa"); err != nil || ok {
		t.Errorf("SessionRevoked of an unknown session = %v, %v", ok, err)
	}
	if err := s.RevokeSession(ctx, "", until); err == nil {
		t.Error("RevokeSession of no digest succeeded")
	}
	for i := 0; i < 2; i++ {
		if err := s.RevokeSession(ctx, "hmac:aaaa", until); err != nil {
			t.Fatalf("RevokeSession (time %d): %v", i+1, err)
		}
	}
	if ok, err := s.SessionRevoked(ctx, "hmac:aaaa"); err != nil || !ok {
		t.Errorf("SessionRevoked after RevokeSession = %v, %v", ok, err)
	}
	if ok, err := s.SessionRevoked(ctx, "hmac:bbbb"); err != nil || ok {
		t.Errorf("SessionRevoked of another session = %v, %v", ok, err)
	}
	// A record past its expiry may be dropped by a later revocation;
	// one still valid must stay.
	if err := s.RevokeSession(ctx, "hmac:old", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSession(ctx, "hmac:cccc", until); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.SessionRevoked(ctx, "hmac:aaaa"); err != nil || !ok {
		t.Errorf("a revocation still valid was dropped: %v, %v", ok, err)
	}
}
