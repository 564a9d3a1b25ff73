package watch

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// SourceCounters count what a listening source (traps, NPAP alerts)
// received, accepted and dropped, by reason: what a source drops is never
// stored, so these counters are the only trace of it. Safe for concurrent
// use.
type SourceCounters struct {
	received, accepted atomic.Uint64
	dropped            sync.Map // reason → *atomic.Uint64
}

// NewSourceCounters counts the reasons given from 0, so that each shows
// before it first happens.
func NewSourceCounters(reasons ...string) *SourceCounters {
	c := &SourceCounters{}
	for _, r := range reasons {
		c.dropped.Store(r, new(atomic.Uint64))
	}
	return c
}

// Received counts one datagram read.
func (c *SourceCounters) Received() { c.received.Add(1) }

// Accepted counts one alert handed on.
func (c *SourceCounters) Accepted() { c.accepted.Add(1) }

// Drop counts one datagram dropped for reason.
func (c *SourceCounters) Drop(reason string) {
	v, ok := c.dropped.Load(reason)
	if !ok {
		v, _ = c.dropped.LoadOrStore(reason, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// Snapshot returns the counts; dropped has every reason seen or given.
func (c *SourceCounters) Snapshot() (received, accepted uint64, dropped map[string]uint64) {
	dropped = map[string]uint64{}
	c.dropped.Range(func(k, v any) bool {
		dropped[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return c.received.Load(), c.accepted.Load(), dropped
}

// CleanText makes text a printer sent fit for an email: valid UTF-8,
// tabs and line breaks as spaces, no other control characters, trimmed,
// at most max runes.
func CleanText(s string, max int) string {
	if len(s) > 4*max {
		s = s[:4*max]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			if r == '\t' || r == '\n' {
				return ' '
			}
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}
