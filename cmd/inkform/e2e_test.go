package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/simulator"
	"github.com/inkform/inkform/state/sqlite"
)

const (
	oidContact  = "1.3.6.1.2.1.1.4.0"
	oidName     = "1.3.6.1.2.1.1.5.0"
	oidLocation = "1.3.6.1.2.1.1.6.0"
	secretName  = "s3cret-printer-name"
)

// fixture is a simulated fleet with a configuration that manages it.
type fixture struct {
	t   *testing.T
	sim *simulator.Sim
	dir string
}

func newFixture(t *testing.T, n int, o simulator.Options) *fixture {
	t.Helper()
	o.Printers = n
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim, err := simulator.Start(ctx, o)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	f := &fixture{t: t, sim: sim, dir: t.TempDir()}
	f.writeConfig(nil)
	return f
}

// writeConfig writes a configuration for the fleet; pins overrides a
// printer's serial pin by index.
func (f *fixture) writeConfig(pins map[int]string) {
	f.t.Helper()
	var b strings.Builder
	b.WriteString(`
variable "community" {
  type      = string
  sensitive = true
}
variable "secret_name" {
  type      = string
  sensitive = true
  default   = "` + secretName + `"
}
credentials "sim" {
  snmp {
    version   = "2c"
    community = var.community
    timeout   = "300ms"
    retries   = 1
  }
}
configuration "office" {
  contact  = "IT Service Desk x4000"
  location = "HQ 2F"
}
`)
	for _, p := range f.sim.Printers() {
		serial := p.Serial()
		if pin, ok := pins[p.Index()]; ok {
			serial = pin
		}
		fmt.Fprintf(&b, `
printer "p%02d" {
  address       = %q
  serial        = %q
  configuration = configuration.office
  credentials   = credentials.sim
  name          = var.secret_name
}
`, p.Index(), p.Addr(), serial)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "fleet.hcl"), []byte(b.String()), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

type result struct {
	code     ExitCode
	out, err string
}

func (f *fixture) run(ctx context.Context, args ...string) result {
	f.t.Helper()
	var out, errb bytes.Buffer
	io := streams{
		In:  strings.NewReader(""),
		Out: &out, Err: &errb,
		Env: []string{"INKFORM_VAR_community=private", "NO_COLOR=1"},
	}
	args = append(args[:1:1], append([]string{"-config", f.dir}, args[1:]...)...)
	code := runContext(ctx, args, io)
	return result{code, out.String(), errb.String()}
}

func (f *fixture) mustRun(want ExitCode, args ...string) result {
	f.t.Helper()
	r := f.run(context.Background(), args...)
	if r.code != want {
		f.t.Fatalf("inkform %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.out, r.err)
	}
	for _, s := range []string{r.out, r.err} {
		if strings.Contains(s, secretName) || strings.Contains(s, "private") {
			f.t.Fatalf("inkform %s printed a secret:\n%s", strings.Join(args, " "), s)
		}
	}
	return r
}

func (f *fixture) get(i int, oid string) string {
	f.t.Helper()
	pdu, ok := f.sim.Printers()[i].Get(oid)
	if !ok {
		f.t.Fatalf("printer %d has no %s", i, oid)
	}
	if b, ok := pdu.Value.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(pdu.Value)
}

type jsonPlan struct {
	FormatVersion string `json:"format_version"`
	Printers      []struct {
		Name     string   `json:"name"`
		Action   []string `json:"action"`
		Status   string   `json:"status"`
		Observed *struct {
			Model  string `json:"model"`
			Serial string `json:"serial"`
		} `json:"observed"`
		Changes []struct {
			Setting string   `json:"setting"`
			Actions []string `json:"actions"`
			Before  *string  `json:"before"`
			After   *string  `json:"after"`
		} `json:"changes"`
	} `json:"printers"`
}

func (f *fixture) planJSON() jsonPlan {
	f.t.Helper()
	r := f.mustRun(ExitOK, "plan", "-json")
	var p jsonPlan
	if err := json.Unmarshal([]byte(r.out), &p); err != nil {
		f.t.Fatalf("plan -json: %v\n%s", err, r.out)
	}
	return p
}

// changed returns printer name → changed settings, for printers with changes.
func (p jsonPlan) changed() map[string][]string {
	out := map[string][]string{}
	for _, pr := range p.Printers {
		for _, c := range pr.Changes {
			out[pr.Name] = append(out[pr.Name], c.Setting)
		}
	}
	return out
}

func TestPlanApplyPlanIsEmpty(t *testing.T) {
	f := newFixture(t, 5, simulator.Options{})
	r := f.mustRun(ExitChanges, "plan", "-detailed-exitcode")
	if !strings.Contains(r.out, "system.contact") || !strings.Contains(r.out, "(sensitive)") {
		t.Fatalf("plan does not show the changes:\n%s", r.out)
	}
	f.mustRun(ExitOK, "apply", "-auto-approve")
	for i := range 5 {
		if got := f.get(i, oidContact); got != "IT Service Desk x4000" {
			t.Errorf("printer %d sysContact = %q", i, got)
		}
		if got := f.get(i, oidName); got != secretName {
			t.Errorf("printer %d sysName = %q", i, got)
		}
	}
	f.mustRun(ExitOK, "plan", "-detailed-exitcode")

	// Drift on one printer: the plan shows exactly that.
	if err := f.sim.Printers()[3].Set(oidLocation, "moved by someone"); err != nil {
		t.Fatal(err)
	}
	got := f.planJSON().changed()
	want := map[string][]string{"p03": {"system.location"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("drift plan changes = %v, want %v", got, want)
	}
	f.mustRun(ExitOK, "apply", "-auto-approve")
	f.mustRun(ExitOK, "plan", "-detailed-exitcode")

	r = f.mustRun(ExitOK, "state", "list")
	if strings.Count(r.out, "printer.p0") != 5 {
		t.Fatalf("state list:\n%s", r.out)
	}
}

func TestOfflinePrinterIsReportedOthersApplied(t *testing.T) {
	f := newFixture(t, 4, simulator.Options{})
	f.sim.Printers()[1].SetOffline(true)
	r := f.mustRun(ExitOK, "apply", "-auto-approve")
	if !strings.Contains(r.out, "p01") || !strings.Contains(r.out, "unreachable") {
		t.Fatalf("apply output does not report p01 unreachable:\n%s", r.out)
	}
	for _, i := range []int{0, 2, 3} {
		if got := f.get(i, oidContact); got != "IT Service Desk x4000" {
			t.Errorf("printer %d not applied: sysContact = %q", i, got)
		}
	}
	f.sim.Printers()[1].SetOffline(false)
	if got := f.planJSON().changed(); len(got) != 1 || got["p01"] == nil {
		t.Fatalf("after recovery the plan should only touch p01: %v", got)
	}
}

func TestSerialMismatchIsNotWritten(t *testing.T) {
	f := newFixture(t, 3, simulator.Options{})
	f.writeConfig(map[int]string{2: "WRONG-SERIAL"})
	before := f.get(2, oidContact)
	r := f.mustRun(ExitOK, "apply", "-auto-approve")
	if !strings.Contains(r.out, "WRONG-SERIAL") || !strings.Contains(r.out, "mismatch") {
		t.Fatalf("apply output does not report the mismatch:\n%s", r.out)
	}
	if got := f.get(2, oidContact); got != before {
		t.Fatalf("mismatched printer was written: sysContact %q -> %q", before, got)
	}
	if got := f.get(0, oidContact); got != "IT Service Desk x4000" {
		t.Fatalf("other printers not applied: %q", got)
	}
}

func TestStaleSavedPlanRefusedForChangedPrinterOnly(t *testing.T) {
	f := newFixture(t, 3, simulator.Options{})
	planFile := filepath.Join(t.TempDir(), "plan.out")
	f.mustRun(ExitOK, "plan", "-out", planFile)
	raw, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secretName)) || bytes.Contains(raw, []byte("private")) {
		t.Fatal("plan file contains a secret")
	}
	// Someone changes printer 1 between plan and apply.
	if err := f.sim.Printers()[1].Set(oidContact, "changed at the panel"); err != nil {
		t.Fatal(err)
	}
	r := f.run(context.Background(), "apply", planFile)
	if r.code != ExitError {
		t.Fatalf("apply of a stale plan: exit %d, want 1\n%s%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.out, "p01") || !strings.Contains(r.out, "stale") {
		t.Fatalf("apply output does not say p01 is stale:\n%s", r.out)
	}
	if got := f.get(1, oidContact); got != "changed at the panel" {
		t.Fatalf("stale printer was written: %q", got)
	}
	for _, i := range []int{0, 2} {
		if got := f.get(i, oidContact); got != "IT Service Desk x4000" {
			t.Errorf("printer %d not applied: %q", i, got)
		}
	}
}

func TestCancelledApplyLeavesTheRestForNextPlan(t *testing.T) {
	const n = 12
	f := newFixture(t, n, simulator.Options{Latency: 15 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() { done <- f.run(ctx, "apply", "-auto-approve", "-parallelism", "1") }()

	// Cancel once some printers are recorded: poll the state file.
	dbPath := filepath.Join(f.dir, "inkform.db")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if recordedPrinters(t, dbPath) >= 3 {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("apply finished before it could be cancelled: %d\n%s", r.code, r.out)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("apply recorded no printers in time")
		}
	}
	cancel()
	r := <-done
	if r.code != ExitError {
		t.Fatalf("cancelled apply: exit %d, want 1", r.code)
	}
	applied := recordedPrinters(t, dbPath)
	if applied >= n {
		t.Fatalf("cancel came too late: all %d printers applied", applied)
	}
	left := f.planJSON().changed()
	if len(left) != n-applied {
		t.Fatalf("after cancel %d printers applied; next plan changes %d printers, want %d: %v", applied, len(left), n-applied, left)
	}
	f.mustRun(ExitOK, "apply", "-auto-approve")
	f.mustRun(ExitOK, "plan", "-detailed-exitcode")
}

func recordedPrinters(t *testing.T, path string) int {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open state: %v", err)
	}
	defer st.Close()
	ps, err := st.Printers(context.Background())
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	n := 0
	for _, p := range ps {
		if !p.AppliedAt.IsZero() {
			n++
		}
	}
	return n
}

func TestPlanOutputsAreConsistent(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	p := f.planJSON()
	if p.FormatVersion == "" || len(p.Printers) != 2 {
		t.Fatalf("plan -json: %+v", p)
	}
	for _, pr := range p.Printers {
		if pr.Observed == nil || pr.Observed.Model == "" || pr.Observed.Serial == "" {
			t.Errorf("%s: observed facts missing: %+v", pr.Name, pr.Observed)
		}
		for _, c := range pr.Changes {
			if c.Setting == "system.name" && (c.After != nil && *c.After != "") {
				t.Errorf("%s: sensitive value in JSON: %q", pr.Name, *c.After)
			}
		}
	}
	md := f.mustRun(ExitOK, "plan", "-markdown")
	if !strings.Contains(md.out, "|") || !strings.Contains(md.out, "p00") {
		t.Fatalf("plan -markdown:\n%s", md.out)
	}
	f.mustRun(ExitError, "plan", "-json", "-markdown")
}

func TestTargetLimitsThePlan(t *testing.T) {
	f := newFixture(t, 3, simulator.Options{})
	f.mustRun(ExitOK, "apply", "-auto-approve", "-target", "printer.p01")
	if got := f.planJSON().changed(); len(got) != 2 || got["p01"] != nil {
		t.Fatalf("after a targeted apply, plan changes = %v", got)
	}
}

func TestValidateReportsErrorsWithPlace(t *testing.T) {
	dir := t.TempDir()
	src := "printer \"a\" {\n  address = \"127.0.0.1:1\"\n  colour = \"red\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := runContext(context.Background(), []string{"validate", "-config", dir}, streams{Out: &out, Err: &errb, In: strings.NewReader("")})
	if code != ExitError || !strings.Contains(errb.String(), "bad.hcl:3") {
		t.Fatalf("validate: exit %d\n%s", code, errb.String())
	}
}

// validate checks the watch service's blocks, reports each mistake at its
// place without showing the SMTP password, and counts what is declared.
func TestValidateWatchBlocks(t *testing.T) {
	const good = `variable "smtp_password" {
  type      = string
  sensitive = true
}
smtp {
  host     = "127.0.0.1"
  port     = 2525
  username = "inkform"
  password = var.smtp_password
  from     = "inkform@example.test"
}
printer "lab-1" {
  address = "127.0.0.1:1"
}
alert_route "jams" {
  match {
    events   = ["jam", "door_open"]
    printers = ["lab-*"]
  }
  email {
    to = ["helpdesk@example.test"]
  }
}
watch {
  poll = "5m"
}
report "weekly" {
  schedule = "0 7 * * MON"
  view     = "supplies"
  email {
    to = ["ops@example.test"]
  }
}
`
	run := func(src string) (ExitCode, string, string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		env := []string{"INKFORM_VAR_smtp_password=hunter2-smtp"}
		code := runContext(context.Background(), []string{"validate", "-config", dir}, streams{Out: &out, Err: &errb, In: strings.NewReader(""), Env: env})
		return code, out.String(), errb.String()
	}
	code, out, errs := run(good)
	if code != ExitOK || !strings.Contains(out, "1 printer, 1 alert route, 1 report, a watch block") {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
	}
	bad := strings.Replace(good, `"door_open"`, `"dor_open"`, 1)
	bad = strings.Replace(bad, `"0 7 * * MON"`, `"0 7 * * MONN"`, 1)
	code, _, errs = run(bad)
	if code != ExitError || !strings.Contains(errs, "main.hcl:17:24, in alert_route \"jams\"") || !strings.Contains(errs, `Did you mean "door_open"?`) ||
		!strings.Contains(errs, "main.hcl:28:23, in report \"weekly\"") {
		t.Errorf("validate: exit %d\n%s", code, errs)
	}
	if strings.Contains(errs, "hunter2-smtp") {
		t.Errorf("validate shows the SMTP password:\n%s", errs)
	}
}
