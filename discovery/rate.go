package discovery

import (
	"context"
	"sync"
	"time"
)

// DefaultRate is how many packets a second a sweep sends by default:
// about 1.3 Mbit/s of SNMP requests, which no site network notices.
const DefaultRate = 2000

// bucket is a token bucket (as GCRA: a theoretical arrival time) shared by
// every sender of a sweep. Each packet, first attempts and retries alike,
// takes one token; at most burst go out back to back.
type bucket struct {
	mu       sync.Mutex
	interval time.Duration // between packets at the rate
	burst    int
	tat      time.Time // when the bucket would be empty again
	now      func() time.Time
}

func newBucket(perSecond float64, burst int) *bucket {
	if burst < 1 {
		burst = 1
	}
	return &bucket{interval: time.Duration(float64(time.Second) / perSecond), burst: burst, now: time.Now}
}

// defaultBurst lets 10 ms of packets out at once: enough to keep up with
// timer granularity, too few to matter to any switch.
func defaultBurst(perSecond float64) int { return max(1, int(perSecond/100)) }

// wait blocks until a packet may be sent, or ctx ends.
func (b *bucket) wait(ctx context.Context) error {
	b.mu.Lock()
	now := b.now()
	if b.tat.Before(now) {
		b.tat = now
	}
	at := b.tat.Add(-time.Duration(b.burst-1) * b.interval)
	b.tat = b.tat.Add(b.interval)
	b.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
