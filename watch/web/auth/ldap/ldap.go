// Package ldap checks status page logins against an LDAP directory
// (OpenLDAP, Active Directory, 389 DS): a service account finds the
// user's entry, the user's own bind proves the password, and the user's
// groups give the role.
package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/watch/web/auth"
)

const (
	// DefaultTimeout bounds one check against the directory (connect,
	// TLS, binds and searches) when the configuration sets none.
	DefaultTimeout = alerts.DefaultLDAPTimeout
	// DefaultUserFilter finds a user by uid, as OpenLDAP and 389 DS
	// keep it; Active Directory wants (sAMAccountName={username}).
	DefaultUserFilter = alerts.DefaultUserFilter
	// placeholder is replaced by the escaped user name in the filter.
	placeholder = "{username}"
	// maxConns bounds the connections open to the directory at once, so
	// a flood of logins queues here instead of loading the directory.
	maxConns = 8
	// maxUsername refuses absurd names before they reach the directory.
	maxUsername = 256
	// maxGroups bounds the group entries read for one user.
	maxGroups = 1000
)

// roles from most to least: the first a user holds wins.
var roles = []string{alerts.RoleAdmin, alerts.RoleServiceDesk, alerts.RoleViewer}

// Directory is an LDAP directory that checks passwords and finds roles.
// It implements auth.Passwords and auth.Directory, and is safe for
// concurrent use: each check has its own connection, at most maxConns at
// once.
type Directory struct {
	addr      string // host:port
	host      string // for TLS verification
	ldaps     bool
	startTLS  bool
	tls       *tls.Config // nil on plain ldap:// without StartTLS
	bindDN    string
	bindPW    string
	userBase  string
	filter    string
	groupBase string
	roleDNs   []roleDN // most powerful first
	timeout   time.Duration
	sem       chan struct{}
}

type roleDN struct {
	role string
	dn   *goldap.DN
	raw  string
}

var (
	_ auth.Passwords = (*Directory)(nil)
	_ auth.Directory = (*Directory)(nil)
)

// New checks cfg and returns a Directory. It does not connect: a
// directory that is down at start comes back without a restart.
func New(cfg alerts.LDAP) (*Directory, error) {
	d := &Directory{
		bindDN: cfg.BindDN, bindPW: cfg.BindPassword,
		userBase: cfg.UserBase, filter: cfg.UserFilter, groupBase: cfg.GroupBase,
		timeout: cfg.Timeout, sem: make(chan struct{}, maxConns),
	}
	if d.timeout <= 0 {
		d.timeout = DefaultTimeout
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ldap: url %q: %w", cfg.URL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ldap":
	case "ldaps":
		d.ldaps = true
	default:
		return nil, fmt.Errorf("ldap: url %q: the scheme must be ldap:// or ldaps://", cfg.URL)
	}
	if u.Host == "" || u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("ldap: url %q must be only ldap://host[:port] or ldaps://host[:port]", cfg.URL)
	}
	d.host = u.Hostname()
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "389", true: "636"}[d.ldaps]
	}
	d.addr = net.JoinHostPort(d.host, port)
	switch {
	case d.ldaps && cfg.StartTLS:
		return nil, fmt.Errorf("ldap: url %q: ldaps:// already speaks TLS; StartTLS is for ldap:// only", cfg.URL)
	case !d.ldaps && !cfg.StartTLS && !cfg.Insecure:
		return nil, fmt.Errorf("ldap: url %q: plain ldap:// sends passwords in clear; use ldaps://, StartTLS, or say insecure explicitly", cfg.URL)
	}
	d.startTLS = cfg.StartTLS
	if d.ldaps || d.startTLS {
		d.tls = &tls.Config{ServerName: d.host, MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ldap: ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ldap: ca_file %s holds no PEM certificate", cfg.CAFile)
			}
			d.tls.RootCAs = pool
		}
	} else if cfg.CAFile != "" {
		return nil, fmt.Errorf("ldap: ca_file is set but %q uses no TLS", cfg.URL)
	}
	if (d.bindDN == "") != (d.bindPW == "") {
		return nil, errors.New("ldap: bind_dn and bind_password go together: set both, or neither to search anonymously")
	}
	if d.bindDN != "" {
		if _, err := goldap.ParseDN(d.bindDN); err != nil {
			return nil, fmt.Errorf("ldap: bind_dn %q: %w", d.bindDN, err)
		}
	}
	if d.userBase == "" {
		return nil, errors.New("ldap: user_base is required")
	}
	if _, err := goldap.ParseDN(d.userBase); err != nil {
		return nil, fmt.Errorf("ldap: user_base %q: %w", d.userBase, err)
	}
	if d.groupBase != "" {
		if _, err := goldap.ParseDN(d.groupBase); err != nil {
			return nil, fmt.Errorf("ldap: group_base %q: %w", d.groupBase, err)
		}
	}
	if d.filter == "" {
		d.filter = DefaultUserFilter
	}
	if !strings.Contains(d.filter, placeholder) {
		return nil, fmt.Errorf("ldap: user_filter %q must contain %s", d.filter, placeholder)
	}
	if _, err := goldap.CompileFilter(strings.ReplaceAll(d.filter, placeholder, "x")); err != nil {
		return nil, fmt.Errorf("ldap: user_filter %q: %w", d.filter, err)
	}
	if len(cfg.Roles) == 0 {
		return nil, errors.New("ldap: roles must map at least one role to a group")
	}
	for role, raw := range cfg.Roles {
		if !isRole(role) {
			return nil, fmt.Errorf("ldap: roles: %q is not one of %s", role, strings.Join(roles, ", "))
		}
		if _, err := goldap.ParseDN(raw); err != nil || raw == "" {
			return nil, fmt.Errorf("ldap: roles: %s: %q is not a DN", role, raw)
		}
	}
	for _, role := range roles {
		if raw, ok := cfg.Roles[role]; ok {
			dn, _ := goldap.ParseDN(raw)
			d.roleDNs = append(d.roleDNs, roleDN{role: role, dn: dn, raw: raw})
		}
	}
	return d, nil
}

func isRole(s string) bool {
	for _, r := range roles {
		if r == s {
			return true
		}
	}
	return false
}

// String names the directory without its credentials.
func (d *Directory) String() string {
	scheme := "ldap"
	if d.ldaps {
		scheme = "ldaps"
	}
	return scheme + "://" + d.addr
}

// GoString is String, so that %#v shows no password either.
func (d *Directory) GoString() string { return d.String() }

// Authenticate checks a user name and password and returns the user with
// the highest role their groups give. A wrong password and an unknown
// user are the same auth.ErrBadCredentials; an empty password is refused
// before anything is sent, since LDAP takes a bind without one as an
// anonymous bind that succeeds.
func (d *Directory) Authenticate(ctx context.Context, username, password string) (auth.User, error) {
	if password == "" || !validName(username) {
		return auth.User{}, auth.ErrBadCredentials
	}
	u, err := d.check(ctx, username, password, true)
	if err != nil {
		return auth.User{}, err
	}
	u.Method = "ldap"
	return u, nil
}

// Lookup finds the role of a user authenticated elsewhere (a Kerberos
// principal's name). A name not in the directory has no role
// (auth.ErrNoRole): the person is known to the KDC, not to the page.
// Method is left for the caller to say.
func (d *Directory) Lookup(ctx context.Context, username string) (auth.User, error) {
	if !validName(username) {
		return auth.User{}, fmt.Errorf("ldap: user name not usable: %w", auth.ErrNoRole)
	}
	return d.check(ctx, username, "", false)
}

func validName(s string) bool {
	return s != "" && len(s) <= maxUsername && utf8.ValidString(s)
}

// check runs one login or lookup on its own connection.
func (d *Directory) check(ctx context.Context, username, password string, verify bool) (auth.User, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		return auth.User{}, d.unavailable(ctx, "waiting for a connection", ctx.Err())
	}
	defer func() { <-d.sem }()

	c, err := d.connect(ctx)
	if err != nil {
		return auth.User{}, err
	}
	defer c.Close()

	if d.bindDN != "" {
		if err := c.Bind(d.bindDN, d.bindPW); err != nil {
			if goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
				return auth.User{}, fmt.Errorf("%w: ldap %s: the directory refused bind_dn %q: wrong bind_dn or bind_password", auth.ErrUnavailable, d, d.bindDN)
			}
			return auth.User{}, d.unavailable(ctx, "service bind", err)
		}
	}
	userDN, groups, err := d.findUser(ctx, c, username)
	if err != nil {
		return auth.User{}, err
	}
	if userDN == "" {
		if verify {
			return auth.User{}, auth.ErrBadCredentials
		}
		return auth.User{}, fmt.Errorf("ldap: %q is not in the directory: %w", username, auth.ErrNoRole)
	}
	more, err := d.groupsOf(ctx, c, userDN)
	if err != nil {
		return auth.User{}, err
	}
	groups = append(groups, more...)
	// The password is checked before the role is told: without it, no
	// one learns who is in which group.
	if verify {
		if err := c.Bind(userDN, password); err != nil {
			if goldap.IsErrorAnyOf(err, goldap.LDAPResultInvalidCredentials, goldap.LDAPResultInappropriateAuthentication,
				goldap.LDAPResultInsufficientAccessRights, goldap.LDAPResultUnwillingToPerform) {
				return auth.User{}, auth.ErrBadCredentials
			}
			return auth.User{}, d.unavailable(ctx, "user bind", err)
		}
	}
	role := d.roleOf(groups)
	if role == "" {
		return auth.User{}, fmt.Errorf("ldap: %q: %w", username, auth.ErrNoRole)
	}
	return auth.User{Name: username, Role: role}, nil
}

// connect dials the directory, speaks TLS as configured and bounds every
// wait by ctx (which carries the check's timeout).
func (d *Directory) connect(ctx context.Context) (*goldap.Conn, error) {
	dialer := net.Dialer{Timeout: d.timeout}
	raw, err := dialer.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, d.unavailable(ctx, "connect", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	// Cancelling ctx fails whatever waits on the connection at once.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	conn := raw
	if d.ldaps {
		tc := tls.Client(raw, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			stop()
			raw.Close()
			return nil, d.tlsFailed(ctx, err)
		}
		conn = tc
	}
	c := goldap.NewConn(conn, d.ldaps)
	c.Start()
	c.SetTimeout(d.timeout)
	if d.startTLS {
		if err := c.StartTLS(d.tls); err != nil {
			stop()
			c.Close()
			if goldap.IsErrorWithCode(err, goldap.ErrorNetwork) && strings.Contains(err.Error(), "TLS handshake") {
				return nil, d.tlsFailed(ctx, err)
			}
			return nil, d.unavailable(ctx, "StartTLS", err)
		}
	}
	return c, nil
}

// findUser searches for the user's entry and returns its DN ("" when
// there is none) and its memberOf values.
func (d *Directory) findUser(ctx context.Context, c *goldap.Conn, username string) (string, []string, error) {
	req := goldap.NewSearchRequest(d.userBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		2, d.timeLimit(), false, d.userFilter(username), []string{"memberOf"}, nil)
	res, err := c.Search(req)
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) || (err == nil && len(res.Entries) > 1):
		return "", nil, fmt.Errorf("ldap %s: user_filter finds more than one entry for one name; make it match one: %w", d, auth.ErrBadCredentials)
	case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject):
		return "", nil, fmt.Errorf("%w: ldap %s: user_base %q does not exist", auth.ErrUnavailable, d, d.userBase)
	case err != nil:
		return "", nil, d.unavailable(ctx, "search for the user", err)
	case len(res.Entries) == 0:
		return "", nil, nil
	}
	e := res.Entries[0]
	return e.DN, e.GetEqualFoldAttributeValues("memberOf"), nil
}

// userFilter is the configured filter for one user name, escaped so that
// no name can change the filter's structure: "*)(uid=*" matches a user
// by that literal name, not everyone.
func (d *Directory) userFilter(username string) string {
	return strings.ReplaceAll(d.filter, placeholder, goldap.EscapeFilter(username))
}

// groupsOf returns the DNs of the group entries naming userDN as member
// (groupOfNames, Active Directory's group) or uniqueMember
// (groupOfUniqueNames): those under group_base, or else those among the
// role groups themselves. Nested groups are not followed.
func (d *Directory) groupsOf(ctx context.Context, c *goldap.Conn, userDN string) ([]string, error) {
	dn := goldap.EscapeFilter(userDN)
	filter := "(|(member=" + dn + ")(uniqueMember=" + dn + "))"
	search := func(base string, scope int) ([]string, error) {
		req := goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, maxGroups, d.timeLimit(), false,
			filter, []string{"1.1"}, nil)
		res, err := c.Search(req)
		switch {
		case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject):
			return nil, nil
		case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) && res != nil:
			// More groups than read: those read still count.
		case err != nil:
			return nil, d.unavailable(ctx, "search for groups", err)
		}
		var out []string
		for _, e := range res.Entries {
			out = append(out, e.DN)
		}
		return out, nil
	}
	if d.groupBase != "" {
		return search(d.groupBase, goldap.ScopeWholeSubtree)
	}
	var out []string
	for _, r := range d.roleDNs {
		found, err := search(r.raw, goldap.ScopeBaseObject)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// roleOf returns the highest role any of groups maps to, or "".
func (d *Directory) roleOf(groups []string) string {
	parsed := make([]*goldap.DN, 0, len(groups))
	for _, g := range groups {
		if dn, err := goldap.ParseDN(g); err == nil {
			parsed = append(parsed, dn)
		}
	}
	for _, r := range d.roleDNs {
		for _, g := range parsed {
			if r.dn.EqualFold(g) {
				return r.role
			}
		}
	}
	return ""
}

// timeLimit is the server-side limit of a search, in whole seconds.
func (d *Directory) timeLimit() int {
	return max(1, int((d.timeout+time.Second-1)/time.Second))
}

// unavailable wraps a failure to use the directory; a cancelled or
// expired ctx is named as the cause, since the connection error it made
// says less.
func (d *Directory) unavailable(ctx context.Context, step string, err error) error {
	ctxErr := ctx.Err()
	if errors.Is(ctxErr, context.Canceled) {
		return fmt.Errorf("%w: ldap %s: %s: %w", auth.ErrUnavailable, d, step, ctxErr)
	}
	var nerr net.Error
	if ctxErr != nil || (errors.As(err, &nerr) && nerr.Timeout()) || strings.Contains(err.Error(), "timed out") {
		return fmt.Errorf("%w: ldap %s: %s: no answer within the timeout (%s)", auth.ErrUnavailable, d, step, d.timeout)
	}
	return fmt.Errorf("%w: ldap %s: %s: %w", auth.ErrUnavailable, d, step, err)
}

// tlsFailed explains a failed TLS handshake; an untrusted certificate is
// the common case and has a common fix.
func (d *Directory) tlsFailed(ctx context.Context, err error) error {
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	if errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || strings.Contains(err.Error(), "x509:") {
		return fmt.Errorf("%w: ldap %s: the server's TLS certificate is not trusted (set ca_file to the CA that signed it, and use the host name the certificate names): %w",
			auth.ErrUnavailable, d, err)
	}
	return d.unavailable(ctx, "TLS handshake", err)
}
