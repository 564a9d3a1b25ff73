package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressShowsCountsAndETA(t *testing.T) {
	var errb bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(streams{Err: &errb, Terminal: true}, "Observing", false)
	p.now = func() time.Time { return now }
	p.update(0, 1000)
	now = now.Add(4 * time.Second)
	p.update(250, 1000)
	if got := errb.String(); !strings.Contains(got, "Observing printers: 250/1000 (25%), about 12s left") {
		t.Errorf("progress line: %q", got)
	}
	now = now.Add(116 * time.Second)
	p.update(500, 1000)
	if got := errb.String(); !strings.Contains(got, "500/1000 (50%), about 2m0s left") {
		t.Errorf("progress line: %q", got)
	}
	p.update(1000, 1000)
	if got := errb.String(); !strings.HasSuffix(got, "Observing printers: 1000/1000 (100%)") {
		t.Errorf("last line: %q", got)
	}
	if newProgress(streams{Err: &errb}, "Observing", false) != nil {
		t.Error("progress drawn off a terminal")
	}
}
