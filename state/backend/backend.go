// Package backend holds the table of state backends (name, location
// scheme, parser, opener) and opens a state store from one location
// string, picking the backend by its scheme:
//
//	sqlite:PATH                                    a SQLite file (also a bare PATH)
//	firebird://USER:PASSWORD@HOST[:PORT]/ABS/PATH.fdb   a Firebird 3 database
//	sqlserver://USER:PASSWORD@HOST[:PORT]?database=NAME a SQL Server database
//
// Passwords in the user part are percent-encoded, as in any URL. A
// location holds credentials, so it is never printed: Location.String
// leaves the password out.
//
// The configuration's state block and the -state flag both read this
// table, so a new backend is one row here.
package backend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/firebird"
	"github.com/inkform/inkform/state/sqlite"
	"github.com/inkform/inkform/state/sqlserver"
	"github.com/inkform/inkform/state/sqlstate"
)

// Backend is one row of the table.
type Backend struct {
	// Name is the state block's label and Location.Backend.
	Name string
	// Scheme is how a location of this backend starts ("firebird://").
	Scheme string
	// Syntax shows a location, for help texts.
	Syntax string
	// File is true for a backend kept in one file: the state block names
	// it by path rather than dsn, and a location without a scheme is a
	// path for the first such backend.
	File bool

	// parse reads a location that starts with Scheme (or, for a File
	// backend, a bare path) into the driver's DSN and a printable form.
	// Its errors never repeat the location: it may hold a password.
	parse func(s string) (Location, error)
	// open opens the store, creating its schema when new.
	open func(ctx context.Context, l Location, opts Options) (state.Store, error)
}

// table is every backend; the first File backend is the default.
var table = []Backend{
	{
		Name: "sqlite", Scheme: "sqlite:", Syntax: "sqlite:PATH (or a PATH)", File: true,
		parse: func(s string) (Location, error) {
			p := strings.TrimPrefix(s, "//")
			if p == "" {
				return Location{}, errors.New("state location sqlite: names no file")
			}
			return Location{Path: p, where: p}, nil
		},
		open: func(ctx context.Context, l Location, opts Options) (state.Store, error) {
			if opts.MustExist {
				if _, err := os.Stat(l.Path); errors.Is(err, fs.ErrNotExist) {
					return nil, fmt.Errorf("%s: %w", l.Path, state.ErrNoState)
				}
			}
			return opened(sqlite.OpenStore(ctx, l.Path, opts))
		},
	},
	{
		Name: "firebird", Scheme: "firebird://", Syntax: "firebird://USER:PASS@HOST:PORT/ABS/PATH.fdb",
		parse: parseFirebird,
		open: func(ctx context.Context, l Location, opts Options) (state.Store, error) {
			return opened(firebird.OpenStore(ctx, l.driver, opts))
		},
	},
	{
		Name: "sqlserver", Scheme: "sqlserver://", Syntax: "sqlserver://USER:PASS@HOST:PORT?database=NAME",
		parse: func(s string) (Location, error) {
			where, err := sqlserver.Where(s)
			if err != nil {
				return Location{}, err
			}
			return Location{driver: s, where: "sqlserver://" + where}, nil
		},
		open: func(ctx context.Context, l Location, opts Options) (state.Store, error) {
			return opened(sqlserver.OpenStore(ctx, l.driver, opts))
		},
	},
}

// opened returns a backend's store as a state.Store, and a nil interface
// (not a nil *S in one) on error.
func opened[S state.Store](s S, err error) (state.Store, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Lookup returns the backend named name.
func Lookup(name string) (Backend, bool) {
	for _, b := range table {
		if b.Name == name {
			return b, true
		}
	}
	return Backend{}, false
}

// Names returns the backends' names in the order of the table.
func Names() []string {
	names := make([]string, len(table))
	for i, b := range table {
		names[i] = b.Name
	}
	return names
}

// Syntax lists the location forms, for help texts.
func Syntax() string {
	forms := make([]string, len(table))
	for i, b := range table {
		forms[i] = b.Syntax
	}
	return strings.Join(forms, ", ")
}

// Location is a parsed state location.
type Location struct {
	Backend string
	// Path is a File backend's file, as written (possibly relative).
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
	if m != nil {
		scheme := strings.ToLower(m[1])
		for _, b := range table {
			if scheme+":" == strings.TrimSuffix(b.Scheme, "//") {
				return b.parseAs(s, s[len(m[0]):])
			}
		}
		if strings.HasPrefix(s[len(m[0]):], "//") {
			schemes := make([]string, len(table))
			for i, b := range table {
				schemes[i] = b.Scheme
			}
			return Location{}, fmt.Errorf("state location scheme %q is not one of %s", scheme, strings.Join(schemes, ", "))
		}
	}
	// A bare path (a Windows drive letter parses as a scheme but has no //).
	for _, b := range table {
		if b.File {
			return b.parseAs(s, s)
		}
	}
	return Location{}, errors.New("state location names no scheme")
}

// parseAs parses a location of b: a File backend gets what follows the
// scheme, a server backend the whole location.
func (b Backend) parseAs(whole, rest string) (Location, error) {
	in := whole
	if b.File {
		in = rest
	}
	l, err := b.parse(in)
	if err != nil {
		return Location{}, err
	}
	l.Backend = b.Name
	return l, nil
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
	return Location{driver: driver, where: "firebird://" + u.User.Username() + "@" + u.Host + u.Path}, nil
}

// String describes the location without its password.
func (l Location) String() string { return l.where }

// WithPath returns l with a File backend's path replaced (resolved, say).
func (l Location) WithPath(p string) Location {
	if b, ok := Lookup(l.Backend); ok && b.File {
		l.Path, l.where = p, p
	}
	return l
}

// Open opens the store at l, creating its schema when new.
func (l Location) Open(ctx context.Context, opts Options) (state.Store, error) {
	b, ok := Lookup(l.Backend)
	if !ok {
		return nil, fmt.Errorf("state backend %q is unknown", l.Backend)
	}
	return b.open(ctx, l, opts)
}

// Open opens the store at location dsn (see the package comment).
func Open(ctx context.Context, dsn string) (state.Store, error) {
	l, err := Parse(dsn)
	if err != nil {
		return nil, err
	}
	return l.Open(ctx, Options{})
}
