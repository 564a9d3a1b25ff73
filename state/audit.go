package state

import (
	"context"
	"time"
)

// Audit is the status page's audit log: who logged in (or failed to),
// logged out, acknowledged, silenced, or did anything else that an
// administrator may have to account for. Entries are only appended.
// Backends that keep no audit log lack it.
type Audit interface {
	// AppendAudit records one entry; a zero At is now. An entry without
	// an Action is refused.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// AuditLog returns the most recent entries first (by At, then by
	// id), at most limit, or all when limit <= 0.
	AuditLog(ctx context.Context, limit int) ([]AuditEntry, error)
}

// AuditEntry is one line of the audit log. It never holds a secret: no
// password, no session token.
type AuditEntry struct {
	ID      int64
	At      time.Time
	User    string // who did it; for a failed login, the name given
	Address string // the client's address
	Action  string // "login", "login_failed", "logout", "ack", "silence", …
	Target  string // what it was done to: an alert key, a silence id
	Detail  string // a comment, the reason a login failed
}

// Sessions lets several status pages on one state end a login together:
// a session is a signed token that any of them can check, and a logout on
// one records the session's digest so that all of them refuse it from
// then on. The digest is a keyed hash of the session's id: the state
// holds nothing that is a session.
type Sessions interface {
	// RevokeSession records that the session with digest id has ended.
	// The record is kept until expires (when the session would have ended
	// anyway); recording it twice is not an error.
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	// SessionRevoked reports whether the session with digest id was
	// revoked.
	SessionRevoked(ctx context.Context, id string) (bool, error)
}
