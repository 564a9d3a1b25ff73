package simulator

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/protocol/npap"
	"github.com/inkform/inkform/protocol/xmlnt"
)

// NPAP and XMLNT (docs/protocols/npap.md, xmlnt.md): each printer answers
// both on UDP ports of their own, with the settings every other protocol
// reaches (a write over NPAP is read back over SNMP), and sends an NPAP
// alert from its NPAP port whenever an alert is raised or cleared, to
// Options.NPAPAlertsTo and to the servers registered with it.

func init() {
	registerService(service{name: "npap", boundUDP: (*Printer).npapBound, serveUDP: func(ctx context.Context, p *Printer, conn *net.UDPConn) error {
		return p.serveNPAP(ctx, conn, npap.Binary{})
	}})
	registerService(service{name: "xmlnt", serveUDP: func(ctx context.Context, p *Printer, conn *net.UDPConn) error {
		return p.serveNPAP(ctx, conn, xmlnt.XML{})
	}})
}

// Registrations: how long one lasts unless asked otherwise, at most, and
// how many a printer keeps.
const (
	npapDefaultLifetime = time.Hour
	npapMaxLifetime     = 24 * time.Hour
	npapMaxRegistered   = 8
)

// npapState is a printer's NPAP side.
type npapState struct {
	mu         sync.Mutex
	conn       *net.UDPConn // the NPAP socket alerts are sent from; nil until it serves
	registered map[netip.AddrPort]time.Time
	seen       []Alert // the alert table as last announced
	alertID    uint32

	alertsSent, malformed, answered atomic.Uint64
}

// NPAPStats count a printer's NPAP and XMLNT traffic.
type NPAPStats struct {
	Answered   uint64 // replies sent
	Malformed  uint64 // datagrams that did not decode, dropped
	AlertsSent uint64 // alert datagrams sent (one per destination)
}

// NPAPStats returns the printer's NPAP counters.
func (p *Printer) NPAPStats() NPAPStats {
	return NPAPStats{Answered: p.npap.answered.Load(), Malformed: p.npap.malformed.Load(), AlertsSent: p.npap.alertsSent.Load()}
}

// NPAPAlertsSent is how many NPAP alert datagrams the fleet sent.
func (s *Sim) NPAPAlertsSent() uint64 {
	var n uint64
	for _, p := range s.printers {
		n += p.npap.alertsSent.Load()
	}
	return n
}

// Registered returns the addresses registered for the printer's NPAP
// alerts and not yet expired.
func (p *Printer) Registered() []netip.AddrPort {
	p.npap.mu.Lock()
	defer p.npap.mu.Unlock()
	var out []netip.AddrPort
	now := time.Now()
	for a, until := range p.npap.registered {
		if now.Before(until) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

// npapBound makes the NPAP socket the one alerts leave from, before the
// simulator starts; the alerts already active are no news.
func (p *Printer) npapBound(conn *net.UDPConn) {
	p.mu.Lock()
	table := slices.Clone(p.table)
	p.mu.Unlock()
	p.npap.mu.Lock()
	p.npap.conn = conn
	p.npap.seen = table
	p.npap.mu.Unlock()
}

// serveNPAP answers requests on conn with codec until ctx is done.
func (p *Printer) serveNPAP(ctx context.Context, conn *net.UDPConn, codec npap.Codec) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	buf := make([]byte, codec.MaxDatagram()+1)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			continue
		}
		if p.offline.Load() {
			p.stats.ignored.Add(1)
			continue
		}
		if n > codec.MaxDatagram() {
			p.npap.malformed.Add(1)
			continue
		}
		req, err := codec.Decode(buf[:n])
		if err != nil {
			p.npap.malformed.Add(1)
			continue
		}
		if req.Reply {
			continue // a server's acknowledgement of an alert
		}
		reply := p.handleNPAP(req, from)
		b, err := codec.Encode(reply)
		if errors.Is(err, npap.ErrTooBig) {
			b, err = codec.Encode(npap.Message{Op: req.Op, Reply: true, ID: req.ID, Error: &npap.Error{Code: npap.CodeTooBig, Text: "ask for fewer settings"}})
		}
		if err != nil {
			continue
		}
		if _, err := conn.WriteToUDPAddrPort(b, from); err == nil {
			p.npap.answered.Add(1)
		}
	}
}

// handleNPAP answers one request.
func (p *Printer) handleNPAP(req npap.Message, from netip.AddrPort) npap.Message {
	reply := npap.Message{Op: req.Op, Reply: true, ID: req.ID}
	fail := func(c npap.Code, text string) npap.Message {
		reply.Error = &npap.Error{Code: c, Text: text}
		return reply
	}
	switch req.Op {
	case npap.OpIdentify:
		id := &npap.Identity{Vendor: vendorName(p.Vendor()), Model: p.Model(), Serial: p.Serial(), Firmware: p.Firmware()}
		if mac, err := hex.DecodeString(p.id.mac); err == nil && len(mac) == 6 {
			copy(id.MAC[:], mac)
		}
		reply.Identity = id
	case npap.OpStatus:
		reply.Status = npap.StatusIdle
		for _, a := range p.Alerts() {
			reply.Alerts = append(reply.Alerts, npapAlert(a, npap.AlertRaised))
			switch {
			case a.Severity == SeverityCritical:
				reply.Status = npap.StatusDown
			case reply.Status != npap.StatusDown:
				reply.Status = npap.StatusWarning
			}
		}
	case npap.OpRead:
		bySetting := npapSettings(p.Family())
		for _, n := range req.Numbers {
			s, ok := bySetting[n]
			v, known := p.Setting(s.Name)
			if !ok || !known {
				reply.Results = append(reply.Results, npap.Result{Number: n, Code: npap.CodeUnknownSetting})
				continue
			}
			reply.Values = append(reply.Values, npap.Value{Number: n, Type: npapType(s), Text: v})
		}
	case npap.OpWrite:
		if !p.npapAuthorized(req.Password) {
			return fail(npap.CodeUnauthorized, "administrator password required")
		}
		bySetting := npapSettings(p.Family())
		for _, v := range req.Values {
			s, ok := bySetting[v.Number]
			code := npap.CodeOK
			switch {
			case !ok:
				code = npap.CodeUnknownSetting
			case v.Type != npapType(s):
				code = npap.CodeBadValue
			default:
				if cur, _ := p.Setting(s.Name); cur == v.Text {
					break // already so: a retransmitted write changes nothing
				}
				if err := p.SetSetting(s.Name, v.Text); err != nil {
					code = npap.CodeBadValue
					if errors.Is(err, errUnsupportedSetting) {
						code = npap.CodeUnknownSetting
					}
				}
			}
			reply.Results = append(reply.Results, npap.Result{Number: v.Number, Code: code})
		}
	case npap.OpRegister, npap.OpUnregister:
		if !p.npapAuthorized(req.Password) {
			return fail(npap.CodeUnauthorized, "administrator password required")
		}
		if req.Port == 0 {
			return fail(npap.CodeBadValue, "port 0")
		}
		dest := netip.AddrPortFrom(from.Addr().Unmap(), req.Port)
		p.npap.mu.Lock()
		defer p.npap.mu.Unlock()
		if p.npap.registered == nil {
			p.npap.registered = map[netip.AddrPort]time.Time{}
		}
		now := time.Now()
		for a, until := range p.npap.registered {
			if !now.Before(until) {
				delete(p.npap.registered, a)
			}
		}
		if req.Op == npap.OpUnregister {
			delete(p.npap.registered, dest)
			return reply
		}
		if _, renew := p.npap.registered[dest]; !renew && len(p.npap.registered) >= npapMaxRegistered {
			return fail(npap.CodeBusy, "too many servers registered")
		}
		life := time.Duration(req.Lifetime) * time.Second
		if life <= 0 {
			life = npapDefaultLifetime
		}
		life = min(life, npapMaxLifetime)
		p.npap.registered[dest] = now.Add(life)
		reply.Lifetime = uint32(life / time.Second)
	case npap.OpAlert:
		return fail(npap.CodeUnknownOp, "a printer sends alerts; it does not take them")
	default:
		return fail(npap.CodeUnknownOp, "")
	}
	return reply
}

// npapAuthorized checks the administrator password, in constant time.
func (p *Printer) npapAuthorized(password string) bool {
	_, want := p.adminLogin()
	return subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1
}

// npapSettings maps the NPAP numbers of a family's settings to them.
func npapSettings(family string) map[uint16]catalog.Setting {
	out := map[uint16]catalog.Setting{}
	for _, s := range catalog.Default().Settings {
		if b := s.Bindings(family).NPAP; b != nil {
			out[uint16(b.ID)] = s
		}
	}
	return out
}

func npapType(s catalog.Setting) npap.Type {
	switch s.Type {
	case catalog.TypeInteger:
		return npap.TypeInteger
	case catalog.TypeBool:
		return npap.TypeBool
	}
	return npap.TypeString
}

func npapAlert(a Alert, kind npap.AlertKind) npap.Alert {
	return npap.Alert{Kind: kind, Severity: uint8(a.Severity), Group: uint8(a.Group), GroupIndex: uint16(a.GroupIndex),
		Code: uint16(a.Code), Description: a.Description}
}

// vendorName is the brand as a printer writes it: "lexmark" → "Lexmark".
func vendorName(keyword string) string {
	switch keyword {
	case "hp":
		return "HP"
	case "":
		return ""
	}
	return strings.ToUpper(keyword[:1]) + keyword[1:]
}

// sendNPAPAlerts announces the alerts raised and cleared since the last
// announcement, one datagram per alert and destination, from the NPAP
// socket. Nothing is sent before the printer serves NPAP or when no one
// listens. Like a printer, it sends each alert once and does not wait
// for the acknowledgement.
func (p *Printer) sendNPAPAlerts() {
	st := &p.npap
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.conn == nil {
		return
	}
	p.mu.Lock()
	table := slices.Clone(p.table)
	p.mu.Unlock()
	var changes []npap.Alert
	for _, a := range table {
		if !slices.ContainsFunc(st.seen, a.same) {
			changes = append(changes, npapAlert(a, npap.AlertRaised))
		}
	}
	for _, a := range st.seen {
		if !slices.ContainsFunc(table, a.same) {
			changes = append(changes, npapAlert(a, npap.AlertCleared))
		}
	}
	st.seen = table
	if len(changes) == 0 {
		return
	}
	var dests []netip.AddrPort
	if p.sim != nil {
		if ap, err := netip.ParseAddrPort(p.sim.opts.NPAPAlertsTo); err == nil {
			dests = append(dests, ap)
		}
	}
	now := time.Now()
	for a, until := range st.registered {
		if now.Before(until) && !slices.Contains(dests, a) {
			dests = append(dests, a)
		}
	}
	for _, c := range changes {
		st.alertID++
		b, err := npap.Binary{}.Encode(npap.Message{Op: npap.OpAlert, ID: st.alertID, Alerts: []npap.Alert{c}})
		if err != nil {
			continue
		}
		for _, d := range dests {
			if _, err := st.conn.WriteToUDPAddrPort(b, d); err == nil {
				st.alertsSent.Add(1)
			}
		}
	}
}
