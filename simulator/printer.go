package simulator

import (
	"fmt"
	"math"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Printer is one virtual printer. Its methods are safe for concurrent use;
// each printer's objects are guarded by its own mutex, so printers never
// contend with each other.
type Printer struct {
	id   identity
	name string // name in generated configurations, e.g. "sim-001"
	lay  *layout
	sim  *Sim // nil for printers made without a simulator (unit tests)

	conn *net.UDPConn
	addr string

	offline atomic.Bool
	latency time.Duration // before each response; set before serving starts
	stats   printerStats

	mu   sync.Mutex
	vals []any // by layout position
	// factory holds the initial values; the state file keeps only the
	// values that differ. touched is set once anything may differ.
	factory []any
	touched atomic.Bool
	boot    time.Time

	// TCP services (services.go) and the name-keyed settings store
	// (settings.go) share svcMu; SNMP-bound settings live in vals.
	svcMu  sync.Mutex
	ports  map[string]int
	files  []ReceivedFile
	onFile func(p *Printer, f ReceivedFile, data []byte) error
	fw     firmwareState     // firmware images and reboots (firmware.go)
	extra  map[string]string // settings without an SNMP object, by name

	// Alerts (alerts.go), guarded by mu: those raised (jams, doors), the
	// table as last written (with the supplies' alerts), and the traps
	// waiting to be sent once mu is released.
	alerts       []Alert
	table        []Alert
	pendingTraps []Alert

	npap npapState // NPAP and XMLNT (npap.go)
}

type printerStats struct {
	answered, malformed, refused, lost, ignored atomic.Uint64
}

func newPrinter(i, width int, now time.Time, rec *Recording) *Printer {
	id := identityOf(i)
	if rec != nil {
		id = identityOfRecording(i, rec)
	}
	lay, vals := treeOf(id)
	p := &Printer{id: id, lay: lay, vals: vals, boot: now}
	p.factory = slices.Clone(vals)
	p.name = fmt.Sprintf("sim-%0*d", width, i+1)
	p.mu.Lock()
	p.refreshLocked()
	p.mu.Unlock()
	return p
}

// Index is the printer's position in the fleet, from 0.
func (p *Printer) Index() int { return p.id.index }

// Name is the printer's name in generated configurations ("sim-001").
func (p *Printer) Name() string { return p.name }

// Addr is host:port of the printer's SNMP agent.
func (p *Printer) Addr() string { return p.addr }

// Serial is the printer's serial number (prtGeneralSerialNumber).
func (p *Printer) Serial() string { return p.id.serial }

// Model is the printer's model (hrDeviceDescr), e.g. "Lexmark CX725".
func (p *Printer) Model() string { return p.id.fam.model }

// Firmware is the printer's firmware version: the factory's until an
// image is installed.
func (p *Printer) Firmware() string { return p.firmwareVersion() }

// Vendor is the printer's maker in lower case ("lexmark", "hp", …).
func (p *Printer) Vendor() string { return p.id.fam.vendor }

// SetOffline stops (true) or resumes (false) answering requests. An offline
// printer keeps its socket, so clients see timeouts, not refusals.
func (p *Printer) SetOffline(off bool) { p.offline.Store(off) }

// Offline reports whether the printer ignores requests.
func (p *Printer) Offline() bool { return p.offline.Load() }

// Get reads one object as an SNMP client would see it. Octet strings come
// back as []byte, like gosnmp decodes them. The OID may have a leading dot.
func (p *Printer) Get(oid string) (gosnmp.SnmpPDU, bool) {
	o, ok := parseOID(nil, oid)
	if !ok {
		return gosnmp.SnmpPDU{}, false
	}
	i, exact := p.lay.find(o)
	if !exact {
		return gosnmp.SnmpPDU{}, false
	}
	obj := &p.lay.objs[i]
	p.mu.Lock()
	v := p.valueLocked(i)
	p.mu.Unlock()
	if v == nil {
		return gosnmp.SnmpPDU{}, false // an absent alert row
	}
	if s, ok := v.(string); ok {
		v = []byte(s)
	}
	return gosnmp.SnmpPDU{Name: obj.name, Type: obj.typ, Value: v}, true
}

// Set changes an object as if from the printer's front panel: read-only
// objects may be changed too (to simulate drift or wear), but the value must
// suit the object's type: string or []byte for octet strings, an integer
// type for integers and counters, a dotted string for OIDs.
func (p *Printer) Set(oid string, value any) error {
	o, ok := parseOID(nil, oid)
	if !ok {
		return fmt.Errorf("printer %s: set %q: not an OID", p.name, oid)
	}
	i, exact := p.lay.find(o)
	if !exact {
		return fmt.Errorf("printer %s: set %s: no such object", p.name, oid)
	}
	obj := &p.lay.objs[i]
	if obj.alert {
		return fmt.Errorf("printer %s: set %s: the alert table follows the printer's alerts (RaiseAlert, ClearAlert)", p.name, obj.name)
	}
	if obj.upTime {
		return fmt.Errorf("printer %s: set %s: sysUpTime is computed from the boot time", p.name, obj.name)
	}
	v, err := convertValue(obj.typ, value)
	if err != nil {
		return fmt.Errorf("printer %s: set %s: %w", p.name, obj.name, err)
	}
	p.mu.Lock()
	p.vals[i] = v
	p.refreshLocked()
	p.mu.Unlock()
	p.changed()
	return nil
}

// convertValue turns a Go value into the representation stored for typ.
func convertValue(typ gosnmp.Asn1BER, value any) (any, error) {
	switch typ {
	case gosnmp.OctetString:
		switch v := value.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
	case gosnmp.Integer:
		if n, ok := toInt64(value); ok && n >= math.MinInt32 && n <= math.MaxInt32 {
			return int(n), nil
		}
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
		if n, ok := toInt64(value); ok && n >= 0 && n <= math.MaxUint32 {
			return uint32(n), nil
		}
	case gosnmp.ObjectIdentifier:
		if s, ok := value.(string); ok {
			if c, _, ok := canonicalOID(s); ok {
				return c, nil
			}
		}
	}
	return nil, fmt.Errorf("value of type %T does not fit an object of type %s", value, typ)
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint32:
		return int64(n), true
	case uint:
		if uint64(n) > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// PrintPages prints n pages: the page counter rises by n; toners, the drum
// and the waste bottle drain by one unit a page (colour toners on every
// fourth page only); Tray 1 empties and is refilled when it runs out. It is
// deterministic, so tests can predict every value.
func (p *Printer) PrintPages(n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	l := p.lay
	var before uint64
	if l.lifeCount >= 0 {
		before = uint64(p.vals[l.lifeCount].(uint32))
	}
	after := before + uint64(n)
	if l.lifeCount >= 0 {
		p.vals[l.lifeCount] = uint32(after) // Counter32 wraps, as on a device
	}
	colour := int(after/4 - before/4)
	for _, s := range l.supplies {
		used := n
		if s.color {
			used = colour
		}
		level := p.vals[s.level].(int)
		if level > 0 {
			p.vals[s.level] = max(0, level-used)
		}
	}
	if l.tray1Max < 0 {
		// A recorded device: its paper is as recorded.
	} else if capacity := p.vals[l.tray1Max].(int); capacity > 0 {
		level := p.vals[l.tray1Level].(int) - n%capacity
		if level <= 0 {
			level += capacity
		}
		p.vals[l.tray1Level] = level
	}
	p.refreshLocked()
	p.mu.Unlock()
	p.changed()
}

// refreshLocked recomputes hrPrinterDetectedErrorState from the supplies and
// the paper level. Bits per RFC 3805, most significant bit first.
func (p *Printer) refreshLocked() {
	if p.lay.recorded {
		return // the error state stays as the device recorded it
	}
	const (
		lowPaper = 0x80
		lowToner = 0x20
		noToner  = 0x10
	)
	var b0 byte
	for _, s := range p.lay.supplies {
		if !s.toner {
			continue
		}
		level, _ := p.vals[s.level].(int)
		capacity, _ := p.vals[s.max].(int)
		switch {
		case level == 0:
			b0 |= noToner
		case capacity > 0 && level*100 <= capacity*lowSupplyPercent:
			b0 |= lowToner
		}
	}
	level, _ := p.vals[p.lay.tray1Level].(int)
	capacity, _ := p.vals[p.lay.tray1Max].(int)
	if capacity > 0 && level*100 <= capacity*lowSupplyPercent {
		b0 |= lowPaper
	}
	b0, b1 := p.syncAlertsLocked(b0)
	p.vals[p.lay.errState] = string([]byte{b0, b1})
}

// valueLocked returns the current value at layout position i.
func (p *Printer) valueLocked(i int) any {
	if p.lay.objs[i].upTime {
		return uint32(time.Since(p.boot) / (10 * time.Millisecond))
	}
	return p.vals[i]
}

// changed tells the simulator that the state file is out of date.
func (p *Printer) changed() {
	p.touched.Store(true)
	if p.sim != nil {
		p.sim.markDirty()
	}
	p.flushTraps()
	p.sendNPAPAlerts()
}
