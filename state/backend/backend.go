// Package backend opens a state store from one location string, picking
// the engine by its scheme:
//
//	sqlite:PATH                                    a SQLite file (also a bare PATH)
//	firebird://USER:PASSWORD@HOST[:PORT]/ABS/PATH.fdb   a Firebird 3 database
//	sqlserver://USER:PASSWORD@HOST[:PORT]?database=NAME a SQL Server database
//
// Passwords in the user part are percent-encoded, as in any URL. A
// location holds credentials, so it is never printed: Location.String
// leaves the password out.
package backend

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/firebird"
	"github.com/inkform/inkform/state/sqlite"
	"github.com/inkform/inkform/state/sqlserver"
	"github.com/inkform/inkform/state/sqlstate"
)

// Backend names, as in the configuration's state block label.
const (
	SQLite    = "sqlite"
	Firebird  = "firebird"
	SQLServer = "sqlserver"
)

// Location is a parsed state location.
type Location struct {
	Backend string
	// Path is the SQLite file, as written (possibly relative).
	Path string

	driver string // the driver's DSN, with credentials
	where  string // printable: no password
}

// Options tune the store; see sqlstate.Options.
type Options = sqlstate.Options

var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`)

// Parse reads a location. Errors never repeat it: it may hold a password.
func Parse(s string) (Location, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Location{}, errors.New("state location is empty")
	}
	m := schemeRE.FindStringSubmatch(s)
	scheme := ""
	if m != nil {
		scheme = strings.ToLower(m[1])
	}
	switch {
	case scheme == SQLite:
		p := strings.TrimPrefix(s[len(m[0]):], "//")
		if p == "" {
			return Location{}, errors.New("state location sqlite: names no file")
		}
		return Location{Backend: SQLite, Path: p, where: p}, nil
	case scheme == Firebird:
		return parseFirebird(s)
	case scheme == SQLServer:
		where, err := sqlserver.Where(s)
		if err != nil {
			return Location{}, err
		}
		return Location{Backend: SQLServer, driver: s, where: "sqlserver://" + where}, nil
	case m != nil && strings.HasPrefix(s[len(m[0]):], "//"):
		return Location{}, fmt.Errorf("state location scheme %q is not one of sqlite:, firebird://, sqlserver://", scheme)
	default:
		// A bare path (a Windows drive letter parses as a scheme but has no //).
		return Location{Backend: SQLite, Path: s, where: s}, nil
	}
}

// parseFirebird turns firebird://user:pass@host:port/abs/path.fdb into the
// driver's user:pass@host:port//abs/path.fdb.
func parseFirebird(s string) (Location, error) {
	bad := errors.New("state location is not firebird://USER:PASSWORD@HOST[:PORT]/ABSOLUTE/PATH.fdb")
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User == nil || u.User.Username() == "" || strings.Trim(u.Path, "/") == "" || u.Opaque != "" {
		// url's error would quote the location, password and all.
		return Location{}, bad
	}
	driver := u.User.String() + "@" + u.Host + "/" + u.EscapedPath()
	if u.RawQuery != "" {
		driver += "?" + u.RawQuery
	}
	return Location{Backend: Firebird, driver: driver, where: "firebird://" + u.User.Username() + "@" + u.Host + u.Path}, nil
}

// String describes the location without its password.
func (l Location) String() string { return l.where }

// WithPath returns l with a SQLite path replaced (resolved, say).
func (l Location) WithPath(p string) Location {
	if l.Backend == SQLite {
		l.Path, l.where = p, p
	}
	return l
}

// Open opens the store at l, creating its schema when new.
func (l Location) Open(ctx context.Context, opts Options) (*sqlstate.Store, error) {
	switch l.Backend {
	case SQLite:
		s, err := sqlite.OpenStore(ctx, l.Path, opts)
		if err != nil {
			return nil, err
		}
		return s.Store, nil
	case Firebird:
		s, err := firebird.OpenStore(ctx, l.driver, opts)
		if err != nil {
			return nil, err
		}
		return s.Store, nil
	case SQLServer:
		s, err := sqlserver.OpenStore(ctx, l.driver, opts)
		if err != nil {
			return nil, err
		}
		return s.Store, nil
	}
	return nil, fmt.Errorf("state backend %q is unknown", l.Backend)
}

// Open opens the store at location dsn (see the package comment).
func Open(ctx context.Context, dsn string) (state.Store, error) {
	l, err := Parse(dsn)
	if err != nil {
		return nil, err
	}
	return l.Open(ctx, Options{})
}
