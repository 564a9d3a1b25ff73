package plannertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/memstate"
)

// Fixtures: small fleets shared by the tests of planning, plan files,
// views and apply.

// Secrets used by the fixtures; no rendering may contain them.
const (
	SecretDesired  = "s3cr3t-desired-name"
	SecretObserved = "0ld-s3cr3t-on-device"
)

// Fixed times of the fixtures: when plans are made, and when devices were
// observed.
var (
	Now      = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	Observed = time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
)

// Desired returns the settings of name, value pairs, sorted by name.
func Desired(kv ...string) []fleet.Desired {
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

// Printer declares a printer with settings.
func Printer(name, host string, settings ...fleet.Desired) fleet.Printer {
	return fleet.Printer{Name: name, Host: host, Settings: sortDesired(settings)}
}

// NewDevice returns a Lexmark CX725 with a low toner, observed at
// Observed, holding settings.
func NewDevice(serial string, settings map[string]string) Device {
	return Device{Observation: fleet.Observation{
		Model: "Lexmark CX725", Serial: serial, Firmware: "CXTPC.230.037", Status: "idle",
		Errors:     []string{"lowToner"},
		Supplies:   []fleet.Supply{{Description: "Black Toner", Level: 12, Max: 100}},
		PageCount:  12345,
		ObservedAt: Observed,
		Settings:   settings,
	}}
}

// Managed is the state record of a printer managing settings, none of
// them sensitive.
func Managed(name, address string, settings ...string) state.Printer {
	p := state.Printer{Name: name, Address: address, Serial: "S-" + name, Settings: map[string]string{}, Values: map[string]string{}}
	for _, s := range settings {
		p.Values[s] = "recorded " + s
		p.Settings[s] = state.HashValue(p.Values[s])
	}
	return p
}

// WithoutKey is st without a key for sensitive values.
func WithoutKey(st state.Store) state.Store { return noKey{st} }

type noKey struct{ state.Store }

func (noKey) ValueKey() (state.Key, error) { return state.Key{}, state.ErrNoKey }

// Sensitive records the named settings of p as sensitive, keyed with the
// fleet's state key.
func (f *Fleet) Sensitive(t testing.TB, p state.Printer, settings ...string) state.Printer {
	t.Helper()
	key, err := f.Store.ValueKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		p.Settings[s] = key.Hash("recorded " + s)
		delete(p.Values, s)
	}
	return p
}

// Fleet is a fake fleet: devices, a state, the printers declared for them
// and a planner over the devices and the state.
type Fleet struct {
	Conn     *Connector
	Store    *memstate.Store
	Printers []fleet.Printer
	Planner  *planner.Planner
}

// NewFleet returns a fleet with no printers, planned at Now with the
// built-in catalog.
func NewFleet() *Fleet {
	conn := NewConnector()
	store := memstate.New()
	return &Fleet{
		Conn:  conn,
		Store: store,
		Planner: &planner.Planner{
			Observer: observer.Observer{Connector: conn}, State: store, Catalog: catalog.Default(),
			Now: func() time.Time { return Now },
		},
	}
}

// Put records p in the fleet's state.
func (f *Fleet) Put(t testing.TB, p state.Printer) {
	t.Helper()
	if err := f.Store.PutPrinter(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// Plan plans the fleet's printers.
func (f *Fleet) Plan(t testing.TB, o planner.PlanOptions) *plans.Plan {
	t.Helper()
	p, err := f.Planner.Plan(context.Background(), f.Printers, o)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return p
}

// RichFleet covers every kind of line a plan can show.
func RichFleet(t testing.TB) *Fleet {
	f := NewFleet()
	// Managed, two settings differ, one newly managed, one sensitive.
	east := Printer("hq-2f-east", "10.20.1.21",
		fleet.Desired{Name: "system.contact", Value: "IT Service Desk x4000"},
		fleet.Desired{Name: "system.location", Value: "HQ 2F East"},
		fleet.Desired{Name: "system.name", Value: SecretDesired, Sensitive: true},
	)
	east.Serial = "7531a2b "
	f.Conn.Add("hq-2f-east", NewDevice("7531A2B", map[string]string{
		"system.contact": "Unknown", "system.location": "", "system.name": SecretObserved,
	}))
	f.Put(t, f.Sensitive(t, Managed("hq-2f-east", "10.20.1.21:161", "system.contact", "system.name"), "system.name"))

	// New printer: one value already right, one to write, one control character.
	f.Conn.Add("hq-3f", NewDevice("X1", map[string]string{
		"system.contact": "IT Service Desk x4000", "system.location": "old\x1b[31m",
	}))
	hq3 := Printer("hq-3f", "10.20.1.30",
		fleet.Desired{Name: "system.contact", Value: "IT Service Desk x4000"},
		fleet.Desired{Name: "system.location", Value: "HQ 3F"},
	)

	// Removed from the configuration.
	f.Put(t, Managed("old-lobby", "10.20.9.9:161", "system.contact"))

	// Unreachable: no device.
	lab1 := Printer("lab-1", "10.0.0.9", Desired("system.contact", "Lab")...)
	f.Put(t, Managed("lab-1", "10.0.0.9:161", "system.contact"))

	// A different device at the pinned address.
	lab2 := Printer("lab-2", "10.0.0.10", Desired("system.contact", "Lab")...)
	lab2.Serial = "7531A2B"
	f.Conn.Add("lab-2", NewDevice("99X", map[string]string{"system.contact": "Someone"}))

	// Managed, in sync, but one setting unsupported; plus a setting dropped
	// from the configuration.
	lab3 := Printer("lab-3", "10.0.0.11", Desired("system.contact", "Lab", "paper.default_size", "A4")...)
	f.Conn.Add("lab-3", NewDevice("L3", map[string]string{"system.contact": "Lab", "system.location": "Basement"}))
	f.Put(t, Managed("lab-3", "10.0.0.11:161", "system.contact", "system.location"))

	// Refuses the credentials.
	lab4 := Printer("lab-4", "10.0.0.12", Desired("system.contact", "Lab")...)
	f.Conn.Add("lab-4", Device{ObserveErr: fmt.Errorf("snmp get: wrong community: %w", providers.ErrAuth)})

	// In sync: shows nowhere.
	quiet := Printer("quiet", "10.0.0.13", Desired("system.contact", "Lab")...)
	f.Conn.Add("quiet", NewDevice("Q", map[string]string{"system.contact": "Lab"}))
	f.Put(t, Managed("quiet", "10.0.0.13:161", "system.contact"))

	f.Printers = []fleet.Printer{east, hq3, lab1, lab2, lab3, lab4, quiet}
	return f
}

// DeployFleet is one printer, p1, due a firmware upgrade over FTP, a file
// over PJL (the first file transport it prefers), a setting written over
// SNMP and one over PJL; its observation carries a transport note. The
// firmware and the file are declared, not on disk: planning needs only
// their sizes and hashes.
func DeployFleet() *Fleet {
	f := NewFleet()
	p := Printer("p1", "10.0.0.1", Desired("system.contact", "new", "system.location", "HQ")...)
	p.Transports = []string{"pjl", "ftp", "snmp"}
	p.Files = []fleet.File{declaredFile("ca.pem", strings.Repeat("c", 1234), "")}
	p.Firmware = &fleet.Firmware{
		Name: "cx", Models: []string{"Lexmark CX*"}, Version: "CXTPC.240.001",
		File: declaredFile("CXTPC.240.001.fls", "CXTPC.240.001", "ftp"),
	}
	// The firmware image's size as the configuration loaded it.
	p.Firmware.File.Size = 50_541_363
	f.Printers = []fleet.Printer{p}
	f.Conn.Add("p1", Device{Observation: fleet.Observation{
		Model: "Lexmark CX725", Serial: "S-p1", Firmware: "CXTPC.230.037", Status: "idle", ObservedAt: Observed,
		Settings:          map[string]string{"system.contact": "old", "system.location": "old"},
		SettingTransports: map[string]string{"system.location": "pjl"},
		Notes:             []string{"http: port 80 closed; falling back to snmp"},
	}})
	return f
}

// declaredFile is a file as the configuration declares it: named dest,
// with content's size and SHA-256.
func declaredFile(dest, content, via string) fleet.File {
	sum := sha256.Sum256([]byte(content))
	return fleet.File{Source: dest, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), Via: via, Dest: dest}
}
