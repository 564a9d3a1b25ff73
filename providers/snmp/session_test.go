package snmp

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers"
)

func TestUnreachableWithinBudget(t *testing.T) {
	port := testservers.FreeUDPPort(t) // nothing listens there
	const timeout = 200 * time.Millisecond
	s := connect(t, New(nil, Options{Timeout: timeout, Retries: 1}), printerAt("127.0.0.1", port, fleet.SNMP{Community: "public"}))
	start := time.Now()
	_, err := s.Observe(context.Background(), []string{"system.contact"})
	if !errors.Is(err, providers.ErrUnreachable) {
		t.Fatalf("error = %v, want ErrUnreachable", err)
	}
	t.Logf("error: %v", err)
	if d := time.Since(start); d > 2*timeout+time.Second {
		t.Errorf("took %v; budget is 2 attempts of %v", d, timeout)
	}
	if !strings.Contains(err.Error(), "printer lab-1 (127.0.0.1:") || !strings.Contains(err.Error(), "no SNMP answer after 2 attempts") {
		t.Errorf("error = %v", err)
	}
}

func TestSilentAgentHonoursContextDeadline(t *testing.T) {
	// A socket that reads nothing: requests vanish like on a dead printer.
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	s := connect(t, New(nil, Options{Timeout: 10 * time.Second, Retries: 3}), printerAt("127.0.0.1", port, fleet.SNMP{Community: "public"}))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Observe(ctx, nil)
	if !errors.Is(err, providers.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want ErrUnreachable and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v with a 200ms deadline", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := s.Observe(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error = %v", err)
	}
}

func TestConnectRejectsBadCredentials(t *testing.T) {
	c := New(nil, Options{})
	for _, tc := range []struct {
		name string
		cred fleet.SNMP
		want string
	}{
		{"version", fleet.SNMP{Version: "4"}, `unknown SNMP version "4"`},
		{"no user", fleet.SNMP{Version: "3"}, "no user"},
		{"auth protocol", fleet.SNMP{Version: "3", User: "u", AuthProtocol: "ROT13", AuthPassphrase: "s3cret-passphrase"}, "unknown auth protocol"},
		{"short auth", fleet.SNMP{Version: "3", User: "u", AuthProtocol: "SHA", AuthPassphrase: "s3cret"}, "shorter than 8"},
		{"priv without auth", fleet.SNMP{Version: "3", User: "u", PrivProtocol: "AES", PrivPassphrase: "s3cret-passphrase"}, "needs an auth protocol"},
		{"priv protocol", fleet.SNMP{Version: "3", User: "u", AuthProtocol: "SHA256", AuthPassphrase: "s3cret-passphrase", PrivProtocol: "ROT13", PrivPassphrase: "s3cret-passphrase"}, "unknown privacy protocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Connect(context.Background(), printerAt("127.0.0.1", 161, tc.cred))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "printer lab-1") {
				t.Fatalf("error = %v, want it to name the printer and say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks a passphrase: %v", err)
			}
		})
	}
	if _, err := c.Connect(context.Background(), fleet.Printer{Name: "x"}); err == nil {
		t.Error("Connect without an address succeeded")
	}
}

func TestSetRejectsBeforeSending(t *testing.T) {
	// Port 9 (discard) is never contacted: every value fails validation
	// before the socket is opened.
	s := connect(t, New(nil, Options{}), printerAt("127.0.0.1", 9, fleet.SNMP{Community: "public"}))
	for _, tc := range []struct {
		d    fleet.Desired
		want string
	}{
		{fleet.Desired{Name: "no.such.setting", Value: "x"}, "printer lab-1: set no.such.setting: unknown setting"},
		{fleet.Desired{Name: "system.contact", Value: strings.Repeat("x", 300)}, "printer lab-1: set system.contact: system.contact: value is 300 bytes long"},
		{fleet.Desired{Name: "system.contact", Value: "\xff\xfe-t0p-s3cret", Sensitive: true}, "invalid value (sensitive, not shown)"},
	} {
		err := s.Set(context.Background(), []fleet.Desired{tc.d})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%s) error = %v, want %q", tc.d.Name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "t0p-s3cret") {
			t.Errorf("error leaks a sensitive value: %v", err)
		}
	}
	if s.(*Session).connected {
		t.Error("socket opened for values that failed validation")
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	agent := startFakeAgent(t, gosnmp.Version2c, 0, printerData())
	s := connect(t, New(nil, Options{}), printerAt("127.0.0.1", agent.addr.Port, fleet.SNMP{Community: "public"}))
	if _, err := s.Observe(context.Background(), nil); err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Observe(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Observe after Close: %v", err)
	}
	if s.Transport() != "snmp" {
		t.Errorf("Transport = %q", s.Transport())
	}
}
