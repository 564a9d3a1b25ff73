package sqltest

import (
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/state"
)

// RunReopen checks that what one store wrote is there, unchanged, for the
// next store opened on the same database (a long text field included).
// open must return a store on the same database each call; RunReopen closes
// the first one itself and leaves the second to the caller's cleanup.
func RunReopen(t *testing.T, open func(t *testing.T) state.Store) {
	ctx := ctxFor(t)
	s := open(t)
	want := state.Printer{Name: "lobby", Address: "10.1.2.3", Serial: "X1", ObservedAt: time.Unix(1700000000, 42).UTC(),
		Settings: map[string]string{"sleep": state.HashValue("20")}}
	if err := s.PutPrinter(ctx, want); err != nil {
		t.Fatal(err)
	}
	id, err := s.BeginRun(ctx, state.Run{Command: "apply", User: "ana", Host: strings.Repeat("h", 5000)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := open(t)
	got, ok, err := s2.Printer(ctx, "lobby")
	if err != nil || !ok {
		t.Fatalf("after reopen: ok %v, err %v", ok, err)
	}
	if !got.ObservedAt.Equal(want.ObservedAt) || got.Serial != "X1" || got.Settings["sleep"] != want.Settings["sleep"] {
		t.Errorf("after reopen got %+v, want %+v", got, want)
	}
	runs, err := s2.Runs(ctx, 10)
	if err != nil || len(runs) != 1 || runs[0].ID != id || runs[0].Status != "running" || len(runs[0].Host) != 5000 {
		t.Errorf("runs after reopen = %d runs, %v", len(runs), err)
	}
}
