package simulator

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestGetIdentity(t *testing.T) {
	s := startSim(t, Options{Printers: 5})
	for _, version := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		for _, p := range s.Printers() {
			g := client(t, p, "public", version, 2*time.Second)
			res, err := g.Get([]string{OIDSysDescr, OIDHrDeviceDescr, OIDPrtSerial, OIDSysUpTime, OIDSysObjectID})
			if err != nil {
				t.Fatalf("%s v%s: get: %v", p.Name(), version, err)
			}
			if res.Error != gosnmp.NoError {
				t.Fatalf("%s: error status %v", p.Name(), res.Error)
			}
			v := res.Variables
			if got := str(t, v[1].Value); got != p.Model() {
				t.Errorf("%s: hrDeviceDescr = %q, want %q", p.Name(), got, p.Model())
			}
			if got := str(t, v[2].Value); got != p.Serial() {
				t.Errorf("%s: serial = %q, want %q", p.Name(), got, p.Serial())
			}
			if v[3].Type != gosnmp.TimeTicks {
				t.Errorf("%s: sysUpTime type %v", p.Name(), v[3].Type)
			}
			if v[4].Type != gosnmp.ObjectIdentifier || !strings.HasPrefix(v[4].Value.(string), ".1.3.6.1.4.1.") {
				t.Errorf("%s: sysObjectID = %v", p.Name(), v[4].Value)
			}
		}
	}
	// Lexmark printers answer the 641 tree, others do not.
	lex, hp := s.Printers()[0], s.Printers()[2]
	g := client(t, lex, "public", gosnmp.Version2c, 2*time.Second)
	res, err := g.Get([]string{OIDLexmarkFirmware, OIDLexmarkSerial})
	if err != nil {
		t.Fatal(err)
	}
	if str(t, res.Variables[0].Value) != lex.Firmware() || str(t, res.Variables[1].Value) != lex.Serial() {
		t.Errorf("Lexmark tree: %v", res.Variables)
	}
	g = client(t, hp, "public", gosnmp.Version2c, 2*time.Second)
	res, err = g.Get([]string{OIDLexmarkFirmware})
	if err != nil {
		t.Fatal(err)
	}
	if res.Variables[0].Type != gosnmp.NoSuchObject {
		t.Errorf("HP answers the Lexmark tree: %v", res.Variables[0])
	}
	if !strings.Contains(string(mustGet(t, hp, OIDSysDescr)), "JETDIRECT") {
		t.Errorf("HP sysDescr is not JetDirect-style")
	}
}

func mustGet(t *testing.T, p *Printer, oid string) []byte {
	t.Helper()
	pdu, ok := p.Get(oid)
	if !ok {
		t.Fatalf("%s: %s missing", p.Name(), oid)
	}
	b, _ := pdu.Value.([]byte)
	return b
}

func TestGetMissing(t *testing.T) {
	s := startSim(t, Options{Printers: 1})
	p := s.Printers()[0]
	g := client(t, p, "public", gosnmp.Version2c, 2*time.Second)
	res, err := g.Get([]string{
		".1.3.6.1.2.1.1.1.0",            // exists
		".1.3.6.1.2.1.1.1.1",            // wrong instance of sysDescr
		".1.3.6.1.2.1.43.11.1.1.9.1.99", // supply that does not exist
		".1.3.6.1.2.1.99.1.0",           // no such object
		".1.3.6.1.2.1.1.1",              // the object itself, no instance
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []gosnmp.Asn1BER{gosnmp.OctetString, gosnmp.NoSuchInstance, gosnmp.NoSuchInstance, gosnmp.NoSuchObject, gosnmp.NoSuchInstance}
	for i, vb := range res.Variables {
		if vb.Type != want[i] {
			t.Errorf("varbind %d (%s): type %v, want %v", i, vb.Name, vb.Type, want[i])
		}
	}

	g1 := client(t, p, "public", gosnmp.Version1, 2*time.Second)
	res, err = g1.Get([]string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.99.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != gosnmp.NoSuchName || res.ErrorIndex != 2 {
		t.Errorf("v1: error %v index %d, want noSuchName index 2", res.Error, res.ErrorIndex)
	}
}

// TestWalkOrder walks the whole tree with GETNEXT (v1 and v2c) and GETBULK
// (v2c): each walk ends, returns every object exactly once, in strictly
// increasing OID order, and all three agree.
func TestWalkOrder(t *testing.T) {
	s := startSim(t, Options{Printers: 5})
	for _, p := range s.Printers() {
		var walks [][]string
		for _, tc := range []struct {
			version gosnmp.SnmpVersion
			bulk    bool
		}{{gosnmp.Version1, false}, {gosnmp.Version2c, false}, {gosnmp.Version2c, true}} {
			g := client(t, p, "public", tc.version, 2*time.Second)
			walk := g.WalkAll
			if tc.bulk {
				walk = g.BulkWalkAll
			}
			pdus, err := walk(".1.3")
			if err != nil {
				t.Fatalf("%s: walk (v%s bulk=%v): %v", p.Name(), tc.version, tc.bulk, err)
			}
			var names []string
			var prev []uint32
			for _, pdu := range pdus {
				o, ok := parseOID(nil, pdu.Name)
				if !ok {
					t.Fatalf("bad OID %q", pdu.Name)
				}
				if prev != nil && compareOID(prev, o) >= 0 {
					t.Fatalf("%s: walk not increasing: %s after %s", p.Name(), pdu.Name, formatOID(prev))
				}
				prev = o
				names = append(names, pdu.Name)
			}
			walks = append(walks, names)
		}
		// Every object but the alert table's absent rows.
		present := 0
		for _, v := range p.vals {
			if v != nil {
				present++
			}
		}
		if len(walks[0]) != present {
			t.Errorf("%s: walk returned %d objects, tree has %d", p.Name(), len(walks[0]), present)
		}
		for i := 1; i < len(walks); i++ {
			if !slices.Equal(walks[0], walks[i]) {
				t.Errorf("%s: walks differ:\n%v\n%v", p.Name(), walks[0], walks[i])
			}
		}
	}
}

func TestGetNextEnd(t *testing.T) {
	s := startSim(t, Options{Printers: 1})
	p := s.Printers()[0]
	last := p.lay.objs[len(p.lay.objs)-1].name
	g := client(t, p, "public", gosnmp.Version2c, 2*time.Second)
	res, err := g.GetNext([]string{last})
	if err != nil {
		t.Fatal(err)
	}
	if vb := res.Variables[0]; vb.Type != gosnmp.EndOfMibView || vb.Name != last {
		t.Errorf("after the last object: %v %s", vb.Type, vb.Name)
	}
	g1 := client(t, p, "public", gosnmp.Version1, 2*time.Second)
	res, err = g1.GetNext([]string{OIDSysDescr, last})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != gosnmp.NoSuchName || res.ErrorIndex != 2 {
		t.Errorf("v1 after the last object: %v index %d", res.Error, res.ErrorIndex)
	}
}

func TestGetBulk(t *testing.T) {
	a := testAgent(0)
	l := a.p.lay
	last := l.objs[len(l.objs)-1].name

	// One non-repeater, two repeaters, one of which runs off the end.
	req := encode(t, gosnmp.Version2c, "public", gosnmp.GetBulkRequest,
		nulls(OIDSysDescr, OIDSysContact, l.objs[len(l.objs)-2].name), 1, 3)
	out, v := a.handle(req)
	if v != answered {
		t.Fatalf("verdict %v", v)
	}
	got := decode(t, out).Variables
	want := []struct {
		name string
		typ  gosnmp.Asn1BER
	}{
		{OIDSysObjectID, gosnmp.ObjectIdentifier},
		{OIDSysName, gosnmp.OctetString}, {last, gosnmp.OctetString},
		{OIDSysLocation, gosnmp.OctetString}, {last, gosnmp.EndOfMibView},
		{".1.3.6.1.2.1.1.7.0", gosnmp.Integer}, {last, gosnmp.EndOfMibView},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d varbinds, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Type != w.typ {
			t.Errorf("varbind %d: %s %v, want %s %v", i, got[i].Name, got[i].Type, w.name, w.typ)
		}
	}

	// A huge max-repetitions is cut to what fits one datagram.
	out, _ = a.handle(encode(t, gosnmp.Version2c, "public", gosnmp.GetBulkRequest, nulls(".1.3"), 0, 10000))
	if len(out) > MaxResponseSize {
		t.Fatalf("response of %d bytes exceeds %d", len(out), MaxResponseSize)
	}
	resp := decode(t, out)
	if resp.Error != gosnmp.NoError || len(resp.Variables) < 10 || len(resp.Variables) >= len(l.objs) {
		t.Errorf("cut bulk: error %v, %d varbinds of %d", resp.Error, len(resp.Variables), len(l.objs))
	}
	// It was cut at the right place: one more varbind would not fit.
	more := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: 4242}
	a.p.mu.Lock()
	for i := 0; i <= len(resp.Variables); i++ {
		o := l.objs[i]
		more.Variables = append(more.Variables, gosnmp.SnmpPDU{Name: o.name, Type: o.typ, Value: a.p.valueLocked(i)})
	}
	a.p.mu.Unlock()
	if b, err := more.MarshalMsg(); err != nil || len(b) <= MaxResponseSize {
		t.Errorf("one more varbind would still fit (%d bytes, %v): the cut is too early", len(b), err)
	}

	// GETBULK does not exist in v1.
	if _, v := a.handle(encode(t, gosnmp.Version1, "public", gosnmp.GetBulkRequest, nulls(".1.3"), 0, 5)); v != malformed {
		t.Errorf("v1 GETBULK: verdict %v, want dropped", v)
	}
}

func TestTooBig(t *testing.T) {
	a := testAgent(0)
	oids := make([]string, 40)
	for i := range oids {
		oids[i] = OIDSysDescr
	}
	for _, version := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		out, v := a.handle(encode(t, version, "public", gosnmp.GetRequest, nulls(oids...), 0, 0))
		if v != answered {
			t.Fatalf("verdict %v", v)
		}
		resp := decode(t, out)
		if resp.Error != gosnmp.TooBig || resp.ErrorIndex != 0 {
			t.Errorf("v%s: error %v index %d, want tooBig 0", version, resp.Error, resp.ErrorIndex)
		}
		if version == gosnmp.Version2c && len(resp.Variables) != 0 {
			t.Errorf("v2c tooBig carries %d varbinds", len(resp.Variables))
		}
	}
}

func TestSet(t *testing.T) {
	s := startSim(t, Options{Printers: 1})
	p := s.Printers()[0]
	rwc := client(t, p, "private", gosnmp.Version2c, 2*time.Second)
	roc := client(t, p, "public", gosnmp.Version2c, 2*time.Second)
	rw1 := client(t, p, "private", gosnmp.Version1, 2*time.Second)
	ro1 := client(t, p, "public", gosnmp.Version1, 2*time.Second)
	octets := func(oid, v string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.OctetString, Value: v}
	}
	integer := func(oid string, v int) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Integer, Value: v}
	}

	res, err := rwc.Set([]gosnmp.SnmpPDU{octets(OIDSysContact, "IT x4000"), integer(OIDPrtStartupPage, presentOff)})
	if err != nil || res.Error != gosnmp.NoError {
		t.Fatalf("set: %v %v", err, res.Error)
	}
	if got := string(mustGet(t, p, OIDSysContact)); got != "IT x4000" {
		t.Errorf("sysContact = %q after SET", got)
	}
	if pdu, _ := p.Get(OIDPrtStartupPage); pdu.Value != presentOff {
		t.Errorf("startup page = %v after SET", pdu.Value)
	}
	// Reads see the new value too.
	got, err := roc.Get([]string{OIDSysContact})
	if err != nil || str(t, got.Variables[0].Value) != "IT x4000" {
		t.Errorf("read back: %v %v", err, got)
	}

	cases := []struct {
		name   string
		g      *gosnmp.GoSNMP
		vbs    []gosnmp.SnmpPDU
		status gosnmp.SNMPError
		index  uint8
	}{
		{"read community v2c", roc, []gosnmp.SnmpPDU{octets(OIDSysContact, "x")}, gosnmp.NoAccess, 1},
		{"read community v1", ro1, []gosnmp.SnmpPDU{octets(OIDSysContact, "x")}, gosnmp.NoSuchName, 1},
		{"read-only v2c", rwc, []gosnmp.SnmpPDU{octets(OIDSysDescr, "x")}, gosnmp.NotWritable, 1},
		{"read-only v1", rw1, []gosnmp.SnmpPDU{octets(OIDSysDescr, "x")}, gosnmp.NoSuchName, 1},
		{"wrong type v2c", rwc, []gosnmp.SnmpPDU{integer(OIDSysContact, 3)}, gosnmp.WrongType, 1},
		{"wrong type v1", rw1, []gosnmp.SnmpPDU{integer(OIDSysContact, 3)}, gosnmp.BadValue, 1},
		{"too long", rwc, []gosnmp.SnmpPDU{octets(OIDSysContact, strings.Repeat("x", 256))}, gosnmp.WrongLength, 1},
		{"wrong value", rwc, []gosnmp.SnmpPDU{integer(OIDPrtStartupPage, 7)}, gosnmp.WrongValue, 1},
		{"no such object", rwc, []gosnmp.SnmpPDU{octets(".1.3.6.1.2.1.1.99.0", "x")}, gosnmp.NoCreation, 1},
		// All or nothing: the valid first varbind must not be applied.
		{"second fails", rwc, []gosnmp.SnmpPDU{octets(OIDSysContact, "x"), octets(OIDSysDescr, "x")}, gosnmp.NotWritable, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.g.Set(tc.vbs)
			if err != nil {
				t.Fatal(err)
			}
			if res.Error != tc.status || res.ErrorIndex != tc.index {
				t.Errorf("error %v index %d, want %v index %d", res.Error, res.ErrorIndex, tc.status, tc.index)
			}
			if len(res.Variables) != len(tc.vbs) {
				t.Errorf("response has %d varbinds, want the request's %d", len(res.Variables), len(tc.vbs))
			}
			if got := string(mustGet(t, p, OIDSysContact)); got != "IT x4000" {
				t.Errorf("sysContact changed to %q by a failed SET", got)
			}
		})
	}
	if pdu, _ := p.Get(".1.3.6.1.2.1.43.5.1.1.1.1"); pdu.Value != uint32(1) {
		t.Errorf("prtGeneralConfigChanges = %v, want 1 (one successful SET)", pdu.Value)
	}
}

func TestUnknownCommunityIsDropped(t *testing.T) {
	s := startSim(t, Options{Printers: 1})
	p := s.Printers()[0]
	g := client(t, p, "guess", gosnmp.Version2c, 200*time.Millisecond)
	if _, err := g.Get([]string{OIDSysDescr}); err == nil {
		t.Fatal("a request with an unknown community was answered")
	}
	if st := s.Stats(); st.Refused != 1 || st.Answered != 0 {
		t.Errorf("stats %+v, want one refused", st)
	}
}

func TestOffline(t *testing.T) {
	s := startSim(t, Options{Printers: 2, Offline: 1})
	off, on := s.Printers()[0], s.Printers()[1]
	if _, err := client(t, off, "public", gosnmp.Version2c, 200*time.Millisecond).Get([]string{OIDSysDescr}); err == nil {
		t.Error("offline printer answered")
	}
	if _, err := client(t, on, "public", gosnmp.Version2c, 2*time.Second).Get([]string{OIDSysDescr}); err != nil {
		t.Errorf("online printer: %v", err)
	}
	off.SetOffline(false)
	if _, err := client(t, off, "public", gosnmp.Version2c, 2*time.Second).Get([]string{OIDSysDescr}); err != nil {
		t.Errorf("printer back online: %v", err)
	}
	on.SetOffline(true)
	if _, err := client(t, on, "public", gosnmp.Version2c, 200*time.Millisecond).Get([]string{OIDSysDescr}); err == nil {
		t.Error("printer set offline answered")
	}
	if st := s.Stats(); st.Ignored != 2 {
		t.Errorf("ignored = %d, want 2", st.Ignored)
	}
}

func TestMalformedDropped(t *testing.T) {
	a := testAgent(0)
	for _, b := range [][]byte{
		nil, {0x30}, []byte("hello world"),
		encode(t, gosnmp.Version2c, "public", gosnmp.GetResponse, nulls(OIDSysDescr), 0, 0),
	} {
		if out, v := a.handle(b); v != malformed || out != nil {
			t.Errorf("%x: verdict %v, %d bytes", b, v, len(out))
		}
	}
	// SNMPv3 is not served.
	v3 := encode(t, gosnmp.Version2c, "public", gosnmp.GetRequest, nulls(OIDSysDescr), 0, 0)
	v3[4] = 3
	if _, v := a.handle(v3); v != malformed {
		t.Errorf("v3: verdict %v", v)
	}
}

// TestIPv6EchoNoFault covers a value gosnmp decodes but cannot encode again.
func TestIPv6EchoNoFault(t *testing.T) {
	a := testAgent(0)
	req := encode(t, gosnmp.Version2c, "private", gosnmp.SetRequest,
		[]gosnmp.SnmpPDU{{Name: OIDSysContact, Type: gosnmp.IPAddress, Value: []byte(net.ParseIP("::1"))}}, 0, 0)
	out, v := a.handle(req)
	if v != answered {
		t.Fatalf("verdict %v", v)
	}
	if resp := decode(t, out); resp.Error != gosnmp.WrongType {
		t.Errorf("error %v, want wrongType", resp.Error)
	}
}

func TestLatency(t *testing.T) {
	const latency = 80 * time.Millisecond
	s := startSim(t, Options{Printers: 1, Latency: latency})
	g := client(t, s.Printers()[0], "public", gosnmp.Version2c, 2*time.Second)
	start := time.Now()
	if _, err := g.Get([]string{OIDSysDescr}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < latency {
		t.Errorf("answered after %v, before the latency of %v", d, latency)
	}
}
