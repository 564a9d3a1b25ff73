// Package statetest is the conformance suite every state.Store backend
// runs from its own tests:
//
//	func TestConformance(t *testing.T) { statetest.Run(t, openFresh) }
//
// It checks Store and, where a store has them, the optional capabilities
// of package state; what only a database shared over time must keep is in
// statetest/sqltest.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/state"
)

// LeaseSetter is implemented by stores whose lock lease can be changed
// after opening. The suite uses it to test renewal and expiry without
// waiting out the default lease; renewEvery < 0 stops renewal, as if the
// holder had hung. Stores without it skip those tests.
type LeaseSetter interface {
	SetLease(lease, renewEvery time.Duration)
}

// Run runs the suite. open must return a fresh, empty store each call;
// the suite closes it.
func Run(t *testing.T, open func(t *testing.T) state.Store) {
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
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s state.Store)
	}{
		{"PrinterRoundTrip", testPrinterRoundTrip},
		{"PutReplacesSettings", testPutReplacesSettings},
		{"DeletePrinter", testDeletePrinter},
		{"Files", testFiles},
		{"RefusesPlainValues", testRefusesPlainValues},
		{"Values", testValues},
		{"ValueKey", testValueKey},
		{"Runs", testRuns},
		{"Changes", testChanges},
		{"PrinterBatch", testPrinterBatch},
		{"OutcomeBatch", testOutcomeBatch},
		{"LockContention", testLockContention},
		{"LockAdmin", testLockAdmin},
		{"LockRenewal", testLockRenewal},
		{"LockExpiredTakeover", testLockExpiredTakeover},
		{"ConcurrentPut", testConcurrentPut},
		{"HashValue", func(t *testing.T, _ state.Store) { testHashValue(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// cmpTime compares instants, ignoring location and monotonic readings,
// which no store keeps.
var cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func printer(name string, settings map[string]string) state.Printer {
	// A location other than UTC and sub-microsecond digits check that
	// stored times are the same instant, to the nanosecond.
	zone := time.FixedZone("UTC+2", 2*3600)
	return state.Printer{
		Name:       name,
		Address:    "udp://10.0.0.7:161",
		Serial:     "SN-" + name,
		Model:      "MX711",
		Firmware:   "LW80.SB.P211",
		ObservedAt: time.Date(2025, 3, 4, 5, 6, 7, 123456789, zone),
		AppliedAt:  time.Date(2025, 3, 4, 5, 7, 0, 1, zone),
		Settings:   settings,
	}
}

func hashes(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = state.HashValue(kv[i+1])
	}
	return m
}

func mustPut(t *testing.T, s state.Store, p state.Printer) {
	t.Helper()
	if err := s.PutPrinter(ctxFor(t), p); err != nil {
		t.Fatalf("PutPrinter(%s): %v", p.Name, err)
	}
}

func mustGet(t *testing.T, s state.Store, name string) state.Printer {
	t.Helper()
	p, ok, err := s.Printer(ctxFor(t), name)
	if err != nil || !ok {
		t.Fatalf("Printer(%s) = ok %v, err %v; want the record", name, ok, err)
	}
	return p
}

func testPrinterRoundTrip(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	want := []state.Printer{
		printer("alpha", hashes("toner_darkness", "8", "sleep_mode", "20")),
		printer("beta", map[string]string{}),
		printer("gamma", hashes("contact", "ops@example.com")),
	}
	want[1].ObservedAt, want[1].AppliedAt = time.Time{}, time.Time{} // never observed
	// Out of order on purpose: Printers must sort.
	for _, i := range []int{2, 0, 1} {
		mustPut(t, s, want[i])
	}

	got, err := s.Printers(ctx)
	if err != nil {
		t.Fatalf("Printers: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpTime); diff != "" {
		t.Errorf("Printers mismatch (-want +got):\n%s", diff)
	}
	if !got[1].ObservedAt.IsZero() || !got[1].AppliedAt.IsZero() {
		t.Errorf("zero times came back as %v / %v", got[1].ObservedAt, got[1].AppliedAt)
	}
	if diff := cmp.Diff(want[0], mustGet(t, s, "alpha"), cmpTime); diff != "" {
		t.Errorf("Printer(alpha) mismatch (-want +got):\n%s", diff)
	}
	if _, ok, err := s.Printer(ctx, "missing"); ok || err != nil {
		t.Errorf("Printer(missing) = ok %v, err %v; want not found, no error", ok, err)
	}
}

func testPutReplacesSettings(t *testing.T, s state.Store) {
	p := printer("p1", hashes("a", "1", "b", "2", "c", "3", "e", "5"))
	mustPut(t, s, p)
	// One changed, two gone, one new, one kept.
	p.Settings = hashes("a", "10", "d", "4", "e", "5")
	p.Firmware = "LW81"
	mustPut(t, s, p)
	got := mustGet(t, s, "p1")
	if diff := cmp.Diff(p, got, cmpTime); diff != "" {
		t.Errorf("after replace (-want +got):\n%s", diff)
	}
	p.Settings = nil
	mustPut(t, s, p)
	if got := mustGet(t, s, "p1"); len(got.Settings) != 0 {
		t.Errorf("settings after putting none = %v, want empty", got.Settings)
	}
}

func testDeletePrinter(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	mustPut(t, s, printer("keep", hashes("a", "1")))
	mustPut(t, s, printer("drop", hashes("a", "1", "b", "2")))
	if err := s.DeletePrinter(ctx, "drop"); err != nil {
		t.Fatalf("DeletePrinter: %v", err)
	}
	if _, ok, err := s.Printer(ctx, "drop"); ok || err != nil {
		t.Errorf("after delete: ok %v, err %v", ok, err)
	}
	if err := s.DeletePrinter(ctx, "never-there"); err != nil {
		t.Errorf("DeletePrinter(absent) = %v, want nil", err)
	}
	// Its settings went with it: a new record of the same name starts empty.
	p := printer("drop", nil)
	mustPut(t, s, p)
	if got := mustGet(t, s, "drop"); len(got.Settings) != 0 {
		t.Errorf("re-created printer inherited settings %v", got.Settings)
	}
	if got := mustGet(t, s, "keep"); len(got.Settings) != 1 {
		t.Errorf("other printer's settings = %v, want untouched", got.Settings)
	}
}

// testFiles checks that a printer's deployed files round-trip apart from
// its settings, are replaced as settings are, and go with the printer.
func testFiles(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	p := printer("lobby", hashes("sleep_mode", "20"))
	p.Files = hashes("ca.pem", "3a7bd3e2", "certs/intermediate.pem", "9f86d081", "logo.png", "e3b0c442")
	mustPut(t, s, p)
	mustPut(t, s, printer("annex", hashes("sleep_mode", "30")))
	got := mustGet(t, s, "lobby")
	if diff := cmp.Diff(p, got, cmpTime); diff != "" {
		t.Errorf("Printer(lobby) with files (-want +got):\n%s", diff)
	}
	all, err := s.Printers(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("Printers = %d, %v", len(all), err)
	}
	if diff := cmp.Diff(p.Files, all[1].Files); diff != "" || len(all[0].Files) != 0 {
		t.Errorf("Printers' files (-want +got):\n%s; annex has %v", diff, all[0].Files)
	}

	// One changed, one gone, one new, one kept; settings untouched.
	p.Files = hashes("ca.pem", "5994471a", "logo.png", "e3b0c442", "fonts/ocr-b.ttf", "2c26b46b")
	mustPut(t, s, p)
	if diff := cmp.Diff(p, mustGet(t, s, "lobby"), cmpTime); diff != "" {
		t.Errorf("after replacing files (-want +got):\n%s", diff)
	}
	p.Files = nil
	mustPut(t, s, p)
	if got := mustGet(t, s, "lobby"); len(got.Files) != 0 || len(got.Settings) != 1 {
		t.Errorf("after putting no files: files %v, settings %v", got.Files, got.Settings)
	}

	const secret = "s3cret-firmware-key"
	leak := printer("leaky", nil)
	leak.Files = map[string]string{"key.pem": secret}
	if err := s.PutPrinter(ctx, leak); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("PutPrinter with a plain file hash = %v; want a refusal that does not repeat it", err)
	}
	leak.Files = map[string]string{"": state.HashValue("x")}
	if err := s.PutPrinter(ctx, leak); err == nil {
		t.Error("PutPrinter with an unnamed file succeeded")
	}

	p.Files = hashes("ca.pem", "3a7bd3e2")
	mustPut(t, s, p)
	if err := s.DeletePrinter(ctx, "lobby"); err != nil {
		t.Fatalf("DeletePrinter: %v", err)
	}
	mustPut(t, s, printer("lobby", nil))
	if got := mustGet(t, s, "lobby"); len(got.Files) != 0 {
		t.Errorf("re-created printer inherited files %v", got.Files)
	}
}

func testRefusesPlainValues(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	const secret = "s3cret-community"
	p := printer("leaky", map[string]string{"snmp_community": secret})
	err := s.PutPrinter(ctx, p)
	if err == nil {
		t.Fatal("PutPrinter with a plain setting value succeeded; want refusal")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error reveals the value: %v", err)
	}
	if _, ok, _ := s.Printer(ctx, "leaky"); ok {
		t.Error("refused printer was stored anyway")
	}
	if err := s.PutPrinter(ctx, state.Printer{}); err == nil {
		t.Error("PutPrinter with empty name succeeded")
	}
}

// testValues checks that values in clear round-trip next to their hashes,
// that keyed hashes and hashes not known ("") are stored as they are, and
// that a value in clear is refused unless its setting is recorded with
// its plain hash: a sensitive value, hashed with a key, must never sit
// next to its value.
func testValues(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	key, err := state.NewKey(strings.Repeat("k", state.MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	p := printer("lobby", map[string]string{
		"system.contact": state.HashValue("IT ü\x00x"), "system.location": state.HashValue(""),
		"pin": key.Hash("4711"), "legacy": "",
	})
	p.Values = map[string]string{"system.contact": "IT ü\x00x", "system.location": ""}
	mustPut(t, s, p)
	if diff := cmp.Diff(p, mustGet(t, s, "lobby"), cmpTime); diff != "" {
		t.Errorf("values round trip (-want +got):\n%s", diff)
	}
	// Changed: one value gone to sensitive, one new.
	p.Settings["system.contact"] = key.Hash("IT ü\x00x")
	p.Settings["new"] = state.HashValue("7")
	p.Values = map[string]string{"system.location": "", "new": "7"}
	mustPut(t, s, p)
	if diff := cmp.Diff(p, mustGet(t, s, "lobby"), cmpTime); diff != "" {
		t.Errorf("values replaced (-want +got):\n%s", diff)
	}
	if all, err := s.Printers(ctx); err != nil || len(all) != 1 || !cmp.Equal(all[0].Values, p.Values) {
		t.Errorf("Printers values = %+v, %v", all, err)
	}

	for name, bad := range map[string]state.Printer{
		"keyed hash": {Name: "x", Settings: map[string]string{"pin": key.Hash("4711")}, Values: map[string]string{"pin": "4711"}},
		"wrong hash": {Name: "x", Settings: map[string]string{"pin": state.HashValue("4712")}, Values: map[string]string{"pin": "4711"}},
		"no hash":    {Name: "x", Settings: map[string]string{}, Values: map[string]string{"pin": "4711"}},
	} {
		err := s.PutPrinter(ctx, bad)
		if err == nil {
			t.Errorf("%s: a value in clear was stored", name)
		} else if strings.Contains(err.Error(), "4711") {
			t.Errorf("%s: the error repeats the value: %v", name, err)
		}
	}
	if _, ok, _ := s.Printer(ctx, "x"); ok {
		t.Error("a refused printer was stored")
	}
}

// testValueKey checks that a store either has a key, the same at every
// call, or says that it has none.
func testValueKey(t *testing.T, s state.Store) {
	k, err := s.ValueKey()
	if errors.Is(err, state.ErrNoKey) {
		t.Skipf("store has no key: %v", err)
	}
	if err != nil || k.IsZero() {
		t.Fatalf("ValueKey = %v, %v; want a key or ErrNoKey", k, err)
	}
	again, err := s.ValueKey()
	if err != nil || again.Hash("4711") != k.Hash("4711") {
		t.Errorf("ValueKey changed between calls: %v", err)
	}
	if h := k.Hash("4711"); !state.IsKeyedHash(h) || h == state.HashValue("4711") {
		t.Errorf("Hash = %q, want a keyed hash", h)
	}
}

func testRuns(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for i, cmd := range []string{"plan", "apply", "apply"} {
		id, err := s.BeginRun(ctx, state.Run{
			Command: cmd, User: "ana", Host: "ci-3", GitCommit: fmt.Sprintf("c0ffee%d", i),
			ConfigHash: state.HashValue(fmt.Sprint(i)), StartedAt: base.Add(time.Duration(i) * time.Minute),
		})
		if err != nil {
			t.Fatalf("BeginRun %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Fatalf("run ids not distinct: %v", ids)
	}
	outcomes := []state.Outcome{
		{Printer: "p1", Status: "applied", Changes: 3, At: base.Add(61 * time.Second)},
		{Printer: "p2", Status: "failed", Detail: "printer p2: snmp set: timeout", At: base.Add(62 * time.Second)},
	}
	for _, o := range outcomes {
		if err := s.RecordOutcome(ctx, ids[1], o); err != nil {
			t.Fatalf("RecordOutcome: %v", err)
		}
	}
	if err := s.FinishRun(ctx, ids[1], "failed"); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
	if err := s.FinishRun(ctx, ids[0], "ok"); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
	if err := s.RecordOutcome(ctx, 1<<40, outcomes[0]); err == nil {
		t.Error("RecordOutcome for an unknown run succeeded")
	}
	if err := s.FinishRun(ctx, 1<<40, "ok"); err == nil {
		t.Error("FinishRun for an unknown run succeeded")
	}

	runs, err := s.Runs(ctx, 2)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	if len(runs) != 2 || runs[0].ID != ids[2] || runs[1].ID != ids[1] {
		t.Fatalf("Runs(2) ids = %v, want [%d %d] (newest first)", runIDs(runs), ids[2], ids[1])
	}
	if r := runs[0]; r.Status != "running" || !r.FinishedAt.IsZero() || !r.StartedAt.Equal(base.Add(2*time.Minute)) || r.GitCommit != "c0ffee2" || r.User != "ana" || r.Host != "ci-3" || r.Command != "apply" {
		t.Errorf("unfinished run = %+v", r)
	}
	if r := runs[1]; r.Status != "failed" || r.FinishedAt.IsZero() {
		t.Errorf("finished run = %+v, want status failed and a finish time", r)
	}
	all, err := s.Runs(ctx, 0)
	if err != nil || len(all) != 3 || all[2].ID != ids[0] || all[2].Status != "ok" {
		t.Errorf("Runs(0) = %v, %v; want all three, oldest (ok) last", runIDs(all), err)
	}

	or, ok := s.(state.HistoryReader)
	if !ok {
		return
	}
	got, err := or.Outcomes(ctx, ids[1])
	if err != nil {
		t.Fatalf("Outcomes: %v", err)
	}
	if diff := cmp.Diff(outcomes, got, cmpTime); diff != "" {
		t.Errorf("Outcomes (-want +got):\n%s", diff)
	}
	if got, err := or.Outcomes(ctx, ids[0]); err != nil || len(got) != 0 {
		t.Errorf("Outcomes of a run without any = %v, %v", got, err)
	}
}

func testPrinterBatch(t *testing.T, s state.Store) {
	b, ok := s.(state.PrinterBatcher)
	if !ok {
		t.Skip("store writes printers one at a time")
	}
	ctx := ctxFor(t)
	var ps []state.Printer
	for i := range 500 {
		ps = append(ps, state.Printer{Name: fmt.Sprintf("p%04d", i), Settings: hashes("a", fmt.Sprint(i))})
	}
	if err := b.PutPrinters(ctx, ps); err != nil {
		t.Fatal(err)
	}
	// One bad record refuses the whole batch.
	bad := append([]state.Printer{{Name: "new"}}, state.Printer{Name: "p0001", Settings: map[string]string{"a": "plain"}})
	if err := b.PutPrinters(ctx, bad); err == nil {
		t.Error("batch with a plain value succeeded")
	}
	got, err := s.Printers(ctx)
	if err != nil || len(got) != 500 || got[1].Settings["a"] != state.HashValue("1") {
		t.Errorf("after batches: %d printers, %v", len(got), err)
	}
}

func testOutcomeBatch(t *testing.T, s state.Store) {
	b, ok := s.(state.OutcomeBatcher)
	or, ok2 := s.(state.HistoryReader)
	if !ok || !ok2 {
		t.Skip("store records outcomes one at a time")
	}
	ctx := ctxFor(t)
	id, err := s.BeginRun(ctx, state.Run{Command: "apply", User: "ana", Host: "ci", StartedAt: time.Now()})
	if err != nil {
		t.Fatalf("BeginRun: %v", err)
	}
	at := time.Date(2025, 7, 2, 8, 0, 0, 0, time.UTC)
	batch := []state.Outcome{
		{Printer: "a", Status: "applied", Changes: 1, At: at, Changed: map[string]string{"system.contact": state.HashValue("x")}},
		{Printer: "b", Status: "failed", Detail: "timeout", At: at},
	}
	if err := b.RecordOutcomes(ctx, id, batch); err != nil {
		t.Fatalf("RecordOutcomes: %v", err)
	}
	bad := []state.Outcome{
		{Printer: "c", Status: "applied", At: at},
		{Printer: "d", Status: "applied", At: at, Changed: map[string]string{"system.contact": "plain value"}},
	}
	if err := b.RecordOutcomes(ctx, id, bad); err == nil || strings.Contains(err.Error(), "plain value") {
		t.Fatalf("RecordOutcomes with a plain value: %v; want an error that does not repeat it", err)
	}
	if err := b.RecordOutcomes(ctx, id+1000, batch); err == nil {
		t.Fatal("RecordOutcomes for an unknown run succeeded")
	}
	got, err := or.Outcomes(ctx, id)
	if err != nil {
		t.Fatalf("Outcomes: %v", err)
	}
	if len(got) != 2 || got[0].Printer != "a" || got[1].Printer != "b" || got[1].Detail != "timeout" {
		t.Fatalf("Outcomes after a good and two refused batches = %+v", got)
	}
}

// testChanges checks that the settings a run changed are kept per printer
// (as hashes only) and read back by run and by printer.
func testChanges(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	base := time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)
	run := func(i int) int64 {
		id, err := s.BeginRun(ctx, state.Run{Command: "apply", User: "ana", Host: "ci", GitCommit: fmt.Sprintf("abc%d", i),
			ConfigHash: state.HashValue(fmt.Sprint(i)), StartedAt: base.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatalf("BeginRun: %v", err)
		}
		return id
	}
	r1, r2 := run(1), run(2)
	first := state.Outcome{Printer: "lobby", Status: "applied", Changes: 2, At: base.Add(time.Hour + time.Second),
		Changed: hashes("sleep_mode", "20", "toner_darkness", "8")}
	other := state.Outcome{Printer: "annex", Status: "applied", Changes: 1, At: base.Add(time.Hour + 2*time.Second),
		Changed: hashes("sleep_mode", "30")}
	second := state.Outcome{Printer: "lobby", Status: "failed", Detail: "printer lobby: snmp set: timeout", At: base.Add(2*time.Hour + time.Second)}
	for _, o := range []struct {
		run int64
		o   state.Outcome
	}{{r1, first}, {r1, other}, {r2, second}} {
		if err := s.RecordOutcome(ctx, o.run, o.o); err != nil {
			t.Fatalf("RecordOutcome(%s): %v", o.o.Printer, err)
		}
	}
	leak := state.Outcome{Printer: "lobby", Status: "applied", Changed: map[string]string{"snmp_community": "hunter22"}}
	err := s.RecordOutcome(ctx, r2, leak)
	if err == nil {
		t.Error("RecordOutcome with a plain changed value succeeded")
	} else if strings.Contains(err.Error(), "hunter22") {
		t.Errorf("error repeats the refused value: %v", err)
	}

	if or, ok := s.(state.HistoryReader); ok {
		got, err := or.Outcomes(ctx, r1)
		if err != nil {
			t.Fatalf("Outcomes: %v", err)
		}
		if diff := cmp.Diff([]state.Outcome{first, other}, got, cmpTime); diff != "" {
			t.Errorf("Outcomes with changes (-want +got):\n%s", diff)
		}
		got, err = or.Outcomes(ctx, r2)
		if err != nil || len(got) != 1 || got[0].Changed != nil {
			t.Errorf("Outcomes of the failed run = %+v, %v; want one outcome without changes (the refused one not kept)", got, err)
		}
	}
	hr, ok := s.(state.HistoryReader)
	if !ok {
		return
	}
	hist, err := hr.PrinterHistory(ctx, "lobby", 0)
	if err != nil {
		t.Fatalf("PrinterHistory: %v", err)
	}
	if len(hist) != 2 || hist[0].Run.ID != r2 || hist[1].Run.ID != r1 {
		t.Fatalf("PrinterHistory(lobby) = %+v, want runs %d then %d", hist, r2, r1)
	}
	if diff := cmp.Diff(first, hist[1].Outcome, cmpTime); diff != "" {
		t.Errorf("history outcome (-want +got):\n%s", diff)
	}
	if h := hist[1].Run; h.GitCommit != "abc1" || h.ConfigHash != state.HashValue("1") || h.Command != "apply" {
		t.Errorf("history run = %+v", h)
	}
	if hist, err := hr.PrinterHistory(ctx, "lobby", 1); err != nil || len(hist) != 1 || hist[0].Run.ID != r2 {
		t.Errorf("PrinterHistory(lobby, 1) = %+v, %v", hist, err)
	}
	if hist, err := hr.PrinterHistory(ctx, "nowhere", 0); err != nil || len(hist) != 0 {
		t.Errorf("PrinterHistory(nowhere) = %+v, %v", hist, err)
	}
}

func runIDs(rs []state.Run) []int64 {
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

var (
	ownerA = state.LockInfo{User: "ana", Host: "ci-1", PID: 101, Command: "inkform apply"}
	ownerB = state.LockInfo{User: "bo", Host: "ci-2", PID: 202, Command: "inkform apply"}
)

// lockWithin tries to lock for at most d.
func lockWithin(t *testing.T, s state.Store, owner state.LockInfo, d time.Duration) (*state.Lock, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Lock(ctx, owner)
}

// wantLocked checks err is a *state.LockedError naming holder.
func wantLocked(t *testing.T, err error, holder *state.Lock) {
	t.Helper()
	var le *state.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock = %v, want *state.LockedError", err)
	}
	h, w := le.Holder, holder.Info
	if h.ID != w.ID || h.User != w.User || h.Host != w.Host || h.PID != w.PID || h.Command != w.Command {
		t.Errorf("LockedError holder = %+v, want %+v", h, w)
	}
	if h.Expires.IsZero() || h.CreatedAt.IsZero() || !strings.Contains(err.Error(), w.User+"@"+w.Host) {
		t.Errorf("LockedError lacks times or owner: %v", err)
	}
}

func testLockContention(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	a, err := s.Lock(ctx, ownerA)
	if err != nil {
		t.Fatalf("Lock A: %v", err)
	}
	if a.Info.ID == "" || a.Info.User != ownerA.User || a.Info.Expires.Before(a.Info.CreatedAt) {
		t.Errorf("lock info = %+v", a.Info)
	}
	if err := a.Err(); err != nil {
		t.Errorf("Err of a lock just taken = %v", err)
	}
	_, err = lockWithin(t, s, ownerB, 300*time.Millisecond)
	wantLocked(t, err, a)

	if err := a.Unlock(ctx); err != nil {
		t.Fatalf("Unlock A: %v", err)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Errorf("second Unlock A: %v", err)
	}
	b, err := lockWithin(t, s, ownerB, 5*time.Second)
	if err != nil {
		t.Fatalf("Lock B after A unlocked: %v", err)
	}
	if b.Info.ID == a.Info.ID {
		t.Errorf("lock ids repeat: %s", b.Info.ID)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Errorf("Unlock B: %v", err)
	}
}

func testLockAdmin(t *testing.T, s state.Store) {
	la, ok := s.(state.LockAdmin)
	if !ok {
		t.Skip("store has no lock administration")
	}
	ctx := ctxFor(t)
	if _, held, err := la.LockHolder(ctx); held || err != nil {
		t.Fatalf("LockHolder of a new store = held %v, %v", held, err)
	}
	a, err := s.Lock(ctx, ownerA)
	if err != nil {
		t.Fatalf("Lock A: %v", err)
	}
	h, held, err := la.LockHolder(ctx)
	if err != nil || !held || h.ID != a.Info.ID || h.User != ownerA.User || h.PID != ownerA.PID || h.Expires.IsZero() {
		t.Errorf("LockHolder = %+v, %v, %v; want A's lock", h, held, err)
	}
	if err := la.ForceUnlock(ctx, "not-a-lock"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("ForceUnlock(unknown) = %v, want ErrNotFound", err)
	}
	if err := la.ForceUnlock(ctx, a.Info.ID); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	if _, held, err := la.LockHolder(ctx); held || err != nil {
		t.Errorf("after ForceUnlock: held %v, %v", held, err)
	}
	if err := a.Unlock(ctx); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("Unlock after ForceUnlock = %v, want ErrLockLost", err)
	}
	b, err := lockWithin(t, s, ownerB, 5*time.Second)
	if err != nil {
		t.Fatalf("Lock B after ForceUnlock: %v", err)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Errorf("Unlock B: %v", err)
	}
}

func leaseSetter(t *testing.T, s state.Store) LeaseSetter {
	t.Helper()
	ls, ok := s.(LeaseSetter)
	if !ok {
		t.Skip("store cannot shorten its lease")
	}
	return ls
}

func testLockRenewal(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	// A generous lease keeps a loaded machine from losing the lock; the
	// test watches the lease move forward rather than outlasting it.
	leaseSetter(t, s).SetLease(10*time.Second, 50*time.Millisecond)
	a, err := s.Lock(ctx, ownerA)
	if err != nil {
		t.Fatalf("Lock A: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = lockWithin(t, s, ownerB, 100*time.Millisecond)
		wantLocked(t, err, a)
		// Renewed when the lease end moved. Not "moved later": leases are
		// wall-clock times, and a VM's wall clock can be stepped back.
		var le *state.LockedError
		if errors.As(err, &le) && !le.Holder.Expires.Equal(a.Info.Expires) {
			break // renewed
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease still ends %v after 10s; never renewed", a.Info.Expires)
		}
	}
	if err := a.Err(); err != nil {
		t.Errorf("Err of a lock renewed = %v", err)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Errorf("Unlock A after renewals: %v", err)
	}
}

func testLockExpiredTakeover(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	ls := leaseSetter(t, s)
	ls.SetLease(300*time.Millisecond, -1) // A hangs: never renews
	a, err := s.Lock(ctx, ownerA)
	if err != nil {
		t.Fatalf("Lock A: %v", err)
	}
	// B is alive: its lock must not run out while the test looks at it.
	ls.SetLease(time.Minute, 0)
	// B keeps retrying until A's lease runs out, well within the deadline.
	start := time.Now()
	b, err := lockWithin(t, s, ownerB, 10*time.Second)
	if err != nil {
		t.Fatalf("Lock B over an expired lease: %v", err)
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Errorf("B took A's lock after %v, before its lease ran out", time.Since(start))
	}
	if b.Info.User != ownerB.User {
		t.Errorf("B's lock info = %+v", b.Info)
	}
	// A, waking up, must learn that it lost the lock before it writes.
	if err := a.Err(); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("A.Err() after B took its lock over = %v; want ErrLockLost", err)
	}
	if err := b.Err(); err != nil {
		t.Errorf("B.Err() while B holds the lock = %v", err)
	}
	if err := a.Unlock(ctx); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("Unlock of a lock taken over = %v; want ErrLockLost", err)
	}
	// A's late Unlock must not have released B's lock.
	_, err = lockWithin(t, s, ownerA, 100*time.Millisecond)
	wantLocked(t, err, b)
	if err := b.Unlock(ctx); err != nil {
		t.Errorf("Unlock B: %v", err)
	}
}

func testConcurrentPut(t *testing.T, s state.Store) {
	ctx := ctxFor(t)
	const workers, each = 16, 20
	errs := make(chan error, workers*(each+1))
	shared := make([]map[string]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		// Each worker writes its own disjoint settings to "shared": if a
		// put were not one transaction, the result could mix two workers.
		shared[w] = hashes(fmt.Sprintf("w%d-a", w), "1", fmt.Sprintf("w%d-b", w), "2")
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("w%02d-p%02d", w, i)
				if err := s.PutPrinter(ctx, printer(name, hashes("n", name))); err != nil {
					errs <- err
				}
				if i == each/2 {
					if err := s.PutPrinter(ctx, printer("shared", shared[w])); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent PutPrinter: %v", err)
	}
	ps, err := s.Printers(ctx)
	if err != nil {
		t.Fatalf("Printers: %v", err)
	}
	if len(ps) != workers*each+1 {
		t.Fatalf("got %d printers, want %d", len(ps), workers*each+1)
	}
	for _, p := range ps {
		if p.Name == "shared" {
			found := false
			for _, m := range shared {
				found = found || cmp.Equal(m, p.Settings)
			}
			if !found {
				t.Errorf("shared printer settings %v are not any single writer's", p.Settings)
			}
			continue
		}
		if !cmp.Equal(p.Settings, hashes("n", p.Name)) {
			t.Errorf("printer %s settings = %v", p.Name, p.Settings)
		}
	}
}

func testHashValue(t *testing.T) {
	seen := map[string]string{}
	for _, v := range []string{"", "public", "8", "08", state.HashValue("public")} {
		h := state.HashValue(v)
		// Short values can occur in any hex string by chance; test longer ones.
		if h == v || len(v) >= 6 && strings.Contains(h, v) {
			t.Errorf("HashValue(%q) = %q reveals the value", v, h)
		}
		if h != state.HashValue(v) {
			t.Errorf("HashValue(%q) is not deterministic", v)
		}
		if !state.IsHashValue(h) {
			t.Errorf("IsHashValue(HashValue(%q)) = false", v)
		}
		if prev, dup := seen[h]; dup {
			t.Errorf("HashValue(%q) == HashValue(%q)", v, prev)
		}
		seen[h] = v
	}
	for _, v := range []string{"public", "sha256:xyz", "SHA256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64)} {
		if state.IsHashValue(v) {
			t.Errorf("IsHashValue(%q) = true", v)
		}
	}
}
