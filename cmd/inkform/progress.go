package main

import (
	"fmt"
	"sync"
	"time"
)

// progress draws one self-overwriting line on a terminal; it is silent
// otherwise. Safe for concurrent calls.
type progress struct {
	mu    sync.Mutex
	io    streams
	verb  string
	noun  string // what is counted: "printers" unless set
	shown bool
	last  time.Time
	start time.Time // the first update: the ETA counts from there
	now   func() time.Time
}

func newProgress(io streams, verb string, quiet bool) *progress {
	if quiet || !io.Terminal {
		return nil
	}
	return &progress{io: io, verb: verb, now: time.Now}
}

// due says whether to draw now: at most every 100 ms, and always the last
// step. The caller holds p.mu.
func (p *progress) due(last bool) bool {
	now := p.now()
	if !last && now.Sub(p.last) < 100*time.Millisecond {
		return false
	}
	p.last, p.shown = now, true
	return true
}

// update is a progress callback of observing or applying.
func (p *progress) update(done, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = p.now()
	}
	if !p.due(done >= total) {
		return
	}
	fmt.Fprintf(p.io.Err, "\r\033[K%s", p.line(done, total))
}

// line is "Observing printers: 2500/10000 (25%), about 9s left": the ETA
// once a second of work gives a rate to go by.
func (p *progress) line(done, total int) string {
	noun := p.noun
	if noun == "" {
		noun = "printers"
	}
	s := fmt.Sprintf("%s %s: %d/%d", p.verb, noun, done, total)
	if total <= 0 {
		return s
	}
	s += fmt.Sprintf(" (%d%%)", done*100/total)
	elapsed := p.now().Sub(p.start)
	if done > 0 && done < total && elapsed >= time.Second {
		left := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
		s += ", about " + roughDuration(left) + " left"
	}
	return s
}

// roughDuration is d to the second under a minute, to the minute above.
func roughDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	}
	return d.Round(time.Minute).String()
}

// upload is an apply upload-progress callback: one self-overwriting
// line per file on a terminal.
func (p *progress) upload(printer, file string, sent, total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.due(sent >= total) {
		return
	}
	pct := ""
	if total > 0 {
		pct = fmt.Sprintf(" (%d%%)", sent*100/total)
	}
	fmt.Fprintf(p.io.Err, "\r\033[KUploading %s to %s: %s of %s%s", file, printer, mib(sent), mib(total), pct)
}

// clear erases the progress line before real output is written.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.io.Err, "\r\033[K")
		p.shown = false
	}
}

// callback and uploadCallback return nil for a nil progress, so that the
// observer and applier skip the calls altogether.
func callback(p *progress) func(int, int) {
	if p == nil {
		return nil
	}
	return p.update
}

func uploadCallback(p *progress) func(printer, file string, sent, total int64) {
	if p == nil {
		return nil
	}
	return p.upload
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
