package watch_test

import (
	"strings"
	"testing"

	"github.com/inkform/inkform/watch"
)

func TestCleanText(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"  Paper jam\tin tray 2\n", 40, "Paper jam in tray 2"},
		{"a\x00b\x1bc\x7fd", 40, "abcd"},
		{"bad \xff utf-8", 40, "bad \uFFFD utf-8"},
		{strings.Repeat("é", 300), 10, strings.Repeat("é", 10)},
		{strings.Repeat("x", 100000), 10, strings.Repeat("x", 10)},
	} {
		if got := watch.CleanText(c.in, c.max); got != c.want {
			t.Errorf("CleanText(%.20q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestSourceCounters(t *testing.T) {
	c := watch.NewSourceCounters("refused", "queue_full")
	c.Received()
	c.Received()
	c.Accepted()
	c.Drop("refused")
	c.Drop("undecodable") // a reason not given up front is counted too
	r, a, d := c.Snapshot()
	if r != 2 || a != 1 || d["refused"] != 1 || d["queue_full"] != 0 || d["undecodable"] != 1 || len(d) != 3 {
		t.Errorf("Snapshot = %d, %d, %v", r, a, d)
	}
}
