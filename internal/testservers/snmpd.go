package testservers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Snmpd is a running net-snmp agent on 127.0.0.1. Its system group
// (sysContact, sysName, sysLocation) is writable through WriteCommunity and
// read-write v3 users.
type Snmpd struct {
	Addr string // 127.0.0.1:port
	Host string
	Port int
}

// SnmpdOptions says which communities and SNMPv3 users the agent accepts.
// At least one community or user is needed.
type SnmpdOptions struct {
	ReadCommunity  string // read-only v1/v2c community; "" for none
	WriteCommunity string // read-write v1/v2c community; "" for none
	V3Users        []V3User
}

// V3User is an SNMPv3 USM user created in the agent's configuration.
type V3User struct {
	Name string
	// AuthProtocol is "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384",
	// "SHA-512" (net-snmp spelling; "SHA256" is accepted too) or "" for
	// noAuthNoPriv.
	AuthProtocol string
	AuthPass     string // at least 8 characters
	// PrivProtocol is "DES", "AES" or "" for no privacy.
	PrivProtocol string
	PrivPass     string // at least 8 characters
	ReadWrite    bool
}

// netSNMPAuth maps an auth protocol name to net-snmp's createUser spelling.
func netSNMPAuth(p string) (string, error) {
	switch strings.ToUpper(strings.ReplaceAll(p, "-", "")) {
	case "MD5":
		return "MD5", nil
	case "SHA", "SHA1":
		return "SHA", nil
	case "SHA224":
		return "SHA-224", nil
	case "SHA256":
		return "SHA-256", nil
	case "SHA384":
		return "SHA-384", nil
	case "SHA512":
		return "SHA-512", nil
	}
	return "", fmt.Errorf("unknown auth protocol %q", p)
}

func (u V3User) configLines() (string, error) {
	if u.Name == "" || strings.ContainsAny(u.Name, " \t\"\n") {
		return "", fmt.Errorf("invalid user name %q", u.Name)
	}
	for _, pass := range []string{u.AuthPass, u.PrivPass} {
		if strings.ContainsAny(pass, "\"\n") {
			return "", errors.New("passphrases may not contain quotes or newlines")
		}
	}
	level := "noauth"
	line := "createUser " + u.Name
	if u.AuthProtocol != "" {
		auth, err := netSNMPAuth(u.AuthProtocol)
		if err != nil {
			return "", err
		}
		level = "auth"
		line += fmt.Sprintf(" %s %q", auth, u.AuthPass)
		if u.PrivProtocol != "" {
			priv := strings.ToUpper(u.PrivProtocol)
			if priv != "DES" && priv != "AES" {
				return "", fmt.Errorf("unknown privacy protocol %q", u.PrivProtocol)
			}
			level = "priv"
			line += fmt.Sprintf(" %s %q", priv, u.PrivPass)
		}
	}
	access := "rouser"
	if u.ReadWrite {
		access = "rwuser"
	}
	return line + "\n" + access + " " + u.Name + " " + level + "\n", nil
}

func (o SnmpdOptions) config() (string, error) {
	var b strings.Builder
	// Communities are limited to loopback: the agent runs as root.
	if o.WriteCommunity != "" {
		fmt.Fprintf(&b, "rwcommunity %s 127.0.0.1\n", o.WriteCommunity)
	}
	if o.ReadCommunity != "" {
		fmt.Fprintf(&b, "rocommunity %s 127.0.0.1\n", o.ReadCommunity)
	}
	for _, u := range o.V3Users {
		lines, err := u.configLines()
		if err != nil {
			return "", fmt.Errorf("snmpd v3 user %q: %w", u.Name, err)
		}
		b.WriteString(lines)
	}
	if b.Len() == 0 {
		return "", errors.New("snmpd needs at least one community or v3 user")
	}
	// No sysContact/sysLocation lines: they would make those objects
	// read-only.
	return b.String(), nil
}

// probe returns a client that can ask the agent something, for readiness.
func (o SnmpdOptions) probe(port int) *gosnmp.GoSNMP {
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Version: gosnmp.Version2c, Timeout: 200 * time.Millisecond, Retries: 0}
	switch {
	case o.ReadCommunity != "":
		g.Community = o.ReadCommunity
	case o.WriteCommunity != "":
		g.Community = o.WriteCommunity
	default:
		// Any user will do: a Report PDU (even an error) proves the agent
		// is up, so the probe does not need the user's keys.
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.MsgFlags = gosnmp.NoAuthNoPriv
		g.SecurityParameters = &gosnmp.UsmSecurityParameters{UserName: o.V3Users[0].Name}
	}
	return g
}

// StartSnmpd runs net-snmp's snmpd on a free loopback port with a private
// configuration and persistent directory in t.TempDir, waits until it
// answers and stops it when the test ends. It skips the test when snmpd is
// not installed.
func StartSnmpd(t testing.TB, o SnmpdOptions) *Snmpd {
	t.Helper()
	bin := lookPath(t, "snmpd")
	conf, err := o.config()
	if err != nil {
		t.Fatalf("%v", err)
	}
	dir := t.TempDir()
	confPath := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatalf("write snmpd config: %v", err)
	}
	persist := filepath.Join(dir, "persist")
	if err := os.Mkdir(persist, 0o700); err != nil {
		t.Fatalf("snmpd persistent dir: %v", err)
	}
	port := startOnFreePort(t, "snmpd", FreeUDPPort, func(port int) *exec.Cmd {
		cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", confPath, "udp:127.0.0.1:"+strconv.Itoa(port))
		// createUser lines are turned into keys and saved in the persistent
		// directory; keep it out of the system's /var/lib/snmp.
		cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+persist)
		return cmd
	}, func(ctx context.Context, port int) error {
		g := o.probe(port)
		g.Context = ctx
		if err := g.Connect(); err != nil {
			return err
		}
		defer g.Close()
		_, err := g.Get([]string{".1.3.6.1.2.1.1.3.0"})
		if err != nil && g.Version == gosnmp.Version3 && !isTimeout(err) && !errors.Is(err, syscall.ECONNREFUSED) {
			return nil // the agent answered with a Report
		}
		return err
	})
	return &Snmpd{Addr: "127.0.0.1:" + strconv.Itoa(port), Host: "127.0.0.1", Port: port}
}

func isTimeout(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "timeout") || errors.Is(err, context.DeadlineExceeded))
}

// SnmpGet runs net-snmp's snmpget with args and returns its standard output
// without the trailing newline. It fails the test when snmpget fails.
// Useful args: "-Oqv" prints the value only.
func SnmpGet(t testing.TB, args ...string) string {
	t.Helper()
	bin := lookPath(t, "snmpget")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// No MIB files are installed; don't let it look for them.
	cmd.Env = append(os.Environ(), "MIBS=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("snmpget: %v: %s", err, stderr.String())
	}
	return strings.TrimRight(string(out), "\n")
}
