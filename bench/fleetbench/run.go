package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	inkform, floor string
	sizes          []int
	parallelism    int
	timeout        time.Duration
	unhealthyAt    int
	watchAt        int    // fleet size of the watch rows (0: none)
	only           string // "watch" or "discover": only those rows
	keep, verbose  bool
	dir            string // -serve's configuration directory
	recording      string // -recording: every printer answers like this .snmprec
}

// Budgets from the performance issue; a row names its budget when it has one.
const (
	budgetPlanFloor  = 1.3
	budgetApplyPlan  = 2.0
	budgetLoadMS     = 1000
	budgetPlanRSSMB  = 300
	unhealthyTimeout = 2 // unhealthy plan within this many per-printer timeout budgets of the healthy one
	retries          = 1 // in the generated configuration
	pairs            = 3 // floor and plan runs per fleet size; medians are reported
)

// table prints rows as they are measured, so a long run shows progress.
type table struct{ w io.Writer }

func (t table) row(name string, size int, value float64, budget string) {
	n := "-"
	if size > 0 {
		n = strconv.Itoa(size)
	}
	v := strconv.FormatFloat(value, 'f', 2, 64)
	if value >= 100 {
		v = strconv.FormatFloat(value, 'f', 0, 64)
	}
	line := fmt.Sprintf("%-24s %6s %10s", name, n, v)
	if budget != "" {
		line += "   # " + budget
	}
	fmt.Fprintln(t.w, line)
}

func check(ok bool, text string) string {
	if ok {
		return text + " ok"
	}
	return text + " MISSED"
}

func run(o options) error {
	ctx := context.Background()
	for _, p := range []string{o.inkform, o.floor} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w (run make bench, which builds it)", p, err)
		}
	}
	need := 0
	for _, n := range o.sizes {
		need = max(need, n)
	}
	need = max(need, o.unhealthyAt, o.watchAt)
	if limit, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(os.Stderr, "fleetbench: cannot read the open-files limit: %v\n", err)
	} else if limit < uint64(need)+512 {
		fmt.Fprintf(os.Stderr, "fleetbench: the open-files limit is %d and the OS does not allow more; a %d-printer simulator needs about %d\n", limit, need, need+512)
	}
	work, err := os.MkdirTemp("", "fleetbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "fleetbench: working directory", work)
	} else {
		defer os.RemoveAll(work)
	}
	t := table{w: os.Stdout}
	fmt.Printf("# fleetbench: %s, GOMAXPROCS of children unset, %d CPUs\n", time.Now().UTC().Format(time.RFC3339), numCPU())
	fmt.Printf("%-24s %6s %10s\n", "figure", "fleet", "value")

	healthy := map[int]float64{}
	if o.only == "watch" {
		return o.runWatch(ctx, t, work, healthy)
	}
	if o.only == "discover" {
		return o.benchDiscover(ctx, t, filepath.Join(work, "discover"))
	}
	var simRate, simPerCPU float64
	for _, n := range o.sizes {
		dir := filepath.Join(work, fmt.Sprintf("fleet-%d", n))
		r, err := o.benchFleet(ctx, t, dir, n, n == slices.Min(o.sizes))
		if err != nil {
			return fmt.Errorf("%d printers: %w", n, err)
		}
		healthy[n] = r.plan
		if r.simRate > simRate {
			simRate, simPerCPU = r.simRate, r.simPerCPU
		}
	}
	if o.unhealthyAt > 0 {
		base, ok := healthy[o.unhealthyAt]
		if !ok {
			return fmt.Errorf("unhealthy run at %d printers needs that size in -sizes for its healthy baseline", o.unhealthyAt)
		}
		if err := o.benchUnhealthy(ctx, t, filepath.Join(work, "unhealthy"), o.unhealthyAt, base); err != nil {
			return fmt.Errorf("unhealthy fleet: %w", err)
		}
	}
	if err := o.runWatch(ctx, t, work, healthy); err != nil {
		return err
	}
	if err := o.benchDiscover(ctx, t, filepath.Join(work, "discover")); err != nil {
		return fmt.Errorf("inkform discover: %w", err)
	}
	t.row("sim-requests-per-s", 0, simRate, "answered while the floor saturates it, client on the same 2 CPUs")
	t.row("sim-requests-per-cpu-s", 0, simPerCPU, "requests per CPU-second of the simulator process")
	return nil
}

// runWatch measures the watch rows, against the plan time of the same
// fleet when the run measured it.
func (o options) runWatch(ctx context.Context, t table, work string, healthy map[int]float64) error {
	if o.watchAt <= 0 {
		return nil
	}
	if err := o.benchWatch(ctx, t, filepath.Join(work, "watch"), o.watchAt, healthy[o.watchAt]); err != nil {
		return fmt.Errorf("inkform watch: %w", err)
	}
	return nil
}

// serve runs an n-printer simulator with its configuration in o.dir (and
// the floor's targets next to it) until SIGINT or SIGTERM.
func (o options) serve(n int) error {
	if o.dir == "" {
		return errors.New("-serve needs -dir")
	}
	if _, err := raiseFileLimit(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sim, err := o.startSim(ctx, o.dir, n, nil)
	if err != nil {
		return err
	}
	defer sim.stop()
	cfg := filepath.Join(o.dir, "config")
	if err := writeConfig(cfg, sim.printers, o.timeout, factoryContact()); err != nil {
		return err
	}
	var b strings.Builder
	for _, p := range sim.printers {
		b.WriteString(p.address + "\n")
	}
	if err := os.WriteFile(filepath.Join(o.dir, "targets.txt"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("serving %d printers; configuration in %s (INKFORM_VAR_community=private)\n", n, cfg)
	<-ctx.Done()
	return nil
}

type fleetResult struct {
	plan, simRate, simPerCPU float64
}

func (o options) logf(format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(os.Stderr, "fleetbench: "+format+"\n", args...)
	}
}

// benchFleet measures config load, plan, floor and apply on a healthy fleet
// of n printers, and with measureSim the simulator's capacity.
func (o options) benchFleet(ctx context.Context, t table, dir string, n int, measureSim bool) (fleetResult, error) {
	var res fleetResult
	sim, err := o.startSim(ctx, dir, n, nil)
	if err != nil {
		return res, err
	}
	defer sim.stop()
	cfg := filepath.Join(dir, "config")
	if err := writeConfig(cfg, sim.printers, o.timeout, factoryContact()); err != nil {
		return res, err
	}

	// Config load: the best of three validate runs, process start included.
	best := time.Duration(1<<63 - 1)
	for range 3 {
		m, err := o.inkformRun(ctx, "validate", "-config", cfg)
		if err != nil {
			return res, err
		}
		best = min(best, m.wall)
	}
	ms := float64(best.Milliseconds())
	t.row("config-load-ms", n, ms, check(n < 10000 || ms <= budgetLoadMS, "budget ≤ 1000 ms at 10000:"))

	par := o.parallelism
	if par == 0 {
		par, err = o.defaultParallelism(ctx, n)
		if err != nil {
			return res, err
		}
	}
	// The floor and the plan alternate, three times each, and each figure
	// is the median of its runs: on a shared machine a single pair varies
	// by ±15%. The floor goes first, so the plan does not enjoy warmer
	// caches. A plan of a fresh state records nothing, so runs are alike.
	var floors []floorResult
	var plans []measured
	for range pairs {
		floor, err := o.runFloor(ctx, dir, sim.printers, par, 1)
		if err != nil {
			return res, err
		}
		if floor.Failed > 0 {
			return res, fmt.Errorf("floor: %d printers failed, first: %s", floor.Failed, floor.FirstError)
		}
		floors = append(floors, floor)
		plan, err := o.inkformRun(ctx, o.planArgs("plan", cfg)...)
		if err != nil {
			return res, err
		}
		if err := plan.expectAll(n, "will be adopted"); err != nil {
			return res, err
		}
		plans = append(plans, plan)
	}
	slices.SortFunc(floors, func(a, b floorResult) int { return cmp.Compare(a.Seconds, b.Seconds) })
	slices.SortFunc(plans, func(a, b measured) int { return cmp.Compare(a.wall, b.wall) })
	floor, plan := floors[pairs/2], plans[pairs/2]
	for _, p := range plans {
		plan.maxRSS = max(plan.maxRSS, p.maxRSS) // the worst run counts
	}
	res.plan = plan.wall.Seconds()
	ratio := plan.wall.Seconds() / floor.Seconds
	t.row("plan-s", n, plan.wall.Seconds(), "")
	t.row("plan-printers-per-s", n, float64(n)/plan.wall.Seconds(), "")
	t.row("floor-s", n, floor.Seconds, fmt.Sprintf("%d requests at concurrency %d", floor.Requests, par))
	t.row("plan/floor", n, ratio, check(n < 10000 || ratio <= budgetPlanFloor, "budget ≤ 1.3 at 10000:"))
	rss := float64(plan.maxRSS) / (1 << 20)
	t.row("plan-rss-mb", n, rss, check(n < 10000 || rss <= budgetPlanRSSMB, "budget ≤ 300 MB at 10000:"))

	// Adopt the fleet (values as on the devices: state writes only).
	adopt, err := o.inkformRun(ctx, o.planArgs("apply", cfg, "-auto-approve")...)
	if err != nil {
		return res, err
	}
	t.row("adopt-s", n, adopt.wall.Seconds(), "plan, then record every printer in state")

	// Change one setting everywhere; plan it to a file, then apply the file.
	if err := writeConfig(cfg, sim.printers, o.timeout, "IT Service Desk x4100"); err != nil {
		return res, err
	}
	planFile := filepath.Join(dir, "change.plan")
	change, err := o.inkformRun(ctx, o.planArgs("plan", cfg, "-out", planFile)...)
	if err != nil {
		return res, err
	}
	if err := change.expectAll(n, "will be updated in place"); err != nil {
		return res, err
	}
	apply, err := o.inkformRun(ctx, o.planArgs("apply", cfg, planFile)...)
	if err != nil {
		return res, err
	}
	if !bytes.Contains(apply.stdout, []byte(strconv.Itoa(n)+" applied")) {
		o.logf("apply output: %s", tail(apply.stdout))
	}
	t.row("apply-s", n, apply.wall.Seconds(), "apply of a saved plan: re-check, SET, verify, record")
	ap := apply.wall.Seconds() / change.wall.Seconds()
	t.row("apply/plan", n, ap, check(ap <= budgetApplyPlan, "budget ≤ 2:"))

	// Simulator capacity, once per run on its smallest fleet: the floor
	// sweeping the fleet repeatedly at high concurrency, against the
	// simulator's own CPU time.
	if measureSim {
		cpu0, err := processCPU(sim.cmd.Process.Pid)
		if err != nil {
			return res, err
		}
		cap, err := o.runFloor(ctx, dir, sim.printers, 256, max(1, 20000/n))
		if err != nil {
			return res, err
		}
		cpu1, err := processCPU(sim.cmd.Process.Pid)
		if err != nil {
			return res, err
		}
		res.simRate = float64(cap.Requests) / cap.Seconds
		if d := (cpu1 - cpu0).Seconds(); d > 0 {
			res.simPerCPU = float64(cap.Requests) / d
		}
	}
	return res, nil
}

// benchUnhealthy plans a fleet of which 10% is offline and 10% answers
// 200 ms late.
func (o options) benchUnhealthy(ctx context.Context, t table, dir string, n int, healthy float64) error {
	bad := n / 10
	sim, err := o.startSim(ctx, dir, n, []string{"--offline", strconv.Itoa(bad), "--slow", strconv.Itoa(bad), "--slow-latency", "200ms"})
	if err != nil {
		return err
	}
	defer sim.stop()
	cfg := filepath.Join(dir, "config")
	if err := writeConfig(cfg, sim.printers, o.timeout, factoryContact()); err != nil {
		return err
	}
	plan, err := o.inkformRun(ctx, o.planArgs("plan", cfg)...)
	if err != nil {
		return err
	}
	if got := bytes.Count(plan.stdout, []byte(" is unreachable: ")); got != bad {
		return fmt.Errorf("plan reported %d unreachable printers, want %d", got, bad)
	}
	budget := float64(retries+1) * o.timeout.Seconds()
	extra := plan.wall.Seconds() - healthy
	t.row("unhealthy-plan-s", n, plan.wall.Seconds(), fmt.Sprintf("%d offline, %d slow (200 ms)", bad, bad))
	t.row("unhealthy/healthy", n, plan.wall.Seconds()/healthy, "")
	t.row("unhealthy-extra-s", n, extra, check(extra <= unhealthyTimeout*budget,
		fmt.Sprintf("budget ≤ %d × %.0f s per-printer timeout:", unhealthyTimeout, budget)))
	return nil
}

func (o options) planArgs(cmd, cfg string, more ...string) []string {
	args := []string{cmd, "-config", cfg}
	if o.parallelism > 0 {
		args = append(args, "-parallelism", strconv.Itoa(o.parallelism))
	}
	return append(args, more...)
}

// defaultParallelism asks inkform what concurrency a plan of n printers
// uses by default, so the floor runs at the same.
func (o options) defaultParallelism(ctx context.Context, n int) (int, error) {
	out, err := exec.CommandContext(ctx, o.inkform, "plan", "--help").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("inkform plan --help: %w", err)
	}
	m := regexp.MustCompile(`default (\d+)`).FindSubmatch(out[bytes.Index(out, []byte("-parallelism")):])
	if m == nil {
		return 0, errors.New("inkform plan --help does not state the default -parallelism")
	}
	p, _ := strconv.Atoi(string(m[1]))
	return min(p, n), nil
}

// measured is one finished inkform process.
type measured struct {
	wall   time.Duration
	maxRSS int64 // bytes
	stdout []byte
}

func (m measured) expectAll(n int, what string) error {
	if got := bytes.Count(m.stdout, []byte(what)); got != n {
		return fmt.Errorf("expected %d printers that %q, got %d; output ends:\n%s", n, what, got, tail(m.stdout))
	}
	return nil
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func (o options) inkformRun(ctx context.Context, args ...string) (measured, error) {
	o.logf("inkform %s", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, o.inkform, args...)
	cmd.Env = append(os.Environ(), "INKFORM_VAR_community=private", "NO_COLOR=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return measured{}, fmt.Errorf("inkform %s: %w\n%s%s", strings.Join(args, " "), err, tail(errOut.Bytes()), tail(out.Bytes()))
	}
	m := measured{wall: wall, stdout: out.Bytes()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	o.logf("  %.2fs, %d MB", wall.Seconds(), m.maxRSS>>20)
	return m, nil
}

type floorResult struct {
	Printers   int     `json:"printers"`
	Answered   int64   `json:"answered"`
	Failed     int64   `json:"failed"`
	Requests   int64   `json:"requests"`
	Seconds    float64 `json:"seconds"`
	FirstError string  `json:"first_error"`
}

func (o options) runFloor(ctx context.Context, dir string, printers []simPrinter, par, repeat int) (floorResult, error) {
	var res floorResult
	targets := filepath.Join(dir, "targets.txt")
	var b strings.Builder
	for _, p := range printers {
		b.WriteString(p.address + "\n")
	}
	if err := os.WriteFile(targets, []byte(b.String()), 0o644); err != nil {
		return res, err
	}
	args := []string{"-targets", targets, "-community", "private", "-oids", strings.Join(settingOIDs(), ","),
		"-parallelism", strconv.Itoa(par), "-timeout", o.timeout.String(), "-retries", strconv.Itoa(retries),
		"-repeat", strconv.Itoa(repeat)}
	o.logf("floor %s", strings.Join(args, " "))
	out, err := exec.CommandContext(ctx, o.floor, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return res, fmt.Errorf("floor: %w: %s", err, ee.Stderr)
		}
		return res, fmt.Errorf("floor: %w", err)
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("floor output %q: %w", out, err)
	}
	o.logf("  %.2fs, %d requests", res.Seconds, res.Requests)
	return res, nil
}

// simProcess is a running `inkform sim`.
type simProcess struct {
	cmd      *exec.Cmd
	printers []simPrinter
	stderr   bytes.Buffer
}

type simPrinter struct{ name, address, serial string }

// startSim starts n simulated printers on free loopback ports and waits
// for its "ready" line (bounded).
func (o options) startSim(ctx context.Context, dir string, n int, extra []string) (*simProcess, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	hclPath := filepath.Join(dir, "sim.hcl")
	args := append([]string{"sim", "--printers", strconv.Itoa(n), "--listen", "127.0.0.1", "--base-port", "0",
		"--print-rate", "0", "--write-hcl", hclPath}, extra...)
	if o.recording != "" {
		args = append(args, "--from-recording", o.recording)
	}
	o.logf("inkform %s", strings.Join(args, " "))
	s := &simProcess{cmd: exec.Command(o.inkform, args...)}
	s.cmd.Stderr = &s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- nil
				_, _ = io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- errors.New("simulator exited before it was ready")
	}()
	select {
	case err = <-ready:
	case <-time.After(60 * time.Second):
		err = errors.New("simulator not ready after 60 s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("%w: %s", err, s.stderr.String())
	}
	src, err := os.ReadFile(hclPath)
	if err != nil {
		s.stop()
		return nil, err
	}
	s.printers = parseSimHCL(src)
	if len(s.printers) != n {
		s.stop()
		return nil, fmt.Errorf("simulator configuration lists %d printers, want %d", len(s.printers), n)
	}
	return s, nil
}

// stop interrupts the simulator and waits for it to exit (bounded).
func (s *simProcess) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

var simBlock = regexp.MustCompile(`printer "([^"]+)" \{\s*address\s*=\s*"([^"]+)"\s*serial\s*=\s*"([^"]+)"`)

// parseSimHCL reads name, address and serial of each printer block the
// simulator generated.
func parseSimHCL(src []byte) []simPrinter {
	var out []simPrinter
	for _, m := range simBlock.FindAllSubmatch(src, -1) {
		out = append(out, simPrinter{name: string(m[1]), address: string(m[2]), serial: string(m[3])})
	}
	return out
}

// processCPU returns the user+system CPU time of a running process.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("simulator CPU time: %w", err)
	}
	// Fields after the command name, which is parenthesised and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0, errors.New("simulator CPU time: short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks, nil
}
