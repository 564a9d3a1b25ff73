package simulator

import (
	"testing"

	"github.com/gosnmp/gosnmp"
)

// FuzzHandleRequest feeds arbitrary datagrams to the request handler, with
// no recover in between: it must never panic, and whatever it answers must
// be a decodable response no larger than MaxResponseSize.
func FuzzHandleRequest(f *testing.F) {
	seeds := [][]byte{
		encode(f, gosnmp.Version2c, "public", gosnmp.GetRequest, nulls(OIDSysDescr, OIDPrtSerial, ".1.3.6.1.2.1.99.0"), 0, 0),
		encode(f, gosnmp.Version1, "public", gosnmp.GetNextRequest, nulls(".1.3.6.1.2.1.1"), 0, 0),
		encode(f, gosnmp.Version2c, "public", gosnmp.GetBulkRequest, nulls(OIDSysDescr, ".1.3.6.1.2.1.43"), 1, 50),
		encode(f, gosnmp.Version2c, "private", gosnmp.SetRequest, []gosnmp.SnmpPDU{
			{Name: OIDSysContact, Type: gosnmp.OctetString, Value: "IT"},
			{Name: OIDPrtStartupPage, Type: gosnmp.Integer, Value: presentOff},
		}, 0, 0),
		encode(f, gosnmp.Version1, "private", gosnmp.SetRequest, []gosnmp.SnmpPDU{
			{Name: OIDSysLocation, Type: gosnmp.Counter64, Value: uint64(1 << 40)},
			{Name: OIDSysName, Type: gosnmp.IPAddress, Value: "10.0.0.1"},
			{Name: OIDSysDescr, Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1"},
		}, 0, 0),
		{0x30, 0x03, 0x02, 0x01, 0x01},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	a := testAgent(0)
	f.Fuzz(func(t *testing.T, req []byte) {
		out, v := a.handle(req)
		if v != answered {
			if out != nil {
				t.Fatalf("verdict %v with a response", v)
			}
			return
		}
		if len(out) > MaxResponseSize {
			t.Fatalf("response of %d bytes", len(out))
		}
		var g gosnmp.GoSNMP
		resp, err := g.SnmpDecodePacket(out)
		if err != nil {
			t.Fatalf("response does not decode: %v", err)
		}
		if resp.PDUType != gosnmp.GetResponse {
			t.Fatalf("response PDU type %v", resp.PDUType)
		}
	})
}
