package testservers

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	// The driver registers "firebirdsql" and "firebirdsql_createdb".
	_ "github.com/nakagami/firebirdsql"
)

// Where Debian's firebird3.0-server puts the server, its SYSDBA password
// and the security database it was generated for.
const (
	firebirdBin          = "/usr/sbin/firebird"
	firebirdPasswordFile = "/etc/firebird/3.0/SYSDBA.password"
	firebirdSecurityDB   = "/var/lib/firebird/3.0/system/security3.fdb"
	firebirdLibGlob      = "/usr/lib/*/firebird/3.0"
)

// firebirdShared are the read-only parts of the installed root that a
// private instance links to rather than copies.
var firebirdShared = []string{"firebird.msg", "intl", "plugins", "lib", "UDF", "plugins.conf", "fbtrace.conf"}

// Firebird is a running Firebird 3 SuperServer on 127.0.0.1, private to
// one test: its own configuration, lock files and copy of the security
// database, so that several can run at once (a SuperServer locks the
// security database it uses, which would lock every other instance out).
type Firebird struct {
	Host     string
	Port     int
	User     string
	Password string
	// Dir holds the databases; the server reads and writes there.
	Dir string

	seq atomic.Int64
}

// DSN returns the driver data source name for the database file at
// dbPath, an absolute path on this machine.
func (f *Firebird) DSN(dbPath string) string {
	u := url.UserPassword(f.User, f.Password)
	return fmt.Sprintf("%s@%s:%d/%s", u.String(), f.Host, f.Port, dbPath)
}

// NewDatabase returns the DSN of a database file that does not exist yet,
// in Dir, under a name unique to this server.
func (f *Firebird) NewDatabase(name string) string {
	n := f.seq.Add(1)
	return f.DSN(filepath.Join(f.Dir, fmt.Sprintf("%s-%d.fdb", sanitize(name), n)))
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// StartFirebird runs a private Firebird 3 SuperServer on a free port,
// waits until it accepts a login and creates a database, and stops it by
// its PID when the test ends. It skips the test when Firebird is not
// installed (or its SYSDBA password is unreadable).
func StartFirebird(t testing.TB) *Firebird {
	t.Helper()
	if _, err := os.Stat(firebirdBin); err != nil {
		Skip(t, "firebird is not installed (%s)", firebirdBin)
	}
	password, err := firebirdPassword(firebirdPasswordFile)
	if err != nil {
		Skip(t, "firebird SYSDBA password: %v", err)
	}
	libs, _ := filepath.Glob(firebirdLibGlob)
	if len(libs) == 0 {
		Skip(t, "firebird libraries not found at %s", firebirdLibGlob)
	}
	secDB, err := os.ReadFile(firebirdSecurityDB)
	if err != nil {
		Skip(t, "firebird security database: %v", err)
	}

	// The server started by this (same) user runs as this user, so a
	// private temp dir is readable and writable by it.
	root := t.TempDir()
	data := filepath.Join(root, "data")
	lock := filepath.Join(root, "lock")
	for _, d := range []string{data, lock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatalf("firebird dir: %v", err)
		}
	}
	for _, name := range firebirdShared {
		if err := os.Symlink(filepath.Join(libs[0], name), filepath.Join(root, name)); err != nil {
			t.Fatalf("firebird root: %v", err)
		}
	}
	sec := filepath.Join(root, "security3.fdb")
	if err := os.WriteFile(sec, secDB, 0o600); err != nil {
		t.Fatalf("firebird security database: %v", err)
	}
	conf := "RemoteBindAddress = 127.0.0.1\nUdfAccess = None\nSecurityDatabase = " + sec + "\n"
	if err := os.WriteFile(filepath.Join(root, "firebird.conf"), []byte(conf), 0o600); err != nil {
		t.Fatalf("firebird config: %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "databases.conf"), []byte("security.db = "+sec+"\n"), 0o600); err != nil {
		t.Fatalf("firebird config: %v", err)
	}

	for attempt := 0; attempt < 3; attempt++ {
		f := &Firebird{Host: "127.0.0.1", Port: FreeTCPPort(t), User: "SYSDBA", Password: password, Dir: data}
		cmd := exec.Command(firebirdBin, "-p", strconv.Itoa(f.Port))
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "FIREBIRD="+root, "FIREBIRD_LOCK="+lock, "FIREBIRD_TMP="+lock)
		d, err := startDaemon("firebird", cmd)
		if err != nil {
			t.Fatalf("%v", err)
		}
		probe := filepath.Join(data, fmt.Sprintf("ready-%d.fdb", attempt))
		err = d.waitReady(func(ctx context.Context) error {
			// A login that creates (then reopens) a database proves the
			// server, its security database and the data folder work.
			db, err := sql.Open("firebirdsql_createdb", f.DSN(probe))
			if err != nil {
				return err
			}
			defer db.Close()
			if _, statErr := os.Stat(probe); statErr == nil {
				db.Close()
				if db, err = sql.Open("firebirdsql", f.DSN(probe)); err != nil {
					return err
				}
				defer db.Close()
			}
			return db.PingContext(ctx)
		})
		if err != nil {
			d.stop()
			if d.bindFailed() || logSays(filepath.Join(root, "firebird.log"), "Address already in use") {
				continue
			}
			t.Fatalf("%v\nfirebird.log:\n%s", err, readTail(filepath.Join(root, "firebird.log")))
		}
		t.Cleanup(func() { stopGroup(d, firebirdStopGrace) })
		return f
	}
	t.Fatalf("firebird: %v three times", errBindFailed)
	return nil
}

// firebirdStopGrace is how long the server may take to exit on SIGTERM;
// its databases are scratch, so it is then killed rather than waited for.
const firebirdStopGrace = time.Second

// stopGroup ends the daemon by its PID, then kills whatever is left in the
// process group it leads (startDaemon gives it its own), so that no server
// process outlives the test.
func stopGroup(d *daemon, grace time.Duration) {
	pid := d.cmd.Process.Pid
	select {
	case <-d.exited:
	default:
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(grace):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-d.exited
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // ESRCH when nothing is left
}

// firebirdPassword reads ISC_PASSWORD from the shell-style file Debian
// writes at install.
func firebirdPassword(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "ISC_PASSWORD=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `'`)
		}
		if v == "" {
			break
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return "", fmt.Errorf("%s: no ISC_PASSWORD line", path)
}

func logSays(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), s)
}

func readTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return tail(string(b))
}
