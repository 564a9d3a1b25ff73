package testservers

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// AvahiService is one DNS-SD service avahi-daemon announces, as a static
// service file describes it.
type AvahiService struct {
	Name string   // instance name, e.g. "Lexmark CX725 HQ-2F"
	Type string   // e.g. "_ipps._tcp"
	Port int      // SRV port
	TXT  []string // "key=value" strings
}

// Avahi is a running avahi-daemon: a real mDNS / DNS-SD responder.
type Avahi struct {
	// HostName is the host its services point to (HostName + ".local").
	HostName string
}

// StartAvahi runs avahi-daemon inside namespace ns of the pair, announcing
// services on that namespace's veth end only (IPv4, no D-Bus, no
// workstation record), and stops it by PID when the test ends. It returns
// once avahi says every service is established (announced).
//
// avahi reads its services from the folder compiled in
// (/etc/avahi/services) and keeps its PID file under /run: the daemon runs
// in the mount namespace `ip netns exec` gives it, with a private /run and
// the test's own services folder mounted over /etc/avahi/services, so
// nothing is written outside the test's folder and daemons of tests
// running at once never meet. It skips the test when avahi-daemon is not
// installed (fails under INKFORM_REQUIRE_INTEGRATION=1).
func StartAvahi(t testing.TB, p *NetnsPair, ns string, services ...AvahiService) *Avahi {
	t.Helper()
	lookPath(t, "avahi-daemon")
	lookPath(t, "mount")
	dir := t.TempDir()
	svcDir := filepath.Join(dir, "services")
	if err := os.Mkdir(svcDir, 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	iface := p.IfA
	if ns == p.B {
		iface = p.IfB
	}
	a := &Avahi{HostName: fmt.Sprintf("inkform-avahi-%d-%d", os.Getpid(), netnsSeq.Add(1))}
	conf := fmt.Sprintf("[server]\nhost-name=%s\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=%s\nenable-dbus=no\n"+
		"[publish]\npublish-workstation=no\npublish-hinfo=no\n", a.HostName, iface)
	confFile := filepath.Join(dir, "avahi-daemon.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
	for i, s := range services {
		if err := os.WriteFile(filepath.Join(svcDir, fmt.Sprintf("inkform-%d.service", i)), serviceFile(s), 0o644); err != nil {
			t.Fatalf("%v", err)
		}
	}
	script := `mount -t tmpfs tmpfs /run && mount --bind "$1" /etc/avahi/services && ` +
		`exec avahi-daemon --no-drop-root --no-chroot --no-rlimits --no-proc-title -f "$2"`
	d, err := startDaemon("avahi-daemon", p.Command(context.Background(), ns, "sh", "-c", script, "sh", svcDir, confFile))
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(d.stop)
	err = d.waitReady(func(context.Context) error {
		if n := strings.Count(d.out.String(), "successfully established"); n < len(services) {
			return fmt.Errorf("%d of %d services established", n, len(services))
		}
		if len(services) == 0 && !strings.Contains(d.out.String(), "Server startup complete") {
			return fmt.Errorf("not started")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return a
}

// serviceFile is avahi's static service XML for one service.
func serviceFile(s AvahiService) []byte {
	var b bytes.Buffer
	esc := func(v string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(v))
		return e.String()
	}
	fmt.Fprintf(&b, "<?xml version=\"1.0\" standalone='no'?>\n<service-group>\n  <name>%s</name>\n  <service>\n", esc(s.Name))
	fmt.Fprintf(&b, "    <type>%s</type>\n    <port>%d</port>\n", esc(s.Type), s.Port)
	for _, txt := range s.TXT {
		fmt.Fprintf(&b, "    <txt-record>%s</txt-record>\n", esc(txt))
	}
	b.WriteString("  </service>\n</service-group>\n")
	return b.Bytes()
}
