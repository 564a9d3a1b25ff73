package planner

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// Secrets used by the fixtures; no rendering may contain them.
const (
	secretDesired  = "s3cr3t-desired-name"
	secretObserved = "0ld-s3cr3t-on-device"
)

var (
	fixedNow      = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	fixedObserved = time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
)

func desired(kv ...string) []fleet.Desired {
	var out []fleet.Desired
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, fleet.Desired{Name: kv[i], Value: kv[i+1]})
	}
	return sortDesired(out)
}

func sortDesired(d []fleet.Desired) []fleet.Desired {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j].Name < d[j-1].Name; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
	return d
}

func printer(name, host string, settings ...fleet.Desired) fleet.Printer {
	return fleet.Printer{Name: name, Host: host, Settings: sortDesired(settings)}
}

func device(serial string, settings map[string]string) plannertest.Device {
	return plannertest.Device{Observation: fleet.Observation{
		Model: "Lexmark CX725", Serial: serial, Firmware: "CXTPC.230.037", Status: "idle",
		Errors:     []string{"lowToner"},
		Supplies:   []fleet.Supply{{Description: "Black Toner", Level: 12, Max: 100}},
		PageCount:  12345,
		ObservedAt: fixedObserved,
		Settings:   settings,
	}}
}

func managed(name, address string, settings ...string) state.Printer {
	p := state.Printer{Name: name, Address: address, Serial: "S-" + name, Settings: map[string]string{}}
	for _, s := range settings {
		p.Settings[s] = state.HashValue("recorded " + s)
	}
	return p
}

type fixture struct {
	conn     *plannertest.Connector
	store    *plannertest.Store
	planner  *Planner
	printers []fleet.Printer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	conn := plannertest.NewConnector()
	store := plannertest.NewStore()
	return &fixture{
		conn:  conn,
		store: store,
		planner: &Planner{
			Observer: observer.Observer{Connector: conn}, State: store, Catalog: catalog.Default(),
			Now: func() time.Time { return fixedNow },
		},
	}
}

func (f *fixture) put(t testing.TB, p state.Printer) {
	t.Helper()
	if err := f.store.PutPrinter(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) plan(t *testing.T, o PlanOptions) *plans.Plan {
	t.Helper()
	p, err := f.planner.Plan(context.Background(), f.printers, o)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return p
}

// richFixture covers every kind of line a plan can show.
func richFixture(t testing.TB) *fixture {
	f := newFixture(t)
	// Managed, two settings differ, one newly managed, one sensitive.
	east := printer("hq-2f-east", "10.20.1.21",
		fleet.Desired{Name: "system.contact", Value: "IT Service Desk x4000"},
		fleet.Desired{Name: "system.location", Value: "HQ 2F East"},
		fleet.Desired{Name: "system.name", Value: secretDesired, Sensitive: true},
	)
	east.Serial = "7531a2b "
	f.conn.Add("hq-2f-east", device("7531A2B", map[string]string{
		"system.contact": "Unknown", "system.location": "", "system.name": secretObserved,
	}))
	f.put(t, managed("hq-2f-east", "10.20.1.21:161", "system.contact", "system.name"))

	// New printer: one value already right, one to write, one control character.
	f.conn.Add("hq-3f", device("X1", map[string]string{
		"system.contact": "IT Service Desk x4000", "system.location": "old\x1b[31m",
	}))
	hq3 := printer("hq-3f", "10.20.1.30",
		fleet.Desired{Name: "system.contact", Value: "IT Service Desk x4000"},
		fleet.Desired{Name: "system.location", Value: "HQ 3F"},
	)

	// Removed from the configuration.
	f.put(t, managed("old-lobby", "10.20.9.9:161", "system.contact"))

	// Unreachable: no device.
	lab1 := printer("lab-1", "10.0.0.9", desired("system.contact", "Lab")...)
	f.put(t, managed("lab-1", "10.0.0.9:161", "system.contact"))

	// A different device at the pinned address.
	lab2 := printer("lab-2", "10.0.0.10", desired("system.contact", "Lab")...)
	lab2.Serial = "7531A2B"
	f.conn.Add("lab-2", device("99X", map[string]string{"system.contact": "Someone"}))

	// Managed, in sync, but one setting unsupported; plus a setting dropped
	// from the configuration.
	lab3 := printer("lab-3", "10.0.0.11", desired("system.contact", "Lab", "paper.default_size", "A4")...)
	f.conn.Add("lab-3", device("L3", map[string]string{"system.contact": "Lab", "system.location": "Basement"}))
	f.put(t, managed("lab-3", "10.0.0.11:161", "system.contact", "system.location"))

	// Refuses the credentials.
	lab4 := printer("lab-4", "10.0.0.12", desired("system.contact", "Lab")...)
	f.conn.Add("lab-4", plannertest.Device{ObserveErr: fmt.Errorf("snmp get: wrong community: %w", providers.ErrAuth)})

	// In sync: shows nowhere.
	quiet := printer("quiet", "10.0.0.13", desired("system.contact", "Lab")...)
	f.conn.Add("quiet", device("Q", map[string]string{"system.contact": "Lab"}))
	f.put(t, managed("quiet", "10.0.0.13:161", "system.contact"))

	f.printers = []fleet.Printer{east, hq3, lab1, lab2, lab3, lab4, quiet}
	return f
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}
