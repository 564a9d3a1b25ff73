package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/simulator"
)

// runIn runs inkform in-process with env, and fails the test unless it
// exits with want.
func runDiscoverTest(t *testing.T, env []string, want ExitCode, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	code := runContext(context.Background(), args, streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: append([]string{"NO_COLOR=1"}, env...)})
	if code != want {
		t.Fatalf("inkform %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return result{code, out.String(), errb.String()}
}

type discoverOutput struct {
	FormatVersion int `json:"format_version"`
	Printers      []struct {
		Address  string   `json:"address"`
		Vendor   string   `json:"vendor"`
		Model    string   `json:"model"`
		Serial   string   `json:"serial"`
		Secured  bool     `json:"secured"`
		FoundBy  []string `json:"found_by"`
		Profile  string   `json:"profile"`
		InConfig string   `json:"in_config"`
		Written  string   `json:"written_as"`
	} `json:"printers"`
	Stats struct {
		Addresses   int    `json:"addresses"`
		PacketsSent uint64 `json:"packets_sent"`
	} `json:"stats"`
}

func parseDiscover(t *testing.T, s string) discoverOutput {
	t.Helper()
	var d discoverOutput
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("discover -json: %v\n%s", err, s)
	}
	if d.FormatVersion != discoverFormatVersion {
		t.Fatalf("format_version %d", d.FormatVersion)
	}
	return d
}

// A fleet served by inkform sim is found, written as configuration and
// recorded, so that the next plan has nothing to do; the community the
// sweep used never reaches the file or the output.
func TestDiscoverSimulatedFleetThenPlanIsEmpty(t *testing.T) {
	const community = "s3cret-read-community"
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan ExitCode, 1)
	go func() {
		done <- runContext(ctx, []string{"sim", "--printers", "4", "--base-port", "0", "--services", "none", "--print-rate", "0",
			"--read-community", community}, streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if !out.waitFor("ready\n", 30*time.Second) {
		t.Fatalf("sim is not ready:\n%s\n%s", out.String(), errb.String())
	}
	var addrs []string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[1], "127.0.0.1:") {
			addrs = append(addrs, f[1])
		}
	}
	if len(addrs) != 4 {
		t.Fatalf("sim printers: %q", addrs)
	}
	dir := t.TempDir()
	csvPath := filepath.Join(t.TempDir(), "targets.csv")
	if err := os.WriteFile(csvPath, []byte("\xEF\xBB\xBFaddress,room\n"+addrs[0]+",a\n"+addrs[1]+",b\n"+addrs[2]+",c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("127.0.0.1:%d", testservers.FreeUDPPort(t))
	out1 := filepath.Join(dir, "discovered.hcl")
	env := []string{"INKFORM_VAR_discovered_community=" + community}
	r := runDiscoverTest(t, nil, ExitOK, "discover", "-config", dir, "--csv", csvPath, addrs[3], dead, "--exclude", addrs[2],
		"--community", "public", "--community", community, "--timeout", "300ms", "-o", out1)
	for _, s := range []string{r.out, r.err} {
		if strings.Contains(s, community) {
			t.Fatalf("discover printed the community:\n%s", s)
		}
	}
	if n := strings.Count(r.out, "written: printer."); n != 3 {
		t.Fatalf("%d printers written, want 3 (one excluded):\n%s", n, r.out)
	}
	src, err := os.ReadFile(out1)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(src), community) || !strings.Contains(string(src), "community = var.discovered_community") {
		t.Fatalf("the file holds the community, or no reference to it:\n%s", src)
	}
	runDiscoverTest(t, env, ExitOK, "validate", "-config", dir)
	runDiscoverTest(t, env, ExitOK, "plan", "-detailed-exitcode", "-config", dir)

	// Again: the printers are known now, and -o keeps the file.
	runDiscoverTest(t, env, ExitError, "discover", "-config", dir, addrs[0], "--timeout", "300ms", "-o", out1)
	r = runDiscoverTest(t, env, ExitOK, "discover", "-config", dir, addrs[0], addrs[1], addrs[2], "--timeout", "300ms", "-json", "-o", filepath.Join(dir, "more.hcl"))
	d := parseDiscover(t, r.out)
	if len(d.Printers) != 3 {
		t.Fatalf("found %d printers, want 3", len(d.Printers))
	}
	for _, p := range d.Printers {
		want := p.Address != addrs[2]
		if (p.InConfig != "") != want || (p.Written != "") == want || !slices.Equal(p.FoundBy, []string{"snmp"}) {
			t.Errorf("%+v: in the configuration %v", p, want)
		}
	}
	runDiscoverTest(t, env, ExitOK, "plan", "-detailed-exitcode", "-config", dir)
	if d.Stats.Addresses != 3 || d.Stats.PacketsSent < 3 {
		t.Errorf("stats %+v", d.Stats)
	}
}

func TestDiscoverRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"discover", "-config", dir}, "no targets"},
		{[]string{"discover", "-config", dir, "10.0.0.0/8"}, "more than the limit"},
		{[]string{"discover", "-config", dir, "10.0.0.300"}, `target "10.0.0.300"`},
		{[]string{"discover", "-config", dir, "127.0.0.1", "--profile", "credentials.none"}, "no credentials block"},
		{[]string{"discover", "-config", dir, "127.0.0.1", "--mdns", "--mdns-wait", "0s"}, "--mdns-wait"},
		{[]string{"discover", "-config", dir, "127.0.0.1", "--snmp-version", "3"}, "--snmp-version"},
	} {
		r := runDiscoverTest(t, nil, ExitError, tc.args...)
		if !strings.Contains(r.err, tc.want) {
			t.Errorf("%q: %s, want %q", tc.args, r.err, tc.want)
		}
	}
}

// Recordings of real printers served by snmpsimd are found, written and
// recorded; they are read-only, so every setting written is one they
// hold, and a plan right after has no changes.
func TestDiscoverRecordingsThenPlanIsEmpty(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testservers.InteropDir(t), "*.snmprec"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	sim := testservers.StartSnmpsim(t, files...)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".snmprec")
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"INKFORM_VAR_discovered_community=" + name}
			r := runDiscoverTest(t, nil, ExitOK, "discover", "-config", dir, sim.Addr, "--community", name, "--timeout", "500ms", "-json",
				"-o", filepath.Join(dir, "found.hcl"))
			d := parseDiscover(t, r.out)
			if len(d.Printers) != 1 || d.Printers[0].Written == "" || d.Printers[0].Model == "" {
				t.Fatalf("discover: %+v", d.Printers)
			}
			runDiscoverTest(t, env, ExitOK, "validate", "-config", dir)
			runDiscoverTest(t, env, ExitOK, "plan", "-detailed-exitcode", "-config", dir)
		})
	}
}

// import records a declared printer as it is: the next plan shows what
// really differs as updates, not an adoption. It refuses a printer in the
// state already, one that does not answer and one with another serial,
// recording nothing for them.
func TestImport(t *testing.T) {
	f := newFixture(t, 3, simulator.Options{})
	r := f.mustRun(ExitOK, "import", "printer.p00", f.sim.Printers()[0].Addr())
	if !strings.Contains(r.out, "Imported printer.p00") {
		t.Fatalf("import: %s", r.out)
	}
	plan := f.planJSON()
	for _, p := range plan.Printers {
		if p.Name != "p00" {
			continue
		}
		if !slices.Equal(p.Action, []string{"update"}) || len(p.Changes) == 0 {
			t.Errorf("p00 after import: action %v", p.Action)
		}
		for _, c := range p.Changes {
			if !slices.Equal(c.Actions, []string{"update"}) {
				t.Errorf("p00 %s: %v, want an update of the value the device holds", c.Setting, c.Actions)
			}
		}
	}

	r = f.mustRun(ExitError, "import", "printer.p00", f.sim.Printers()[0].Addr())
	if !strings.Contains(r.err, "already in the state") {
		t.Errorf("a second import: %s", r.err)
	}
	f.sim.Printers()[1].SetOffline(true)
	r = f.mustRun(ExitError, "import", "printer.p01", f.sim.Printers()[1].Addr())
	if !strings.Contains(r.err, "not imported") || !strings.Contains(r.err, "no SNMP answer") {
		t.Errorf("an offline printer: %s", r.err)
	}
	f.writeConfig(map[int]string{2: "ANOTHER-SERIAL"})
	r = f.mustRun(ExitError, "import", "printer.p02", f.sim.Printers()[2].Addr())
	if !strings.Contains(r.err, "serial mismatch") {
		t.Errorf("another serial: %s", r.err)
	}
	r = f.mustRun(ExitError, "import", "printer.p02", "127.0.0.1:1")
	if !strings.Contains(r.err, "declared at") {
		t.Errorf("another address: %s", r.err)
	}
	r = f.mustRun(ExitError, "import", "printer.nope", "127.0.0.1:1")
	if !strings.Contains(r.err, "not in the configuration") {
		t.Errorf("an undeclared printer: %s", r.err)
	}
	r = f.mustRun(ExitOK, "state", "list")
	if !strings.Contains(r.out, "p00") || strings.Contains(r.out, "p01") || strings.Contains(r.out, "p02") {
		t.Errorf("state after the refusals:\n%s", r.out)
	}
}
