package traps_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/watch"
	"github.com/inkform/inkform/watch/traps"
)

const (
	community = "trap-community"
	v3User    = "inkform"
	v3Auth    = "auth-passphrase-1"
	v3Priv    = "priv-passphrase-1"
	v2Alert   = ".1.3.6.1.2.1.43.18.2.0.1"
)

var creds = []fleet.SNMP{
	{Version: fleet.SNMPv2c, Community: community},
	{Version: fleet.SNMPv3, User: v3User, AuthProtocol: "SHA", AuthPassphrase: v3Auth, PrivProtocol: "AES", PrivPassphrase: v3Priv},
}

// attribute knows two printers, allows the rest of 127.0.0.0/8 but
// 127.0.0.9, which stands for an address outside `allow`.
func attribute(a netip.Addr) (string, bool) {
	switch a.String() {
	case "127.0.0.2":
		return "lab-1", true
	case "127.0.0.3":
		return "lab-2", true
	case "127.0.0.9":
		return "", false
	}
	return "", netip.MustParsePrefix("127.0.0.0/8").Contains(a)
}

type running struct {
	l    *traps.Listener
	addr string
	got  chan watch.Received
}

// start runs a listener on a free port of 127.0.0.1 until the test ends.
func start(t *testing.T, cfg traps.Config, deliver func(watch.Received)) *running {
	t.Helper()
	if cfg.Credentials == nil {
		cfg.Credentials = creds
	}
	if cfg.Attributor == nil {
		cfg.Attributor = attribute
	}
	got := make(chan watch.Received, 100)
	if deliver == nil {
		deliver = func(r watch.Received) { got <- r }
	}
	cfg.Listen = "127.0.0.1:0"
	l, err := traps.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, deliver) }()
	select {
	case <-l.Ready():
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &running{l: l, addr: l.Addr(), got: got}
}

func (r *running) next(t *testing.T) watch.Received {
	t.Helper()
	select {
	case got := <-r.got:
		return got
	case <-time.After(10 * time.Second):
		t.Fatalf("no trap delivered; stats %+v", r.l.Stats())
	}
	return watch.Received{}
}

// waitStats polls the counters until ok says so or ten seconds pass.
func (r *running) waitStats(t *testing.T, ok func(traps.Stats) bool) traps.Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := r.l.Stats()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters never got there: %+v", s)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

// alertVarbinds are a printerV2Alert's varbinds for alert 5 of device 1.
func alertVarbinds(severity, group, groupIndex, code int, descr string) []string {
	col := func(c int) string { return ".1.3.6.1.2.1.43.18.1.1." + strconv.Itoa(c) + ".1.5" }
	return []string{
		col(1), "i", "5",
		col(2), "i", strconv.Itoa(severity),
		col(3), "i", "3",
		col(4), "i", strconv.Itoa(group),
		col(5), "i", strconv.Itoa(groupIndex),
		col(6), "i", "0",
		col(7), "i", strconv.Itoa(code),
		col(8), "s", descr,
	}
}

func v2c(addr, from string, vb ...string) []string {
	return append([]string{"-v", "2c", "-c", community, "--clientaddr=" + from, addr, "", v2Alert}, vb...)
}

func v3(addr, from, auth string, vb ...string) []string {
	return append([]string{"-v", "3", "-u", v3User, "-l", "authPriv", "-a", "SHA", "-A", auth, "-x", "AES", "-X", v3Priv,
		"-e", "0x80001f8880c0ffee0001", "--clientaddr=" + from, addr, "", v2Alert}, vb...)
}

func TestRealTraps(t *testing.T) {
	st := testservers.FindSnmptrap(t)
	r := start(t, traps.Config{}, nil)

	t.Run("v2c jam", func(t *testing.T) {
		// A snmpTrapAddress varbind claiming another printer is ignored.
		st.Send(t, v2c(r.addr, "127.0.0.2", append(alertVarbinds(3, 8, 2, 8, "Paper jam in tray 2"),
			".1.3.6.1.6.3.18.1.3.0", "a", "127.0.0.3")...)...)
		got := r.next(t)
		if got.Printer != "lab-1" || got.From != netip.MustParseAddr("127.0.0.2") || got.At.IsZero() {
			t.Errorf("attributed to %q from %s at %v, want lab-1 from 127.0.0.2", got.Printer, got.From, got.At)
		}
		want := alerts.Signal{Kind: alerts.Raised, Name: alerts.Jam, Severity: alerts.Critical, Code: 8, Index: "8.2",
			OID: traps.OIDPrinterV2Alert, Description: "Paper jam in tray 2"}
		if len(got.Signals) != 1 || got.Signals[0] != want {
			t.Errorf("signals %+v, want [%+v]", got.Signals, want)
		}
	})

	t.Run("v1 door opened", func(t *testing.T) {
		// The agent-addr field says 127.0.0.2; the datagram comes from .3.
		args := append([]string{"-v", "1", "-c", community, "--clientaddr=127.0.0.3", r.addr,
			"1.3.6.1.2.1.43.18.2", "127.0.0.2", "6", "1", ""}, alertVarbinds(3, 6, 1, 501, "Door A open")...)
		st.Send(t, args...)
		got := r.next(t)
		if got.Printer != "lab-2" || got.From != netip.MustParseAddr("127.0.0.3") {
			t.Errorf("attributed to %q from %s, want lab-2 from 127.0.0.3", got.Printer, got.From)
		}
		if len(got.Signals) != 1 || got.Signals[0].Name != alerts.DoorOpen || got.Signals[0].Kind != alerts.Raised ||
			got.Signals[0].Index != "6.1" || got.Signals[0].Severity != alerts.Critical {
			t.Errorf("signals %+v, want door_open raised at 6.1", got.Signals)
		}
	})

	t.Run("v3 authPriv door closed", func(t *testing.T) {
		st.Send(t, v3(r.addr, "127.0.0.3", v3Auth, alertVarbinds(5, 6, 1, 502, "Door A closed")...)...)
		got := r.next(t)
		if got.Printer != "lab-2" {
			t.Errorf("attributed to %q, want lab-2", got.Printer)
		}
		if len(got.Signals) != 1 || got.Signals[0].Name != alerts.DoorOpen || got.Signals[0].Kind != alerts.Cleared ||
			got.Signals[0].Index != "6.1" || got.Signals[0].Code != 501 {
			t.Errorf("signals %+v, want door_open (501) cleared at 6.1", got.Signals)
		}
	})

	t.Run("v2c inform acknowledged", func(t *testing.T) {
		// snmptrap -Ci waits for the acknowledgement and fails without it.
		args := v2c(r.addr, "127.0.0.2", alertVarbinds(3, 9, 1, 903, "Output bin full")...)
		st.Send(t, append([]string{"-Ci", "-t", "3", "-r", "0"}, args...)...)
		got := r.next(t)
		if len(got.Signals) != 1 || got.Signals[0].Name != alerts.OutputFull {
			t.Errorf("signals %+v, want output_full", got.Signals)
		}
	})

	t.Run("allowed address that is no printer", func(t *testing.T) {
		st.Send(t, v2c(r.addr, "127.0.0.5", ".1.3.6.1.4.1.99999.1", "i", "1")...)
		got := r.next(t)
		if got.Printer != "" || got.From != netip.MustParseAddr("127.0.0.5") {
			t.Errorf("attributed to %q from %s", got.Printer, got.From)
		}
	})

	// Each refused trap is followed by an accepted one from the same
	// sender: the listener reads in order, so once the second is
	// delivered the first has been judged.
	refused := []struct {
		name, reason string
		args         []string
	}{
		{"source outside allow", traps.DropRefused, v2c(r.addr, "127.0.0.9", alertVarbinds(3, 8, 1, 8, "jam")...)},
		{"wrong community", traps.DropCredentials, append([]string{"-v", "2c", "-c", "guess", "--clientaddr=127.0.0.2", r.addr, "", v2Alert},
			alertVarbinds(3, 8, 1, 8, "jam")...)},
		{"wrong v3 passphrase", traps.DropCredentials, v3(r.addr, "127.0.0.2", "wrong-passphrase", alertVarbinds(3, 8, 1, 8, "jam")...)},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := r.l.Stats()
			// snmptrap may fail to send nothing; the counters are the test.
			_ = st.Run(t.Context(), tc.args...)
			st.Send(t, v2c(r.addr, "127.0.0.2", alertVarbinds(4, 8, 1, 807, "Tray 1 low")...)...)
			got := r.next(t)
			if len(got.Signals) != 1 || got.Signals[0].Name != alerts.PaperLow || got.Signals[0].Severity != alerts.Warning {
				t.Fatalf("delivered %+v, want only the paper_low trap that followed", got)
			}
			after := r.waitStats(t, func(s traps.Stats) bool { return s.Dropped[tc.reason] > before.Dropped[tc.reason] })
			if after.Dropped[tc.reason] != before.Dropped[tc.reason]+1 {
				t.Errorf("dropped[%s] went from %d to %d, want one more", tc.reason, before.Dropped[tc.reason], after.Dropped[tc.reason])
			}
			if after.Accepted != before.Accepted+1 || after.Received != before.Received+2 {
				t.Errorf("received %d→%d, accepted %d→%d; want 2 more received, 1 more accepted",
					before.Received, after.Received, before.Accepted, after.Accepted)
			}
			select {
			case extra := <-r.got:
				t.Errorf("a refused trap was delivered: %+v", extra)
			default:
			}
		})
	}
}

// A consumer that does not keep up costs traps, not memory, and the
// socket keeps being read.
func TestQueueFull(t *testing.T) {
	release := make(chan struct{})
	var delivered []watch.Received
	got := make(chan struct{}, 100)
	r := start(t, traps.Config{QueueSize: 1}, func(rec watch.Received) {
		<-release
		delivered = append(delivered, rec)
		got <- struct{}{}
	})
	const n = 6
	g := sender(t, r.addr)
	for i := 0; i < n; i++ {
		if _, err := g.SendTrap(jamTrap(i)); err != nil {
			t.Fatal(err)
		}
	}
	s := r.waitStats(t, func(s traps.Stats) bool { return s.Accepted+s.Dropped[traps.DropQueueFull] == n })
	if s.Accepted+s.Dropped[traps.DropQueueFull] != n || s.Accepted > 2 || s.Dropped[traps.DropQueueFull] < n-2 {
		t.Errorf("stats %+v: want at most 2 accepted (one in deliver, one queued), the rest dropped as queue_full", s)
	}
	close(release)
	for i := uint64(0); i < s.Accepted; i++ {
		<-got
	}
	if uint64(len(delivered)) != s.Accepted {
		t.Errorf("delivered %d, accepted %d", len(delivered), s.Accepted)
	}
}

// Garbage on the socket is counted and does not stop the listener.
func TestGarbageCounted(t *testing.T) {
	r := start(t, traps.Config{}, nil)
	c, err := net.Dial("udp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, b := range [][]byte{{0x30, 0x03, 0x02, 0x01}, []byte("hello"), {0x30, 0x82, 0xff, 0xff}} {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sender(t, r.addr).SendTrap(jamTrap(1)); err != nil {
		t.Fatal(err)
	}
	got := r.next(t)
	if len(got.Signals) != 1 || got.Signals[0].Name != alerts.Jam {
		t.Errorf("delivered %+v", got)
	}
	s := r.waitStats(t, func(s traps.Stats) bool { return s.Dropped[traps.DropUndecodable] == 3 && s.Accepted == 1 })
	if s.Received != 4 || s.Accepted != 1 || len(s.Dropped) != 5 || s.Dropped[traps.DropRefused] != 0 {
		t.Errorf("stats %+v, want 4 received, 1 accepted, every drop reason listed", s)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  traps.Config
		want string
	}{
		{"no attributor", traps.Config{}, "no attributor"},
		{"empty community", traps.Config{Attributor: attribute, Credentials: []fleet.SNMP{{Version: "2c"}}}, "no community"},
		{"short v3 passphrase", traps.Config{Attributor: attribute, Credentials: []fleet.SNMP{{Version: "3", User: "u", AuthProtocol: "SHA", AuthPassphrase: "short"}}}, "shorter than 8"},
		{"version", traps.Config{Attributor: attribute, Credentials: []fleet.SNMP{{Version: "4", Community: "x"}}}, "unknown SNMP version"},
	} {
		_, err := traps.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "short") && strings.Contains(err.Error(), "\"short\"") {
			t.Errorf("%s: the passphrase is in the error: %v", tc.name, err)
		}
	}
	l, err := traps.New(traps.Config{Attributor: attribute, Listen: "127.0.0.1:99999"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Run(context.Background(), func(watch.Received) {}); err == nil || !strings.Contains(err.Error(), "127.0.0.1:99999") {
		t.Errorf("Run on a bad address: %v", err)
	}
	if err := l.Run(context.Background(), func(watch.Received) {}); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("second Run: %v, want an error", err)
	}
}

func sender(t *testing.T, addr string) *gosnmp.GoSNMP {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(n), Community: community, Version: gosnmp.Version2c,
		Timeout: time.Second, Retries: 0}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

func jamTrap(i int) gosnmp.SnmpTrap {
	col := func(c int) string { return ".1.3.6.1.2.1.43.18.1.1." + strconv.Itoa(c) + ".1." + strconv.Itoa(i+1) }
	return gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(100)},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: v2Alert},
		{Name: col(2), Type: gosnmp.Integer, Value: 3},
		{Name: col(4), Type: gosnmp.Integer, Value: 13},
		{Name: col(5), Type: gosnmp.Integer, Value: 1},
		{Name: col(7), Type: gosnmp.Integer, Value: 8},
		{Name: col(8), Type: gosnmp.OctetString, Value: "jam"},
	}}
}
