package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// inkform sim --alerts-to --alert-storm: the fleet's printers send
// printerV2Alert traps.
func TestSimAlertStorm(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan ExitCode, 1)
	go func() {
		done <- runContext(ctx, []string{"sim", "--printers", "3", "--base-port", "0", "--services", "none",
			"--alerts-to", conn.LocalAddr().String(), "--alert-community", "storm", "--alert-storm", "200", "--print-rate", "0"},
			streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for i := 0; i < 3; i++ {
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no trap from the simulator: %v", err)
		}
		p, err := (&gosnmp.GoSNMP{Logger: gosnmp.NewLogger(nil)}).UnmarshalTrap(buf[:n], false)
		if err != nil {
			t.Fatalf("trap %d: %v", i, err)
		}
		if p.Community != "storm" || p.Version != gosnmp.Version2c || len(p.Variables) < 2 || p.Variables[1].Value != ".1.3.6.1.2.1.43.18.2.0.1" {
			t.Errorf("trap %d: community %q, version %v, varbinds %+v", i, p.Community, p.Version, p.Variables)
		}
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("sim: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "alert traps sent to "+conn.LocalAddr().String()) {
		t.Errorf("stderr:\n%s", errb.String())
	}
}
