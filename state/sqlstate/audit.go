package sqlstate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/inkform/inkform/state"
)

var (
	_ state.Audit    = (*Store)(nil)
	_ state.Sessions = (*Store)(nil)
)

// AppendAudit records one audit entry; a zero At is now.
func (s *Store) AppendAudit(ctx context.Context, e state.AuditEntry) error {
	fail := func(err error) error {
		return fmt.Errorf("%s state: audit %q: %w", s.d.Name(), e.Action, err)
	}
	if e.Action == "" {
		return fail(errors.New("an audit entry needs an action"))
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	at, err := encTime(e.At)
	if err != nil {
		return fail(err)
	}
	q := s.bind(`INSERT INTO audit_log (logged_at, user_name, address, audit_action, audit_target, detail) VALUES (?, ?, ?, ?, ?, ?)`)
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, at, e.User, e.Address, e.Action, e.Target, e.Detail)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// AuditLog returns the most recent entries first, at most limit (all when
// limit <= 0).
func (s *Store) AuditLog(ctx context.Context, limit int) ([]state.AuditEntry, error) {
	fail := func(err error) ([]state.AuditEntry, error) {
		return nil, fmt.Errorf("%s state: audit log: %w", s.d.Name(), err)
	}
	q := `SELECT id, logged_at, user_name, address, audit_action, audit_target, detail FROM audit_log ORDER BY logged_at DESC, id DESC`
	if limit > 0 {
		q += " " + s.d.Limit(limit)
	}
	rows, err := s.db.QueryContext(ctx, s.bind(q))
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	var out []state.AuditEntry
	for rows.Next() {
		var (
			e  state.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Address, &e.Action, &e.Target, &e.Detail); err != nil {
			return fail(err)
		}
		e.At = time.Unix(0, at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return out, nil
}

// RevokeSession records the digest of an ended session until it would
// have expired, and drops the records of sessions expired meanwhile.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	fail := func(err error) error {
		return fmt.Errorf("%s state: end a session: %w", s.d.Name(), err)
	}
	if id == "" {
		return fail(errors.New("no session digest"))
	}
	exp, err := encTime(expires)
	if err != nil || !exp.Valid {
		return fail(fmt.Errorf("expiry %v: %v", expires, err))
	}
	now, err := encTime(s.now())
	if err != nil {
		return fail(err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.bind(`DELETE FROM session_revocations WHERE expires_at < ?`), now); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM session_revocations WHERE session_hash = ?`), id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.bind(`INSERT INTO session_revocations (session_hash, expires_at) VALUES (?, ?)`), id, exp)
		if err != nil && s.d.IsUniqueViolation(err) {
			return nil // another process ended it at the same moment
		}
		return err
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// SessionRevoked reports whether the session with digest id was ended.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM session_revocations WHERE session_hash = ?`), id).Scan(&n); err != nil {
		return false, fmt.Errorf("%s state: look up a session: %w", s.d.Name(), err)
	}
	return n > 0, nil
}
