package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

func TestLayoutSortedAndUnique(t *testing.T) {
	for i := range families {
		p := newPrinter(i, 3, time.Now(), nil)
		objs := p.lay.objs
		for k := 1; k < len(objs); k++ {
			if compareOID(objs[k-1].oid, objs[k].oid) >= 0 {
				t.Errorf("%s: %s not after %s", p.Model(), objs[k].name, objs[k-1].name)
			}
		}
		if len(p.lay.supplies) != p.id.fam.supplyCount() {
			t.Errorf("%s: %d supplies, want %d", p.Model(), len(p.lay.supplies), p.id.fam.supplyCount())
		}
	}
}

func TestIdentityDeterministicAndUnique(t *testing.T) {
	serials := map[string]int{}
	names := map[string]int{}
	for i := range 20000 {
		id := identityOf(i)
		if prev, dup := serials[id.serial]; dup {
			t.Fatalf("printers %d and %d share serial %s", prev, i, id.serial)
		}
		serials[id.serial] = i
		if prev, dup := names[id.factoryName()]; dup {
			t.Fatalf("printers %d and %d share sysName %s", prev, i, id.factoryName())
		}
		names[id.factoryName()] = i
		if again := identityOf(i); again != id {
			t.Fatalf("identity of %d changed: %+v then %+v", i, id, again)
		}
	}
	if id := identityOf(0); id.serial != "LXK7D0001" || id.fam.model != "Lexmark CX725" {
		t.Errorf("printer 0 is %s %s", id.fam.model, id.serial)
	}
}

func TestPrintPages(t *testing.T) {
	p := newPrinter(6, 3, time.Now(), nil) // index 6: black toner starts at 5 %
	level := func(k int) int {
		pdu, ok := p.Get(fmt.Sprintf("%s.9.1.%d", OIDPrtSuppliesEntry, k))
		if !ok {
			t.Fatalf("supply %d missing", k)
		}
		return pdu.Value.(int)
	}
	pages := func() uint32 {
		pdu, _ := p.Get(OIDPrtMarkerLife)
		return pdu.Value.(uint32)
	}
	errs := func() byte { return mustGet(t, p, OIDHrPrinterErrors)[0] }

	if p.Model() != "Lexmark MS821" {
		t.Fatalf("index 6 is %s", p.Model())
	}
	if errs()&0x20 == 0 {
		t.Errorf("error state %08b: lowToner not set at 5 %%", errs())
	}
	p0, black, drum := pages(), level(1), level(2)
	p.PrintPages(100)
	if got := pages(); got != p0+100 {
		t.Errorf("page count %d, want %d", got, p0+100)
	}
	if got := level(1); got != black-100 {
		t.Errorf("black toner %d, want %d", got, black-100)
	}
	if got := level(2); got != drum-100 {
		t.Errorf("drum %d, want %d", got, drum-100)
	}
	p.PrintPages(black) // runs the toner dry; it never goes negative
	if got := level(1); got != 0 {
		t.Errorf("black toner %d after running dry", got)
	}
	if e := errs(); e&0x10 == 0 || e&0x20 != 0 {
		t.Errorf("error state %08b: want noToner and not lowToner", e)
	}

	// Colour toners drain on every fourth page only.
	c := newPrinter(0, 3, time.Now(), nil)
	cyan := func() int {
		pdu, _ := c.Get(OIDPrtSuppliesEntry + ".9.1.2")
		return pdu.Value.(int)
	}
	before := cyan()
	pdu, _ := c.Get(OIDPrtMarkerLife)
	start := pdu.Value.(uint32)
	c.PrintPages(400)
	if want := before - int((uint64(start)+400)/4-uint64(start)/4); cyan() != want {
		t.Errorf("cyan %d after 400 pages, want %d", cyan(), want)
	}
}

func TestFrontPanelSet(t *testing.T) {
	p := newPrinter(0, 3, time.Now(), nil)
	if err := p.Set(OIDSysLocation, "Lobby"); err != nil {
		t.Fatal(err)
	}
	if got := string(mustGet(t, p, OIDSysLocation)); got != "Lobby" {
		t.Errorf("sysLocation = %q", got)
	}
	// Read-only objects may drift too (a firmware update from the panel).
	if err := p.Set(OIDLexmarkFirmware, []byte("CXTPC.240.001")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		oid   string
		value any
	}{
		{OIDSysLocation, 42},
		{OIDPrtStartupPage, "on"},
		{OIDPrtMarkerLife, -1},
		{OIDSysUpTime, uint32(5)},
		{".1.3.6.1.2.1.1.99.0", "x"},
		{"not.an.oid", "x"},
	} {
		if err := p.Set(tc.oid, tc.value); err == nil {
			t.Errorf("Set(%s, %#v) succeeded", tc.oid, tc.value)
		} else if !strings.Contains(err.Error(), p.Name()) {
			t.Errorf("error %q does not name the printer", err)
		}
	}
}

func TestStateFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim-state.json")
	o := Options{Printers: 3, StateFile: path, ReadCommunity: "r3ad-secret", WriteCommunity: "wr1te-secret"}
	s, err := Start(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Printers()[1]
	g := client(t, p, "wr1te-secret", gosnmp.Version2c, 2*time.Second)
	if res, err := g.Set([]gosnmp.SnmpPDU{{Name: OIDSysContact, Type: gosnmp.OctetString, Value: "Ops x12"}}); err != nil || res.Error != gosnmp.NoError {
		t.Fatalf("set: %v %v", err, res)
	}
	// Saved soon after the SET, without waiting for Close.
	eventually(t, "state file after SET", func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Contains(b, []byte("Ops x12"))
	})
	if err := p.Set(OIDSysName, []byte{0xff, 0x00, 'x'}); err != nil { // not UTF-8
		t.Fatal(err)
	}
	p.PrintPages(25)
	pdu, _ := p.Get(OIDPrtMarkerLife)
	pages := pdu.Value.(uint32)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("secret")) {
		t.Errorf("state file holds a community:\n%s", data)
	}
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Printers) != 1 {
		t.Errorf("state holds %d printers, want only the changed one", len(doc.Printers))
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	s2 := startSim(t, o)
	q := s2.Printers()[1]
	if got := string(mustGet(t, q, OIDSysContact)); got != "Ops x12" {
		t.Errorf("sysContact after restart = %q", got)
	}
	if got := mustGet(t, q, OIDSysName); !bytes.Equal(got, []byte{0xff, 0x00, 'x'}) {
		t.Errorf("sysName after restart = %x", got)
	}
	if pdu, _ := q.Get(OIDPrtMarkerLife); pdu.Value != pages {
		t.Errorf("page count after restart = %v, want %d", pdu.Value, pages)
	}
	if got := string(mustGet(t, s2.Printers()[0], OIDSysContact)); got != "" {
		t.Errorf("an untouched printer changed: %q", got)
	}
}

func TestStateFileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.json": "{not json",
		"version.json": `{"format_version": 99}`,
		"type.json":    `{"format_version": 1, "printers": {"LXK7D0001": {".1.3.6.1.2.1.1.4.0": {"number": 5}}}}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Start(t.Context(), Options{Printers: 1, StateFile: path})
		if err == nil {
			s.Close()
			t.Errorf("%s: Start succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

func TestWriteHCLGolden(t *testing.T) {
	var printers []*Printer
	for i := range 5 {
		p := newPrinter(i, 3, time.Now(), nil)
		p.addr = fmt.Sprintf("127.0.0.1:%d", 16101+i)
		// The first two serve SNMP only; the others TCP services too, the
		// last without HTTPS.
		if i >= 2 {
			p.setPort("pjl", 19101+i)
			p.setPort("ftp", 2121+i)
			p.setPort("http", 8081+i)
			if i < 4 {
				p.setPort("https", 8441+i)
			}
		}
		printers = append(printers, p)
	}
	var buf bytes.Buffer
	params := hclParams{
		listen: "127.0.0.1", community: "private", adminUser: "admin", adminPassword: "inkform-sim",
		fingerprint: func(p *Printer) string { return "sha256:" + strings.Repeat(fmt.Sprintf("%02x", p.id.index), 32) },
	}
	if err := writeHCL(&buf, params, printers); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "fleet.hcl")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteHCL output differs from %s (run with -update):\n%s", golden, buf.Bytes())
	}
	if formatted := hclwrite.Format(buf.Bytes()); !bytes.Equal(formatted, buf.Bytes()) {
		t.Errorf("output is not in canonical format:\n%s", formatted)
	}
}

func TestWriteHCLLive(t *testing.T) {
	s := startSim(t, Options{Printers: 3, WriteCommunity: "w"})
	var buf bytes.Buffer
	if err := s.WriteHCL(&buf); err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(buf.Bytes(), "fleet.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("generated configuration does not parse: %v\n%s", diags, buf.Bytes())
	}
	content, diags := f.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "credentials", LabelNames: []string{"name"}},
		{Type: "printer", LabelNames: []string{"name"}},
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	byName := map[string]*Printer{}
	for _, p := range s.Printers() {
		byName[p.Name()] = p
	}
	n := 0
	for _, b := range content.Blocks.OfType("printer") {
		attrs, _ := b.Body.JustAttributes()
		p := byName[b.Labels[0]]
		if p == nil {
			t.Fatalf("unknown printer %q", b.Labels[0])
		}
		addr, _ := attrs["address"].Expr.Value(nil)
		serial, _ := attrs["serial"].Expr.Value(nil)
		if addr.AsString() != p.Addr() || serial.AsString() != p.Serial() {
			t.Errorf("%s: address %s serial %s, want %s %s", p.Name(), addr.AsString(), serial.AsString(), p.Addr(), p.Serial())
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d printer blocks, want 3", n)
	}
}

func TestLossIsDeterministic(t *testing.T) {
	lost := func() (uint64, uint64) {
		s := startSim(t, Options{Printers: 1, Loss: 0.5, Seed: 7})
		conn, err := net.Dial("udp", s.Printers()[0].Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := encode(t, gosnmp.Version2c, "public", gosnmp.GetRequest, nulls(OIDSysDescr), 0, 0)
		const n = 200
		for range n {
			if _, err := conn.Write(req); err != nil {
				t.Fatal(err)
			}
		}
		// Loopback may itself drop datagrams when the socket buffer is
		// full, so wait only until the agent has seen everything it got.
		var st Stats
		eventually(t, "all requests handled", func() bool {
			st = s.Stats()
			return st.Answered+st.Lost == n
		})
		return st.Lost, st.Answered
	}
	l1, a1 := lost()
	l2, a2 := lost()
	if l1 != l2 || a1 != a2 {
		t.Errorf("same seed, different loss: %d/%d then %d/%d", l1, a1, l2, a2)
	}
	if l1 < 60 || l1 > 140 {
		t.Errorf("lost %d of 200 at 50 %% loss", l1)
	}
}

func TestContextEndsSimulator(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Start(ctx, Options{Printers: 2})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("simulator still running after its context ended")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Printers()[0].conn.ReadFromUDPAddrPort(make([]byte, 1)); err == nil {
		t.Error("socket still open after Close")
	}
}

func TestBasePort(t *testing.T) {
	// Pick a free port first, then ask for it.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	s := startSim(t, Options{Printers: 1, BasePort: port})
	if want := fmt.Sprintf("127.0.0.1:%d", port); s.Printers()[0].Addr() != want {
		t.Errorf("address %s, want %s", s.Printers()[0].Addr(), want)
	}
	// The port is taken now: a second fleet on it fails with a clear error.
	if s2, err := Start(t.Context(), Options{Printers: 1, BasePort: port}); err == nil {
		s2.Close()
		t.Error("second fleet bound the same port")
	} else if !strings.Contains(err.Error(), "sim-001") {
		t.Errorf("error %q does not name the printer", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []Options{
		{Printers: 0},
		{Printers: 1, Listen: "not-an-ip"},
		{Printers: 10, BasePort: 65530},
		{Printers: 1, Loss: 1.5},
		{Printers: 1, Offline: 2},
		{Printers: 1, Latency: -time.Second},
	} {
		if s, err := Start(t.Context(), o); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded", o)
		}
	}
}

func TestResponseSizeExact(t *testing.T) {
	for i := range families {
		p := newPrinter(i, 3, time.Now(), nil)
		resp := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: 123456}
		vbl := 0
		for k, o := range p.lay.objs {
			if p.vals[k] == nil {
				continue // an absent alert row
			}
			vb := gosnmp.SnmpPDU{Name: o.name, Type: o.typ, Value: p.valueLocked(k)}
			resp.Variables = append(resp.Variables, vb)
			vbl += varbindSize(vb)
			b, err := resp.MarshalMsg()
			if err != nil {
				t.Fatal(err)
			}
			if got := responseSize(len(resp.Community), resp.RequestID, vbl); got != len(b) {
				t.Fatalf("%s: %d varbinds: computed %d bytes, marshalled %d", p.Model(), k+1, got, len(b))
			}
		}
	}
}
