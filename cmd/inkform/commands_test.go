package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
	"github.com/inkform/inkform/state/memstate"
)

// fakes are a state store and printers in memory, handed to the run
// functions through their options instead of a database and the network.
type fakes struct {
	dir   string
	store *memstate.Store
	conn  *plannertest.Connector
	out   bytes.Buffer
	err   bytes.Buffer
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{dir: t.TempDir(), store: memstate.New(), conn: plannertest.NewConnector()}
	cfg := "printer \"lobby\" {\n  address = \"192.0.2.7\"\n  contact = \"IT x4000\"\n}\n"
	if err := os.WriteFile(filepath.Join(f.dir, "fleet.hcl"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	f.conn.Add("lobby", plannertest.NewDevice("SN1", map[string]string{"system.contact": "nobody"}))
	return f
}

func (f *fakes) io() streams {
	return streams{In: strings.NewReader(""), Out: &f.out, Err: &f.err, Env: []string{"NO_COLOR=1"}}
}

func (f *fakes) planning() planningOptions {
	o := planningOptions{
		IO: f.io(),
		OpenStore: func(context.Context, backend.Location, backend.Options) (state.Store, error) {
			return f.store, nil
		},
		Connect: func(*catalog.Catalog, *catalog.Devices, int) providers.Connector { return f.conn },
	}
	o.State.Dir = f.dir
	return o
}

// The run functions take everything from their options: here a plan and
// an apply run against fakes, with neither a database nor a printer.
func TestRunFunctionsUseInjectedClients(t *testing.T) {
	ctx := context.Background()
	f := newFakes(t)

	plan := &planOptions{planningOptions: f.planning(), DetailedExitCode: true}
	err := runPlan(ctx, plan)
	if ee, ok := err.(*exitError); !ok || ee.code != ExitChanges {
		t.Fatalf("runPlan = %v, want the changes exit code\n%s%s", err, f.out.String(), f.err.String())
	}
	if !strings.Contains(f.out.String(), `= "IT x4000" (the device has "nobody")`) {
		t.Errorf("plan output:\n%s", f.out.String())
	}

	f.out.Reset()
	ap := &applyOptions{planningOptions: f.planning(), AutoApprove: true}
	ap.JSON = true
	if err := runApply(ctx, ap); err != nil {
		t.Fatalf("runApply: %v\n%s", err, f.err.String())
	}
	if v, _ := f.conn.Value("lobby", "system.contact"); v != "IT x4000" {
		t.Errorf("printer holds %q after apply", v)
	}
	var res struct {
		Printers []struct {
			Name, Status string
		} `json:"printers"`
	}
	if err := json.Unmarshal(f.out.Bytes(), &res); err != nil || len(res.Printers) != 1 || res.Printers[0].Status != "applied" {
		t.Errorf("apply -json (%v):\n%s", err, f.out.String())
	}
	if p, ok, _ := f.store.Printer(ctx, "lobby"); !ok || p.Settings["system.contact"] == "" {
		t.Errorf("state after apply: %+v", p)
	}

	f.out.Reset()
	list := &stateListOptions{IO: f.io(), OpenStore: f.planning().OpenStore}
	list.State.Dir = f.dir
	if err := runStateList(ctx, list); err != nil || f.out.String() != "printer.lobby\n" {
		t.Errorf("state list = %v\n%s", err, f.out.String())
	}
}
