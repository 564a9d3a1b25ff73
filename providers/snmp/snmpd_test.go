package snmp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers"
)

// Credentials used against the private snmpd; the tests assert that none
// of them leaks into an error.
const (
	roCommunity = "ro-c0mmunity"
	rwCommunity = "rw-c0mmunity"
	v3User      = "inkform"
	v3AuthPass  = "auth-s3cret-pass"
	v3PrivPass  = "priv-s3cret-pass"
)

var secrets = []string{roCommunity, rwCommunity, v3AuthPass, v3PrivPass}

func startAgent(t *testing.T) *testservers.Snmpd {
	t.Helper()
	return testservers.StartSnmpd(t, testservers.SnmpdOptions{
		ReadCommunity:  roCommunity,
		WriteCommunity: rwCommunity,
		V3Users: []testservers.V3User{{
			Name: v3User, AuthProtocol: "SHA", AuthPass: v3AuthPass,
			PrivProtocol: "AES", PrivPass: v3PrivPass, ReadWrite: true,
		}, {
			Name: "legacy", AuthProtocol: "MD5", AuthPass: v3AuthPass,
			PrivProtocol: "DES", PrivPass: v3PrivPass,
		}, {
			Name: "modern", AuthProtocol: "SHA-256", AuthPass: v3AuthPass,
		}},
	})
}

func printerAt(host string, port int, cred fleet.SNMP) fleet.Printer {
	return fleet.Printer{Name: "lab-1", Host: host, Port: port, Credentials: fleet.Credentials{SNMP: cred}}
}

func connect(t *testing.T, c *Connector, p fleet.Printer) providers.Session {
	t.Helper()
	s, err := c.Connect(context.Background(), p)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error leaks a secret: %v", err)
		}
	}
}

func snmpgetV2(t *testing.T, addr, oid string) string {
	return testservers.SnmpGet(t, "-v2c", "-c", roCommunity, "-Oqv", addr, oid)
}

func TestSnmpdV2cObserveAndSet(t *testing.T) {
	agent := startAgent(t)
	ctx := context.Background()
	s := connect(t, New(nil, Options{}), printerAt(agent.Host, agent.Port, fleet.SNMP{Community: rwCommunity}))

	obs, err := s.Observe(ctx, []string{"system.contact", "system.location", "system.name", "no.such.setting"})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	// A Linux host has no printer device: the model falls back to sysDescr.
	wantModel := strings.Trim(snmpgetV2(t, agent.Addr, "1.3.6.1.2.1.1.1.0"), `"`)
	if obs.Model != cleanText([]byte(wantModel)) || obs.Model == "" {
		t.Errorf("Model = %q, want sysDescr %q", obs.Model, wantModel)
	}
	if obs.PageCount != -1 || obs.Serial != "" || len(obs.Supplies) != 0 || obs.Status != "unknown" {
		t.Errorf("non-printer facts = page %d serial %q supplies %v status %q", obs.PageCount, obs.Serial, obs.Supplies, obs.Status)
	}
	if obs.Transport != "snmp" || time.Since(obs.ObservedAt) > time.Minute {
		t.Errorf("Transport %q ObservedAt %v", obs.Transport, obs.ObservedAt)
	}
	if got, want := strings.Join(obs.Unsupported, ","), "no.such.setting"; got != want {
		t.Errorf("Unsupported = %q, want %q", got, want)
	}
	if got := strings.Trim(snmpgetV2(t, agent.Addr, "1.3.6.1.2.1.1.5.0"), `"`); obs.Settings["system.name"] != got {
		t.Errorf("system.name = %q, snmpget says %q", obs.Settings["system.name"], got)
	}

	err = s.Set(ctx, []fleet.Desired{
		{Name: "system.contact", Value: "IT Service Desk x4000"},
		{Name: "system.location", Value: "HQ 2F East"},
	})
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got := snmpgetV2(t, agent.Addr, "1.3.6.1.2.1.1.4.0"); got != `"IT Service Desk x4000"` {
		t.Errorf("sysContact after Set = %s", got)
	}
	if got := snmpgetV2(t, agent.Addr, "1.3.6.1.2.1.1.6.0"); got != `"HQ 2F East"` {
		t.Errorf("sysLocation after Set = %s", got)
	}
	obs, err = s.Observe(ctx, []string{"system.contact", "system.location", "system.name"})
	if err != nil {
		t.Fatalf("Observe after Set: %v", err)
	}
	if obs.Settings["system.contact"] != "IT Service Desk x4000" || obs.Settings["system.location"] != "HQ 2F East" {
		t.Errorf("settings read back = %v", obs.Settings)
	}

	// One varbind per PDU gives the same observation and still sets all.
	small := connect(t, New(nil, Options{MaxOIDsPerPDU: 1}), printerAt(agent.Host, agent.Port, fleet.SNMP{Community: rwCommunity}))
	err = small.Set(ctx, []fleet.Desired{
		{Name: "system.contact", Value: "IT Service Desk x4000"},
		{Name: "system.location", Value: "HQ 2F East"},
	})
	if err != nil {
		t.Fatalf("Set one varbind per PDU: %v", err)
	}
	obs1, err := small.Observe(ctx, []string{"system.contact", "system.location", "system.name"})
	if err != nil {
		t.Fatalf("Observe one varbind per PDU: %v", err)
	}
	obs1.ObservedAt = obs.ObservedAt
	if obs1.Uptime < obs.Uptime {
		t.Errorf("sysUpTime went backwards: %s then %s", obs.Uptime, obs1.Uptime)
	}
	obs1.Uptime = obs.Uptime // the agent's clock moved on
	if diff := cmp.Diff(obs, obs1); diff != "" {
		t.Errorf("observation with MaxOIDsPerPDU 1 differs (-30 +1):\n%s", diff)
	}
}

func TestSnmpdV3OtherProtocols(t *testing.T) {
	agent := startAgent(t)
	for _, cred := range []fleet.SNMP{
		{Version: "3", User: "legacy", AuthProtocol: "MD5", AuthPassphrase: v3AuthPass, PrivProtocol: "DES", PrivPassphrase: v3PrivPass},
		{Version: "3", User: "modern", AuthProtocol: "SHA256", AuthPassphrase: v3AuthPass},
	} {
		s := connect(t, New(nil, Options{}), printerAt(agent.Host, agent.Port, cred))
		obs, err := s.Observe(context.Background(), []string{"system.name"})
		if err != nil {
			t.Fatalf("user %s: Observe: %v", cred.User, err)
		}
		if obs.Settings["system.name"] == "" {
			t.Errorf("user %s: no sysName", cred.User)
		}
		// Read-only users get a clear refusal.
		err = s.Set(context.Background(), []fleet.Desired{{Name: "system.name", Value: "x"}})
		if err == nil || !strings.Contains(err.Error(), "printer lab-1: set system.name: ") {
			t.Errorf("user %s: read-only Set error = %v", cred.User, err)
		}
		assertNoSecrets(t, err)
	}
}

func TestSnmpdV1Observe(t *testing.T) {
	agent := startAgent(t)
	// v1 answers missing objects with noSuchName for the whole PDU and ends
	// walks the same way; Observe must still read what exists.
	s := connect(t, New(nil, Options{}), printerAt(agent.Host, agent.Port, fleet.SNMP{Version: "1", Community: roCommunity}))
	obs, err := s.Observe(context.Background(), []string{"system.name"})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	want := strings.Trim(snmpgetV2(t, agent.Addr, "1.3.6.1.2.1.1.5.0"), `"`)
	if obs.Settings["system.name"] != want || obs.Model == "" || obs.PageCount != -1 {
		t.Errorf("v1 observation: name %q (want %q), model %q, pages %d", obs.Settings["system.name"], want, obs.Model, obs.PageCount)
	}
}

func TestSnmpdReadOnlyCommunitySet(t *testing.T) {
	agent := startAgent(t)
	s := connect(t, New(nil, Options{}), printerAt(agent.Host, agent.Port, fleet.SNMP{Community: roCommunity}))
	err := s.Set(context.Background(), []fleet.Desired{{Name: "system.contact", Value: "nobody"}, {Name: "system.location", Value: "nowhere"}})
	if err == nil {
		t.Fatal("Set with a read-only community succeeded")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "printer lab-1: set system.contact: noAccess") {
		t.Errorf("error = %v", err)
	}
	assertNoSecrets(t, err)
}

func v3Cred(auth, priv string) fleet.SNMP {
	return fleet.SNMP{Version: "3", User: v3User, AuthProtocol: "SHA", AuthPassphrase: auth, PrivProtocol: "AES", PrivPassphrase: priv}
}

func TestSnmpdV3AuthPriv(t *testing.T) {
	agent := startAgent(t)
	ctx := context.Background()
	s := connect(t, New(nil, Options{}), printerAt(agent.Host, agent.Port, v3Cred(v3AuthPass, v3PrivPass)))
	obs, err := s.Observe(ctx, []string{"system.contact"})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if obs.Model == "" {
		t.Error("no model over v3")
	}
	if err := s.Set(ctx, []fleet.Desired{{Name: "system.contact", Value: "v3 admin"}}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got := testservers.SnmpGet(t, "-v3", "-l", "authPriv", "-u", v3User, "-a", "SHA", "-A", v3AuthPass,
		"-x", "AES", "-X", v3PrivPass, "-Oqv", agent.Addr, "1.3.6.1.2.1.1.4.0")
	if got != `"v3 admin"` {
		t.Errorf("sysContact after v3 Set = %s", got)
	}
}

func TestSnmpdV3WrongPassphrases(t *testing.T) {
	agent := startAgent(t)
	for _, tc := range []struct {
		name string
		cred fleet.SNMP
		want string
	}{
		{"auth", v3Cred("wrong-auth-pass", v3PrivPass), "wrong auth passphrase or protocol"},
		{"user", fleet.SNMP{Version: "3", User: "mallory", AuthProtocol: "SHA", AuthPassphrase: v3AuthPass}, "unknown user"},
		{"priv", v3Cred(v3AuthPass, "wrong-priv-pass"), "privacy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := connect(t, New(nil, Options{Timeout: 500 * time.Millisecond, Retries: -1}), printerAt(agent.Host, agent.Port, tc.cred))
			_, err := s.Observe(context.Background(), nil)
			if !errors.Is(err, providers.ErrAuth) {
				t.Fatalf("error = %v, want ErrAuth", err)
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), "SNMPv3 authentication failed for user") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to say %q", err, tc.want)
			}
			assertNoSecrets(t, err)
		})
	}
}

func TestSnmpdWrongCommunity(t *testing.T) {
	agent := startAgent(t)
	const timeout = 300 * time.Millisecond
	s := connect(t, New(nil, Options{Timeout: timeout, Retries: -1}), printerAt(agent.Host, agent.Port, fleet.SNMP{Community: "not-the-community"}))
	start := time.Now()
	_, err := s.Observe(context.Background(), nil)
	if !errors.Is(err, providers.ErrUnreachable) {
		t.Fatalf("error = %v, want ErrUnreachable", err)
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "wrong community or unreachable") || strings.Contains(err.Error(), "not-the-community") {
		t.Errorf("error = %v", err)
	}
	if d := time.Since(start); d > 5*timeout {
		t.Errorf("took %v with a %v timeout and no retries", d, timeout)
	}
}

// Every catalog setting bound to an object net-snmp's agent serves (the
// writable system group) round-trips: written by Set, read back by Observe
// and by net-snmp's own snmpget.
func TestSnmpdCatalogSettingsRoundTrip(t *testing.T) {
	agent := startAgent(t)
	ctx := context.Background()
	cat := catalog.Default()
	var names []string
	var values []fleet.Desired
	for _, st := range cat.Settings {
		if st.SNMP == nil || !strings.HasPrefix(strings.TrimPrefix(st.SNMP.OID, "."), "1.3.6.1.2.1.1.") {
			continue
		}
		v := "round-trip " + st.Name
		if _, err := st.Validate(v); err != nil {
			t.Fatalf("%s: test value rejected: %v", st.Name, err)
		}
		names = append(names, st.Name)
		values = append(values, fleet.Desired{Name: st.Name, Value: v})
	}
	if len(names) < 3 {
		t.Fatalf("only %d catalog settings on the system group: %v", len(names), names)
	}
	s := connect(t, New(cat, Options{}), printerAt(agent.Host, agent.Port, fleet.SNMP{Community: rwCommunity}))
	if err := s.Set(ctx, values); err != nil {
		t.Fatalf("Set: %v", err)
	}
	obs, err := s.Observe(ctx, names)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	for _, d := range values {
		st, _ := cat.Lookup(d.Name)
		if got := obs.Settings[d.Name]; got != d.Value {
			t.Errorf("%s observed %q, want %q", d.Name, got, d.Value)
		}
		if got := snmpgetV2(t, agent.Addr, st.SNMP.OID); !strings.Contains(got, d.Value) {
			t.Errorf("%s: snmpget %s = %s, want %q", d.Name, st.SNMP.OID, got, d.Value)
		}
	}
}
