// Package auth is the contract between the status page and the ways a
// person proves who they are: a password checked against a directory
// (LDAP, and HTTP Basic for scripts), or a Kerberos ticket (SPNEGO).
// The implementations are auth/ldap and auth/kerberos.
package auth

import (
	"context"
	"errors"
	"net/http"

	"github.com/inkform/inkform/alerts"
)

// User is an authenticated person with the role the status page gives
// them.
type User struct {
	Name   string // the login name (uid), or the principal's name part
	Role   string // alerts.RoleViewer, alerts.RoleServiceDesk or alerts.RoleAdmin
	Method string // "ldap", "kerberos", "basic", "loopback"
}

var (
	// ErrBadCredentials: unknown user or wrong password (401). The
	// message never says which.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrNoRole: the user is known but in none of the mapped groups (403).
	ErrNoRole = errors.New("not in any group that has a role on this page")
	// ErrUnavailable wraps a failure to reach the directory or KDC (503).
	ErrUnavailable = errors.New("authentication service unavailable")
)

// Passwords checks a user name and password and finds the user's role.
type Passwords interface {
	Authenticate(ctx context.Context, username, password string) (User, error)
}

// Directory finds the role of a user already authenticated elsewhere
// (a Kerberos principal's name part).
type Directory interface {
	Lookup(ctx context.Context, username string) (User, error)
}

// Negotiator verifies an "Authorization: Negotiate ..." header.
type Negotiator interface {
	// Negotiate returns the client principal's user name ("alice" for
	// alice@REALM) when r carries a valid SPNEGO token; ok is false when
	// r carries no Negotiate header at all. A token that is present but
	// invalid, forged or expired is an error wrapping ErrBadCredentials.
	Negotiate(r *http.Request) (username string, ok bool, err error)
}

// RoleAtLeast reports whether role grants what min does.
func RoleAtLeast(role, min string) bool { return rank(role) >= rank(min) && rank(min) > 0 }

func rank(role string) int {
	switch role {
	case alerts.RoleViewer:
		return 1
	case alerts.RoleServiceDesk:
		return 2
	case alerts.RoleAdmin:
		return 3
	}
	return 0
}
