package simulator

import (
	"slices"
	"sync"

	"github.com/gosnmp/gosnmp"
)

// object is one MIB object instance a printer answers. Objects are shared by
// every printer of a family (a layout); values live in the printer.
type object struct {
	oid  []uint32
	name string // dotted, leading dot, as gosnmp writes OIDs
	// col is the length of the object's OID without its instance arcs: a
	// GET below oid[:col] that finds nothing is noSuchInstance, not
	// noSuchObject.
	col      int
	typ      gosnmp.Asn1BER
	writable bool
	maxLen   int            // octet strings: longest value a SET may write
	valid    func(int) bool // integers: values a SET may write; nil = any
	upTime   bool           // value is computed: TimeTicks since boot
	// alert: a cell of prtAlertTable or its counters, kept by the
	// printer's alerts (alerts.go); nil while the row is absent.
	alert bool
}

// layout is the sorted object list of one family, with the positions of the
// values that printing pages updates.
type layout struct {
	objs          []object
	perm          []int // build order → sorted order, to place each printer's values
	errState      int
	lifeCount     int
	configChanges int
	tray1Level    int
	tray1Max      int
	supplies      []supplySlot
	// recorded layouts come from a Recording: the error state is as
	// recorded, and positions a recording lacks are -1.
	recorded bool
	// alertRows are the positions of each prtAlertTable row's columns
	// (alertColumns), row r being prtAlertIndex r+1; alertCritical and
	// alertAll those of prtAlertCriticalEvents and prtAlertAllEvents.
	alertRows               []alertRow
	alertCritical, alertAll int
}

type supplySlot struct {
	level, max int
	toner      bool
	color      bool // consumed only by colour pages
}

// builder collects objects in any order; layoutOf sorts them.
type builder struct {
	objs []object
	vals []any
}

type objOpt func(*object)

func rw(maxLen int) objOpt { return func(o *object) { o.writable, o.maxLen = true, maxLen } }
func rwInt(valid func(int) bool) objOpt {
	return func(o *object) { o.writable, o.valid = true, valid }
}

// add appends an object; instance is how many trailing arcs index it.
func (b *builder) add(oid string, instance int, typ gosnmp.Asn1BER, val any, opts ...objOpt) int {
	o := object{oid: mustOID(oid), typ: typ}
	o.name = formatOID(o.oid)
	o.col = len(o.oid) - instance
	for _, opt := range opts {
		opt(&o)
	}
	b.objs = append(b.objs, o)
	b.vals = append(b.vals, val)
	return len(b.objs) - 1
}

// RFC 3805 / RFC 2790 codes used below.
const (
	hrDevicePrinter   = ".1.3.6.1.2.1.25.3.1.5"
	hrStatusRunning   = 2
	hrPrinterIdle     = 3
	supplyConsumed    = 3 // prtMarkerSuppliesClass supplyThatIsConsumed
	supplyReceptacle  = 4 // receptacleThatIsFilled
	supplyToner       = 3
	supplyWasteToner  = 4
	supplyOPC         = 9
	unitImpressions   = 7
	capacitySheets    = 8
	dimMicrometers    = 4
	inputAutoTray     = 3 // sheetFeedAutoRemovableTray
	inputManual       = 5 // sheetFeedManual
	levelSomeLeft     = -3
	presentOn         = 3
	presentOff        = 4
	lowSupplyPercent  = 10
	maxWritableString = 255
	maxPrinterName    = 127
	maxMediaName      = 63
)

// Well-known OIDs tests and callers refer to.
const (
	OIDSysDescr         = ".1.3.6.1.2.1.1.1.0"
	OIDSysObjectID      = ".1.3.6.1.2.1.1.2.0"
	OIDSysUpTime        = ".1.3.6.1.2.1.1.3.0"
	OIDSysContact       = ".1.3.6.1.2.1.1.4.0"
	OIDSysName          = ".1.3.6.1.2.1.1.5.0"
	OIDSysLocation      = ".1.3.6.1.2.1.1.6.0"
	OIDHrDeviceDescr    = ".1.3.6.1.2.1.25.3.2.1.3.1"
	OIDHrPrinterStatus  = ".1.3.6.1.2.1.25.3.5.1.1.1"
	OIDHrPrinterErrors  = ".1.3.6.1.2.1.25.3.5.1.2.1"
	OIDPrtSerial        = ".1.3.6.1.2.1.43.5.1.1.17.1"
	OIDPrtPrinterName   = ".1.3.6.1.2.1.43.5.1.1.16.1"
	OIDPrtStartupPage   = ".1.3.6.1.2.1.43.5.1.1.14.1"
	OIDPrtMarkerLife    = ".1.3.6.1.2.1.43.10.2.1.4.1.1"
	OIDPrtSuppliesEntry = ".1.3.6.1.2.1.43.11.1.1"
	OIDLexmarkFirmware  = ".1.3.6.1.4.1.641.2.1.2.1.4.1"
	OIDLexmarkSerial    = ".1.3.6.1.4.1.641.2.1.2.1.6.1"
)

// buildTree lists every object of printer id with its initial value.
func buildTree(id identity) (*builder, layout) {
	if id.fam.rec != nil {
		return buildRecordedTree(id)
	}
	f := id.fam
	b := &builder{}
	var l layout
	itoa := func(n int) string { return formatOID([]uint32{uint32(n)})[1:] }

	// system group (RFC 3418)
	b.add(OIDSysDescr, 1, gosnmp.OctetString, f.descr(f, id.serial))
	b.add(OIDSysObjectID, 1, gosnmp.ObjectIdentifier, f.objectID)
	b.add(OIDSysUpTime, 1, gosnmp.TimeTicks, uint32(0), func(o *object) { o.upTime = true })
	b.add(OIDSysContact, 1, gosnmp.OctetString, "", rw(maxWritableString))
	b.add(OIDSysName, 1, gosnmp.OctetString, id.factoryName(), rw(maxWritableString))
	b.add(OIDSysLocation, 1, gosnmp.OctetString, "", rw(maxWritableString))
	b.add(".1.3.6.1.2.1.1.7.0", 1, gosnmp.Integer, 72)

	// Host Resources (RFC 2790): one device, the printer.
	b.add(".1.3.6.1.2.1.25.3.2.1.2.1", 1, gosnmp.ObjectIdentifier, hrDevicePrinter)
	b.add(OIDHrDeviceDescr, 1, gosnmp.OctetString, f.model)
	b.add(".1.3.6.1.2.1.25.3.2.1.5.1", 1, gosnmp.Integer, hrStatusRunning)
	b.add(OIDHrPrinterStatus, 1, gosnmp.Integer, hrPrinterIdle)
	l.errState = b.add(OIDHrPrinterErrors, 1, gosnmp.OctetString, "\x00\x00")

	// Printer-MIB general table (RFC 3805), indexed by hrDeviceIndex 1.
	trays := 2
	l.configChanges = b.add(".1.3.6.1.2.1.43.5.1.1.1.1", 1, gosnmp.Counter32, uint32(0))
	b.add(".1.3.6.1.2.1.43.5.1.1.2.1", 1, gosnmp.Integer, 1, rwInt(func(v int) bool { return v == 1 }))
	b.add(".1.3.6.1.2.1.43.5.1.1.4.1", 1, gosnmp.OctetString, "", rw(maxPrinterName))
	b.add(".1.3.6.1.2.1.43.5.1.1.5.1", 1, gosnmp.OctetString, "", rw(maxPrinterName))
	b.add(".1.3.6.1.2.1.43.5.1.1.6.1", 1, gosnmp.Integer, 1, rwInt(func(v int) bool { return v >= 1 && v <= trays }))
	// The default output, marker and media path, and the console language:
	// each printer has exactly one of them, so 1 is the only valid index.
	only1 := rwInt(func(v int) bool { return v == 1 })
	onOff := rwInt(func(v int) bool { return v == presentOn || v == presentOff })
	b.add(".1.3.6.1.2.1.43.5.1.1.7.1", 1, gosnmp.Integer, 1, only1)
	b.add(".1.3.6.1.2.1.43.5.1.1.8.1", 1, gosnmp.Integer, 1, only1)
	b.add(".1.3.6.1.2.1.43.5.1.1.9.1", 1, gosnmp.Integer, 1, only1)
	b.add(".1.3.6.1.2.1.43.5.1.1.10.1", 1, gosnmp.Integer, 1, only1)
	// prtConsoleDisable: enabled(3), disabled(4), the same codes as on/off.
	b.add(".1.3.6.1.2.1.43.5.1.1.13.1", 1, gosnmp.Integer, presentOn, onOff)
	b.add(OIDPrtStartupPage, 1, gosnmp.Integer, presentOn, onOff)
	b.add(".1.3.6.1.2.1.43.5.1.1.15.1", 1, gosnmp.Integer, presentOff, onOff) // banner page
	b.add(OIDPrtPrinterName, 1, gosnmp.OctetString, f.model, rw(maxPrinterName))
	b.add(OIDPrtSerial, 1, gosnmp.OctetString, id.serial)

	// Input trays: Tray 1 and the multipurpose feeder.
	type tray struct {
		typ, max, level int
		name, descr     string
	}
	tl := []tray{
		{inputAutoTray, f.tray1, f.tray1 - (id.index*53)%f.tray1, "Tray 1", "Tray 1 (" + itoa(f.tray1) + "-Sheet)"},
		{inputManual, f.mpTray, levelSomeLeft, "MP Feeder", "Multipurpose Feeder"},
	}
	col := func(c int) string { return ".1.3.6.1.2.1.43.8.2.1." + itoa(c) + ".1." }
	for t, tr := range tl {
		b.add(col(2)+itoa(t+1), 2, gosnmp.Integer, tr.typ)
	}
	for t := range tl {
		b.add(col(3)+itoa(t+1), 2, gosnmp.Integer, dimMicrometers)
	}
	// Declared media dimensions, capacities, media and tray names are
	// read-write in RFC 3805: an administrator sets what is loaded.
	dim := rwInt(func(v int) bool { return v >= -2 && v <= 10_000_000 })
	for t := range tl {
		b.add(col(4)+itoa(t+1), 2, gosnmp.Integer, 297000, dim) // A4 feed direction
	}
	for t := range tl {
		b.add(col(5)+itoa(t+1), 2, gosnmp.Integer, 210000, dim)
	}
	for t := range tl {
		b.add(col(8)+itoa(t+1), 2, gosnmp.Integer, capacitySheets)
	}
	for t, tr := range tl {
		i := b.add(col(9)+itoa(t+1), 2, gosnmp.Integer, tr.max, rwInt(func(v int) bool { return v >= 1 && v <= 100_000 }))
		if t == 0 {
			l.tray1Max = i
		}
	}
	for t, tr := range tl {
		i := b.add(col(10)+itoa(t+1), 2, gosnmp.Integer, tr.level)
		if t == 0 {
			l.tray1Level = i
		}
	}
	for t := range tl {
		b.add(col(11)+itoa(t+1), 2, gosnmp.Integer, 0) // available and idle
	}
	for t := range tl {
		b.add(col(12)+itoa(t+1), 2, gosnmp.OctetString, "Plain Paper", rw(maxMediaName))
	}
	for t, tr := range tl {
		b.add(col(13)+itoa(t+1), 2, gosnmp.OctetString, tr.name, rw(maxMediaName))
	}
	for t, tr := range tl {
		b.add(col(18)+itoa(t+1), 2, gosnmp.OctetString, tr.descr)
	}

	// Marker: page counter.
	b.add(".1.3.6.1.2.1.43.10.2.1.3.1.1", 2, gosnmp.Integer, unitImpressions)
	l.lifeCount = b.add(OIDPrtMarkerLife, 2, gosnmp.Counter32, uint32(1000+(id.index*7919)%50000))

	// Marker supplies.
	type supply struct {
		class, typ, max int
		descr           string
		toner, color    bool
	}
	var sl []supply
	for k, name := range f.toner {
		if name == "" {
			continue
		}
		capacity := 20000
		if k > 0 {
			capacity = 12000
		}
		sl = append(sl, supply{supplyConsumed, supplyToner, capacity, name, true, k > 0})
	}
	if f.drum {
		sl = append(sl, supply{supplyConsumed, supplyOPC, 90000, f.drumName, false, false})
	}
	if f.waste != "" {
		sl = append(sl, supply{supplyReceptacle, supplyWasteToner, 100000, f.waste, false, false})
	}
	scol := func(c int) string { return OIDPrtSuppliesEntry + "." + itoa(c) + ".1." }
	for k, s := range sl {
		b.add(scol(4)+itoa(k+1), 2, gosnmp.Integer, s.class)
	}
	for k, s := range sl {
		b.add(scol(5)+itoa(k+1), 2, gosnmp.Integer, s.typ)
	}
	for k, s := range sl {
		b.add(scol(6)+itoa(k+1), 2, gosnmp.OctetString, s.descr)
	}
	for k := range sl {
		b.add(scol(7)+itoa(k+1), 2, gosnmp.Integer, unitImpressions)
	}
	maxIdx := make([]int, len(sl))
	for k, s := range sl {
		maxIdx[k] = b.add(scol(8)+itoa(k+1), 2, gosnmp.Integer, s.max)
	}
	for k, s := range sl {
		i := b.add(scol(9)+itoa(k+1), 2, gosnmp.Integer, initialLevel(id.index, k, s.max))
		l.supplies = append(l.supplies, supplySlot{level: i, max: maxIdx[k], toner: s.toner, color: s.color})
	}

	l.alertCritical, l.alertAll, l.alertRows = addAlertTable(b)

	if f.lexmark {
		b.add(OIDLexmarkFirmware, 1, gosnmp.OctetString, f.firmware)
		b.add(OIDLexmarkSerial, 1, gosnmp.OctetString, id.serial)
	}
	return b, l
}

// initialLevel spreads supply levels over 20–100 %, and leaves every
// seventh printer's first toner at 5 % so a fleet always shows some
// lowToner warnings.
func initialLevel(index, k, capacity int) int {
	pct := 20 + (index*37+k*53)%81
	if k == 0 && index%7 == 6 {
		pct = 5
	}
	return capacity * pct / 100
}

var (
	layoutsMu sync.Mutex
	layouts   = map[*family]*layout{}
)

// treeOf returns the shared layout of id's family and id's initial values
// in layout order.
func treeOf(id identity) (*layout, []any) {
	b, l := buildTree(id)
	layoutsMu.Lock()
	lay, ok := layouts[id.fam]
	if !ok {
		perm := make([]int, len(b.objs))
		for i := range perm {
			perm[i] = i
		}
		slices.SortStableFunc(perm, func(x, y int) int { return compareOID(b.objs[x].oid, b.objs[y].oid) })
		inv := make([]int, len(perm))
		objs := make([]object, len(perm))
		for sorted, built := range perm {
			inv[built] = sorted
			objs[sorted] = b.objs[built]
		}
		remap := func(i int) int {
			if i < 0 {
				return i
			}
			return inv[i]
		}
		l.objs, l.perm = objs, inv
		l.errState, l.lifeCount = remap(l.errState), remap(l.lifeCount)
		l.configChanges, l.tray1Level, l.tray1Max = remap(l.configChanges), remap(l.tray1Level), remap(l.tray1Max)
		for k := range l.supplies {
			l.supplies[k].level, l.supplies[k].max = remap(l.supplies[k].level), remap(l.supplies[k].max)
		}
		l.alertCritical, l.alertAll = remap(l.alertCritical), remap(l.alertAll)
		for r := range l.alertRows {
			for c := range l.alertRows[r] {
				l.alertRows[r][c] = remap(l.alertRows[r][c])
			}
		}
		lay = &l
		layouts[id.fam] = lay
	}
	layoutsMu.Unlock()
	vals := make([]any, len(b.vals))
	for built, v := range b.vals {
		vals[lay.perm[built]] = v
	}
	return lay, vals
}

// find returns the position of the first object whose OID is >= oid, and
// whether it is an exact match.
func (l *layout) find(oid []uint32) (int, bool) {
	return slices.BinarySearchFunc(l.objs, oid, func(o object, t []uint32) int { return compareOID(o.oid, t) })
}

// missing tells which exception a GET of a non-existent oid gets: below an
// existing object (a wrong or absent instance) it is noSuchInstance,
// otherwise noSuchObject. Objects sharing a column prefix are contiguous in
// sorted order, so only the neighbours of the insertion point can match.
func (l *layout) missing(oid []uint32, pos int) gosnmp.Asn1BER {
	for _, i := range [2]int{pos - 1, pos} {
		if i >= 0 && i < len(l.objs) && hasPrefix(oid, l.objs[i].oid[:l.objs[i].col]) {
			return gosnmp.NoSuchInstance
		}
	}
	return gosnmp.NoSuchObject
}
