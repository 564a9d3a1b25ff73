package snmp

import (
	"errors"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// fakeAgent is a minimal SNMP agent on 127.0.0.1:0 for the few behaviours
// net-snmp and snmpsim cannot be made to show on demand: answering tooBig
// above a varbind limit, and v1 noSuchName for a missing object.
type fakeAgent struct {
	addr *net.UDPAddr
	conn *net.UDPConn

	version     gosnmp.SnmpVersion
	maxVarbinds int // answer tooBig when a response would hold more; 0 = no limit
	data        map[string]gosnmp.SnmpPDU
	order       []string // data's OIDs in OID order

	mu       sync.Mutex
	requests []fakeRequest
	errs     []error
	done     chan struct{}
}

type fakeRequest struct {
	pdu   gosnmp.PDUType
	oids  []string
	reply gosnmp.SNMPError
}

func startFakeAgent(t *testing.T, version gosnmp.SnmpVersion, maxVarbinds int, data []gosnmp.SnmpPDU) *fakeAgent {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("fake agent: %v", err)
	}
	a := &fakeAgent{addr: conn.LocalAddr().(*net.UDPAddr), conn: conn, version: version,
		maxVarbinds: maxVarbinds, data: map[string]gosnmp.SnmpPDU{}, done: make(chan struct{})}
	for _, d := range data {
		a.data[d.Name] = d
		a.order = append(a.order, d.Name)
	}
	slices.SortFunc(a.order, compareOID)
	go a.serve()
	t.Cleanup(func() {
		_ = conn.Close() // ends serve
		<-a.done
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, err := range a.errs {
			t.Errorf("fake agent: %v", err)
		}
	})
	return a
}

func (a *fakeAgent) log() []fakeRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

func (a *fakeAgent) fail(err error) {
	a.mu.Lock()
	a.errs = append(a.errs, err)
	a.mu.Unlock()
}

func (a *fakeAgent) serve() {
	defer close(a.done)
	buf := make([]byte, 65535)
	dec := &gosnmp.GoSNMP{Version: a.version}
	for {
		n, from, err := a.conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				a.fail(err)
			}
			return
		}
		req, err := dec.SnmpDecodePacket(buf[:n])
		if err != nil {
			a.fail(err)
			continue
		}
		resp := a.answer(req)
		out, err := resp.MarshalMsg()
		if err != nil {
			a.fail(err)
			continue
		}
		if _, err := a.conn.WriteToUDP(out, from); err != nil {
			a.fail(err)
		}
	}
}

func (a *fakeAgent) answer(req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket {
	resp := &gosnmp.SnmpPacket{Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
	rec := fakeRequest{pdu: req.PDUType}
	for _, v := range req.Variables {
		rec.oids = append(rec.oids, v.Name)
	}
	defer func() {
		rec.reply = resp.Error
		a.mu.Lock()
		a.requests = append(a.requests, rec)
		a.mu.Unlock()
	}()
	var vars []gosnmp.SnmpPDU
	switch req.PDUType {
	case gosnmp.GetRequest:
		for i, v := range req.Variables {
			d, ok := a.data[v.Name]
			if !ok {
				if a.version == gosnmp.Version1 {
					resp.Error, resp.ErrorIndex = gosnmp.NoSuchName, uint8(i+1)
					resp.Variables = req.Variables
					return resp
				}
				d = gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.NoSuchInstance}
			}
			vars = append(vars, d)
		}
	case gosnmp.GetNextRequest, gosnmp.GetBulkRequest:
		reps := 1
		if req.PDUType == gosnmp.GetBulkRequest {
			reps = int(req.MaxRepetitions)
		}
		cur := make([]string, len(req.Variables))
		for i, v := range req.Variables {
			cur[i] = v.Name
		}
		for r := 0; r < reps; r++ {
			for i := range cur {
				next, ok := a.next(cur[i])
				if !ok {
					if a.version == gosnmp.Version1 {
						resp.Error, resp.ErrorIndex = gosnmp.NoSuchName, uint8(i+1)
						resp.Variables = req.Variables
						return resp
					}
					vars = append(vars, gosnmp.SnmpPDU{Name: cur[i], Type: gosnmp.EndOfMibView})
					continue
				}
				vars = append(vars, next)
				cur[i] = next.Name
			}
		}
	default:
		resp.Error = gosnmp.GenErr
		return resp
	}
	if a.maxVarbinds > 0 && len(vars) > a.maxVarbinds {
		resp.Error = gosnmp.TooBig
		return resp
	}
	resp.Variables = vars
	return resp
}

func (a *fakeAgent) next(oid string) (gosnmp.SnmpPDU, bool) {
	i, found := slices.BinarySearchFunc(a.order, oid, compareOID)
	if found {
		i++
	}
	if i >= len(a.order) {
		return gosnmp.SnmpPDU{}, false
	}
	return a.data[a.order[i]], true
}

// printerData is a small printer: enough for every fact Observe reads.
func printerData() []gosnmp.SnmpPDU {
	str := func(oid, s string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.OctetString, Value: []byte(s)}
	}
	num := func(oid string, n int) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Integer, Value: n}
	}
	return []gosnmp.SnmpPDU{
		str(".1.3.6.1.2.1.1.1.0", "Lexmark CX725 version CXTPC.230.037 kernel 5.10"),
		{Name: ".1.3.6.1.2.1.1.2.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.641.1.5.7"},
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(360000)},
		str(".1.3.6.1.2.1.1.4.0", "IT"),
		str(".1.3.6.1.2.1.1.5.0", "hq-2f-east"),
		// Device 1 is a network interface; the printer is device 2.
		{Name: ".1.3.6.1.2.1.25.3.2.1.2.1", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.2.1.25.3.1.4"},
		{Name: ".1.3.6.1.2.1.25.3.2.1.2.2", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.2.1.25.3.1.5"},
		str(".1.3.6.1.2.1.25.3.2.1.3.1", "eth0"),
		str(".1.3.6.1.2.1.25.3.2.1.3.2", "Lexmark CX725\x00\x00"),
		num(".1.3.6.1.2.1.25.3.5.1.1.2", 4),
		{Name: ".1.3.6.1.2.1.25.3.5.1.2.2", Type: gosnmp.OctetString, Value: []byte{0x24, 0x02}}, // lowToner, jammed, overduePreventMaint
		{Name: ".1.3.6.1.2.1.43.10.2.1.4.1.1", Type: gosnmp.Counter32, Value: uint(12345)},
		str(".1.3.6.1.2.1.43.11.1.1.6.1.1", "Black Cartridge\x00"),
		str(".1.3.6.1.2.1.43.11.1.1.6.1.2", "43 79 61 6E 00"), // "Cyan" as hex text
		num(".1.3.6.1.2.1.43.11.1.1.8.1.1", 8000),
		num(".1.3.6.1.2.1.43.11.1.1.8.1.2", 100),
		num(".1.3.6.1.2.1.43.11.1.1.9.1.1", 2000),
		num(".1.3.6.1.2.1.43.11.1.1.9.1.2", -3),
		str(".1.3.6.1.4.1.641.2.1.2.1.4.1", "CXTPC.230.037"),
		str(".1.3.6.1.4.1.641.2.1.2.1.6.1", "7531A2B"),
	}
}
