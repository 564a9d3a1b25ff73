package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"
	_ "modernc.org/sqlite" // reads the watch's state file

	"github.com/inkform/inkform/simulator"
)

// Budgets of the watch rows.
const (
	budgetAlertsPerS  = 20000
	budgetEmailP95MS  = 1000
	budgetPollPlan    = 2.0
	budgetWatchRSSMB  = 400
	burstTraps        = 100000
	latencyAlerts     = 200
	latencySpacing    = 100 * time.Millisecond
	oidPrtAlertEntry  = ".1.3.6.1.2.1.43.18.1.1."
	oidSnmpTrapOID    = ".1.3.6.1.6.3.1.1.4.1.0"
	burstSource       = "127.0.0.2" // no configured printer: traps are not followed by polls
	latencySource     = "127.0.0.3"
	watchStopDeadline = 15 * time.Second
)

// benchWatch runs inkform watch on an n-printer fleet with SQLite state
// and a real Mailpit, and measures one poll cycle, a trap burst, the time
// from a trap to its email, the process's peak RSS, then the status
// page's latency under 50 clients and the peak RSS after it. plan is the plan
// time of the same fleet (0: measured here, once).
func (o options) benchWatch(ctx context.Context, t table, dir string, n int, plan float64) error {
	sim, err := o.startSim(ctx, dir, n, nil)
	if err != nil {
		return err
	}
	defer sim.stop()
	cfg := filepath.Join(dir, "config")
	if err := writeConfig(cfg, sim.printers, o.timeout, factoryContact()); err != nil {
		return err
	}
	if plan == 0 {
		m, err := o.inkformRun(ctx, o.planArgs("plan", cfg)...)
		if err != nil {
			return err
		}
		plan = m.wall.Seconds()
		t.row("plan-s", n, plan, "one plan, the poll cycle's baseline")
	}
	mp, err := o.startMailpit(ctx, filepath.Join(dir, "mailpit"))
	if err != nil {
		return err
	}
	defer mp.stop()
	trapPort, err := freePort("udp")
	if err != nil {
		return err
	}
	pagePort, err := freePort("tcp")
	if err != nil {
		return err
	}
	pageAddr := fmt.Sprintf("127.0.0.1:%d", pagePort)
	certFile, keyFile, pool, err := pageCert(dir)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg, "watch.hcl"), []byte(watchConfig(mp.smtpPort, trapPort, statusPageConfig(pageAddr, certFile, keyFile))), 0o644); err != nil {
		return err
	}
	w, err := o.startWatch(ctx, cfg)
	if err != nil {
		return err
	}
	defer w.stop()

	// The first poll cycle starts with the service: every printer once.
	var poll float64
	select {
	case poll = <-w.polled:
	case err := <-w.exited:
		return fmt.Errorf("inkform watch exited: %v\n%s", err, w.stderrTail())
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("inkform watch: no poll cycle within 5 minutes\n%s", w.stderrTail())
	}
	t.row("poll-cycle-s", n, poll, check(poll <= budgetPollPlan*plan, fmt.Sprintf("budget ≤ 2 × plan (%.2f s):", plan)))

	db, err := sql.Open("sqlite", "file:"+filepath.Join(cfg, "inkform.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(trapPort))

	burst, err := o.trapBurst(ctx, db, to)
	if err != nil {
		return err
	}
	t.row("alerts-per-s", 0, burst.rate, check(burst.rate >= budgetAlertsPerS,
		fmt.Sprintf("%d traps, %d events persisted; kernel UDP drops %d; budget ≥ 20000:", burstTraps, burst.persisted, burst.kernelDrops)))

	// Routing the burst (to no route) is part of what the service does
	// with it; the latency run starts once it is done.
	if err := waitQuery(ctx, db, "SELECT count(*) FROM alert_events WHERE routed_at IS NULL", 0, 5*time.Minute); err != nil {
		return fmt.Errorf("routing the burst: %w", err)
	}
	p95, err := o.emailLatency(ctx, mp, to)
	if err != nil {
		return err
	}
	t.row("alert-to-email-p95-ms", 0, p95, check(p95 <= budgetEmailP95MS,
		fmt.Sprintf("%d alerts %v apart, grace and group_wait 0, Mailpit; budget ≤ 1000:", latencyAlerts, latencySpacing)))

	hwm, err := vmHWM(w.cmd.Process.Pid)
	if err != nil {
		return err
	}
	rss := float64(hwm) / (1 << 20)
	t.row("watch-rss-mb", n, rss, check(rss <= budgetWatchRSSMB, "peak after the poll cycle, the burst and the emails; budget ≤ 400 MB:"))

	// The status page has been serving since the start; it shows the
	// fleet as the first poll cycle saw it.
	select {
	case <-w.pageReady:
	case err := <-w.exited:
		return fmt.Errorf("inkform watch exited: %v\n%s", err, w.stderrTail())
	case <-time.After(time.Minute):
		return fmt.Errorf("inkform watch: the status page did not say it listens\n%s", w.stderrTail())
	}
	filter := sim.printers[len(sim.printers)/2].name
	filter = filter[:max(1, len(filter)-1)] // a few printers share all but the last character
	pageP95, err := o.pageLoad(ctx, "https://"+pageAddr, pool, n, filter)
	if err != nil {
		return err
	}
	t.row("status-page-p95-ms", n, pageP95, check(pageP95 <= budgetPageP95MS,
		fmt.Sprintf("%d requests from %d keep-alive HTTPS clients: fleet page (first page; filtered and sorted) and /api/v1/printers (default; sorted), each 200 listing printers; budget ≤ %d:",
			pageRequests, pageClients, budgetPageP95MS)))
	hwm, err = vmHWM(w.cmd.Process.Pid)
	if err != nil {
		return err
	}
	rss = float64(hwm) / (1 << 20)
	t.row("api-rss-mb", n, rss, check(rss <= budgetAPIRSSMB, "watch's peak, after the status page load too; budget ≤ 400 MB:"))
	return nil
}

// watchConfig is the service's part of the configuration: Mailpit as
// the SMTP server, one route for jams sent at once, traps on loopback
// from any loopback address, and one poll cycle per hour (the first at
// start), and the status page block given.
func watchConfig(smtpPort, trapPort int, statusPage string) string {
	return fmt.Sprintf(`smtp {
  host       = "127.0.0.1"
  port       = %d
  encryption = "none"
  from       = "inkform@example.test"
}

alert_route "jams" {
  match {
    events = ["jam"]
  }
  email {
    to = ["oncall@example.test"]
  }
  subject        = "bench{{range .Alerts}} {{.Description}}{{end}}"
  grace          = "0s"
  group_wait     = "0s"
  group_interval = "100ms"
  repeat         = "0s"
}

watch {
  traps {
    listen = "127.0.0.1:%d"
    allow  = ["127.0.0.0/8"]
  }
  poll = "1h"
%s}
`, smtpPort, trapPort, statusPage)
}

// watchProcess is a running inkform watch.
type watchProcess struct {
	cmd       *exec.Cmd
	polled    chan float64
	pageReady chan struct{} // closed when the status page says it listens
	exited    chan error
	mu        sync.Mutex
	stderr    []string // the last lines
}

var polledLine = regexp.MustCompile(`msg="watch: polled" printers=\d+ seconds=([0-9.eE+-]+)`)

func (o options) startWatch(ctx context.Context, cfg string) (*watchProcess, error) {
	o.logf("inkform watch -config %s", cfg)
	w := &watchProcess{cmd: exec.CommandContext(ctx, o.inkform, "watch", "-config", cfg),
		polled: make(chan float64, 16), pageReady: make(chan struct{}), exited: make(chan error, 1)}
	w.cmd.Env = append(os.Environ(), "INKFORM_VAR_community=private", "NO_COLOR=1")
	errPipe, err := w.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	w.cmd.Stdout = io.Discard
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start inkform watch: %w", err)
	}
	go func() {
		pageSaid := false
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			o.logf("watch: %s", line)
			w.mu.Lock()
			w.stderr = append(w.stderr, line)
			if len(w.stderr) > 40 {
				w.stderr = w.stderr[len(w.stderr)-40:]
			}
			w.mu.Unlock()
			if !pageSaid && strings.Contains(line, `status page listening" address=`) {
				pageSaid = true
				close(w.pageReady)
			}
			if m := polledLine.FindStringSubmatch(line); m != nil {
				if s, err := strconv.ParseFloat(m[1], 64); err == nil {
					select {
					case w.polled <- s:
					default:
					}
				}
			}
		}
		w.exited <- w.cmd.Wait()
	}()
	return w, nil
}

func (w *watchProcess) stderrTail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.stderr, "\n")
}

// stop sends SIGTERM and waits for the service to drain (bounded).
func (w *watchProcess) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(watchStopDeadline):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}

type burstResult struct {
	persisted   int
	rate        float64
	kernelDrops int64
}

// trapBurst sends burstTraps printerV2Alert traps, each a new alert (its
// own prtAlertIndex), as fast as one socket sends them, and measures
// events persisted per second: from the first trap sent to the last event
// seen in state (read every 10 ms). It ends when every trap is recorded
// or nothing more was recorded for 3 s.
func (o options) trapBurst(ctx context.Context, db *sql.DB, to netip.AddrPort) (burstResult, error) {
	var res burstResult
	pkts := make([][]byte, burstTraps)
	for i := range pkts {
		b, err := trapPacket(i+1, simulator.CodeDoorOpen, "burst")
		if err != nil {
			return res, err
		}
		pkts[i] = b
	}
	base, err := count(ctx, db, "SELECT count(*) FROM alert_events")
	if err != nil {
		return res, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(burstSource), 0)))
	if err != nil {
		return res, fmt.Errorf("trap sender: %w", err)
	}
	defer conn.Close()
	drops0, err := udpRcvbufErrors()
	if err != nil {
		return res, err
	}
	o.logf("sending %d traps", burstTraps)
	start := time.Now()
	for _, b := range pkts {
		if _, err := conn.WriteToUDPAddrPort(b, to); err != nil {
			return res, fmt.Errorf("send trap: %w", err)
		}
	}
	sent := time.Since(start)
	last, lastAt := 0, start
	for {
		c, err := count(ctx, db, "SELECT count(*) FROM alert_events")
		if err != nil {
			return res, err
		}
		now := time.Now()
		if c-base > last {
			last, lastAt = c-base, now
		}
		if last >= burstTraps || now.Sub(lastAt) > 3*time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond) // sampling interval of the state
	}
	drops1, err := udpRcvbufErrors()
	if err != nil {
		return res, err
	}
	res.persisted, res.kernelDrops = last, drops1-drops0
	res.rate = float64(last) / lastAt.Sub(start).Seconds()
	o.logf("  sent in %.2fs, %d persisted in %.2fs, kernel drops %d", sent.Seconds(), last, lastAt.Sub(start).Seconds(), res.kernelDrops)
	return res, nil
}

// emailLatency sends latencyAlerts jam traps, latencySpacing apart, and
// returns the 95th percentile of the time from each trap sent to Mailpit
// storing the email that carries it, in milliseconds.
func (o options) emailLatency(ctx context.Context, mp *mailpit, to netip.AddrPort) (float64, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(latencySource), 0)))
	if err != nil {
		return 0, fmt.Errorf("trap sender: %w", err)
	}
	defer conn.Close()
	sentAt := make(map[string]time.Time, latencyAlerts)
	o.logf("sending %d jam traps %v apart", latencyAlerts, latencySpacing)
	next := time.Now()
	for i := range latencyAlerts {
		name := fmt.Sprintf("lat-%d", i+1)
		b, err := trapPacket(i+1, simulator.CodeJam, name)
		if err != nil {
			return 0, err
		}
		time.Sleep(time.Until(next)) // pacing the sender, not synchronising
		sentAt[name] = time.Now()
		if _, err := conn.WriteToUDPAddrPort(b, to); err != nil {
			return 0, fmt.Errorf("send trap: %w", err)
		}
		next = next.Add(latencySpacing)
	}
	got := map[string]time.Time{}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < latencyAlerts {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("mailpit: %d of %d alerts arrived within 60 s of the last trap", len(got), latencyAlerts)
		}
		msgs, err := mp.messages(ctx)
		if err != nil {
			return 0, err
		}
		for _, m := range msgs {
			for _, f := range strings.Fields(m.Subject) {
				if _, ok := sentAt[f]; ok {
					got[f] = m.Created
				}
			}
		}
		if len(got) < latencyAlerts {
			time.Sleep(200 * time.Millisecond) // polling Mailpit's API
		}
	}
	var ms []float64
	for name, at := range got {
		ms = append(ms, float64(at.Sub(sentAt[name]).Microseconds())/1000)
	}
	slices.Sort(ms)
	o.logf("  latency min %.0f ms, median %.0f ms, max %.0f ms", ms[0], ms[len(ms)/2], ms[len(ms)-1])
	return ms[(len(ms)*95+99)/100-1], nil
}

// trapPacket is a printerV2Alert (SNMPv2c, community private) in row
// index of the printer's alert table, about the paper path numbered
// index: a new alert for each index (an alert is keyed by its group and
// group index).
func trapPacket(index, code int, description string) ([]byte, error) {
	inst := ".1." + strconv.Itoa(index)
	col := func(c int) string { return oidPrtAlertEntry + strconv.Itoa(c) + inst }
	pkt := &gosnmp.SnmpPacket{
		Version: gosnmp.Version2c, Community: "private", PDUType: gosnmp.SNMPv2Trap, RequestID: uint32(index),
		Variables: []gosnmp.SnmpPDU{
			{Name: simulator.OIDSysUpTime, Type: gosnmp.TimeTicks, Value: uint32(index)},
			{Name: oidSnmpTrapOID, Type: gosnmp.ObjectIdentifier, Value: simulator.OIDPrinterV2Alert},
			{Name: col(1), Type: gosnmp.Integer, Value: index},
			{Name: col(2), Type: gosnmp.Integer, Value: simulator.SeverityCritical},
			{Name: col(3), Type: gosnmp.Integer, Value: 3},
			{Name: col(4), Type: gosnmp.Integer, Value: simulator.GroupMediaPath},
			{Name: col(5), Type: gosnmp.Integer, Value: index}, // the alert's key: group and group index
			{Name: col(6), Type: gosnmp.Integer, Value: 0},
			{Name: col(7), Type: gosnmp.Integer, Value: code},
			{Name: col(8), Type: gosnmp.OctetString, Value: description},
			{Name: col(9), Type: gosnmp.TimeTicks, Value: uint32(index)},
		},
	}
	return pkt.MarshalMsg()
}

func count(ctx context.Context, db *sql.DB, query string) (int, error) {
	var n int
	if err := db.QueryRowContext(ctx, query).Scan(&n); err != nil {
		return 0, fmt.Errorf("state: %s: %w", query, err)
	}
	return n, nil
}

// waitQuery polls a count query until it gives want (bounded).
func waitQuery(ctx context.Context, db *sql.DB, query string, want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := count(ctx, db, query)
		if err != nil {
			return err
		}
		if n == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("state: %s is %d after %v, want %d", query, n, limit, want)
		}
		time.Sleep(50 * time.Millisecond) // polling the state
	}
}

// udpRcvbufErrors is the kernel's count of UDP datagrams dropped for a
// full receive buffer (/proc/net/snmp, Udp: RcvbufErrors), host-wide.
func udpRcvbufErrors() (int64, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, fmt.Errorf("UDP drops: %w", err)
	}
	var head []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		if i := slices.Index(head, "RcvbufErrors"); i > 0 && i < len(f) {
			return strconv.ParseInt(f[i], 10, 64)
		}
	}
	return 0, errors.New("UDP drops: no Udp RcvbufErrors in /proc/net/snmp")
}

// vmHWM is a running process's peak resident set size in bytes.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak RSS: %q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("peak RSS: no VmHWM in /proc status")
}

func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// mailpit is a running Mailpit (github.com/axllent/mailpit), started like
// the tests start it: free loopback ports, a private database.
type mailpit struct {
	cmd                *exec.Cmd
	smtpPort, httpPort int
	out                strings.Builder
}

func mailpitBinary() (string, error) {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "mailpit")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("mailpit is not installed (go install github.com/axllent/mailpit@v1.33.1)")
}

func (o options) startMailpit(ctx context.Context, dir string) (*mailpit, error) {
	bin, err := mailpitBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	m := &mailpit{}
	if m.smtpPort, err = freePort("tcp"); err != nil {
		return nil, err
	}
	if m.httpPort, err = freePort("tcp"); err != nil {
		return nil, err
	}
	m.cmd = exec.Command(bin, "--database", filepath.Join(dir, "mailpit.db"), "--disable-version-check",
		"--smtp-disable-rdns", "--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--smtp", "127.0.0.1:"+strconv.Itoa(m.smtpPort), "--listen", "127.0.0.1:"+strconv.Itoa(m.httpPort))
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	o.logf("%s", strings.Join(m.cmd.Args, " "))
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := m.messages(ctx)
		if err == nil {
			if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(m.smtpPort), time.Second); err == nil {
				c.Close()
				return m, nil
			}
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("mailpit not ready within 30 s: %v\n%s", err, m.out.String())
		}
		time.Sleep(50 * time.Millisecond) // polling readiness
	}
}

func (m *mailpit) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
	}
}

type mailpitMessage struct {
	Subject string
	Created time.Time
}

// messages lists the stored messages (up to 1,000, newest first).
func (m *mailpit) messages(ctx context.Context) ([]mailpitMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(m.httpPort)+"/api/v1/messages?limit=1000", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mailpit API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailpit API: %s", resp.Status)
	}
	var body struct{ Messages []mailpitMessage }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("mailpit API: %w", err)
	}
	return body.Messages, nil
}
