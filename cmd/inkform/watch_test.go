package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/watch"
)

// syncBuf is a bytes.Buffer safe for the service's logger and the test.
type syncBuf struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuf() *syncBuf { return &syncBuf{mu: make(chan struct{}, 1)} }

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// watchFixture is a simulated printer that sends traps, a real Mailpit,
// and inkform watch running in-process on a configuration for both.
type watchFixture struct {
	t       *testing.T
	dir     string
	opts    watchFixtureOptions
	sim     *simulator.Sim
	mail    *testservers.Mailpit
	logs    *syncBuf
	hup     chan os.Signal
	stop    context.CancelFunc
	done    chan error
	trapPrt int
	env     []string
}

// watchFixtureOptions vary the fixture; zero values give one printer,
// plain SMTP without AUTH, and the engine's default timings.
type watchFixtureOptions struct {
	Mail testservers.MailpitOptions
	// User and Password, when set, log in to Mailpit (the password is
	// given to the configuration as a sensitive variable).
	User, Password string
	Printers       int
	// Allow is the traps block's allow list.
	Allow []string
	// Extra is added to the configuration (routes, reports).
	Extra  string
	Tuning watch.Tuning
	// TrapStatsEvery is how often the traps counters are logged.
	TrapStatsEvery time.Duration
	// WatchExtra is added inside the watch block (a drift block).
	WatchExtra string
	// DriftEvery replaces drift.every, which the language keeps at a
	// minute or more.
	DriftEvery time.Duration
	// Env is added to the environment (INKFORM_VAR_...).
	Env []string
}

func startWatchFixture(t *testing.T, routes string) *watchFixture {
	return startWatchFixtureWith(t, watchFixtureOptions{Extra: routes})
}

func startWatchFixtureWith(t *testing.T, o watchFixtureOptions) *watchFixture {
	t.Helper()
	if o.Printers == 0 {
		o.Printers = 1
	}
	f := &watchFixture{t: t, dir: t.TempDir(), opts: o, logs: newSyncBuf(), hup: make(chan os.Signal, 1)}
	if o.Password != "" {
		f.env = []string{"INKFORM_VAR_smtp_password=" + o.Password}
	}
	f.env = append(f.env, o.Env...)
	f.mail = testservers.StartMailpit(t, o.Mail)
	f.trapPrt = testservers.FreeUDPPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim, err := simulator.Start(ctx, simulator.Options{Printers: o.Printers, AlertsTo: "127.0.0.1:" + strconv.Itoa(f.trapPrt), AlertCommunity: "private"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	f.sim = sim
	f.writeConfig(o.Extra)
	f.start()
	return f
}

func (f *watchFixture) writeConfig(extra string) {
	f.t.Helper()
	var b strings.Builder
	b.WriteString(`
credentials "sim" {
  snmp {
    version   = "2c"
    community = "private"
  }
}
`)
	for i, p := range f.sim.Printers() {
		fmt.Fprintf(&b, "printer %q {\n  address     = %q\n  credentials = credentials.sim\n}\n", "lab-"+strconv.Itoa(i+1), p.Addr())
	}
	enc := map[testservers.MailpitTLS]string{testservers.MailpitPlain: "none", testservers.MailpitSTARTTLS: "starttls",
		testservers.MailpitImplicitTLS: "ssl"}[f.opts.Mail.TLS]
	fmt.Fprintf(&b, "smtp {\n  host       = \"127.0.0.1\"\n  port       = %d\n  encryption = %q\n  from       = \"inkform@example.test\"\n", f.mail.SMTPPort, enc)
	if f.mail.CACertFile != "" {
		fmt.Fprintf(&b, "  ca_cert    = %q\n", f.mail.CACertFile)
	}
	if f.opts.User != "" {
		fmt.Fprintf(&b, "  username   = %q\n  password   = var.smtp_password\n", f.opts.User)
	}
	b.WriteString("}\n")
	if f.opts.User != "" {
		b.WriteString("variable \"smtp_password\" {\n  type      = string\n  sensitive = true\n}\n")
	}
	fmt.Fprintf(&b, "watch {\n  traps {\n    listen = \"127.0.0.1:%d\"\n", f.trapPrt)
	if len(f.opts.Allow) > 0 {
		fmt.Fprintf(&b, "    allow  = [%q]\n", strings.Join(f.opts.Allow, `", "`))
	}
	b.WriteString("  }\n  poll = \"5m\"\n" + f.opts.WatchExtra + "\n}\n")
	b.WriteString(extra)
	if err := os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(b.String()), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// cli runs inkform with args on the fixture's configuration and state.
func (f *watchFixture) cli(args ...string) (stdout, stderr string, code ExitCode) {
	f.t.Helper()
	var out, errb bytes.Buffer
	code = runContext(context.Background(), append(args, "-config", f.dir),
		streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: f.env})
	return out.String(), errb.String(), code
}

func (f *watchFixture) start() {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f.stop, f.done = cancel, make(chan error, 1)
	ready := make(chan string, 1)
	fac := newFactory(streams{In: strings.NewReader(""), Out: f.logs, Err: f.logs, Env: f.env})
	opts := &watchOptions{IO: fac.IO, OpenStore: fac.OpenStore, Connect: fac.Connect, hup: f.hup, ready: ready,
		tuning: f.opts.Tuning, trapStatsEvery: f.opts.TrapStatsEvery, driftEvery: f.opts.DriftEvery}
	opts.State.Dir = f.dir
	go func() { f.done <- runWatch(ctx, opts) }()
	select {
	case <-ready:
	case err := <-f.done:
		f.t.Fatalf("watch stopped: %v\n%s", err, f.logs.String())
	case <-time.After(30 * time.Second):
		f.t.Fatalf("watch not ready\n%s", f.logs.String())
	}
	f.t.Cleanup(func() { f.shutdown() })
}

func (f *watchFixture) shutdown() {
	if f.stop == nil {
		return
	}
	f.stop()
	f.stop = nil
	select {
	case err := <-f.done:
		if err != nil {
			f.t.Errorf("watch: %v\n%s", err, f.logs.String())
		}
	case <-time.After(15 * time.Second):
		f.t.Errorf("watch did not stop within 15s of its signal\n%s", f.logs.String())
	}
}

func (f *watchFixture) waitSubjects(n int) []string {
	f.t.Helper()
	msgs := f.mail.WaitMessages(n, 30*time.Second)
	var subjects []string
	for i := len(msgs) - 1; i >= 0; i-- {
		subjects = append(subjects, msgs[i].Subject)
	}
	if len(msgs) < n {
		var out bytes.Buffer
		runContext(context.Background(), []string{"alerts", "list", "-all", "-config", f.dir}, streams{Out: &out, Err: &out})
		runContext(context.Background(), []string{"alerts", "show", "lab-1/door_open/6.1", "-config", f.dir}, streams{Out: &out, Err: &out})
		f.t.Fatalf("%d emails arrived, want %d: %q\n%s\nevents:\n%s", len(msgs), n, subjects, f.logs.String(), out.String())
	}
	return subjects
}

const doorRoute = `
alert_route "doors" {
  match {
    events   = ["door_open", "jam"]
    printers = ["lab-*"]
  }
  email {
    to = ["helpdesk@example.test"]
  }
  grace          = "0s"
  group_wait     = "0s"
  group_interval = "1s"
  also_on_clear  = true
}
`

// A printer's door opens: its trap becomes one email to the route's
// recipients; it closes: one more, as also_on_clear asks. The service
// stops within seconds of its signal.
func TestWatchTrapToEmail(t *testing.T) {
	f := startWatchFixture(t, doorRoute)
	p := f.sim.Printers()[0]
	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupCover, GroupIndex: 1,
		Code: simulator.CodeDoorOpen, Description: "Front door open"})
	subjects := f.waitSubjects(1)
	if subjects[0] != "[inkform] door_open on lab-1 (critical)" {
		t.Errorf("subject %q", subjects[0])
	}
	msg := f.mail.Message(f.mail.Messages()[0].ID)
	if len(msg.To) != 1 || msg.To[0].Address != "helpdesk@example.test" || !strings.Contains(msg.Text, "Front door open") {
		t.Errorf("email: to %v\n%s", msg.To, msg.Text)
	}
	p.ClearAlert(simulator.CodeDoorOpen, simulator.GroupCover, 1)
	subjects = f.waitSubjects(2)
	if subjects[1] != "[inkform] door_open cleared on lab-1 (critical)" {
		t.Errorf("subjects %q", subjects)
	}
	f.shutdown()
	if n := len(f.mail.Messages()); n != 2 {
		t.Errorf("%d emails, want 2", n)
	}
}

// A reload with errors is refused and the running configuration kept; a
// good one is taken; nothing is sent twice either way.
func TestWatchReload(t *testing.T) {
	f := startWatchFixture(t, doorRoute)
	p := f.sim.Printers()[0]
	p.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupCover, GroupIndex: 1,
		Code: simulator.CodeDoorOpen, Description: "Front door open"})
	f.waitSubjects(1)

	good, err := os.ReadFile(filepath.Join(f.dir, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "main.hcl"), append(good, []byte("alert_route {\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	f.hup <- syscall.SIGHUP
	waitFor(t, "the reload refused", 20*time.Second, func() bool { return strings.Contains(f.logs.String(), "reload refused") }, nil)

	// The route now goes to another address: the next alert follows it.
	f.writeConfig(strings.Replace(doorRoute, "helpdesk@example.test", "night-shift@example.test", 1))
	f.hup <- syscall.SIGHUP
	waitFor(t, "the reload", 20*time.Second, func() bool { return strings.Contains(f.logs.String(), "configuration reloaded") }, nil)
	p.ClearAlert(simulator.CodeDoorOpen, simulator.GroupCover, 1)
	f.waitSubjects(2)
	msgs := f.mail.Messages()
	if len(msgs) != 2 || msgs[0].To[0].Address != "night-shift@example.test" || msgs[1].To[0].Address != "helpdesk@example.test" {
		t.Errorf("emails after reload: %+v", msgs)
	}
}

// The example watch configuration is valid as shipped.
func TestWatchExampleValidates(t *testing.T) {
	var out, errb bytes.Buffer
	env := []string{"INKFORM_VAR_snmp_community=x", "INKFORM_VAR_smtp_password=y"}
	code := runContext(context.Background(), []string{"validate", "-config", filepath.Join("..", "..", "examples", "watch")},
		streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: env})
	if code != ExitOK || !strings.Contains(out.String(), "2 alert routes, 1 report, a watch block") {
		t.Errorf("validate examples/watch: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// A value changed on the device behind inkform's back is a drift event,
// emailed like any alert; with enforce the drift check applies the
// configuration back and records the run.
func TestWatchDrift(t *testing.T) {
	const route = `
configuration "office" {
  contact = "IT Service Desk x4000"
}
alert_route "drift" {
  match {
    events = ["drift"]
  }
  email {
    to = ["it@example.test"]
  }
  grace          = "0s"
  group_wait     = "0s"
  group_interval = "1s"
}
`
	f := startWatchFixtureWith(t, watchFixtureOptions{Extra: route, DriftEvery: 300 * time.Millisecond,
		WatchExtra: "  drift {\n    every   = \"1m\"\n    enforce = true\n  }"})
	// Managed: the first enforce adopts the printer and writes the contact.
	cfg, err := os.ReadFile(filepath.Join(f.dir, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("credentials = credentials.sim\n"), []byte("credentials = credentials.sim\n  configuration = configuration.office\n"), 1)
	if err := os.WriteFile(filepath.Join(f.dir, "main.hcl"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	f.hup <- syscall.SIGHUP
	waitFor(t, "the reload", 20*time.Second, func() bool { return strings.Contains(f.logs.String(), "configuration reloaded") }, nil)
	p := f.sim.Printers()[0]
	contact := func() string {
		v, _ := p.Get("1.3.6.1.2.1.1.4.0")
		b, _ := v.Value.([]byte)
		return string(b)
	}
	waitFor(t, "the first enforce to write the contact", 30*time.Second, func() bool { return contact() == "IT Service Desk x4000" }, nil)
	if err := p.Set("1.3.6.1.2.1.1.4.0", "changed at the panel"); err != nil {
		t.Fatal(err)
	}
	subjects := f.waitSubjects(1)
	if subjects[0] != "[inkform] drift on lab-1 (warning)" {
		t.Errorf("subject %q", subjects[0])
	}
	msg := f.mail.Message(f.mail.Messages()[0].ID)
	if !strings.Contains(msg.Text, `system.contact changed on the device: "changed at the panel", declared "IT Service Desk x4000"`) {
		t.Errorf("drift email:\n%s", msg.Text)
	}
	waitFor(t, "enforce to write the contact back", 30*time.Second, func() bool { return contact() == "IT Service Desk x4000" }, nil)
}
