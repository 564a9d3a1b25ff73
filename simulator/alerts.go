package simulator

import (
	"fmt"
	"math/rand"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Printer-MIB alert codes, groups and severities the simulator raises
// (RFC 3805 PrtAlertCodeTC, PrtAlertGroupTC, PrtAlertSeverityLevelTC).
const (
	CodeCoverOpen    = 3
	CodeCoverClosed  = 4
	CodeJam          = 8
	CodeDoorOpen     = 501
	CodeDoorClosed   = 502
	CodeTonerEmpty   = 1101
	CodeTonerLow     = 1104
	GroupCover       = 6
	GroupInput       = 8
	GroupMarker      = 11 // marker supplies
	GroupMediaPath   = 13
	SeverityCritical = 3
	SeverityWarning  = 4
	// severityBinaryChange is warningBinaryChangeEvent: a closing alert.
	severityBinaryChange = 5
)

// OIDPrinterV2Alert is the trap the printers send (RFC 3805).
const OIDPrinterV2Alert = ".1.3.6.1.2.1.43.18.2.0.1"

const (
	oidPrtAlertEntry = ".1.3.6.1.2.1.43.18.1.1."
	oidSnmpTrapOID   = ".1.3.6.1.6.3.1.1.4.1.0"
	// maxAlertRows is the size of a printer's alert table: alerts beyond
	// it are active (and in the error bits) but not listed, as a printer
	// with a bounded table does.
	maxAlertRows = 8
	alertColumns = 9 // prtAlertIndex … prtAlertTime
)

// alertRow holds the layout positions of one row's columns 1 to 9.
type alertRow [alertColumns]int

// addAlertTable adds prtAlertTable's rows (absent until an alert fills
// them) and prtGeneralTable's alert counters.
func addAlertTable(b *builder) (critical, all int, rows []alertRow) {
	mark := func(o *object) { o.alert = true }
	critical = b.add(".1.3.6.1.2.1.43.5.1.1.18.1", 1, gosnmp.Counter32, uint32(0), mark)
	all = b.add(".1.3.6.1.2.1.43.5.1.1.19.1", 1, gosnmp.Counter32, uint32(0), mark)
	rows = make([]alertRow, maxAlertRows)
	for c := 1; c <= alertColumns; c++ {
		typ := gosnmp.Integer
		switch c {
		case 8:
			typ = gosnmp.OctetString
		case 9:
			typ = gosnmp.TimeTicks
		}
		for r := range rows {
			rows[r][c-1] = b.add(oidPrtAlertEntry+strconv.Itoa(c)+".1."+strconv.Itoa(r+1), 2, typ, nil, mark)
		}
	}
	return critical, all, rows
}

// Alert is one active alert of a simulated printer: a row of its
// prtAlertTable.
type Alert struct {
	Severity    int // SeverityCritical or SeverityWarning
	Training    int // prtAlertTrainingLevel; 0 means 3 (trained)
	Group       int // prtAlertGroup
	GroupIndex  int
	Location    int
	Code        int
	Description string
	at          uint32 // sysUpTime when raised
}

func (a Alert) same(b Alert) bool {
	return a.Code == b.Code && a.Group == b.Group && a.GroupIndex == b.GroupIndex
}

// RaiseAlert adds an alert (a jam, an open door) to the printer's alert
// table and error bits; one already active at the same place is left as
// it is. A critical alert sends a printerV2Alert trap when the simulator
// has somewhere to send them (Options.AlertsTo).
func (p *Printer) RaiseAlert(a Alert) {
	p.mu.Lock()
	if slices.ContainsFunc(p.alerts, a.same) {
		p.mu.Unlock()
		return
	}
	if a.Training == 0 {
		a.Training = 3
	}
	a.at = uint32(time.Since(p.boot) / (10 * time.Millisecond))
	p.alerts = append(p.alerts, a)
	p.refreshLocked()
	p.mu.Unlock()
	p.changed()
}

// ClearAlert ends the alert of code at group and groupIndex, and reports
// whether one was active. An open door or cover that closes sends the
// closing trap (doorClosed, coverClosed); a cleared jam sends none, as
// RFC 3805 has no code for it: the poll of the table sees it gone.
func (p *Printer) ClearAlert(code, group, groupIndex int) bool {
	p.mu.Lock()
	i := slices.IndexFunc(p.alerts, func(a Alert) bool {
		return a.Code == code && a.Group == group && a.GroupIndex == groupIndex
	})
	if i < 0 {
		p.mu.Unlock()
		return false
	}
	p.alerts = slices.Delete(p.alerts, i, i+1)
	p.refreshLocked()
	p.mu.Unlock()
	p.changed()
	return true
}

// Alerts returns the printer's active alerts in table order: those
// raised, then those its supplies cause.
func (p *Printer) Alerts() []Alert {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.table)
}

// syncAlertsLocked recomputes the alerts the supplies cause (toner low
// and empty, as pages drain them), writes the alert table and its
// counters, queues the traps for critical alerts added or closed, and
// returns the error bits with the alerts' own added. b0 holds the first
// octet's supply and paper bits.
func (p *Printer) syncAlertsLocked(b0 byte) (byte, byte) {
	l := p.lay
	if len(l.alertRows) == 0 {
		return b0, 0
	}
	table := slices.Clone(p.alerts)
	for k, s := range l.supplies {
		if !s.toner {
			continue
		}
		level, _ := p.vals[s.level].(int)
		capacity, _ := p.vals[s.max].(int)
		a := Alert{Group: GroupMarker, GroupIndex: k + 1, Training: 3}
		switch {
		case level == 0:
			a.Severity, a.Code, a.Description = SeverityCritical, CodeTonerEmpty, fmt.Sprintf("Toner %d empty", k+1)
		case capacity > 0 && level*100 <= capacity*lowSupplyPercent:
			a.Severity, a.Code, a.Description = SeverityWarning, CodeTonerLow, fmt.Sprintf("Toner %d low", k+1)
		default:
			continue
		}
		// Keep the time it was first seen.
		if j := slices.IndexFunc(p.table, a.same); j >= 0 {
			a.at = p.table[j].at
		} else {
			a.at = uint32(time.Since(p.boot) / (10 * time.Millisecond))
		}
		table = append(table, a)
	}

	// What changed since the last table: counters and traps.
	critical, _ := p.vals[l.alertCritical].(uint32)
	all, _ := p.vals[l.alertAll].(uint32)
	for _, a := range table {
		if slices.ContainsFunc(p.table, a.same) {
			continue
		}
		all++
		if a.Severity == SeverityCritical {
			critical++
			p.pendingTraps = append(p.pendingTraps, a)
		}
	}
	for _, a := range p.table {
		if slices.ContainsFunc(table, a.same) || a.Severity != SeverityCritical {
			continue
		}
		closing := 0
		switch a.Code {
		case CodeDoorOpen:
			closing = CodeDoorClosed
		case CodeCoverOpen:
			closing = CodeCoverClosed
		}
		if closing != 0 {
			c := a
			c.Code, c.Severity, c.Description = closing, severityBinaryChange, a.Description+" closed"
			c.at = uint32(time.Since(p.boot) / (10 * time.Millisecond))
			p.pendingTraps = append(p.pendingTraps, c)
		}
	}
	p.vals[l.alertCritical], p.vals[l.alertAll] = critical, all
	p.table = table

	for r, row := range l.alertRows {
		if r >= len(table) {
			for _, pos := range row {
				p.vals[pos] = nil
			}
			continue
		}
		a := table[r]
		for c, v := range []any{r + 1, a.Severity, a.Training, a.Group, a.GroupIndex, a.Location, a.Code, a.Description, a.at} {
			p.vals[row[c]] = v
		}
	}

	var b1 byte
	for _, a := range table {
		switch {
		case a.Code == CodeJam:
			b0 |= 0x04 // jammed
		case a.Code == CodeDoorOpen || a.Code == CodeCoverOpen:
			b0 |= 0x08 // doorOpen
		case a.Code == 801:
			b1 |= 0x80 // inputTrayMissing
		case a.Code == 902:
			b1 |= 0x10 // outputNearFull
		case a.Code == 903:
			b1 |= 0x08 // outputFull
		case (a.Code >= 29 && a.Code <= 38) || (a.Code >= 1001 && a.Code <= 1004):
			b0 |= 0x01 // serviceRequested
		}
	}
	return b0, b1
}

// trapPacket is the printerV2Alert (SNMPv2c) of alert a in table row.
func (p *Printer) trapPacket(community string, a Alert, row, requestID int) ([]byte, error) {
	inst := ".1." + strconv.Itoa(row)
	col := func(c int) string { return oidPrtAlertEntry + strconv.Itoa(c) + inst }
	pkt := &gosnmp.SnmpPacket{
		Version: gosnmp.Version2c, Community: community, PDUType: gosnmp.SNMPv2Trap, RequestID: uint32(requestID),
		Variables: []gosnmp.SnmpPDU{
			{Name: OIDSysUpTime, Type: gosnmp.TimeTicks, Value: a.at},
			{Name: oidSnmpTrapOID, Type: gosnmp.ObjectIdentifier, Value: OIDPrinterV2Alert},
			{Name: col(1), Type: gosnmp.Integer, Value: row},
			{Name: col(2), Type: gosnmp.Integer, Value: a.Severity},
			{Name: col(3), Type: gosnmp.Integer, Value: a.Training},
			{Name: col(4), Type: gosnmp.Integer, Value: a.Group},
			{Name: col(5), Type: gosnmp.Integer, Value: a.GroupIndex},
			{Name: col(6), Type: gosnmp.Integer, Value: a.Location},
			{Name: col(7), Type: gosnmp.Integer, Value: a.Code},
			{Name: col(8), Type: gosnmp.OctetString, Value: a.Description},
			{Name: col(9), Type: gosnmp.TimeTicks, Value: a.at},
		},
	}
	return pkt.MarshalMsg()
}

// flushTraps sends the queued traps from the printer's own SNMP socket,
// so that they come from its address as a real printer's do. Without a
// destination (or before the socket is bound) they are discarded.
func (p *Printer) flushTraps() {
	p.mu.Lock()
	pending := p.pendingTraps
	p.pendingTraps = nil
	var rows []int
	for _, a := range pending {
		row := slices.IndexFunc(p.table, a.same) + 1
		if row == 0 || row > maxAlertRows {
			row = maxAlertRows + 1 // closed, or beyond the table's rows
		}
		rows = append(rows, row)
	}
	p.mu.Unlock()
	if len(pending) == 0 || p.sim == nil || !p.sim.alertsTo.IsValid() || p.conn == nil {
		return
	}
	for i, a := range pending {
		b, err := p.trapPacket(p.sim.opts.AlertCommunity, a, rows[i], int(p.sim.trapID.Add(1)))
		if err != nil {
			continue
		}
		if _, err := p.conn.WriteToUDPAddrPort(b, p.sim.alertsTo); err == nil {
			p.sim.trapsSent.Add(1)
		}
	}
}

// TrapsSent is how many alert traps the printers sent.
func (s *Sim) TrapsSent() uint64 { return s.trapsSent.Load() }

// alertMaker raises and clears the alerts of printers as they run:
// jams in the trays and the paper path, doors opened and closed. Its
// choices come from a PRNG seeded with Options.Seed, so a run repeats.
type alertMaker struct {
	mu  sync.Mutex
	rng *rand.Rand
}

// AlertStep raises or clears one alert on one printer, as the alert
// loop does at every tick (Options.AlertRate); tests call it directly.
// Offline printers are left alone.
func (s *Sim) AlertStep() {
	s.alerter.mu.Lock()
	p := s.printers[s.alerter.rng.Intn(len(s.printers))]
	roll := s.alerter.rng.Intn(100)
	place := s.alerter.rng.Intn(3)
	s.alerter.mu.Unlock()
	if p.Offline() {
		return
	}
	p.mu.Lock()
	raised := slices.Clone(p.alerts)
	p.mu.Unlock()
	if len(raised) > 0 && roll < 50 {
		a := raised[0]
		p.ClearAlert(a.Code, a.Group, a.GroupIndex)
		return
	}
	var a Alert
	switch place {
	case 0:
		a = Alert{Severity: SeverityCritical, Group: GroupInput, GroupIndex: 1 + roll%2, Code: CodeJam,
			Description: "Paper jam in Tray " + strconv.Itoa(1+roll%2)}
	case 1:
		a = Alert{Severity: SeverityCritical, Group: GroupMediaPath, GroupIndex: 1, Code: CodeJam, Description: "Paper jam in the paper path"}
	default:
		a = Alert{Severity: SeverityCritical, Group: GroupCover, GroupIndex: 1, Code: CodeDoorOpen, Description: "Front door open"}
	}
	p.RaiseAlert(a)
}

// alertLoop makes Options.AlertRate alerts a second across the fleet.
func (s *Sim) alertLoop() {
	t := time.NewTicker(time.Duration(float64(time.Second) / s.opts.AlertRate))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.AlertStep()
		}
	}
}

// parseAlertsTo resolves Options.AlertsTo (HOST:PORT, an IP address).
func parseAlertsTo(s string) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("simulator: alerts-to %q: want IP:PORT: %w", s, err)
	}
	return ap, nil
}
