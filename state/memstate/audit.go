package memstate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/inkform/inkform/state"
)

var (
	_ state.Audit    = (*Store)(nil)
	_ state.Sessions = (*Store)(nil)
)

// AppendAudit records one audit entry; a zero At is now.
func (s *Store) AppendAudit(ctx context.Context, e state.AuditEntry) error {
	if e.Action == "" {
		return errors.New("audit: an entry needs an action")
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	e.ID = int64(len(s.audit) + 1)
	s.audit = append(s.audit, e)
	return nil
}

// AuditLog returns the most recent entries first, at most limit.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]state.AuditEntry, error) {
	s.mu.Lock()
	out := slices.Clone(s.audit)
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b state.AuditEntry) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// RevokeSession records an ended session's digest until expires.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	if id == "" {
		return fmt.Errorf("end a session: no session digest")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked == nil {
		s.revoked = map[string]time.Time{}
	}
	now := time.Now()
	for k, exp := range s.revoked {
		if exp.Before(now) {
			delete(s.revoked, k)
		}
	}
	if _, ok := s.revoked[id]; !ok {
		s.revoked[id] = expires
	}
	return nil
}

// SessionRevoked reports whether the session with digest id was ended.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.revoked[id]
	return ok, nil
}
