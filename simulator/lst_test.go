package simulator

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/providers/lst"
)

// TestLSTSharesSettings: a secured printer serves LST with its own
// certificate and the simulator's admin login, over the one settings store
// SNMP also serves; printers not secured serve no LST; the generated
// configuration marks the secured printer and pins its certificate.
func TestLSTSharesSettings(t *testing.T) {
	s := startSim(t, Options{Printers: 2, Secured: 1, AdminPassword: "lst-sim-pw"})
	sp, other := s.Printers()[0], s.Printers()[1]
	if !sp.Secured() || other.Secured() {
		t.Fatalf("secured: %v, %v; want the first printer only", sp.Secured(), other.Secured())
	}
	p := fleet.Printer{
		Name: sp.Name(), Host: "127.0.0.1", Ports: sp.Ports(), TLSFingerprint: sp.TLSFingerprint(),
		Credentials: fleet.Credentials{Admin: fleet.Admin{Username: "admin", Password: "lst-sim-pw"}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := lst.New(nil, lst.Options{}).Dial(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.Identity(ctx)
	if err != nil || id.Serial != sp.Serial() || id.Model != sp.Model() {
		t.Fatalf("identity %+v, %v", id, err)
	}
	if err := c.WriteSettings(ctx, sp.Family(), []fleet.Desired{{Name: "system.location", Value: "Vault"}}); err != nil {
		t.Fatal(err)
	}
	// The write landed in the MIB object SNMP reads.
	if pdu, ok := sp.Get(OIDSysLocation); !ok || string(pdu.Value.([]byte)) != "Vault" {
		t.Errorf("sysLocation after an LST write: %v", pdu.Value)
	}
	// A front-panel change shows over LST.
	if err := sp.SetSetting("system.contact", "Desk 9"); err != nil {
		t.Fatal(err)
	}
	got, _, err := c.ReadSettings(ctx, sp.Family(), []string{"system.contact"})
	if err != nil || got["system.contact"] != "Desk 9" {
		t.Errorf("read over LST: %v, %v", got, err)
	}

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
	fp, _ := cfg.Printer(sp.Name())
	if !fp.Secured || !slices.Contains(fp.Transports, "lst") || fp.Ports["lst"] != sp.Port("lst") || fp.TLSFingerprint != sp.TLSFingerprint() {
		t.Errorf("generated secured printer: secured %v, transports %q, ports %v, pin %q", fp.Secured, fp.Transports, fp.Ports, fp.TLSFingerprint)
	}
	if op, _ := cfg.Printer(other.Name()); op.Secured {
		t.Error("the printer not secured is marked secured")
	}
}

func TestSecuredOutOfRange(t *testing.T) {
	if _, err := Start(context.Background(), Options{Printers: 1, Secured: 2}); err == nil {
		t.Error("2 secured printers out of 1 accepted")
	}
}
