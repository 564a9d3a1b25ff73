package state

import (
	"testing"
	"time"
)

func TestShownStatus(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	running := Run{Status: RunRunning, StartedAt: t0}
	ownLock := &LockInfo{CreatedAt: t0.Add(-time.Second), Expires: t0.Add(time.Hour)}
	tests := []struct {
		name string
		run  Run
		lock *LockInfo
		now  time.Time
		want string
	}{
		{"finished runs show what was recorded", Run{Status: RunOK, StartedAt: t0}, nil, t0, RunOK},
		{"running under a live lock taken before it", running, ownLock, t0.Add(time.Minute), RunRunning},
		{"running with no lock at all", running, nil, t0.Add(time.Minute), RunAbandoned},
		{"running, its lock expired", running, ownLock, t0.Add(2 * time.Hour), RunAbandoned},
		{"running, the lock now another run's", running, &LockInfo{CreatedAt: t0.Add(time.Minute), Expires: t0.Add(time.Hour)}, t0.Add(2 * time.Minute), RunAbandoned},
	}
	for _, tt := range tests {
		if got := tt.run.ShownStatus(tt.lock, tt.now); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
