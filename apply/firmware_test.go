package apply_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/apply"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
	"github.com/inkform/inkform/views"
)

// deployFleet is a fake fleet whose devices take files and firmware.
// Sending firmware takes the device away for one observation, then it
// answers with the new version and a reset uptime.
type deployFleet struct {
	mu      sync.Mutex
	devices map[string]*deployDevice
	events  []string // "p1 firmware X", "p1 file ca.pem via ftp", "p1 set a,b"
}

type deployDevice struct {
	model, firmware string
	uptime          time.Duration
	settings        map[string]string
	transports      map[string]string // setting → transport
	notes           []string
	reject          bool
	away            int // observations still unanswered (rebooting)
	pending         string
}

func newDeployFleet() *deployFleet { return &deployFleet{devices: map[string]*deployDevice{}} }

func (f *deployFleet) add(name, model, fw string, settings map[string]string) *deployDevice {
	d := &deployDevice{model: model, firmware: fw, uptime: time.Hour, settings: settings}
	f.devices[name] = d
	return d
}

func (f *deployFleet) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

func (f *deployFleet) Connect(_ context.Context, p fleet.Printer) (providers.Session, error) {
	return &deploySession{f: f, p: p}, nil
}

type deploySession struct {
	f *deployFleet
	p fleet.Printer
}

func (s *deploySession) Transport() string { return "snmp" }
func (s *deploySession) Close() error      { return nil }

func (s *deploySession) Observe(_ context.Context, names []string) (fleet.Observation, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	d := s.f.devices[s.p.Name]
	if d == nil {
		return fleet.Observation{}, fmt.Errorf("no answer: %w", providers.ErrUnreachable)
	}
	if d.away > 0 {
		d.away--
		if d.away == 0 {
			d.firmware, d.uptime, d.pending = d.pending, time.Second, ""
		}
		return fleet.Observation{}, fmt.Errorf("rebooting: %w", providers.ErrUnreachable)
	}
	d.uptime += time.Second
	o := fleet.Observation{
		Model: d.model, Serial: "S-" + s.p.Name, Firmware: d.firmware, Uptime: d.uptime, Status: "idle",
		Settings: map[string]string{}, SettingTransports: map[string]string{}, Transport: "snmp",
		ObservedAt: plannertest.Observed, Notes: slices.Clone(d.notes),
	}
	for _, n := range names {
		v, ok := d.settings[n]
		if !ok {
			o.Unsupported = append(o.Unsupported, n)
			continue
		}
		o.Settings[n] = v
		o.SettingTransports[n] = "snmp"
		if t := d.transports[n]; t != "" {
			o.SettingTransports[n] = t
		}
	}
	return o, nil
}

func (s *deploySession) Set(_ context.Context, values []fleet.Desired) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	d := s.f.devices[s.p.Name]
	var names []string
	for _, v := range values {
		d.settings[v.Name] = v.Value
		names = append(names, v.Name)
	}
	if len(names) > 0 {
		s.f.events = append(s.f.events, s.p.Name+" set "+strings.Join(names, ","))
	}
	return nil
}

func (s *deploySession) SendFile(_ context.Context, file fleet.File, progress func(int64)) (string, error) {
	data, err := os.ReadFile(file.Source)
	if err != nil {
		return "", err
	}
	via := file.Via
	if via == "" {
		via = "ftp"
	}
	if progress != nil {
		progress(int64(len(data)))
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	d := s.f.devices[s.p.Name]
	if strings.HasSuffix(file.Source, ".fls") {
		if d.reject {
			s.f.events = append(s.f.events, s.p.Name+" firmware rejected")
			return via, fmt.Errorf("550 firmware rejected")
		}
		s.f.events = append(s.f.events, s.p.Name+" firmware "+strings.TrimSpace(string(data)))
		d.away, d.pending = 1, strings.TrimSpace(string(data))
		return via, nil
	}
	s.f.events = append(s.f.events, s.p.Name+" file "+file.RemoteName()+" via "+via)
	return via, nil
}

// writeFile writes content under dir and returns it as a fleet.File.
func writeFile(t *testing.T, dir, name, content, via string) fleet.File {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	return fleet.File{Source: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), Via: via, Dest: name}
}

type deployFixture struct {
	fleet    *deployFleet
	store    *memstate.Store
	planner  *planner.Planner
	applier  *apply.Applier
	printers []fleet.Printer
	dir      string
	fw       *fleet.Firmware
}

func newDeployFixture(t *testing.T, n int, batch, maxFailures int) *deployFixture {
	t.Helper()
	df := &deployFixture{fleet: newDeployFleet(), store: memstate.New(), dir: t.TempDir()}
	now := func() time.Time { return plannertest.Now }
	limits := observer.Limits{Parallelism: 4}
	df.planner = &planner.Planner{
		Observer: observer.Observer{Connector: df.fleet, Limits: limits},
		State:    df.store, Catalog: catalog.Default(), Now: now,
	}
	df.applier = &apply.Applier{
		Connector: df.fleet, State: df.store, Catalog: catalog.Default(), Now: now, Limits: limits,
		RebootTimeout: 5 * time.Second, RebootPoll: time.Millisecond,
	}
	df.fw = &fleet.Firmware{
		Name: "cx", Models: []string{"Lexmark CX*"}, Version: "CXTPC.240.001",
		File:    writeFile(t, df.dir, "CXTPC.240.001.fls", "CXTPC.240.001", "ftp"),
		Rollout: fleet.Rollout{Batch: batch, MaxFailures: maxFailures},
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("p%d", i)
		df.fleet.add(name, "Lexmark CX725", "CXTPC.230.037", map[string]string{"system.contact": "old"})
		p := plannertest.Printer(name, "10.0.0."+fmt.Sprint(i), plannertest.Desired("system.contact", "new")...)
		p.Firmware = df.fw
		df.printers = append(df.printers, p)
	}
	return df
}

func (df *deployFixture) plan(t *testing.T) *plans.Plan {
	t.Helper()
	p, err := df.planner.Plan(context.Background(), df.printers, planner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (df *deployFixture) apply(t *testing.T, p *plans.Plan) *plans.ApplyResult {
	t.Helper()
	res, err := df.applier.Apply(context.Background(), p, df.printers, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestApplyFirmwareThenFilesThenSettings(t *testing.T) {
	df := newDeployFixture(t, 1, 0, 0)
	df.printers[0].Files = []fleet.File{writeFile(t, df.dir, "ca.pem", "cert", "ftp")}
	var progress []string
	var mu sync.Mutex
	df.applier.UploadProgress = func(printer, file string, sent, total int64) {
		mu.Lock()
		defer mu.Unlock()
		progress = append(progress, fmt.Sprintf("%s %s %d/%d", printer, file, sent, total))
	}
	res := df.apply(t, df.plan(t))
	if r := res.Printers[0]; r.Status != plans.ResultApplied || r.Firmware != plans.FirmwareUpgraded {
		t.Fatalf("result = %+v", r)
	}
	want := []string{"p1 firmware CXTPC.240.001", "p1 file ca.pem via ftp", "p1 set system.contact"}
	if d := cmp.Diff(want, df.fleet.log()); d != "" {
		t.Errorf("order on the device (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"p1 CXTPC.240.001.fls 13/13", "p1 ca.pem 4/4"}, progress); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	rec, _, _ := df.store.Printer(context.Background(), "p1")
	if rec.Firmware != "CXTPC.240.001" {
		t.Errorf("state firmware = %q", rec.Firmware)
	}
	if got := rec.Files["ca.pem"]; !state.IsHashValue(got) || len(rec.Settings) != 1 {
		t.Errorf("state file entry = %q", got)
	}
	// Nothing left: the file is not sent again, the firmware is current.
	again := df.plan(t)
	if again.HasChanges() {
		var b bytes.Buffer
		views.RenderHuman(&b, again, views.RenderOptions{})
		t.Errorf("plan after apply has changes:\n%s", b.String())
	}
	// A changed file is planned as an update.
	df.printers[0].Files = []fleet.File{writeFile(t, df.dir, "ca.pem", "cert v2", "ftp")}
	if pp := df.plan(t).Printers[0]; len(pp.Files) != 1 || pp.Files[0].Action != plans.Update {
		t.Errorf("changed file planned as %+v", pp.Files)
	}
}

func TestRolloutHaltsAfterMaxFailuresAndResumes(t *testing.T) {
	df := newDeployFixture(t, 6, 2, 1)
	df.fleet.devices["p1"].reject = true
	df.fleet.devices["p3"].reject = true
	plan := df.plan(t)
	if s := plan.Summary(); s.Upgrades != 6 {
		t.Fatalf("upgrades planned = %d", s.Upgrades)
	}
	res := df.apply(t, plan)
	got := map[string]string{}
	for _, r := range res.Printers {
		got[r.Name] = r.Status + "/" + r.Firmware
	}
	want := map[string]string{
		"p1": "failed/failed", "p2": "applied/upgraded", // canary wave
		"p3": "failed/failed", "p4": "applied/upgraded", // second failure
		"p5": "skipped/halted", "p6": "skipped/halted",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("results (-want +got):\n%s", d)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "2 failed upgrades exceed max_failures = 1") || !strings.Contains(res.Notes[0], "2 printers not started") {
		t.Errorf("notes = %q", res.Notes)
	}
	for _, e := range df.fleet.log() {
		if strings.HasPrefix(e, "p5 ") || strings.HasPrefix(e, "p6 ") {
			t.Errorf("halted printer touched: %s", e)
		}
	}
	var out bytes.Buffer
	views.RenderApplyResult(&out, res, views.RenderOptions{})
	if !strings.Contains(out.String(), "halted") {
		t.Errorf("apply result does not say the rollout halted:\n%s", out.String())
	}

	// State knows who upgraded; the next plan upgrades only the rest.
	for name, fw := range map[string]string{"p2": "CXTPC.240.001", "p4": "CXTPC.240.001", "p1": "", "p5": ""} {
		rec, _, _ := df.store.Printer(context.Background(), name)
		if rec.Firmware != fw {
			t.Errorf("state firmware of %s = %q, want %q", name, rec.Firmware, fw)
		}
	}
	df.fleet.devices["p1"].reject = false
	df.fleet.devices["p3"].reject = false
	next := df.plan(t)
	var upgrades []string
	for _, pp := range next.Printers {
		if pp.Firmware != nil {
			upgrades = append(upgrades, pp.Name)
		}
	}
	if d := cmp.Diff([]string{"p1", "p3", "p5", "p6"}, upgrades); d != "" {
		t.Errorf("resumed upgrades (-want +got):\n%s", d)
	}
	res = df.apply(t, next)
	if res.Failed() || len(res.Notes) > 0 {
		t.Errorf("resumed apply: %+v", res)
	}
	if df.plan(t).HasChanges() {
		t.Error("changes left after the resumed apply")
	}
}

func TestFirmwareRefusedWhenImageChanged(t *testing.T) {
	df := newDeployFixture(t, 1, 0, 0)
	plan := df.plan(t)
	if err := os.WriteFile(df.fw.File.Source, []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := df.apply(t, plan)
	if r := res.Printers[0]; r.Status != plans.ResultFailed || !strings.Contains(r.Detail, "refusing to send") {
		t.Errorf("result = %+v", r)
	}
	if log := df.fleet.log(); len(log) != 0 {
		t.Errorf("device touched: %q", log)
	}
}

func TestFirmwareRebootTimeout(t *testing.T) {
	df := newDeployFixture(t, 1, 0, 0)
	plan := df.plan(t)
	df.applier.RebootTimeout = 50 * time.Millisecond
	// The device accepts the image but never answers again.
	conn := df.applier.Connector
	df.applier.Connector = providers.ConnectorFunc(func(ctx context.Context, p fleet.Printer) (providers.Session, error) {
		s, _ := conn.Connect(ctx, p)
		return &stuckAfterFirmware{deploySession: s.(*deploySession)}, nil
	})
	res := df.apply(t, plan)
	if r := res.Printers[0]; r.Status != plans.ResultFailed || r.Firmware != plans.FirmwareFailed || !strings.Contains(r.Detail, "within") {
		t.Errorf("result = %+v", r)
	}
}

// stuckAfterFirmware never answers once firmware was sent.
type stuckAfterFirmware struct{ *deploySession }

func (s *stuckAfterFirmware) Observe(ctx context.Context, names []string) (fleet.Observation, error) {
	s.f.mu.Lock()
	sent := slices.ContainsFunc(s.f.events, func(e string) bool { return strings.Contains(e, "firmware") })
	s.f.mu.Unlock()
	if sent {
		return fleet.Observation{}, fmt.Errorf("no answer: %w", providers.ErrUnreachable)
	}
	return s.deploySession.Observe(ctx, names)
}
