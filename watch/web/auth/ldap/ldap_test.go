package ldap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/watch/web/auth"
)

// config is a StartTLS configuration for s trusting its CA.
func config(s *testservers.Slapd) alerts.LDAP {
	return alerts.LDAP{
		URL: s.URL, StartTLS: true, CAFile: s.CAFile,
		BindDN: testservers.SlapdServiceDN, BindPassword: s.ServicePassword,
		UserBase: testservers.SlapdPeopleBase, UserFilter: "(uid={username})",
		Roles: map[string]string{
			alerts.RoleAdmin:       testservers.SlapdAdmins,
			alerts.RoleServiceDesk: testservers.SlapdServiceDesk,
			alerts.RoleViewer:      testservers.SlapdViewers,
		},
		Timeout: 10 * time.Second,
	}
}

func newDirectory(t *testing.T, cfg alerts.LDAP) *Directory {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// noSecrets fails when err's text holds any of the passwords.
func noSecrets(t *testing.T, err error, s *testservers.Slapd) {
	t.Helper()
	if err == nil {
		return
	}
	for _, pw := range append([]string{s.ServicePassword}, mapValues(s.Passwords)...) {
		if strings.Contains(err.Error(), pw) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), pw) {
			t.Errorf("error shows a password: %v", err)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// want is a role, or an error the login must match with errors.Is.
type want struct {
	role string
	err  error
}

func checkLogins(t *testing.T, s *testservers.Slapd, d *Directory, wants map[string]want) {
	t.Helper()
	ctx := context.Background()
	for _, name := range testservers.SlapdUsers {
		w, ok := wants[name]
		if !ok {
			t.Fatalf("no expectation for %s", name)
		}
		u, err := d.Authenticate(ctx, name, s.Passwords[name])
		noSecrets(t, err, s)
		switch {
		case w.err != nil && !errors.Is(err, w.err):
			t.Errorf("%s: got %+v, %v; want %v", name, u, err, w.err)
		case w.err == nil && (err != nil || u.Role != w.role || u.Name != name || u.Method != "ldap"):
			t.Errorf("%s: got %+v, %v; want role %s", name, u, err, w.role)
		}
		// Lookup (for Kerberos principals) finds the same role without
		// the password.
		u, err = d.Lookup(ctx, name)
		switch {
		case w.err != nil && !errors.Is(err, w.err):
			t.Errorf("Lookup %s: got %+v, %v; want %v", name, u, err, w.err)
		case w.err == nil && (err != nil || u.Role != w.role):
			t.Errorf("Lookup %s: got %+v, %v; want role %s", name, u, err, w.role)
		}
	}
}

func TestRoles(t *testing.T) {
	withMemberOf := testservers.StartSlapd(t, testservers.SlapdOptions{})
	without := testservers.StartSlapd(t, testservers.SlapdOptions{NoMemberOf: true})
	all := map[string]want{
		"alice": {role: alerts.RoleAdmin},
		"bob":   {role: alerts.RoleServiceDesk},
		"carol": {role: alerts.RoleViewer},
		"dave":  {err: auth.ErrNoRole},
		"erin":  {role: alerts.RoleAdmin}, // admins and viewers: the highest wins
	}
	tests := []struct {
		name      string
		s         *testservers.Slapd
		groupBase string
		wants     map[string]want
	}{
		{"memberOf and the role groups", withMemberOf, "", all},
		{"memberOf and group_base", withMemberOf, testservers.SlapdGroupBase, all},
		// No group under group_base names anyone: only memberOf gives
		// roles, and a groupOfUniqueNames sets no memberOf.
		{"memberOf alone", withMemberOf, testservers.SlapdEmptyBase, map[string]want{
			"alice": {role: alerts.RoleAdmin}, "bob": {err: auth.ErrNoRole}, "carol": {role: alerts.RoleViewer},
			"dave": {err: auth.ErrNoRole}, "erin": {role: alerts.RoleAdmin}}},
		{"member and uniqueMember in the role groups", without, "", all},
		{"member and uniqueMember under group_base", without, testservers.SlapdGroupBase, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(tt.s)
			cfg.GroupBase = tt.groupBase
			checkLogins(t, tt.s, newDirectory(t, cfg), tt.wants)
		})
	}

	t.Run("only the viewer role mapped", func(t *testing.T) {
		cfg := config(without)
		cfg.Roles = map[string]string{alerts.RoleViewer: testservers.SlapdViewers}
		checkLogins(t, without, newDirectory(t, cfg), map[string]want{
			"alice": {err: auth.ErrNoRole}, "bob": {err: auth.ErrNoRole}, "carol": {role: alerts.RoleViewer},
			"dave": {err: auth.ErrNoRole}, "erin": {role: alerts.RoleViewer}})
	})
	t.Run("role DNs compared without case", func(t *testing.T) {
		cfg := config(withMemberOf)
		cfg.Roles = map[string]string{alerts.RoleAdmin: strings.ToUpper(testservers.SlapdAdmins)}
		u, err := newDirectory(t, cfg).Authenticate(context.Background(), "alice", withMemberOf.Passwords["alice"])
		if err != nil || u.Role != alerts.RoleAdmin {
			t.Errorf("got %+v, %v", u, err)
		}
	})
}

func TestRefusals(t *testing.T) {
	s := testservers.StartSlapd(t, testservers.SlapdOptions{})
	d := newDirectory(t, config(s))
	ctx := context.Background()
	alicePW := s.Passwords["alice"]
	tests := []struct {
		name, user, password string
	}{
		{"wrong password", "alice", alicePW + "x"},
		{"another user's password", "alice", s.Passwords["bob"]},
		{"unknown user", "mallory", alicePW},
		{"empty password", "alice", ""},
		{"empty user", "", alicePW},
		{"filter injection", "*)(uid=*", alicePW},
		{"wildcard", "*", alicePW},
		{"prefix wildcard", "ali*", alicePW},
		{"injected or", "alice)(|(uid=*", alicePW},
		{"NUL", "alice\x00", alicePW},
		{"service account by DN", testservers.SlapdServiceDN, s.ServicePassword},
		{"long name", strings.Repeat("a", 1000), alicePW},
		{"invalid UTF-8", "alice\xff", alicePW},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := d.Authenticate(ctx, tt.user, tt.password)
			if !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("got %+v, %v; want ErrBadCredentials", u, err)
			}
			if err.Error() != auth.ErrBadCredentials.Error() {
				t.Errorf("message %q says more than %q", err, auth.ErrBadCredentials)
			}
			noSecrets(t, err, s)
		})
	}

	// Unauthenticated binds succeed in LDAP: they must never log in, not
	// even when the search would find the user.
	t.Run("empty password never reaches the directory", func(t *testing.T) {
		for _, name := range testservers.SlapdUsers {
			if u, err := d.Authenticate(ctx, name, ""); !errors.Is(err, auth.ErrBadCredentials) {
				t.Errorf("%s with no password: %+v, %v", name, u, err)
			}
		}
	})
}

func TestTransports(t *testing.T) {
	s := testservers.StartSlapd(t, testservers.SlapdOptions{})
	other := testservers.NewCA(t, t.TempDir(), "other")
	ctx := context.Background()
	login := func(t *testing.T, cfg alerts.LDAP) (auth.User, error) {
		t.Helper()
		u, err := newDirectory(t, cfg).Authenticate(ctx, "carol", s.Passwords["carol"])
		noSecrets(t, err, s)
		return u, err
	}
	ok := func(t *testing.T, cfg alerts.LDAP) {
		t.Helper()
		if u, err := login(t, cfg); err != nil || u.Role != alerts.RoleViewer {
			t.Fatalf("got %+v, %v", u, err)
		}
	}
	untrusted := func(t *testing.T, cfg alerts.LDAP) {
		t.Helper()
		u, err := login(t, cfg)
		if !errors.Is(err, auth.ErrUnavailable) || !strings.Contains(err.Error(), "certificate is not trusted") {
			t.Fatalf("got %+v, %v; want an untrusted certificate", u, err)
		}
	}

	t.Run("StartTLS", func(t *testing.T) { ok(t, config(s)) })
	t.Run("LDAPS", func(t *testing.T) {
		cfg := config(s)
		cfg.URL, cfg.StartTLS = s.LDAPSURL, false
		ok(t, cfg)
	})
	t.Run("plain ldap with insecure", func(t *testing.T) {
		cfg := config(s)
		cfg.StartTLS, cfg.CAFile, cfg.Insecure = false, "", true
		ok(t, cfg)
	})
	t.Run("StartTLS with a wrong CA", func(t *testing.T) {
		cfg := config(s)
		cfg.CAFile = other.CertFile
		untrusted(t, cfg)
	})
	t.Run("LDAPS with a wrong CA", func(t *testing.T) {
		cfg := config(s)
		cfg.URL, cfg.StartTLS, cfg.CAFile = s.LDAPSURL, false, other.CertFile
		untrusted(t, cfg)
	})
	t.Run("LDAPS with the system roots", func(t *testing.T) {
		cfg := config(s)
		cfg.URL, cfg.StartTLS, cfg.CAFile = s.LDAPSURL, false, ""
		untrusted(t, cfg)
	})
	t.Run("insecure does not skip verification", func(t *testing.T) {
		cfg := config(s)
		cfg.Insecure, cfg.CAFile = true, other.CertFile
		untrusted(t, cfg)
	})
	t.Run("plain ldap refused without insecure", func(t *testing.T) {
		cfg := config(s)
		cfg.StartTLS, cfg.CAFile = false, ""
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "insecure") {
			t.Fatalf("New: %v; want a refusal naming insecure", err)
		}
	})
	t.Run("service account refused", func(t *testing.T) {
		cfg := config(s)
		cfg.BindPassword = "not-" + s.ServicePassword
		_, err := login(t, cfg)
		if !errors.Is(err, auth.ErrUnavailable) || !strings.Contains(err.Error(), "bind_password") || strings.Contains(err.Error(), cfg.BindPassword) {
			t.Fatalf("got %v; want ErrUnavailable naming bind_password", err)
		}
	})
	t.Run("missing user_base", func(t *testing.T) {
		cfg := config(s)
		cfg.UserBase = "ou=nobody," + testservers.SlapdSuffix
		if _, err := login(t, cfg); !errors.Is(err, auth.ErrUnavailable) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("directory stopped", func(t *testing.T) {
		s2 := testservers.StartSlapd(t, testservers.SlapdOptions{})
		d := newDirectory(t, config(s2))
		if _, err := d.Authenticate(ctx, "carol", s2.Passwords["carol"]); err != nil {
			t.Fatalf("before the stop: %v", err)
		}
		s2.Stop()
		for _, f := range []func() error{
			func() error { _, err := d.Authenticate(ctx, "carol", s2.Passwords["carol"]); return err },
			func() error { _, err := d.Lookup(ctx, "carol"); return err },
		} {
			if err := f(); !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrBadCredentials) {
				t.Errorf("got %v; want ErrUnavailable", err)
			}
		}
	})
}

// TestConcurrentLogins runs more logins at once than the connection bound.
func TestConcurrentLogins(t *testing.T) {
	s := testservers.StartSlapd(t, testservers.SlapdOptions{})
	d := newDirectory(t, config(s))
	var wg sync.WaitGroup
	errs := make(chan error, 3*maxConns)
	for i := range 3 * maxConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := testservers.SlapdUsers[i%3] // alice, bob, carol: each has a role
			if _, err := d.Authenticate(context.Background(), name, s.Passwords[name]); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSilentServer: a directory that accepts connections and never answers
// costs one timeout, and cancelling the caller's context ends the wait.
func TestSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	cfg := alerts.LDAP{URL: "ldap://" + l.Addr().String(), Insecure: true, UserBase: "dc=example,dc=test",
		Roles: map[string]string{alerts.RoleViewer: "cn=v,dc=example,dc=test"}, Timeout: 300 * time.Millisecond}
	d := newDirectory(t, cfg)
	start := time.Now()
	_, err = d.Authenticate(context.Background(), "alice", "pw")
	if !errors.Is(err, auth.ErrUnavailable) || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("got %v; want ErrUnavailable after the timeout", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %s with a 300ms timeout", el)
	}

	cfg.Timeout = time.Minute
	d = newDirectory(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := d.Authenticate(ctx, "alice", "pw"); done <- err }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("got %v; want ErrUnavailable wrapping context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the context did not end the login")
	}
}

func TestNewRefuses(t *testing.T) {
	base := alerts.LDAP{URL: "ldaps://ldap.example.test", UserBase: "ou=people,dc=example,dc=test",
		Roles: map[string]string{alerts.RoleViewer: "cn=v,dc=example,dc=test"}}
	tests := []struct {
		name string
		mut  func(*alerts.LDAP)
		want string
	}{
		{"http url", func(c *alerts.LDAP) { c.URL = "http://ldap.example.test" }, "ldap:// or ldaps://"},
		{"no host", func(c *alerts.LDAP) { c.URL = "ldaps://" }, "only ldap://host"},
		{"a DN in the url", func(c *alerts.LDAP) { c.URL = "ldaps://h/dc=example" }, "only ldap://host"},
		{"plain", func(c *alerts.LDAP) { c.URL = "ldap://h" }, "insecure"},
		{"ldaps with StartTLS", func(c *alerts.LDAP) { c.StartTLS = true }, "StartTLS is for ldap://"},
		{"missing CA file", func(c *alerts.LDAP) { c.CAFile = "/nonexistent/ca.pem" }, "ca_file"},
		{"bind_dn alone", func(c *alerts.LDAP) { c.BindDN = "cn=x,dc=example,dc=test" }, "go together"},
		{"bind_password alone", func(c *alerts.LDAP) { c.BindPassword = "s3cret-pw" }, "go together"},
		{"bad bind_dn", func(c *alerts.LDAP) { c.BindDN, c.BindPassword = "not a dn", "s3cret-pw" }, "bind_dn"},
		{"no user_base", func(c *alerts.LDAP) { c.UserBase = "" }, "user_base"},
		{"filter without placeholder", func(c *alerts.LDAP) { c.UserFilter = "(uid=alice)" }, "{username}"},
		{"broken filter", func(c *alerts.LDAP) { c.UserFilter = "(uid={username}" }, "user_filter"},
		{"no roles", func(c *alerts.LDAP) { c.Roles = nil }, "at least one role"},
		{"unknown role", func(c *alerts.LDAP) { c.Roles = map[string]string{"root": "cn=r,dc=example,dc=test"} }, `"root"`},
		{"role not a DN", func(c *alerts.LDAP) { c.Roles = map[string]string{alerts.RoleAdmin: "admins"} }, "not a DN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			cfg.Roles = map[string]string{}
			for k, v := range base.Roles {
				cfg.Roles[k] = v
			}
			tt.mut(&cfg)
			d, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, %v; want an error with %q", d, err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("error shows the bind password: %v", err)
			}
		})
	}
	d, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if d.timeout != DefaultTimeout || d.filter != DefaultUserFilter {
		t.Errorf("defaults: timeout %s, filter %q", d.timeout, d.filter)
	}
	base.BindDN, base.BindPassword = "cn=x,dc=example,dc=test", "s3cret-pw"
	d, err = New(base)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", d, d, d, d); strings.Contains(s, "s3cret-pw") {
		t.Errorf("printing the directory shows the bind password: %s", s)
	}
}

// FuzzUserFilter checks that no user name changes the user filter's
// structure: whatever the name, the filter compiles to one equality match
// whose value is exactly the name.
func FuzzUserFilter(f *testing.F) {
	for _, s := range []string{"alice", "*", "*)(uid=*", "alice)(|(uid=*", "a\\2a", "\x00", "é", "(", ")", "\\"} {
		f.Add(s)
	}
	d, err := New(alerts.LDAP{URL: "ldaps://h", UserBase: "dc=example,dc=test",
		Roles: map[string]string{alerts.RoleViewer: "cn=v,dc=example,dc=test"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, err := goldap.CompileFilter(d.userFilter(name))
		if err != nil {
			t.Fatalf("filter for %q does not compile: %v", name, err)
		}
		if p.Tag != goldap.FilterEqualityMatch || len(p.Children) != 2 {
			t.Fatalf("filter for %q is %s, not an equality match", name, goldap.FilterMap[uint64(p.Tag)])
		}
		if got := p.Children[1].Data.String(); got != name {
			t.Fatalf("filter for %q matches %q", name, got)
		}
	})
}
