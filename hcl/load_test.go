package hcl

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// writeConfig writes files into a fresh directory and returns it.
func writeConfig(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustLoad(t *testing.T, path string, opts LoadOptions) *Config {
	t.Helper()
	cfg, diags := Load(path, opts)
	if diags.HasErrors() {
		var buf bytes.Buffer
		_ = WriteDiagnostics(&buf, opts.Files, diags, false)
		t.Fatalf("Load(%s): unexpected errors:\n%s", path, buf.String())
	}
	return cfg
}

func TestLoadFull(t *testing.T) {
	cfg := mustLoad(t, "testdata/full", LoadOptions{})

	type summary struct {
		Name, Host    string
		Port          int
		Serial        string
		Configuration string
		Credentials   string
		Version       string
		Keywords      []string
		Settings      map[string]string
	}
	var got []summary
	for _, p := range cfg.Printers {
		s := summary{
			Name: p.Name, Host: p.Host, Port: p.Port, Serial: p.Serial,
			Configuration: p.Configuration, Credentials: p.Credentials.Name,
			Version: p.Credentials.SNMP.Version, Keywords: p.Keywords,
			Settings: map[string]string{},
		}
		for _, d := range p.Settings {
			s.Settings[d.Name] = d.Value
		}
		got = append(got, s)
	}
	want := []summary{
		{
			Name: `fleet["hq-1f-west"]`, Host: "10.20.1.11", Port: 1161, Serial: "AAA111",
			Configuration: "office", Credentials: "secure", Version: "3", Keywords: nil,
			Settings: map[string]string{
				"system.contact": "IT Service Desk x4001", "system.location": "HQ 1F West", "system.name": "office-printer",
			},
		},
		{
			// The conditional picked the other configuration for this row.
			Name: `fleet["wh-dock"]`, Host: "fd00::5", Port: 161, Serial: "BBB222",
			Configuration: "warehouse", Credentials: "secure", Version: "3",
			Settings: map[string]string{"system.contact": "Warehouse desk", "system.location": "Dock"},
		},
		{
			Name: `fleet["wh-office"]`, Host: "printer-7.example.com", Port: 161, Serial: "CCC333",
			Configuration: "warehouse", Credentials: "secure", Version: "3",
			Settings: map[string]string{"system.contact": "Warehouse desk", "system.location": "Office"},
		},
		{
			Name: "hq-2f-east", Host: "10.20.1.21", Port: 161, Serial: "7531A2B",
			Configuration: "office", Credentials: "fleet", Version: "2c", Keywords: []string{"hq", "color"},
			Settings: map[string]string{
				"system.contact": "IT Service Desk x4001", "system.location": "HQ 2F East", "system.name": "hq-2f-east",
			},
		},
	}
	if diff := cmp.Diff(want, got, cmpEmptyNil()); diff != "" {
		t.Errorf("printers (-want +got):\n%s", diff)
	}

	hq, ok := cfg.Printer("hq-2f-east")
	if !ok {
		t.Fatal("Printer(hq-2f-east) not found")
	}
	wantSNMP := fleet.SNMP{Version: "2c", Community: "private", Timeout: 2 * time.Second, Retries: 2}
	if diff := cmp.Diff(wantSNMP, hq.Credentials.SNMP); diff != "" {
		t.Errorf("hq-2f-east SNMP (-want +got):\n%s", diff)
	}
	contact, _ := hq.Setting("system.contact")
	if contact.Sensitive {
		t.Errorf("system.contact is not derived from a sensitive variable but is marked sensitive")
	}
	if r, ok := cfg.PrinterRange("hq-2f-east"); !ok || r.Filename != filepath.Join("testdata", "full", "main.hcl") || r.Start.Line != 60 {
		t.Errorf("hq-2f-east declared at %s, want testdata/full/main.hcl line 60", r)
	}
	west, _ := cfg.Printer(`fleet["hq-1f-west"]`)
	wantV3 := fleet.SNMP{Version: "3", User: "inkform", AuthProtocol: "SHA256", AuthPassphrase: "authpass123", PrivProtocol: "AES", PrivPassphrase: "privpass123"}
	if diff := cmp.Diff(wantV3, west.Credentials.SNMP); diff != "" {
		t.Errorf("v3 credentials (-want +got):\n%s", diff)
	}

	abs, _ := filepath.Abs("testdata/full")
	if cfg.Dir != abs {
		t.Errorf("Dir = %q, want %q", cfg.Dir, abs)
	}
	if want := filepath.Join(abs, "state", "inkform.db"); cfg.State.Path != want || cfg.State.Backend != "sqlite" {
		t.Errorf("State = %+v, want sqlite at %s", cfg.State, want)
	}
	if !strings.HasPrefix(cfg.Hash, "sha256:") || len(cfg.Hash) != len("sha256:")+64 {
		t.Errorf("Hash = %q, want sha256:<64 hex>", cfg.Hash)
	}
	if _, ok := cfg.Files[filepath.Join("testdata", "full", "main.hcl")]; !ok {
		t.Errorf("Files lacks main.hcl: %v", cfg.Files)
	}
}

func cmpEmptyNil() cmp.Option {
	return cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())
}

func TestHashIdentifiesSource(t *testing.T) {
	base := map[string]string{"a.hcl": `printer "a" { address = "10.0.0.1" }`}
	h1 := mustLoad(t, writeConfig(t, base), LoadOptions{}).Hash
	h2 := mustLoad(t, writeConfig(t, base), LoadOptions{}).Hash
	if h1 != h2 {
		t.Errorf("same sources in two directories hash differently: %s vs %s", h1, h2)
	}
	changed := map[string]string{"a.hcl": `printer "a" { address = "10.0.0.2" }`}
	if h3 := mustLoad(t, writeConfig(t, changed), LoadOptions{}).Hash; h3 == h1 {
		t.Error("changing a file's contents did not change the hash")
	}
	renamed := map[string]string{"b.hcl": base["a.hcl"]}
	if h4 := mustLoad(t, writeConfig(t, renamed), LoadOptions{}).Hash; h4 == h1 {
		t.Error("renaming a file did not change the hash")
	}
}

func TestLoadDefaultsAndSingleFile(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"main.hcl":       `printer "p" { address = "printer.example.com" }`,
		"other.hcl":      `printer "q" { address = "10.0.0.2" }`,
		".hidden.hcl":    `this is not HCL`,
		"notes.txt":      `nor is this`,
		"#autosave#.hcl": `nor this`,
	})
	cfg := mustLoad(t, filepath.Join(dir, "main.hcl"), LoadOptions{})
	if len(cfg.Printers) != 1 {
		t.Fatalf("single file: got %d printers, want 1", len(cfg.Printers))
	}
	p := cfg.Printers[0]
	if p.Port != fleet.DefaultSNMPPort || p.Credentials.SNMP != defaultCredentials.SNMP || p.Credentials.Name != "" {
		t.Errorf("defaults: port %d credentials %+v", p.Port, p.Credentials)
	}
	if want := filepath.Join(dir, DefaultStatePath); cfg.State.Path != want || cfg.State.Backend != "sqlite" {
		t.Errorf("default state = %+v, want sqlite at %s", cfg.State, want)
	}
	cfg = mustLoad(t, dir, LoadOptions{})
	if len(cfg.Printers) != 2 || cfg.Printers[0].Name != "p" || cfg.Printers[1].Name != "q" {
		t.Errorf("directory: printers %v, want p and q (dot files and non-.hcl skipped)", names(cfg.Printers))
	}
}

func names(ps []fleet.Printer) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestSettingsPrecedence(t *testing.T) {
	cat, err := catalog.Parse([]byte(`{"version":1,"settings":[
		{"name":"system.contact","type":"string","max_length":20},
		{"name":"system.name","type":"string"},
		{"name":"system.location","type":"string"},
		{"name":"power.sleep_timeout_min","type":"integer","min":1,"max":240},
		{"name":"paper.default_size","type":"enum","enum":["A4","Letter"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, map[string]string{"main.hcl": `
configuration "office" {
  contact  = "cfg shorthand"
  name     = "cfg shorthand"
  location = "cfg shorthand"
  settings = {
    "system.name"             = "cfg map"
    "system.location"         = "cfg map"
    "power.sleep_timeout_min" = 15
    "paper.default_size"      = "A4"
  }
}
printer "p" {
  address       = "10.0.0.1"
  configuration = configuration.office
  location      = "printer shorthand"
  contact       = "printer shorthand"
  settings = {
    "system.contact"          = "printer map"
    "power.sleep_timeout_min" = 30.0
  }
}
`})
	cfg := mustLoad(t, dir, LoadOptions{Catalog: cat})
	got := map[string]string{}
	var order []string
	for _, d := range cfg.Printers[0].Settings {
		got[d.Name] = d.Value
		order = append(order, d.Name)
	}
	want := map[string]string{
		"system.contact":          "printer map",       // printer map beats printer shorthand
		"system.location":         "printer shorthand", // printer shorthand beats configuration map
		"system.name":             "cfg map",           // configuration map beats configuration shorthand
		"power.sleep_timeout_min": "30",                // canonical form of a number
		"paper.default_size":      "A4",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	wantOrder := []string{"paper.default_size", "power.sleep_timeout_min", "system.contact", "system.location", "system.name"}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("settings not sorted (-want +got):\n%s", diff)
	}
}

func TestLocalsResolveOutOfOrder(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"a.hcl": `
locals {
  contact = "${local.team} x${local.ext}"
}
printer "p" {
  address = "10.0.0.1"
  contact = local.contact
}`,
		"b.hcl": `
locals {
  team = upper(local.base)
  ext  = 4000 + 1
}
locals {
  base = "it"
}`,
	})
	cfg := mustLoad(t, dir, LoadOptions{})
	if d, _ := cfg.Printers[0].Setting("system.contact"); d.Value != "IT x4001" {
		t.Errorf("contact = %q, want %q", d.Value, "IT x4001")
	}
}

func TestForEachSet(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
locals {
  hosts = toset(["lab-1.example.com", "lab-2.example.com"])
}
printer "lab" {
  for_each = local.hosts
  address  = each.key
  name     = each.value
}`})
	cfg := mustLoad(t, dir, LoadOptions{})
	got := names(cfg.Printers)
	want := []string{`lab["lab-1.example.com"]`, `lab["lab-2.example.com"]`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
}

func TestDiagnosticsGolden(t *testing.T) {
	files := map[string]*hhcl.File{}
	cfg, diags := Load(filepath.Join("testdata", "broken"), LoadOptions{Files: files})
	if cfg != nil {
		t.Fatal("Load returned a Config for a broken configuration")
	}
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags, false); err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		if d.Subject == nil {
			t.Errorf("diagnostic %q has no Subject", d.Summary)
		}
	}
	golden := filepath.Join("testdata", "broken.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("diagnostics differ from %s (-want +got):\n%s", golden, diff)
	}

	// Loading twice gives the same text: the order does not depend on map
	// iteration.
	files2 := map[string]*hhcl.File{}
	_, diags2 := Load(filepath.Join("testdata", "broken"), LoadOptions{Files: files2})
	var buf2 bytes.Buffer
	_ = WriteDiagnostics(&buf2, files2, diags2, false)
	if buf2.String() != buf.String() {
		t.Error("diagnostics text differs between two loads")
	}
}

func TestWriteDiagnosticsColor(t *testing.T) {
	files := map[string]*hhcl.File{}
	_, diags := Load(writeConfig(t, map[string]string{"m.hcl": `printer "p" { adress = "x" }`}), LoadOptions{Files: files})
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\x1b[31m") {
		t.Errorf("color output has no ANSI red:\n%q", buf.String())
	}
	buf.Reset()
	_ = WriteDiagnostics(&buf, nil, diags, false)
	if strings.Contains(buf.String(), "source code not available") || !strings.Contains(buf.String(), "m.hcl:1:15: error: Unsupported argument") {
		t.Errorf("without files: %q", buf.String())
	}
}

func TestNullConfigurationMeansNone(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
configuration "office" {
  contact = "IT"
}
printer "p" {
  for_each      = { a = "10.0.0.1", b = "10.0.0.2" }
  address       = each.value
  configuration = each.key == "a" ? configuration.office : null
}`})
	cfg := mustLoad(t, dir, LoadOptions{})
	a, _ := cfg.Printer(`p["a"]`)
	b, _ := cfg.Printer(`p["b"]`)
	if a.Configuration != "office" || len(a.Settings) != 1 {
		t.Errorf("p[a]: configuration %q settings %v", a.Configuration, a.Settings)
	}
	if b.Configuration != "" || len(b.Settings) != 0 {
		t.Errorf("p[b]: configuration %q settings %v, want none", b.Configuration, b.Settings)
	}
}

// retries = 0 must reach the provider as "no retries", not as the default.
func TestExplicitZeroRetries(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
credentials "c" {
  snmp {
    community = "public"
    retries   = 0
  }
}
printer "p" {
  address     = "10.0.0.1"
  credentials = credentials.c
}
`})
	cfg := mustLoad(t, dir, LoadOptions{})
	if got := cfg.Printers[0].Credentials.SNMP.Retries; got >= 0 {
		t.Fatalf("retries = 0 decoded as %d; want a negative value (none)", got)
	}
}
