package testservers

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Vsftpd is a running vsftpd on 127.0.0.1 with one local user whose home
// folder (Dir) receives uploads.
type Vsftpd struct {
	Addr     string // 127.0.0.1:port
	Host     string
	Port     int
	User     string
	Password string
	Dir      string // the user's home and upload folder
}

// pasvPorts is how many passive data ports each instance gets.
const pasvPorts = 16

// StartVsftpd runs vsftpd in the foreground on a free loopback port with a
// private configuration, logging in a system user made for this test (and
// removed when it ends), waits until it sends its 220 banner and stops it
// by PID when the test ends. It skips the test when vsftpd is not
// installed or the test cannot create users (not root).
func StartVsftpd(t testing.TB) *Vsftpd {
	t.Helper()
	bin := lookPath(t, "vsftpd")
	useradd := lookPath(t, "useradd")
	chpasswd := lookPath(t, "chpasswd")
	userdel := lookPath(t, "userdel")
	if os.Geteuid() != 0 {
		Skip(t, "vsftpd logs in system users; creating one needs root")
	}

	// Not t.TempDir: its folders are private to root, and vsftpd changes
	// into the user's home as that user.
	root, err := os.MkdirTemp("", "inkform-vsftpd-")
	if err != nil {
		t.Fatalf("vsftpd: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatalf("vsftpd: %v", err)
	}
	home := filepath.Join(root, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatalf("vsftpd: %v", err)
	}
	// vsftpd insists that this folder exists even when nothing is chrooted.
	if err := os.MkdirAll("/var/run/vsftpd/empty", 0o755); err != nil {
		t.Fatalf("vsftpd: secure_chroot_dir: %v", err)
	}

	v := &Vsftpd{Host: "127.0.0.1", Dir: home, User: "ifv" + randomHex(t, 6), Password: randomHex(t, 12)}
	runTool(t, useradd, "", "-M", "-d", home, "-s", "/bin/sh", v.User)
	t.Cleanup(func() { removeUser(t, userdel, v.User) })
	runTool(t, chpasswd, v.User+":"+v.Password+"\n")
	if err := chownToUser(home, v.User); err != nil {
		t.Fatalf("vsftpd: %v", err)
	}

	// A free port may be taken between choosing and binding it: retry.
	for attempt := 0; attempt < 3; attempt++ {
		port := FreeTCPPort(t)
		pasv := freeTCPRange(t, pasvPorts)
		conf := vsftpdConfig(port, pasv, pasv+pasvPorts-1)
		confPath := filepath.Join(root, fmt.Sprintf("vsftpd-%d.conf", attempt))
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			t.Fatalf("write vsftpd config: %v", err)
		}
		d, err := startDaemon("vsftpd", exec.Command(bin, confPath))
		if err != nil {
			t.Fatalf("%v", err)
		}
		addr := net.JoinHostPort(v.Host, strconv.Itoa(port))
		err = d.waitReady(func(ctx context.Context) error { return readBanner(ctx, addr) })
		if err != nil {
			d.stop()
			if strings.Contains(d.out.String(), "could not bind") {
				continue
			}
			t.Fatalf("%v", err)
		}
		t.Cleanup(func() {
			d.stop()
			// Each session is a child in the daemon's process group, running
			// as the test user; end them too so the user can be removed.
			_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		})
		v.Addr, v.Port = addr, port
		return v
	}
	t.Fatalf("vsftpd: %v three times", errBindFailed)
	return nil
}

// removeUser deletes the test user, waiting (bounded) for its last
// session processes to go.
func removeUser(t testing.TB, userdel, name string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		out, err := exec.CommandContext(ctx, userdel, name).CombinedOutput()
		cancel()
		if err == nil {
			return
		}
		// Exit status 8: the user still runs a process.
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 8 || time.Now().After(deadline) {
			t.Errorf("userdel %s: %v: %s", name, err, out)
			return
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not synchronisation
	}
}

func vsftpdConfig(port, pasvMin, pasvMax int) string {
	return fmt.Sprintf(`listen=YES
listen_ipv6=NO
background=NO
listen_address=127.0.0.1
listen_port=%d
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
pasv_enable=YES
pasv_min_port=%d
pasv_max_port=%d
connect_from_port_20=NO
seccomp_sandbox=NO
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
userlist_enable=NO
xferlog_enable=NO
dirmessage_enable=NO
delay_failed_login=0
ftpd_banner=inkform test vsftpd
`, port, pasvMin, pasvMax)
}

// readBanner dials addr and reads the server's 220 greeting.
func readBanner(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read banner: %w", err)
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("unexpected banner %q", strings.TrimSpace(line))
	}
	return nil
}

// freeTCPRange returns the first of n consecutive loopback TCP ports that
// were all free a moment ago.
func freeTCPRange(t testing.TB, n int) int {
	t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		base := FreeTCPPort(t)
		if base+n-1 > 65535 {
			continue
		}
		ok := true
		var held []net.Listener
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
		}
		for _, l := range held {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free TCP ports found", n)
	return 0
}

func runTool(t testing.TB, bin, stdin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

func chownToUser(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("user %s: uid %q", name, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("user %s: gid %q", name, u.Gid)
	}
	return os.Chown(dir, uid, gid)
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}
