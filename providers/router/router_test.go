package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

const testCatalog = `{
  "version": 1,
  "families": [
    {"name": "lexmark", "models": ["Lexmark *"]},
    {"name": "hp", "models": ["HP *"]}
  ],
  "settings": [
    {"name": "a.snmp_only", "type": "string", "snmp": {"oid": "1.3.6.1.2.1.1.4.0", "type": "octetstring"}},
    {"name": "b.both", "type": "integer",
     "snmp": {"oid": "1.3.6.1.2.1.43.5.1.1.1.1", "type": "integer"}, "pjl": {"variable": "COPIES"}},
    {"name": "c.pjl_only", "type": "string", "pjl": {"variable": "PAPER"}},
    {"name": "d.ews_hp", "type": "string", "ews": {"field": "tz"}, "families": ["hp"]},
    {"name": "e.override", "type": "string", "snmp": {"oid": "1.3.6.1.2.1.1.6.0", "type": "octetstring"},
     "overrides": {"lexmark": {"pjl": {"variable": "LOCATION"}}}}
  ]
}`

func testCat(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse([]byte(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeSNMP answers facts for one model and the settings in values.
type fakeSNMP struct {
	model  string
	values map[string]string
	asked  [][]string
	set    []fleet.Desired
	closed int
}

func (f *fakeSNMP) Connect(context.Context, fleet.Printer) (providers.Session, error) { return f, nil }
func (f *fakeSNMP) Observe(_ context.Context, names []string) (fleet.Observation, error) {
	f.asked = append(f.asked, slices.Clone(names))
	obs := fleet.Observation{Model: f.model, Settings: map[string]string{}, Transport: "snmp"}
	for _, n := range names {
		if v, ok := f.values[n]; ok {
			obs.Settings[n] = v
		} else {
			obs.Unsupported = append(obs.Unsupported, n)
		}
	}
	return obs, nil
}
func (f *fakeSNMP) Set(_ context.Context, v []fleet.Desired) error {
	f.set = append(f.set, v...)
	return nil
}
func (f *fakeSNMP) Transport() string { return "snmp" }
func (f *fakeSNMP) Close() error      { f.closed++; return nil }

// fakeSettings is a settings transport whose port may be closed.
type fakeSettings struct {
	name    string
	closed  bool
	dialErr error
	values  map[string]string
	dials   int
	written []fleet.Desired
	family  string
}

func (f *fakeSettings) Name() string { return f.name }
func (f *fakeSettings) DialSettings(context.Context, fleet.Printer) (providers.SettingsConn, error) {
	f.dials++
	if f.closed {
		return nil, fmt.Errorf("dial 127.0.0.1:9100: %w", providers.ErrPortClosed)
	}
	if f.dialErr != nil {
		return nil, f.dialErr
	}
	return f, nil
}
func (f *fakeSettings) ReadSettings(_ context.Context, family string, names []string) (map[string]string, []string, error) {
	f.family = family
	out := map[string]string{}
	var missing []string
	for _, n := range names {
		if v, ok := f.values[n]; ok {
			out[n] = v
		} else {
			missing = append(missing, n)
		}
	}
	return out, missing, nil
}
func (f *fakeSettings) WriteSettings(_ context.Context, _ string, v []fleet.Desired) error {
	f.written = append(f.written, v...)
	return nil
}
func (f *fakeSettings) Close() error { return nil }

// fakeFiles is a file transport that records what it receives.
type fakeFiles struct {
	name     string
	closed   bool
	received map[string][]byte
}

func (f *fakeFiles) Name() string { return f.name }
func (f *fakeFiles) DialFiles(context.Context, fleet.Printer) (providers.FileConn, error) {
	if f.closed {
		return nil, fmt.Errorf("dial: %w", providers.ErrPortClosed)
	}
	return f, nil
}
func (f *fakeFiles) Upload(_ context.Context, file fleet.File, r io.Reader, progress func(int64)) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if f.received == nil {
		f.received = map[string][]byte{}
	}
	f.received[file.Dest] = data
	if progress != nil {
		progress(int64(len(data)))
	}
	return nil
}
func (f *fakeFiles) Close() error { return nil }

func observe(t *testing.T, r *Router, p fleet.Printer, names ...string) (fleet.Observation, providers.Session) {
	t.Helper()
	s, err := r.Connect(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	obs, err := s.Observe(context.Background(), names)
	if err != nil {
		t.Fatal(err)
	}
	return obs, s
}

func TestRouteByPreferenceAndBinding(t *testing.T) {
	snmp := &fakeSNMP{model: "Lexmark CX725", values: map[string]string{"a.snmp_only": "desk", "b.both": "1", "e.override": "hall"}}
	pjl := &fakeSettings{name: "pjl", values: map[string]string{"b.both": "2", "c.pjl_only": "A4", "e.override": "pjl-hall"}}
	r := New(testCat(t), snmp, []providers.SettingsTransport{pjl}, nil)
	p := fleet.Printer{Name: "p1", Transports: []string{"pjl", "snmp"}}
	obs, s := observe(t, r, p, "a.snmp_only", "b.both", "c.pjl_only", "d.ews_hp", "e.override")

	wantRoutes := map[string]string{"a.snmp_only": "snmp", "b.both": "pjl", "c.pjl_only": "pjl", "e.override": "pjl"}
	if d := cmp.Diff(wantRoutes, obs.SettingTransports); d != "" {
		t.Errorf("SettingTransports (-want +got):\n%s", d)
	}
	wantValues := map[string]string{"a.snmp_only": "desk", "b.both": "2", "c.pjl_only": "A4", "e.override": "pjl-hall"}
	if d := cmp.Diff(wantValues, obs.Settings); d != "" {
		t.Errorf("Settings (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"d.ews_hp"}, obs.Unsupported); d != "" {
		t.Errorf("Unsupported (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"d.ews_hp": "no route over pjl, snmp; no transport carries it on this model"}, obs.UnsupportedWhy); d != "" {
		t.Errorf("UnsupportedWhy (-want +got):\n%s", d)
	}
	if pjl.dials != 1 {
		t.Errorf("pjl dialled %d times, want once per session", pjl.dials)
	}
	if pjl.family != "lexmark" {
		t.Errorf("pjl read with family %q, want lexmark", pjl.family)
	}
	if len(obs.Notes) != 0 {
		t.Errorf("unexpected notes %q", obs.Notes)
	}
	if s.Transport() != "snmp" || obs.Transport != "snmp" {
		t.Errorf("facts transport = %q / %q, want snmp", s.Transport(), obs.Transport)
	}

	// Set goes back over the transport each setting was read with.
	err := s.Set(context.Background(), []fleet.Desired{{Name: "a.snmp_only", Value: "x"}, {Name: "b.both", Value: "3"}, {Name: "c.pjl_only", Value: "LETTER"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(snmp.set); !slices.Equal(got, []string{"a.snmp_only"}) {
		t.Errorf("snmp wrote %v", got)
	}
	if got := names(pjl.written); !slices.Equal(got, []string{"b.both", "c.pjl_only"}) {
		t.Errorf("pjl wrote %v", got)
	}
}

func TestSNMPFirstWhenPreferred(t *testing.T) {
	snmp := &fakeSNMP{model: "HP LaserJet M507", values: map[string]string{"b.both": "1", "e.override": "hall"}}
	pjl := &fakeSettings{name: "pjl", values: map[string]string{"b.both": "2", "c.pjl_only": "A4", "e.override": "x"}}
	r := New(testCat(t), snmp, []providers.SettingsTransport{pjl}, nil)
	obs, _ := observe(t, r, fleet.Printer{Name: "p", Transports: []string{"snmp", "pjl"}}, "b.both", "c.pjl_only", "e.override")
	// On hp the override does not apply: e.override has no PJL binding.
	want := map[string]string{"b.both": "snmp", "c.pjl_only": "pjl", "e.override": "snmp"}
	if d := cmp.Diff(want, obs.SettingTransports); d != "" {
		t.Errorf("SettingTransports (-want +got):\n%s", d)
	}
}

func TestClosedPortFallsBackAndSaysSo(t *testing.T) {
	snmp := &fakeSNMP{model: "Lexmark CX725", values: map[string]string{"b.both": "1"}}
	pjl := &fakeSettings{name: "pjl", closed: true}
	r := New(testCat(t), snmp, []providers.SettingsTransport{pjl}, nil)
	p := fleet.Printer{Name: "p1", Transports: []string{"pjl", "snmp"}}
	obs, _ := observe(t, r, p, "b.both", "c.pjl_only")
	if got := obs.SettingTransports["b.both"]; got != "snmp" {
		t.Errorf("b.both via %q, want snmp", got)
	}
	if d := cmp.Diff([]string{"c.pjl_only"}, obs.Unsupported); d != "" {
		t.Errorf("Unsupported (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"c.pjl_only": "pjl: port 9100 closed"}, obs.UnsupportedWhy); d != "" {
		t.Errorf("UnsupportedWhy (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"pjl: port 9100 closed; falling back to snmp"}, obs.Notes); d != "" {
		t.Errorf("Notes (-want +got):\n%s", d)
	}
	if pjl.dials != 1 {
		t.Errorf("closed pjl dialled %d times, want once", pjl.dials)
	}

	p.Ports = map[string]int{"pjl": 19100}
	obs, _ = observe(t, r, p, "b.both")
	if d := cmp.Diff([]string{"pjl: port 19100 closed; falling back to snmp"}, obs.Notes); d != "" {
		t.Errorf("Notes with a port override (-want +got):\n%s", d)
	}
}

func TestOtherDialErrorsFailTheObservation(t *testing.T) {
	snmp := &fakeSNMP{model: "Lexmark CX725"}
	pjl := &fakeSettings{name: "pjl", dialErr: fmt.Errorf("pjl password: %w", providers.ErrAuth)}
	r := New(testCat(t), snmp, []providers.SettingsTransport{pjl}, nil)
	s, _ := r.Connect(context.Background(), fleet.Printer{Name: "p9", Transports: []string{"pjl"}})
	defer s.Close()
	_, err := s.Observe(context.Background(), []string{"c.pjl_only"})
	if !errors.Is(err, providers.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
}

func TestDefaultPreferenceIsSNMP(t *testing.T) {
	snmp := &fakeSNMP{model: "Lexmark CX725", values: map[string]string{"a.snmp_only": "x"}}
	pjl := &fakeSettings{name: "pjl", values: map[string]string{"c.pjl_only": "A4"}}
	r := New(testCat(t), snmp, []providers.SettingsTransport{pjl}, nil)
	obs, _ := observe(t, r, fleet.Printer{Name: "p"}, "a.snmp_only", "c.pjl_only", "unknown.setting")
	if d := cmp.Diff([]string{"c.pjl_only", "unknown.setting"}, obs.Unsupported); d != "" {
		t.Errorf("Unsupported (-want +got):\n%s", d)
	}
	wantWhy := map[string]string{
		"c.pjl_only":      "no route over snmp; add pjl to transports",
		"unknown.setting": "the printer does not answer it over snmp",
	}
	if d := cmp.Diff(wantWhy, obs.UnsupportedWhy); d != "" {
		t.Errorf("UnsupportedWhy (-want +got):\n%s", d)
	}
	if pjl.dials != 0 {
		t.Errorf("pjl dialled although not preferred")
	}
	// Unknown settings are still asked of SNMP (user-defined OIDs).
	if d := cmp.Diff([][]string{{"a.snmp_only", "unknown.setting"}}, snmp.asked); d != "" {
		t.Errorf("snmp asked (-want +got):\n%s", d)
	}
}

func TestSetBeforeObserveIsAnError(t *testing.T) {
	r := New(testCat(t), &fakeSNMP{}, nil, nil)
	s, _ := r.Connect(context.Background(), fleet.Printer{Name: "p"})
	defer s.Close()
	if err := s.Set(context.Background(), []fleet.Desired{{Name: "a.snmp_only", Value: "x"}}); err == nil {
		t.Fatal("Set without a route succeeded")
	}
}

func TestSendFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "ca.pem")
	data := bytes.Repeat([]byte("cert"), 300)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ftp := &fakeFiles{name: "ftp", closed: true}
	http := &fakeFiles{name: "http"}
	r := New(testCat(t), &fakeSNMP{}, nil, []providers.FileTransport{ftp, http})
	p := fleet.Printer{Name: "p1", Transports: []string{"snmp", "ftp", "http"}}
	s, _ := r.Connect(context.Background(), p)
	defer s.Close()
	fs := s.(providers.FileSender)

	var sent int64
	via, err := fs.SendFile(context.Background(), fleet.File{Source: src, Dest: "ca.pem", Size: int64(len(data))}, func(n int64) { sent = n })
	if err != nil {
		t.Fatal(err)
	}
	if via != "http" {
		t.Errorf("sent via %q, want http (ftp is closed)", via)
	}
	if !bytes.Equal(http.received["ca.pem"], data) || sent != int64(len(data)) {
		t.Errorf("http received %d bytes, progress %d; want %d", len(http.received["ca.pem"]), sent, len(data))
	}

	// An explicit via is kept to: no fallback to another transport.
	_, err = fs.SendFile(context.Background(), fleet.File{Source: src, Dest: "ca.pem", Via: "ftp"}, nil)
	if !errors.Is(err, providers.ErrPortClosed) {
		t.Errorf("via ftp with ftp closed: err = %v, want ErrPortClosed", err)
	}
	// A file that changed size since the configuration was loaded is refused.
	_, err = fs.SendFile(context.Background(), fleet.File{Source: src, Dest: "ca.pem", Size: 5}, nil)
	if err == nil {
		t.Error("size mismatch accepted")
	}
	// No file-capable transport at all.
	s2, _ := r.Connect(context.Background(), fleet.Printer{Name: "p2"})
	defer s2.Close()
	if _, err := s2.(providers.FileSender).SendFile(context.Background(), fleet.File{Source: src}, nil); err == nil {
		t.Error("send with no file transport succeeded")
	}
}

func names(ds []fleet.Desired) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	sort.Strings(out)
	return out
}

// A printer whose only transport is SNMP takes a shorter path through
// Observe; it must route and report exactly as the general one.
func TestSNMPOnlyMatchesRouted(t *testing.T) {
	for _, model := range []string{"Lexmark CX725", "HP M479", "Other"} {
		snmp := &fakeSNMP{model: model, values: map[string]string{"a.snmp_only": "x", "b.both": "2", "e.override": "loc"}}
		r := New(testCat(t), snmp, nil, nil)
		names := []string{"a.snmp_only", "b.both", "c.pjl_only", "d.ews_hp", "e.override", "unknown.setting"}
		for _, p := range []fleet.Printer{{Name: "p"}, {Name: "p", Transports: []string{"snmp"}}} {
			fast, fs := observe(t, r, p, names...)
			s, err := r.Connect(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			rs := s.(*Session)
			routed, err := rs.observeRouted(context.Background(), names, []string{snmpName}, rs.snmp.Observe)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(routed, fast, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("%s: observation (-routed +fast):\n%s", model, d)
			}
			if d := cmp.Diff(s.(*Session).route, fs.(*Session).route); d != "" {
				t.Errorf("%s: routes (-routed +fast):\n%s", model, d)
			}
			if len(fast.Settings) == 0 {
				t.Errorf("%s: no setting observed", model)
			}
		}
	}
}

// checkingSNMP is a fakeSNMP whose sessions can also Check.
type checkingSNMP struct {
	fakeSNMP
	checked [][]string
}

func (f *checkingSNMP) Connect(context.Context, fleet.Printer) (providers.Session, error) {
	return f, nil
}
func (f *checkingSNMP) Check(ctx context.Context, names []string) (fleet.Observation, error) {
	f.checked = append(f.checked, slices.Clone(names))
	obs, err := f.Observe(ctx, names)
	f.asked = f.asked[:len(f.asked)-1] // counted as a check, not an observation
	return obs, err
}

// Check goes to the SNMP session's Check when it has one, on both paths,
// and routes the settings as Observe does; without one it observes.
func TestCheckUsesSNMPCheck(t *testing.T) {
	names := []string{"a.snmp_only", "b.both", "c.pjl_only"}
	for _, p := range []fleet.Printer{{Name: "snmp-only"}, {Name: "routed", Transports: []string{"pjl", "snmp"}}} {
		snmp := &checkingSNMP{fakeSNMP: fakeSNMP{model: "Lexmark CX725", values: map[string]string{"a.snmp_only": "x", "b.both": "2"}}}
		r := New(testCat(t), snmp, []providers.SettingsTransport{&fakeSettings{name: "pjl", closed: true}}, nil)
		want, _ := observe(t, r, p, names...)
		s, err := r.Connect(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := providers.Check(context.Background(), s, names)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s: Check differs from Observe (-observe +check):\n%s", p.Name, d)
		}
		if len(snmp.checked) != 1 || len(snmp.asked) != 1 {
			t.Errorf("%s: SNMP checked %d times and observed %d times; want once each", p.Name, len(snmp.checked), len(snmp.asked))
		}
	}

	plain := &fakeSNMP{model: "Lexmark CX725", values: map[string]string{"a.snmp_only": "x"}}
	s, err := New(testCat(t), plain, nil, nil).Connect(context.Background(), fleet.Printer{Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := providers.Check(context.Background(), s, names); err != nil || len(plain.asked) != 1 {
		t.Errorf("without Check: %v, %d observations; want one", err, len(plain.asked))
	}
}

// alertingSNMP is a fakeSNMP whose sessions read the alert table too.
type alertingSNMP struct{ fakeSNMP }

func (f *alertingSNMP) Connect(context.Context, fleet.Printer) (providers.Session, error) {
	return f, nil
}
func (f *alertingSNMP) ObserveAlerts(ctx context.Context, names []string) (fleet.Observation, error) {
	obs, err := f.Observe(ctx, names)
	obs.Alerts, obs.AlertsRead = []fleet.Alert{{Index: 1, Code: 8}}, true
	return obs, err
}

// ObserveAlerts reaches the SNMP session's on both paths; Observe does
// not read the table; a session that cannot read it observes.
func TestObserveAlerts(t *testing.T) {
	names := []string{"a.snmp_only", "c.pjl_only"}
	for _, p := range []fleet.Printer{{Name: "snmp-only"}, {Name: "routed", Transports: []string{"pjl", "snmp"}}} {
		snmp := &alertingSNMP{fakeSNMP{model: "Lexmark CX725", values: map[string]string{"a.snmp_only": "x"}}}
		r := New(testCat(t), snmp, []providers.SettingsTransport{&fakeSettings{name: "pjl", closed: true}}, nil)
		plain, _ := observe(t, r, p, names...)
		if plain.AlertsRead || plain.Alerts != nil {
			t.Errorf("%s: Observe read alerts", p.Name)
		}
		s, err := r.Connect(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := providers.ObserveAlerts(context.Background(), s, names)
		if err != nil {
			t.Fatal(err)
		}
		if !got.AlertsRead || len(got.Alerts) != 1 || got.Settings["a.snmp_only"] != "x" {
			t.Errorf("%s: %+v", p.Name, got)
		}
	}
	r := New(testCat(t), &fakeSNMP{model: "Lexmark CX725"}, nil, nil)
	s, err := r.Connect(context.Background(), fleet.Printer{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := providers.ObserveAlerts(context.Background(), s, nil); err != nil || got.AlertsRead {
		t.Errorf("without an alert reader: %+v, %v", got, err)
	}
}

// TestSecuredPrinter: a secured printer's settings go only over
// authenticated transports, and a setting without one says it needs lst
// or credentials.
func TestSecuredPrinter(t *testing.T) {
	admin := fleet.Admin{Username: "admin", Password: "pw"}
	v2c := fleet.SNMP{Version: fleet.SNMPv2c, Community: "private"}
	v3auth := fleet.SNMP{Version: fleet.SNMPv3, User: "ops", AuthProtocol: "SHA256", AuthPassphrase: "x", PrivProtocol: "AES", PrivPassphrase: "y"}
	for _, tc := range []struct {
		name       string
		transports []string
		creds      fleet.Credentials
		wantVia    map[string]string
		wantWhy    map[string]string
		wantSNMP   []string // settings asked of SNMP
		pjlDials   int
		lstDials   int
	}{
		{
			name: "plain channels only", transports: []string{"snmp", "pjl"}, creds: fleet.Credentials{SNMP: v2c, Admin: admin},
			wantVia: map[string]string{},
			wantWhy: map[string]string{
				"a.snmp_only": "secured printer: needs lst or credentials; not authenticated: snmp; add lst to transports",
				"c.pjl_only":  "secured printer: needs lst or credentials; not authenticated: pjl; add lst to transports",
			},
		},
		{
			name: "lst with the admin login", transports: []string{"snmp", "pjl", "lst"}, creds: fleet.Credentials{SNMP: v2c, Admin: admin},
			wantVia: map[string]string{"a.snmp_only": "lst", "c.pjl_only": "lst"}, wantWhy: nil, lstDials: 1,
		},
		{
			name: "snmpv3 with auth", transports: []string{"snmp", "pjl", "lst"}, creds: fleet.Credentials{SNMP: v3auth, Admin: admin},
			wantVia: map[string]string{"a.snmp_only": "snmp", "c.pjl_only": "lst"}, wantWhy: nil,
			wantSNMP: []string{"a.snmp_only"}, lstDials: 1,
		},
		{
			name: "lst without credentials", transports: []string{"lst"}, creds: fleet.Credentials{SNMP: v2c},
			wantVia: map[string]string{},
			wantWhy: map[string]string{
				"a.snmp_only": "secured printer: needs lst or credentials; not authenticated: lst; set admin credentials",
				"c.pjl_only":  "secured printer: needs lst or credentials; not authenticated: lst; set admin credentials",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snmp := &fakeSNMP{model: "Lexmark CX725", values: map[string]string{"a.snmp_only": "desk"}}
			pjl := &fakeSettings{name: "pjl", values: map[string]string{"c.pjl_only": "A4"}}
			lst := &fakeSettings{name: "lst", values: map[string]string{"a.snmp_only": "desk", "c.pjl_only": "A4"}}
			r := New(testCat(t), snmp, []providers.SettingsTransport{pjl, lst}, nil)
			p := fleet.Printer{Name: "locked", Secured: true, Transports: tc.transports, Credentials: tc.creds}
			obs, _ := observe(t, r, p, "a.snmp_only", "c.pjl_only")
			if d := cmp.Diff(tc.wantVia, obs.SettingTransports, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("SettingTransports (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantWhy, obs.UnsupportedWhy, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("UnsupportedWhy (-want +got):\n%s", d)
			}
			if d := cmp.Diff([][]string{tc.wantSNMP}, snmp.asked, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("asked of SNMP (-want +got):\n%s", d)
			}
			if pjl.dials != tc.pjlDials || lst.dials != tc.lstDials {
				t.Errorf("dials: pjl %d, lst %d; want %d, %d", pjl.dials, lst.dials, tc.pjlDials, tc.lstDials)
			}
		})
	}
	// An ordinary printer is never pointed at lst.
	snmp := &fakeSNMP{model: "Lexmark CX725"}
	r := New(testCat(t), snmp, nil, nil)
	obs, _ := observe(t, r, fleet.Printer{Name: "open"}, "c.pjl_only")
	if got := obs.UnsupportedWhy["c.pjl_only"]; got != "no route over snmp; add pjl to transports" {
		t.Errorf("ordinary printer: %q", got)
	}
}

// TestSecuredPrinterFiles: a secured printer's files go only over an
// authenticated file transport (https with the admin login).
func TestSecuredPrinterFiles(t *testing.T) {
	src := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(src, []byte("cert"), 0o600); err != nil {
		t.Fatal(err)
	}
	ftp, https := &fakeFiles{name: "ftp"}, &fakeFiles{name: "https"}
	r := New(testCat(t), &fakeSNMP{}, nil, []providers.FileTransport{ftp, https})
	p := fleet.Printer{Name: "vault", Secured: true, Transports: []string{"ftp", "https"},
		Credentials: fleet.Credentials{Admin: fleet.Admin{Username: "admin", Password: "pw"}}}
	s, _ := r.Connect(context.Background(), p)
	defer s.Close()
	fs := s.(providers.FileSender)
	via, err := fs.SendFile(context.Background(), fleet.File{Source: src, Dest: "ca.pem"}, nil)
	if err != nil || via != "https" || ftp.received != nil {
		t.Errorf("sent via %q (%v); ftp received %v: want https only", via, err, ftp.received)
	}
	_, err = fs.SendFile(context.Background(), fleet.File{Source: src, Dest: "ca.pem", Via: "ftp"}, nil)
	if err == nil || !strings.Contains(err.Error(), "secured printer: ftp is not authenticated") || ftp.received != nil {
		t.Errorf("via ftp: %v (ftp received %v)", err, ftp.received)
	}
	// Without the admin login nothing is authenticated.
	p.Credentials = fleet.Credentials{}
	s2, _ := r.Connect(context.Background(), p)
	defer s2.Close()
	if _, err := s2.(providers.FileSender).SendFile(context.Background(), fleet.File{Source: src, Dest: "ca.pem"}, nil); err == nil || !strings.Contains(err.Error(), "no authenticated file transport") {
		t.Errorf("no credentials: %v", err)
	}
}
