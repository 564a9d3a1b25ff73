package simulator

import (
	"strings"
	"testing"
	"time"
)

const tinyRecording = `# a printer
1.3.6.1.2.1.1.1.0|4|HP ETHERNET MULTI-ENVIRONMENT,SN:CNB1234567,FN:XY
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.11.2.3.9.1
1.3.6.1.2.1.1.3.0|67|81689900
1.3.6.1.2.1.1.5.0|4x|4e5049303132
1.3.6.1.2.1.2.2.1.6.1|4x|A0D3C1123456
1.3.6.1.2.1.4.20.1.1.10.0.0.9|64|10.0.0.9
1.3.6.1.2.1.25.3.2.1.3.1|4|HP LaserJet 400
1.3.6.1.2.1.43.5.1.1.17.1|4|CNB1234567
1.3.6.1.2.1.43.10.2.1.4.1.1|65|4242
1.3.6.1.2.1.43.11.1.1.5.1.1|2|3
1.3.6.1.2.1.43.11.1.1.8.1.1|2|1000
1.3.6.1.2.1.43.11.1.1.9.1.1|2|500
1.3.6.1.2.1.43.11.1.1.9.1.1|2|7
1.3.6.1.2.1.2.2.1.10.1|65|12x4
1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.3.0|4|CNB1234567
1.3.6.1.6.3.10.2.1.3.0|70|18446744073709551615
`

func TestParseRecording(t *testing.T) {
	r, err := ParseRecording("tiny.snmprec", []byte(tinyRecording))
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "tiny" || r.Model() != "HP LaserJet 400" || r.Serial() != "CNB1234567" {
		t.Errorf("name %q, model %q, serial %q", r.Name(), r.Model(), r.Serial())
	}
	if got := r.Skipped(); len(got) != 2 || !strings.HasPrefix(got[0], "line 14:") || !strings.HasPrefix(got[1], "line 15:") {
		t.Errorf("skipped %q", got)
	}

	p := newPrinter(2, 3, time.Now(), r)
	for oid, want := range map[string]string{
		OIDSysDescr:  "HP ETHERNET MULTI-ENVIRONMENT,SN:CNB12345670003,FN:XY",
		OIDPrtSerial: "CNB12345670003", ".1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.3.0": "CNB12345670003",
		OIDSysName: "NPI012", ".1.3.6.1.2.1.4.20.1.1.10.0.0.9": "10.0.0.9",
		OIDSysContact: "", // not recorded: added, writable
	} {
		pdu, ok := p.Get(oid)
		if !ok {
			t.Errorf("%s: missing", oid)
			continue
		}
		got := pdu.Value
		if b, ok := got.([]byte); ok {
			got = string(b)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", oid, got, want)
		}
	}
	mac0, _ := newPrinter(0, 3, time.Now(), r).Get(".1.3.6.1.2.1.2.2.1.6.1")
	mac2, _ := p.Get(".1.3.6.1.2.1.2.2.1.6.1")
	if m0, m2 := mac0.Value.([]byte), mac2.Value.([]byte); len(m0) != 6 || len(m2) != 6 ||
		string(m0[:3]) != "\xa0\xd3\xc1" || string(m2[:3]) != "\xa0\xd3\xc1" || string(m0) == string(m2) {
		t.Errorf("MAC addresses %x and %x: want the recorded vendor prefix and each its own", m0, m2)
	}
	if pdu, _ := p.Get(".1.3.6.1.2.1.43.11.1.1.9.1.1"); pdu.Value != 500 {
		t.Errorf("the first of two recorded values is served: %v", pdu.Value)
	}
	p.PrintPages(10)
	if pdu, _ := p.Get(".1.3.6.1.2.1.43.11.1.1.9.1.1"); pdu.Value != 490 {
		t.Errorf("toner after 10 pages: %v", pdu.Value)
	}
	if pdu, _ := p.Get(OIDPrtMarkerLife); pdu.Value != uint32(4252) {
		t.Errorf("page count after 10 pages: %v", pdu.Value)
	}
	if err := p.SetSetting("system.contact", "desk"); err != nil {
		t.Fatalf("a recorded printer's contact is writable: %v", err)
	}
}

func TestParseRecordingErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1.3.6.1.2.1.1.1.0|4|ok\nnot a record\n", "x.snmprec:2: want OID|TYPE|VALUE"},
		{"1.3.6.x|4|v\n", "x.snmprec:1: OID"},
		{"1.3.6.1|4:numeric|v\n", "x.snmprec:1: type \"4:numeric\""},
		{"1.3.6.1|99|v\n", "x.snmprec:1: type 99 is not supported"},
		{"# nothing\n", "no objects"},
	} {
		_, err := ParseRecording("x.snmprec", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseRecording(f *testing.F) {
	f.Add([]byte(tinyRecording))
	f.Add([]byte("1.3.6.1.2.1.1.1.0|4x|zz\n1.3|64x|0a00\n1.3.6|6|1.3..6\n"))
	f.Add([]byte("1.3.6.1.2.1.43.11.1.1.8.1.1|2|-2\n1.3.6.1.2.1.43.11.1.1.9.1.1|2|-3\n1.3.6.1.2.1.1.3.0|2|5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecording("fuzz.snmprec", data)
		if err != nil {
			return
		}
		// Whatever parses can be served.
		b, l := buildRecordedTree(identityOfRecording(1, r))
		if len(b.objs) != len(b.vals) || len(l.supplies) > len(b.objs) {
			t.Fatalf("%d objects, %d values, %d supplies", len(b.objs), len(b.vals), len(l.supplies))
		}
	})
}

// A printer cloned from a recording serves the TCP services too.
func TestRecordedPrinterServesServices(t *testing.T) {
	r, err := ParseRecording("tiny.snmprec", []byte(tinyRecording))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := Start(t.Context(), Options{Printers: 2, Recording: r, Services: Services()})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	for _, p := range sim.Printers() {
		if len(p.Ports()) != len(Services()) || p.Model() != "HP LaserJet 400" {
			t.Errorf("%s: ports %v, model %q", p.Name(), p.Ports(), p.Model())
		}
		if err := p.SetSetting("system.location", "lab"); err != nil {
			t.Errorf("%s: %v", p.Name(), err)
		}
	}
	var hcl strings.Builder
	if err := sim.WriteHCL(&hcl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hcl.String(), `"CNB12345670001"`) || !strings.Contains(hcl.String(), `"CNB12345670002"`) {
		t.Errorf("configuration lacks the printers' serials:\n%s", hcl.String())
	}
}
