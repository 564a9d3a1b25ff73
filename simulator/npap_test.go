package simulator

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/protocol/npap"
	"github.com/inkform/inkform/protocol/xmlnt"
)

// exchange sends req to the printer's service and returns the reply,
// with codec.
func exchange(t *testing.T, p *Printer, service string, codec npap.Codec, raw []byte) (npap.Message, bool) {
	t.Helper()
	c, err := net.Dial("udp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p.Port(service))).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, codec.MaxDatagram()+1)
	n, err := c.Read(buf)
	if err != nil {
		return npap.Message{}, false
	}
	m, err := codec.Decode(buf[:n])
	if err != nil {
		t.Fatalf("reply does not decode: %v", err)
	}
	return m, true
}

func enc(t *testing.T, codec npap.Codec, m npap.Message) []byte {
	t.Helper()
	b, err := codec.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNPAPService(t *testing.T) {
	s := startSim(t, Options{Printers: 2, Services: []string{"npap", "xmlnt"}})
	p := s.Printers()[0]
	bin, xml := npap.Binary{}, xmlnt.XML{}

	// Malformed datagrams get no answer and are counted.
	if _, ok := exchange(t, p, "npap", bin, []byte("\xa5\x00\x02xx")); ok {
		t.Error("a malformed datagram was answered")
	}
	if _, ok := exchange(t, p, "xmlnt", xml, []byte("<xmlnt")); ok {
		t.Error("malformed XML was answered")
	}
	if st := p.NPAPStats(); st.Malformed != 2 {
		t.Errorf("malformed %d, want 2", st.Malformed)
	}

	// A write of the wrong type is refused for that setting only.
	r, ok := exchange(t, p, "npap", bin, enc(t, bin, npap.Message{Op: npap.OpWrite, ID: 5, Password: "inkform-sim", Values: []npap.Value{
		{Number: 258, Type: npap.TypeString, Text: "Annex"}, {Number: 513, Type: npap.TypeString, Text: "ten"},
		{Number: 9999, Type: npap.TypeBool, Text: "true"}}}))
	if !ok || r.ID != 5 || len(r.Results) != 3 || r.Results[0].Code != npap.CodeOK || r.Results[1].Code != npap.CodeBadValue || r.Results[2].Code != npap.CodeUnknownSetting {
		t.Errorf("write reply %+v", r)
	}
	if v, _ := p.Setting("system.location"); v != "Annex" {
		t.Errorf("location %q", v)
	}

	// Read over XMLNT what NPAP wrote.
	r, ok = exchange(t, p, "xmlnt", xml, enc(t, xml, npap.Message{Op: npap.OpRead, ID: 6, Numbers: []uint16{258}}))
	if !ok || len(r.Values) != 1 || r.Values[0].Text != "Annex" {
		t.Errorf("read over xmlnt %+v", r)
	}

	// A reply that would not fit a datagram is refused as too big.
	long := strings.Repeat("x", 255)
	for _, n := range []string{"network.ntp_server", "network.smtp_server"} {
		if err := p.SetSetting(n, long); err != nil {
			t.Fatal(err)
		}
	}
	r, ok = exchange(t, p, "npap", bin, enc(t, bin, npap.Message{Op: npap.OpRead, ID: 7, Numbers: []uint16{1282, 1284, 1282, 1284, 1282, 1284}}))
	if !ok || r.Error == nil || r.Error.Code != npap.CodeTooBig {
		t.Errorf("oversized read: %+v", r)
	}

	// An offline printer answers nothing.
	p.SetOffline(true)
	if _, ok := exchange(t, p, "npap", bin, enc(t, bin, npap.Message{Op: npap.OpIdentify, ID: 8})); ok {
		t.Error("an offline printer answered")
	}
}
