package simulator

import (
	"math/rand"
	"net"
	"slices"

	"github.com/gosnmp/gosnmp"
)

// Size limits of the agent.
const (
	// MaxResponseSize is the largest response the agent sends: a UDP
	// payload that fits one Ethernet frame (1500 − 20 IPv4 − 8 UDP), so
	// answers are never fragmented.
	MaxResponseSize = 1472
	// MaxRequestSize is the largest request read; longer datagrams are
	// truncated by the socket, fail to decode and are dropped.
	MaxRequestSize = 4096
	// maxBulkVarbinds bounds the work of one GETBULK before the size cut.
	maxBulkVarbinds = 256
)

// verdict is what became of one request.
type verdict int

const (
	answered  verdict = iota
	malformed         // could not be decoded, or not a request
	refused           // unknown community: dropped silently
)

// agent answers SNMP requests for one printer. It is used by one goroutine
// at a time (the printer's socket loop) and keeps scratch space between
// requests.
type agent struct {
	p           *Printer
	read, write string
	dec         gosnmp.GoSNMP
	oid         []uint32
	rng         *rand.Rand // loss decisions; seeded per printer
	// Scratch reused by every request, so that answering allocates little
	// beyond what gosnmp's decoder and encoder do: a fleet benchmark's
	// simulator shares the CPUs with the program measured.
	resp   gosnmp.SnmpPacket
	vbs    []gosnmp.SnmpPDU
	cursor []int
	names  []string
}

func newAgent(p *Printer, read, write string, seed int64) *agent {
	return &agent{
		p: p, read: read, write: write,
		oid: make([]uint32, 0, 32),
		rng: rand.New(rand.NewSource(seed + int64(p.id.index))),
	}
}

// handle decodes one request and returns the encoded response, or nil and
// why there is none.
func (a *agent) handle(req []byte) ([]byte, verdict) {
	version, ok := peekVersion(req)
	if !ok {
		return nil, malformed
	}
	pkt, err := a.dec.SnmpDecodePacket(req)
	if err != nil || pkt.Version != version {
		return nil, malformed
	}
	var canWrite bool
	switch pkt.Community {
	case a.write:
		canWrite = true
	case a.read:
	default:
		return nil, refused
	}
	resp := &a.resp
	*resp = gosnmp.SnmpPacket{
		Version:   pkt.Version,
		Community: pkt.Community,
		PDUType:   gosnmp.GetResponse,
		RequestID: pkt.RequestID,
	}
	v1 := pkt.Version == gosnmp.Version1
	switch pkt.PDUType {
	case gosnmp.GetRequest:
		a.get(pkt, resp, v1)
	case gosnmp.GetNextRequest:
		a.getNext(pkt, resp, v1)
	case gosnmp.GetBulkRequest:
		if v1 {
			return nil, malformed // GETBULK does not exist in SNMPv1
		}
		return a.getBulk(pkt, resp)
	case gosnmp.SetRequest:
		a.set(pkt, resp, v1, canWrite)
	default:
		return nil, malformed
	}
	out, err := resp.MarshalMsg()
	if err != nil {
		return nil, malformed
	}
	if len(out) > MaxResponseSize {
		return a.tooBig(pkt, resp, v1)
	}
	return out, answered
}

// peekVersion reads the version of a v1/v2c message (30 len 02 01 vv)
// before gosnmp decodes it: only those two versions are served, and SNMPv3
// decoding needs security state the agent does not have.
func peekVersion(b []byte) (gosnmp.SnmpVersion, bool) {
	if len(b) < 2 || b[0] != 0x30 {
		return 0, false
	}
	i := 2
	if b[1]&0x80 != 0 {
		i += int(b[1] & 0x7f)
	}
	if len(b) < i+3 || b[i] != 0x02 || b[i+1] != 0x01 {
		return 0, false
	}
	switch v := gosnmp.SnmpVersion(b[i+2]); v {
	case gosnmp.Version1, gosnmp.Version2c:
		return v, true
	}
	return 0, false
}

// fail turns resp into an error response: the request's varbinds echoed,
// error status and 1-based index set.
func fail(req, resp *gosnmp.SnmpPacket, status gosnmp.SNMPError, i int) {
	resp.Error = status
	resp.ErrorIndex = uint8(min(i+1, 255))
	resp.Variables = echo(req.Variables)
}

// echo copies request varbinds for a response, replacing any value gosnmp
// could not encode again (or would fault on, such as an IPv6 IpAddress)
// by NULL.
func echo(vbs []gosnmp.SnmpPDU) []gosnmp.SnmpPDU {
	out := make([]gosnmp.SnmpPDU, len(vbs))
	for i, vb := range vbs {
		out[i] = gosnmp.SnmpPDU{Name: vb.Name, Type: gosnmp.Null}
		ok := false
		switch vb.Type {
		case gosnmp.Integer:
			_, ok = vb.Value.(int)
		case gosnmp.OctetString, gosnmp.BitString, gosnmp.Opaque:
			switch vb.Value.(type) {
			case []byte, string:
				ok = true
			}
		case gosnmp.ObjectIdentifier:
			_, ok = vb.Value.(string)
		case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Uinteger32:
			switch vb.Value.(type) {
			case uint32, uint:
				ok = true
			}
		case gosnmp.Counter64:
			_, ok = vb.Value.(uint64)
		case gosnmp.IPAddress:
			if s, isStr := vb.Value.(string); isStr {
				if ip := net.ParseIP(s).To4(); ip != nil {
					out[i] = gosnmp.SnmpPDU{Name: vb.Name, Type: gosnmp.IPAddress, Value: []byte(ip)}
				}
			}
		}
		if ok {
			out[i] = gosnmp.SnmpPDU{Name: vb.Name, Type: vb.Type, Value: vb.Value}
		}
	}
	return out
}

func (a *agent) get(req, resp *gosnmp.SnmpPacket, v1 bool) {
	p, l := a.p, a.p.lay
	resp.Variables = a.varbinds(len(req.Variables))
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, vb := range req.Variables {
		var ok bool
		a.oid, ok = parseOID(a.oid, vb.Name)
		pos, exact := 0, false
		if ok {
			pos, exact = l.find(a.oid)
		}
		if exact && p.vals[pos] != nil {
			resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: vb.Name, Type: l.objs[pos].typ, Value: p.valueLocked(pos)})
			continue
		}
		if v1 {
			fail(req, resp, gosnmp.NoSuchName, i)
			return
		}
		exc := gosnmp.NoSuchObject
		if exact {
			exc = gosnmp.NoSuchInstance // an absent alert row
		} else if ok {
			exc = l.missing(a.oid, pos)
		}
		resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: vb.Name, Type: exc})
	}
}

// next returns the layout position of the first object after oid, or -1
// at the end of the MIB view.
func (a *agent) next(name string) int {
	var ok bool
	a.oid, ok = parseOID(a.oid, name)
	if !ok {
		// Not an OID we can order (gosnmp renders every decoded OID, so
		// this is only the empty name): walk from the start.
		return 0
	}
	pos, exact := a.p.lay.find(a.oid)
	if exact {
		pos++
	}
	return a.present(pos)
}

// present returns the first position from pos on whose object exists
// (absent alert rows are skipped), or -1 at the end of the MIB view.
func (a *agent) present(pos int) int {
	vals := a.p.vals
	for pos < len(vals) && vals[pos] == nil {
		pos++
	}
	if pos >= len(vals) {
		return -1
	}
	return pos
}

func (a *agent) getNext(req, resp *gosnmp.SnmpPacket, v1 bool) {
	p, l := a.p, a.p.lay
	resp.Variables = a.varbinds(len(req.Variables))
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, vb := range req.Variables {
		pos := a.next(vb.Name)
		if pos < 0 {
			if v1 {
				fail(req, resp, gosnmp.NoSuchName, i)
				return
			}
			resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: vb.Name, Type: gosnmp.EndOfMibView})
			continue
		}
		o := &l.objs[pos]
		resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: o.name, Type: o.typ, Value: p.valueLocked(pos)})
	}
}

// getBulk answers GETBULK (RFC 3416 4.2.3), then cuts whole varbinds off
// the end until the message fits MaxResponseSize; only when not even the
// non-repeaters fit is the answer tooBig.
func (a *agent) getBulk(req, resp *gosnmp.SnmpPacket) ([]byte, verdict) {
	p, l := a.p, a.p.lay
	n := min(int(req.NonRepeaters), len(req.Variables))
	m := int(min(req.MaxRepetitions, maxBulkVarbinds))
	repeaters := len(req.Variables) - n
	vbs := a.varbinds(min(n+m*repeaters, maxBulkVarbinds+n))
	p.mu.Lock()
	for _, vb := range req.Variables[:n] {
		vbs = append(vbs, a.nextVarbind(vb.Name))
	}
	if repeaters > 0 {
		// Per repeater: layout position last returned and its name, which
		// an endOfMibView varbind repeats.
		cursor := slices.Grow(a.cursor[:0], repeaters)[:repeaters]
		names := slices.Grow(a.names[:0], repeaters)[:repeaters]
		a.cursor, a.names = cursor, names
		for j, vb := range req.Variables[n:] {
			names[j] = vb.Name
			cursor[j] = a.next(vb.Name) - 1
			if cursor[j] < -1 {
				cursor[j] = len(l.objs) - 1 // already at the end of the view
			}
		}
		for r := 0; r < m && len(vbs)-n+repeaters <= maxBulkVarbinds; r++ {
			allEnd := true
			for j := range cursor {
				pos := cursor[j] + 1
				if pos < len(l.objs) {
					if pos = a.present(pos); pos < 0 {
						pos = len(l.objs)
					}
				}
				if pos >= len(l.objs) {
					vbs = append(vbs, gosnmp.SnmpPDU{Name: names[j], Type: gosnmp.EndOfMibView})
					continue
				}
				allEnd = false
				cursor[j] = pos
				o := &l.objs[pos]
				names[j] = o.name
				vbs = append(vbs, gosnmp.SnmpPDU{Name: o.name, Type: o.typ, Value: p.valueLocked(pos)})
			}
			if allEnd {
				break
			}
		}
	}
	p.mu.Unlock()
	a.vbs = vbs // keep what append grew

	// Cut by the computed encoded size, so one marshal suffices; bisect
	// only if the computation was somehow wrong.
	vbl, cut := 0, len(vbs)
	for i, vb := range vbs {
		size := varbindSize(vb)
		if size < 0 {
			cut = i
			break
		}
		vbl += size
		if responseSize(len(req.Community), req.RequestID, vbl) > MaxResponseSize {
			cut = i
			break
		}
	}
	if cut < n {
		return a.tooBig(req, resp, false)
	}
	resp.Variables = vbs[:cut]
	out, err := resp.MarshalMsg()
	if err != nil {
		return nil, malformed
	}
	if len(out) <= MaxResponseSize {
		return out, answered
	}
	lo, hi := n, cut-1
	var best []byte
	for lo <= hi {
		mid := (lo + hi) / 2
		resp.Variables = vbs[:mid]
		out, err := resp.MarshalMsg()
		if err != nil {
			return nil, malformed
		}
		if len(out) <= MaxResponseSize {
			best = out
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	if best == nil {
		return a.tooBig(req, resp, false)
	}
	return best, answered
}

// varbinds returns the agent's empty varbind scratch with room for n. The
// values it still refers to belong to the printer and live on anyway.
func (a *agent) varbinds(n int) []gosnmp.SnmpPDU {
	a.vbs = slices.Grow(a.vbs[:0], n)
	return a.vbs
}

// nextVarbind is the GETNEXT answer for one name, endOfMibView at the end.
func (a *agent) nextVarbind(name string) gosnmp.SnmpPDU {
	pos := a.next(name)
	if pos < 0 {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.EndOfMibView}
	}
	o := &a.p.lay.objs[pos]
	return gosnmp.SnmpPDU{Name: o.name, Type: o.typ, Value: a.p.valueLocked(pos)}
}

// tooBig answers that the response would not fit: v2c with an empty
// varbind list (RFC 3416), v1 echoing the request (RFC 1157).
func (a *agent) tooBig(req, resp *gosnmp.SnmpPacket, v1 bool) ([]byte, verdict) {
	resp.Error, resp.ErrorIndex = gosnmp.TooBig, 0
	resp.Variables = nil
	if v1 {
		resp.Variables = echo(req.Variables)
	}
	out, err := resp.MarshalMsg()
	if err != nil || len(out) > MaxResponseSize {
		resp.Variables = nil
		if out, err = resp.MarshalMsg(); err != nil {
			return nil, malformed
		}
	}
	return out, answered
}

// set validates every varbind first and writes only if all are valid, so a
// SET is applied as a whole or not at all (RFC 3416 4.2.5).
func (a *agent) set(req, resp *gosnmp.SnmpPacket, v1, canWrite bool) {
	p, l := a.p, a.p.lay
	// v1 has no notWritable, wrongType…: RFC 3584 maps them to noSuchName
	// (access problems) and badValue (value problems).
	status := func(v2 gosnmp.SNMPError) gosnmp.SNMPError {
		if !v1 {
			return v2
		}
		switch v2 {
		case gosnmp.NoAccess, gosnmp.NotWritable, gosnmp.NoCreation:
			return gosnmp.NoSuchName
		}
		return gosnmp.BadValue
	}
	if !canWrite {
		fail(req, resp, status(gosnmp.NoAccess), 0)
		return
	}
	positions := make([]int, len(req.Variables))
	values := make([]any, len(req.Variables))
	for i, vb := range req.Variables {
		var ok bool
		a.oid, ok = parseOID(a.oid, vb.Name)
		pos, exact := 0, false
		if ok {
			pos, exact = l.find(a.oid)
		}
		if !exact {
			fail(req, resp, status(gosnmp.NoCreation), i)
			return
		}
		o := &l.objs[pos]
		if !o.writable {
			fail(req, resp, status(gosnmp.NotWritable), i)
			return
		}
		if vb.Type != o.typ {
			fail(req, resp, status(gosnmp.WrongType), i)
			return
		}
		switch o.typ {
		case gosnmp.OctetString:
			b, isBytes := vb.Value.([]byte)
			if !isBytes {
				fail(req, resp, status(gosnmp.WrongType), i)
				return
			}
			if len(b) > o.maxLen {
				fail(req, resp, status(gosnmp.WrongLength), i)
				return
			}
			values[i] = string(b)
		case gosnmp.Integer:
			n, isInt := vb.Value.(int)
			if !isInt {
				fail(req, resp, status(gosnmp.WrongType), i)
				return
			}
			if o.valid != nil && !o.valid(n) {
				fail(req, resp, status(gosnmp.WrongValue), i)
				return
			}
			values[i] = n
		default:
			fail(req, resp, status(gosnmp.NotWritable), i)
			return
		}
		positions[i] = pos
	}
	if len(positions) == 0 {
		return
	}
	p.mu.Lock()
	for i, pos := range positions {
		p.vals[pos] = values[i]
	}
	if l.configChanges < 0 {
		// A recorded device without the counter.
	} else if c, ok := p.vals[l.configChanges].(uint32); ok {
		p.vals[l.configChanges] = c + 1
	}
	p.mu.Unlock()
	p.changed()
	resp.Variables = echo(req.Variables)
}
