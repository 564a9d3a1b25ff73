package simulator

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/inkform/inkform/hcl"
)

// TestWriteHCLLoads checks that what WriteHCL writes for a fleet serving
// every TCP service is a valid configuration whose printers reach the
// simulator's ports with its admin login and pin its certificates.
func TestWriteHCLLoads(t *testing.T) {
	s := startSim(t, Options{Printers: 3, WriteCommunity: "w", Services: []string{"pjl", "ftp", "http", "https"}, AdminPassword: "s3cret-sim"})
	var buf bytes.Buffer
	if err := s.WriteHCL(&buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := hcl.Load(dir, hcl.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("generated configuration does not load: %v\n%s", diags, buf.Bytes())
	}
	for _, p := range s.Printers() {
		fp, ok := cfg.Printer(p.Name())
		if !ok {
			t.Fatalf("printer %s missing", p.Name())
		}
		if want := []string{"snmp", "pjl", "https", "http", "ftp"}; !slices.Equal(fp.Transports, want) {
			t.Errorf("%s: transports %q, want %q", p.Name(), fp.Transports, want)
		}
		for _, svc := range []string{"pjl", "ftp", "http", "https"} {
			if got, want := fp.Ports[svc], p.Port(svc); got != want || want == 0 {
				t.Errorf("%s: %s port %d, want %d", p.Name(), svc, got, want)
			}
		}
		if fp.TLSFingerprint == "" || fp.TLSFingerprint != p.TLSFingerprint() {
			t.Errorf("%s: tls_fingerprint %q, want %q", p.Name(), fp.TLSFingerprint, p.TLSFingerprint())
		}
		if fp.Credentials.Admin.Username != "admin" || fp.Credentials.Admin.Password != "s3cret-sim" {
			t.Errorf("%s: admin login not the simulator's", p.Name())
		}
	}
}

// TestWriteHCLGoldenLoads: the golden configuration is itself valid.
func TestWriteHCLGoldenLoads(t *testing.T) {
	cfg, diags := hcl.Load(filepath.Join("testdata", "fleet.hcl"), hcl.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, _ := cfg.Printer("sim-005")
	if p.TLSFingerprint != "" || len(p.Ports) != 3 || !strings.HasPrefix(strings.Join(p.Transports, ","), "snmp,pjl") {
		t.Errorf("sim-005 = %+v", p)
	}
	if p, _ := cfg.Printer("sim-001"); len(p.Transports) != 0 || len(p.Ports) != 0 {
		t.Errorf("sim-001 serves SNMP only: %+v", p)
	}
}

func TestWriteCSV(t *testing.T) {
	s := startSim(t, Options{Printers: 3})
	var buf bytes.Buffer
	if err := s.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], []string{"name", "address", "serial", "model"}) {
		t.Fatalf("rows = %q", rows)
	}
	for i, p := range s.Printers() {
		if want := []string{p.Name(), p.Addr(), p.Serial(), p.Model()}; !slices.Equal(rows[i+1], want) {
			t.Errorf("row %d = %q, want %q", i+1, rows[i+1], want)
		}
	}
}
