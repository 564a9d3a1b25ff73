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
	"sync/atomic"
	"testing"
	"time"
)

// KDCOptions configure StartKDC.
type KDCOptions struct {
	// Users are the user principals to create, each with a random
	// password (KDC.Passwords); empty means SlapdUsers, so that the same
	// names are in the directory and the realm.
	Users []string
	// Services are more service principals besides HTTP/localhost, each
	// with its own keytab (KDC.Keytabs).
	Services []string
}

// KDCRealm is the realm StartKDC serves.
const KDCRealm = "EXAMPLE.TEST"

// KDCService is the HTTP service principal of a status page on localhost.
const KDCService = "HTTP/localhost"

// KDC is a running MIT krb5kdc for a private realm on 127.0.0.1.
type KDC struct {
	Realm string
	Port  int    // TCP and UDP
	Dir   string // the realm's folder
	// Krb5Conf is the client configuration (KRB5_CONFIG) that finds this
	// KDC; gokrb5 clients load it too.
	Krb5Conf string
	// Keytab holds the keys of KDCService.
	Keytab string
	// Keytabs holds the keytab of each principal in KDCOptions.Services.
	Keytabs map[string]string
	// Passwords of the user principals.
	Passwords map[string]string

	kdcConf string
	kadmin  string
	kinit   string
	caches  atomic.Int64
	mu      sync.Mutex
	d       *daemon
}

// StartKDC creates a realm in a temporary folder (kdb5_util), adds the
// users, HTTP/localhost and opts.Services with kadmin.local, writes their
// keytabs, runs krb5kdc in the foreground on a free loopback port and
// stops it by PID when the test ends. It skips the test when the MIT KDC
// tools are not installed.
func StartKDC(t testing.TB, opts KDCOptions) *KDC {
	t.Helper()
	kdcBin := lookPath(t, "krb5kdc")
	kdb5util := lookPath(t, "kdb5_util")
	k := &KDC{Realm: KDCRealm, Dir: t.TempDir(), Keytabs: map[string]string{}, Passwords: map[string]string{},
		kadmin: lookPath(t, "kadmin.local"), kinit: lookPath(t, "kinit")}
	k.Krb5Conf = filepath.Join(k.Dir, "krb5.conf")
	k.kdcConf = filepath.Join(k.Dir, "kdc.conf")
	k.Keytab = filepath.Join(k.Dir, "http.keytab")
	if err := os.WriteFile(filepath.Join(k.Dir, "kadm5.acl"), nil, 0o600); err != nil {
		t.Fatalf("kdc: %v", err)
	}
	// The database needs the configuration files; the port in them is
	// set again below, before the KDC starts.
	k.writeConfig(t, 88)
	k.run(t, kdb5util, "create", "-s", "-r", k.Realm, "-P", randomHex(t, 16))

	users := opts.Users
	if len(users) == 0 {
		users = SlapdUsers
	}
	for _, u := range users {
		k.Passwords[u] = randomHex(t, 12)
		k.Kadmin(t, fmt.Sprintf("addprinc -pw %s %s", k.Passwords[u], u))
	}
	k.Kadmin(t, "addprinc -randkey "+KDCService)
	k.Kadmin(t, fmt.Sprintf("ktadd -k %s %s", k.Keytab, KDCService))
	for i, s := range opts.Services {
		kt := filepath.Join(k.Dir, fmt.Sprintf("service-%d.keytab", i))
		k.Kadmin(t, "addprinc -randkey "+s)
		k.Kadmin(t, fmt.Sprintf("ktadd -k %s %s", kt, s))
		k.Keytabs[s] = kt
	}

	for attempt := 0; ; attempt++ {
		port := freeTCPAndUDPPort(t)
		k.writeConfig(t, port)
		cmd := exec.Command(kdcBin, "-n", "-P", filepath.Join(k.Dir, "kdc.pid"))
		cmd.Env = k.Env()
		d, err := startDaemon("krb5kdc", cmd)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if err := d.waitReady(func(ctx context.Context) error { return dialTCP(ctx, port) }); err != nil {
			d.stop()
			if attempt < 2 && strings.Contains(d.out.String(), "in use") {
				continue
			}
			t.Fatalf("%v", err)
		}
		k.Port = port
		k.d = d
		t.Cleanup(k.Stop)
		return k
	}
}

// Stop ends krb5kdc by its PID.
func (k *KDC) Stop() {
	k.mu.Lock()
	d := k.d
	k.d = nil
	k.mu.Unlock()
	if d != nil {
		d.stop()
	}
}

// Env is the environment that points the MIT tools at this realm,
// added to the test process's own.
func (k *KDC) Env() []string {
	return append(os.Environ(), "KRB5_CONFIG="+k.Krb5Conf, "KRB5_KDC_PROFILE="+k.kdcConf)
}

// Kadmin runs one kadmin.local query against the realm's database.
func (k *KDC) Kadmin(t testing.TB, query string) {
	t.Helper()
	k.run(t, k.kadmin, "-r", k.Realm, "-q", query)
}

// Kinit logs user in with kinit (extra arguments, e.g. "-l", "5s", go
// before the principal) into a new private credentials cache and returns
// the environment for programs that use it: KRB5_CONFIG and KRB5CCNAME,
// as `curl --negotiate -u :` needs them.
func (k *KDC) Kinit(t testing.TB, user string, args ...string) []string {
	t.Helper()
	cache := filepath.Join(k.Dir, fmt.Sprintf("ccache-%d", k.caches.Add(1)))
	env := append(k.Env(), "KRB5CCNAME=FILE:"+cache)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.kinit, append(append([]string{}, args...), user+"@"+k.Realm)...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(k.Passwords[user] + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit %s: %v: %s", user, err, out)
	}
	return env
}

func (k *KDC) run(t testing.TB, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = k.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

func (k *KDC) writeConfig(t testing.TB, port int) {
	t.Helper()
	krb5 := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	udp_preference_limit = 1
	ticket_lifetime = 1h
	forwardable = false

[realms]
	%[1]s = {
		kdc = 127.0.0.1:%[2]d
	}

[domain_realm]
	localhost = %[1]s
`, k.Realm, port)
	kdc := fmt.Sprintf(`[kdcdefaults]
	kdc_listen = 127.0.0.1:%[2]d
	kdc_tcp_listen = 127.0.0.1:%[2]d

[realms]
	%[1]s = {
		database_name = %[3]s
		key_stash_file = %[4]s
		acl_file = %[5]s
		max_life = 1h
		max_renewable_life = 0
	}

[logging]
	kdc = STDERR
`, k.Realm, port, filepath.Join(k.Dir, "principal"), filepath.Join(k.Dir, "stash"), filepath.Join(k.Dir, "kadm5.acl"))
	if err := os.WriteFile(k.Krb5Conf, []byte(krb5), 0o644); err != nil {
		t.Fatalf("kdc: %v", err)
	}
	if err := os.WriteFile(k.kdcConf, []byte(kdc), 0o600); err != nil {
		t.Fatalf("kdc: %v", err)
	}
}

// freeTCPAndUDPPort returns a loopback port free for both TCP and UDP a
// moment ago: a KDC answers on both.
func freeTCPAndUDPPort(t testing.TB) int {
	t.Helper()
	for range 50 {
		port := FreeTCPPort(t)
		c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		c.Close()
		return port
	}
	t.Fatalf("no port free for both TCP and UDP")
	return 0
}
