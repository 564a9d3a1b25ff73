package testservers

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SlapdOptions configure StartSlapd.
type SlapdOptions struct {
	// NoMemberOf starts the directory without the memberof overlay, so
	// users carry no memberOf and only group entries name them.
	NoMemberOf bool
}

// The directory StartSlapd loads.
const (
	SlapdSuffix      = "dc=example,dc=test"
	SlapdPeopleBase  = "ou=people," + SlapdSuffix
	SlapdGroupBase   = "ou=groups," + SlapdSuffix
	SlapdEmptyBase   = "ou=nogroups," + SlapdSuffix // an OU with no groups in it
	SlapdServiceDN   = "cn=inkform,ou=services," + SlapdSuffix
	SlapdAdmins      = "cn=print-admins," + SlapdGroupBase  // groupOfNames: alice, erin
	SlapdServiceDesk = "cn=print-desk," + SlapdGroupBase    // groupOfUniqueNames: bob
	SlapdViewers     = "cn=print-viewers," + SlapdGroupBase // groupOfNames: carol, erin
	SlapdOtherGroup  = "cn=canteen," + SlapdGroupBase       // groupOfNames: dave, no role
)

// SlapdUsers are the people in the directory: alice (admins), bob
// (service desk, a groupOfUniqueNames), carol (viewers), dave (in no
// group with a role) and erin (admins and viewers).
var SlapdUsers = []string{"alice", "bob", "carol", "dave", "erin"}

// Slapd is a running OpenLDAP slapd on 127.0.0.1 with a private database,
// listening for ldap:// (StartTLS offered) and ldaps://.
type Slapd struct {
	URL      string // ldap://127.0.0.1:port
	LDAPSURL string // ldaps://127.0.0.1:port
	// CAFile is the PEM of the test CA that signed the server's
	// certificate (for localhost and 127.0.0.1).
	CAFile string
	// ServicePassword is the password of SlapdServiceDN, the account a
	// client searches with (anonymous binds read nothing).
	ServicePassword string
	// Passwords of SlapdUsers.
	Passwords map[string]string

	mu sync.Mutex
	d  *daemon
}

// UserDN is the entry of one of SlapdUsers.
func (s *Slapd) UserDN(name string) string { return "uid=" + name + "," + SlapdPeopleBase }

// StartSlapd runs slapd in the foreground with a private slapd.conf and
// mdb database in a temporary folder, on free loopback ports, with TLS
// from a CA made for the test; loads SlapdUsers and their groups with
// ldapadd; and stops slapd by PID when the test ends. It skips the test
// when slapd or ldapadd is not installed.
func StartSlapd(t testing.TB, opts SlapdOptions) *Slapd {
	t.Helper()
	bin := lookPath(t, "slapd")
	ldapadd := lookPath(t, "ldapadd")
	dir := t.TempDir()
	ca := NewCA(t, dir, "slapd")
	cert, key := ca.Issue(t, dir, "slapd")
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	s := &Slapd{CAFile: ca.CertFile, ServicePassword: randomHex(t, 12), Passwords: map[string]string{}}
	for _, u := range SlapdUsers {
		s.Passwords[u] = randomHex(t, 12)
	}
	rootPW := randomHex(t, 12)
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConfig(dir, cert, key, ca.CertFile, rootPW, !opts.NoMemberOf)), 0o600); err != nil {
		t.Fatalf("slapd: %v", err)
	}

	for attempt := 0; ; attempt++ {
		ldapPort, ldapsPort := FreeTCPPort(t), FreeTCPPort(t)
		if ldapPort == ldapsPort {
			continue
		}
		s.URL = "ldap://127.0.0.1:" + strconv.Itoa(ldapPort)
		s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(ldapsPort)
		// -d 0 keeps slapd in the foreground without debug output.
		cmd := exec.Command(bin, "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
		d, err := startDaemon("slapd", cmd)
		if err != nil {
			t.Fatalf("%v", err)
		}
		err = d.waitReady(func(ctx context.Context) error {
			for _, p := range []int{ldapPort, ldapsPort} {
				if err := dialTCP(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			d.stop()
			// slapd says little at -d 0: an early exit is most likely a
			// port taken since it was chosen.
			if attempt < 2 {
				continue
			}
			t.Fatalf("%v", err)
		}
		s.d = d
		t.Cleanup(s.Stop)
		break
	}

	ldif := filepath.Join(dir, "entries.ldif")
	if err := os.WriteFile(ldif, []byte(slapdEntries(s)), 0o600); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, ldapadd, "-x", "-H", s.URL, "-D", "cn=root,"+SlapdSuffix, "-w", rootPW, "-f", ldif).CombinedOutput()
	if err != nil {
		t.Fatalf("ldapadd: %v: %s", err, out)
	}
	return s
}

// Stop ends slapd by its PID, as an outage would.
func (s *Slapd) Stop() {
	s.mu.Lock()
	d := s.d
	s.d = nil
	s.mu.Unlock()
	if d != nil {
		d.stop()
	}
}

func dialTCP(ctx context.Context, port int) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return c.Close()
}

func slapdConfig(dir, cert, key, ca, rootPW string, memberOf bool) string {
	var b strings.Builder
	for _, s := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include /etc/ldap/schema/%s.schema\n", s)
	}
	fmt.Fprintf(&b, "pidfile %s\nargsfile %s\n", filepath.Join(dir, "slapd.pid"), filepath.Join(dir, "slapd.args"))
	b.WriteString("modulepath /usr/lib/ldap\nmoduleload back_mdb\n")
	if memberOf {
		b.WriteString("moduleload memberof\n")
	}
	fmt.Fprintf(&b, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n", ca, cert, key)
	fmt.Fprintf(&b, "database mdb\nmaxsize 16777216\ndirectory %s\nsuffix %q\nrootdn %q\nrootpw %s\n",
		filepath.Join(dir, "db"), SlapdSuffix, "cn=root,"+SlapdSuffix, rootPW)
	if memberOf {
		b.WriteString("overlay memberof\n")
	}
	// Anonymous clients may only bind: a search needs the service
	// account (or the user) bound first.
	b.WriteString("access to attrs=userPassword by self write by anonymous auth by * none\n")
	b.WriteString("access to * by users read by * none\n")
	return b.String()
}

func slapdEntries(s *Slapd) string {
	var b strings.Builder
	entry := func(lines ...string) {
		b.WriteString(strings.Join(lines, "\n"))
		b.WriteString("\n\n")
	}
	entry("dn: "+SlapdSuffix, "objectClass: dcObject", "objectClass: organization", "o: inkform tests", "dc: example")
	for _, ou := range []string{"people", "groups", "services", "nogroups"} {
		entry("dn: ou="+ou+","+SlapdSuffix, "objectClass: organizationalUnit", "ou: "+ou)
	}
	entry("dn: "+SlapdServiceDN, "objectClass: person", "objectClass: simpleSecurityObject",
		"cn: inkform", "sn: inkform", "userPassword: "+s.ServicePassword)
	for _, u := range SlapdUsers {
		entry("dn: "+s.UserDN(u), "objectClass: inetOrgPerson", "uid: "+u, "cn: "+u, "sn: "+u,
			"userPassword: "+s.Passwords[u])
	}
	group := func(dn, class, attr string, users ...string) {
		lines := []string{"dn: " + dn, "objectClass: " + class, "cn: " + strings.TrimPrefix(strings.SplitN(dn, ",", 2)[0], "cn=")}
		for _, u := range users {
			lines = append(lines, attr+": "+s.UserDN(u))
		}
		entry(lines...)
	}
	group(SlapdAdmins, "groupOfNames", "member", "alice", "erin")
	group(SlapdServiceDesk, "groupOfUniqueNames", "uniqueMember", "bob")
	group(SlapdViewers, "groupOfNames", "member", "carol", "erin")
	group(SlapdOtherGroup, "groupOfNames", "member", "dave")
	return b.String()
}
