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

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/simulator"
)

// inkform watch with an npap block: it registers with the printer whose
// transports include npap (and not with the other), the printer's NPAP
// alerts become events under its name, and watch unregisters as it stops
// and logs the intake's counters.
func TestWatchNPAPAlerts(t *testing.T) {
	// Attribution is by source address alone, so the two printers get
	// two addresses.
	var ps []*simulator.Printer
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		sim, err := simulator.Start(t.Context(), simulator.Options{Printers: 1, Listen: ip, Services: []string{"npap"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		ps = append(ps, sim.Printers()[0])
	}
	p0, p1 := ps[0], ps[1]
	dir := t.TempDir()
	port := testservers.FreeUDPPort(t)
	hcl := fmt.Sprintf(`
variable "admin_pw" {
  type      = string
  sensitive = true
}
credentials "sim" {
  snmp {
    version   = "2c"
    community = "private"
  }
  admin {
    username = "admin"
    password = var.admin_pw
  }
}
printer "lab-1" {
  address     = %q
  credentials = credentials.sim
  transports  = ["snmp", "npap"]
  ports       = { npap = %d }
}
printer "lab-2" {
  address     = %q
  credentials = credentials.sim
}
watch {
  npap {
    listen = "127.0.0.1:%d"
  }
  poll = "5m"
}
`, p0.Addr(), p0.Port("npap"), p1.Addr(), port)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"INKFORM_VAR_admin_pw=inkform-sim"}
	logs := newSyncBuf()
	fac := newFactory(streams{In: strings.NewReader(""), Out: logs, Err: logs, Env: env})
	ready := make(chan string, 1)
	opts := &watchOptions{IO: fac.IO, OpenStore: fac.OpenStore, Connect: fac.Connect, hup: make(chan os.Signal, 1), ready: ready}
	opts.State.Dir = dir
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runWatch(ctx, opts) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("watch stopped: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("watch not ready\n%s", logs.String())
	}
	waitUntil(t, "watch registered with lab-1", 30*time.Second, func() bool { return len(p0.Registered()) == 1 }, logs.String)
	if n := len(p1.Registered()); n != 0 {
		t.Errorf("lab-2 (no npap in its transports) has %d registrations", n)
	}

	p0.RaiseAlert(simulator.Alert{Severity: simulator.SeverityCritical, Group: simulator.GroupInput, GroupIndex: 1,
		Code: simulator.CodeJam, Description: "Paper jam in Tray 1"})
	var rows []activeJSON
	waitUntil(t, "the jam recorded", 30*time.Second, func() bool {
		var out, errb bytes.Buffer
		if code := runContext(context.Background(), []string{"alerts", "list", "-json", "-config", dir},
			streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: env}); code != ExitOK {
			t.Fatalf("alerts list: exit %d: %s", code, errb.String())
		}
		var doc struct {
			Alerts []activeJSON `json:"alerts"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("alerts list -json: %v\n%s", err, out.String())
		}
		rows = doc.Alerts
		return len(rows) > 0
	}, logs.String)
	if len(rows) != 1 || rows[0].Printer != "lab-1" || rows[0].Event != alerts.Jam || rows[0].Key != "lab-1/jam/8.1" {
		t.Errorf("active alerts %+v, want lab-1's jam at 8.1", rows)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("watch did not stop\n%s", logs.String())
	}
	if n := len(p0.Registered()); n != 0 {
		t.Errorf("lab-1 keeps %d registrations after watch stopped", n)
	}
	for _, want := range []string{"npap alerts: registered", "msg=\"npap alerts\"", "accepted=1", "dropped_refused_source=0"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "inkform-sim") {
		t.Error("the logs show the admin password")
	}
}
