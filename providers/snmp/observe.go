package snmp

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

// OIDs read on every observation. Requests use gosnmp's leading-dot form.
const (
	oidSysDescr        = ".1.3.6.1.2.1.1.1.0"
	oidSysObjectID     = ".1.3.6.1.2.1.1.2.0"
	oidSysUpTime       = ".1.3.6.1.2.1.1.3.0"
	oidHrDeviceType    = ".1.3.6.1.2.1.25.3.2.1.2"
	oidHrDeviceDescr   = ".1.3.6.1.2.1.25.3.2.1.3"
	oidHrDeviceStatus  = ".1.3.6.1.2.1.25.3.2.1.5"
	oidHrPrinterStatus = ".1.3.6.1.2.1.25.3.5.1.1"
	oidHrPrinterErrors = ".1.3.6.1.2.1.25.3.5.1.2"
	oidPrtSerial       = ".1.3.6.1.2.1.43.5.1.1.17.1"
	oidPrtLifeCount    = ".1.3.6.1.2.1.43.10.2.1.4.1.1"
	oidSupplyColorant  = ".1.3.6.1.2.1.43.11.1.1.3" // prtMarkerSuppliesColorantIndex
	oidSupplyType      = ".1.3.6.1.2.1.43.11.1.1.5"
	oidSupplyDescr     = ".1.3.6.1.2.1.43.11.1.1.6"
	oidSupplyMax       = ".1.3.6.1.2.1.43.11.1.1.8"
	oidSupplyLevel     = ".1.3.6.1.2.1.43.11.1.1.9"
	oidColorantValue   = ".1.3.6.1.2.1.43.12.1.1.4" // prtMarkerColorantValue

	// hrDevicePrinter is the hrDeviceType of a printer.
	hrDevicePrinter = ".1.3.6.1.2.1.25.3.1.5"
)

// Bounds on table walks: printers have a handful of supplies and devices;
// a misbehaving agent must not keep us looping.
const (
	maxWalkRounds    = 64
	maxWalkRows      = 256
	bulkRepetitions  = 16
	maxDeviceEntries = 64
)

// Observe reads the printer's facts and the requested settings. It costs
// two to four round trips: the standard objects and the settings in as few
// GETs as MaxOIDsPerPDU allows, the supplies table (GETBULK, or GETNEXT on
// v1), and only when needed the host device table and one GET of the
// vendor objects the identity rules (catalog.Devices) name.
//
// Facts an agent lacks stay at their zero value, except Status ("unknown")
// and PageCount (-1). Requested settings that are not in the catalog, have
// no SNMP binding or that the agent lacks are listed in Unsupported,
// sorted.
func (s *Session) Observe(ctx context.Context, settings []string) (fleet.Observation, error) {
	return s.observe(ctx, settings, readOptions{supplies: true})
}

// Check is Observe without the supplies table walk: one round trip fewer
// (and the largest answer), for apply's checks before and after writing.
func (s *Session) Check(ctx context.Context, settings []string) (fleet.Observation, error) {
	return s.observe(ctx, settings, readOptions{})
}

// readOptions say which tables an observation reads besides the facts and
// settings.
type readOptions struct {
	supplies bool // prtMarkerSuppliesTable
	alerts   bool // prtAlertTable
}

func (s *Session) observe(ctx context.Context, settings []string, opts readOptions) (fleet.Observation, error) {
	obs := fleet.Observation{PageCount: -1, Transport: Transport, Status: fleet.StatusUnknown}
	if err := s.begin(ctx); err != nil {
		return obs, err
	}

	rp := s.plans.get(settings)
	obs.Unsupported = slices.Clone(rp.unsupported)
	scalars := rp.scalars
	if opts.alerts {
		// In the same GET: whether the agent keeps the alert table.
		scalars = append(slices.Clip(scalars), oidPrtAlertCriticalEvents+".1", oidPrtAlertAllEvents+".1")
	}
	vals, err := s.getScalars(ctx, "get", scalars)
	if err != nil {
		return obs, err
	}

	// The printer's row in the host device table is usually 1; find it
	// otherwise. Agents without the table (some print servers) still
	// answer the status objects of row 1.
	printerIndex := "1"
	pending := false
	if oidValue(vals[oidHrDeviceType+".1"]) != hrDevicePrinter {
		idx, err := s.findPrinterDevice(ctx)
		if err != nil {
			return obs, err
		}
		if idx != "" && idx != "1" {
			printerIndex, pending = idx, true
		}
	}

	obs.SysDescr = textValue(vals[oidSysDescr])
	rule := s.devices.Match(oidValue(vals[oidSysObjectID]), obs.SysDescr)
	facts := catalog.DeviceFacts{
		SysObjectID:          oidValue(vals[oidSysObjectID]),
		SysDescr:             obs.SysDescr,
		HrDeviceDescr:        textValue(vals[oidHrDeviceDescr+".1"]),
		HrDeviceDescrPending: pending,
		Objects:              make(map[string]string, 4),
	}
	facts.Objects[oidPrtSerial[1:]] = textValue(vals[oidPrtSerial])

	var second []string
	if pending {
		second = append(second, oidHrDeviceDescr+"."+printerIndex, oidHrDeviceStatus+"."+printerIndex,
			oidHrPrinterStatus+"."+printerIndex, oidHrPrinterErrors+"."+printerIndex)
		if opts.alerts {
			second = append(second, oidPrtAlertCriticalEvents+"."+printerIndex, oidPrtAlertAllEvents+"."+printerIndex)
		}
	}
	id, missing := rule.Identify(facts)
	for _, oid := range missing {
		second = append(second, "."+oid)
	}
	if len(second) > 0 {
		more, err := s.getScalars(ctx, "get", second)
		if err != nil {
			return obs, err
		}
		for k, v := range more {
			vals[k] = v
		}
		for _, oid := range missing {
			facts.Objects[oid] = textValue(vals["."+oid])
		}
		if pending {
			facts.HrDeviceDescr = textValue(vals[oidHrDeviceDescr+"."+printerIndex])
			facts.HrDeviceDescrPending = false
		}
	}
	if len(second) > 0 {
		id, _ = rule.Identify(facts)
	}
	obs.Vendor, obs.Model, obs.Firmware, obs.Serial = id.Vendor, id.Model, id.Firmware, id.Serial

	if ticks, ok := intValue(vals[oidSysUpTime]); ok {
		// TimeTicks are hundredths of a second; a reset means a reboot.
		obs.Uptime = time.Duration(ticks) * 10 * time.Millisecond
	}
	if b, ok := vals[oidHrPrinterErrors+"."+printerIndex].Value.([]byte); ok {
		obs.Errors = detectedErrors(b)
	}
	printerStatus, _ := intValue(vals[oidHrPrinterStatus+"."+printerIndex])
	deviceStatus, _ := intValue(vals[oidHrDeviceStatus+"."+printerIndex])
	obs.Status = status(printerStatus, deviceStatus, obs.Errors)
	if n, ok := intValue(vals[oidPrtLifeCount]); ok && n >= 0 {
		obs.PageCount = n
	}

	if opts.supplies {
		obs.Supplies, err = s.supplies(ctx)
		if err != nil {
			return obs, err
		}
	}
	if opts.alerts {
		obs.Alerts, err = s.alerts(ctx, printerIndex)
		if err != nil {
			return obs, err
		}
		_, critical := vals[oidPrtAlertCriticalEvents+"."+printerIndex]
		_, all := vals[oidPrtAlertAllEvents+"."+printerIndex]
		obs.AlertsRead = len(obs.Alerts) > 0 || critical || all
	}

	for _, so := range rp.settings {
		v, ok := vals[so.oid]
		for _, name := range so.names {
			if !ok {
				obs.Unsupported = append(obs.Unsupported, name)
				continue
			}
			if obs.Settings == nil {
				obs.Settings = make(map[string]string, len(settings))
			}
			obs.Settings[name] = settingValue(v)
		}
	}
	slices.Sort(obs.Unsupported)
	obs.ObservedAt = time.Now().UTC()
	return obs, nil
}

// findPrinterDevice walks hrDeviceType for the first printer row and
// returns its index, or "" when the agent lists none.
func (s *Session) findPrinterDevice(ctx context.Context) (string, error) {
	cols, err := s.walkColumns(ctx, "walk hrDeviceType", []string{oidHrDeviceType}, maxDeviceEntries)
	if err != nil {
		return "", err
	}
	for _, row := range cols[0] {
		if oidValue(row.pdu) == hrDevicePrinter {
			return row.index, nil
		}
	}
	return "", nil
}

func clampInt(n int64) int {
	const maxInt32 = 1<<31 - 1
	if n > maxInt32 {
		return maxInt32
	}
	if n < -maxInt32 {
		return -maxInt32
	}
	return int(n)
}

// cell is one value of a walked column, by its row index (the OID suffix
// after the column).
type cell struct {
	index string
	pdu   gosnmp.SnmpPDU
}

// walkColumns walks several table columns side by side: GETBULK with all
// columns as repeaters on v2c/v3, GETNEXT on v1. It stops a column when it
// leaves its subtree, reaches endOfMibView or stops increasing.
func (s *Session) walkColumns(ctx context.Context, op string, columns []string, maxRows int) ([][]cell, error) {
	if len(columns) > s.maxOIDs {
		// Keep every request within MaxOIDsPerPDU.
		out := make([][]cell, 0, len(columns))
		for start := 0; start < len(columns); start += s.maxOIDs {
			part, err := s.walkColumns(ctx, op, columns[start:min(start+s.maxOIDs, len(columns))], maxRows)
			if err != nil {
				return nil, err
			}
			out = append(out, part...)
		}
		return out, nil
	}
	out := make([][]cell, len(columns))
	cur := slices.Clone(columns)
	active := make([]int, len(columns))
	for i := range active {
		active[i] = i
	}
	reps := uint32(bulkRepetitions)
	for round := 0; round < maxWalkRounds && len(active) > 0; round++ {
		req := make([]string, len(active))
		for i, c := range active {
			req[i] = cur[c]
		}
		var pkt *gosnmp.SnmpPacket
		var err error
		s.g.Context = ctx
		if s.version == gosnmp.Version1 {
			pkt, err = s.g.GetNext(req)
		} else {
			pkt, err = s.g.GetBulk(req, 0, reps)
		}
		if err != nil {
			return nil, s.wrap(op, err)
		}
		s.answered = true
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.TooBig:
			if reps > 1 {
				reps /= 2
				continue
			}
			if len(columns) > 1 {
				// One row of every column is too big for the agent: walk
				// the columns in two halves instead.
				half := len(columns) / 2
				first, err := s.walkColumns(ctx, op, columns[:half], maxRows)
				if err != nil {
					return nil, err
				}
				second, err := s.walkColumns(ctx, op, columns[half:], maxRows)
				if err != nil {
					return nil, err
				}
				return append(first, second...), nil
			}
			return nil, fmt.Errorf("printer %s (%s): snmp %s: tooBig for a single row", s.name, s.addr, op)
		case gosnmp.NoSuchName:
			// SNMPv1's end of the MIB: the named column is finished.
			i := int(pkt.ErrorIndex) - 1
			if i < 0 || i >= len(active) {
				return out, nil
			}
			active = slices.Delete(active, i, i+1)
			continue
		default:
			return nil, fmt.Errorf("printer %s (%s): snmp %s: %s", s.name, s.addr, op, statusName(pkt.Error))
		}
		done := make([]bool, len(columns))
		for j, v := range pkt.Variables {
			c := active[j%len(active)]
			if done[c] {
				continue
			}
			prefix := columns[c] + "."
			if v.Type == gosnmp.EndOfMibView || v.Type == gosnmp.NoSuchObject || v.Type == gosnmp.NoSuchInstance ||
				!strings.HasPrefix(v.Name, prefix) || compareOID(v.Name, cur[c]) <= 0 || len(out[c]) >= maxRows {
				done[c] = true
				continue
			}
			out[c] = append(out[c], cell{index: v.Name[len(prefix):], pdu: v})
			cur[c] = v.Name
		}
		if len(pkt.Variables) == 0 {
			break
		}
		active = slices.DeleteFunc(active, func(c int) bool { return done[c] })
	}
	return out, nil
}

// getScalars GETs oids in PDUs of at most MaxOIDsPerPDU varbinds and
// returns the value of each OID the agent has. Objects the agent lacks
// (noSuchObject, noSuchInstance, or v1 noSuchName) are left out.
func (s *Session) getScalars(ctx context.Context, op string, oids []string) (map[string]gosnmp.SnmpPDU, error) {
	out := make(map[string]gosnmp.SnmpPDU, len(oids))
	for start := 0; start < len(oids); start += s.maxOIDs {
		end := min(start+s.maxOIDs, len(oids))
		if err := s.getChunk(ctx, op, oids[start:end], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Session) getChunk(ctx context.Context, op string, oids []string, out map[string]gosnmp.SnmpPDU) error {
	oids = slices.Clone(oids)
	// Each noSuchName retry drops one OID, so this ends.
	for len(oids) > 0 {
		s.g.Context = ctx
		pkt, err := s.g.Get(oids)
		if err != nil {
			return s.wrap(op, err)
		}
		s.answered = true
		switch pkt.Error {
		case gosnmp.NoError:
			if len(pkt.Variables) != len(oids) {
				return fmt.Errorf("printer %s (%s): snmp %s: asked %d objects, got %d", s.name, s.addr, op, len(oids), len(pkt.Variables))
			}
			// A GET response lists the varbinds in request order.
			for i, v := range pkt.Variables {
				switch v.Type {
				case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
					continue
				}
				out[oids[i]] = v
			}
			return nil
		case gosnmp.TooBig:
			if len(oids) == 1 {
				return fmt.Errorf("printer %s (%s): snmp %s %s: tooBig", s.name, s.addr, op, oids[0])
			}
			half := len(oids) / 2
			if err := s.getChunk(ctx, op, oids[:half], out); err != nil {
				return err
			}
			return s.getChunk(ctx, op, oids[half:], out)
		case gosnmp.NoSuchName:
			i := int(pkt.ErrorIndex) - 1
			if i < 0 || i >= len(oids) {
				return fmt.Errorf("printer %s (%s): snmp %s: noSuchName at invalid index %d", s.name, s.addr, op, pkt.ErrorIndex)
			}
			oids = slices.Delete(oids, i, i+1)
		default:
			return fmt.Errorf("printer %s (%s): snmp %s: %s", s.name, s.addr, op, statusName(pkt.Error))
		}
	}
	return nil
}

// textValue returns a string value decoded as display text, "" when
// absent or not a string.
func textValue(v gosnmp.SnmpPDU) string {
	if b, ok := v.Value.([]byte); ok {
		return decodeText(b)
	}
	if str, ok := v.Value.(string); ok && v.Type == gosnmp.OctetString {
		return decodeText([]byte(str))
	}
	return ""
}

// oidValue returns an OBJECT IDENTIFIER value with a leading dot.
func oidValue(v gosnmp.SnmpPDU) string {
	if v.Type != gosnmp.ObjectIdentifier {
		return ""
	}
	str, _ := v.Value.(string)
	if str != "" && !strings.HasPrefix(str, ".") {
		str = "." + str
	}
	return str
}

// intValue returns a numeric value of any integer SNMP type.
func intValue(v gosnmp.SnmpPDU) (int64, bool) {
	switch v.Type {
	case gosnmp.Integer, gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
		// gosnmp decodes these as int, uint or uint64; only a uint64
		// beyond int64 needs its general conversion.
		switch n := v.Value.(type) {
		case int:
			return int64(n), true
		case uint:
			if uint64(n) <= math.MaxInt64 {
				return int64(n), true
			}
		case uint32:
			return int64(n), true
		case uint64:
			if n <= math.MaxInt64 {
				return int64(n), true
			}
		}
		b := gosnmp.ToBigInt(v.Value)
		if !b.IsInt64() {
			return 0, false
		}
		return b.Int64(), true
	}
	return 0, false
}

// settingValue renders a setting's value in the catalog's canonical string
// form. Strings keep their content (only NUL padding is dropped), so a
// value written by Set reads back identical.
func settingValue(v gosnmp.SnmpPDU) string {
	if n, ok := intValue(v); ok {
		return strconv.FormatInt(n, 10)
	}
	switch val := v.Value.(type) {
	case []byte:
		if i := indexByte(val, 0); i >= 0 {
			val = val[:i]
		}
		return string(val)
	case string:
		return val
	}
	return fmt.Sprint(v.Value)
}

// compareOID orders dotted OIDs numerically. It runs for every row of
// every table walk, so it compares arc by arc without parsing or
// allocating.
func compareOID(a, b string) int {
	a, b = strings.TrimPrefix(a, "."), strings.TrimPrefix(b, ".")
	// The arcs before the first differing byte are equal (walked OIDs
	// share long prefixes): compare from the start of the arc it is in.
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) && i == len(b) {
		return 0
	}
	start := strings.LastIndexByte(a[:i], '.') + 1
	a, b = a[start:], b[start:]
	for {
		x, restA, moreA := strings.Cut(a, ".")
		y, restB, moreB := strings.Cut(b, ".")
		if c := compareArc(x, y); c != 0 {
			return c
		}
		switch {
		case moreA && moreB:
			a, b = restA, restB
		case moreA:
			return 1
		case moreB:
			return -1
		default:
			return 0
		}
	}
}

// compareArc orders two arcs: numerically when both are decimal numbers,
// as text otherwise.
func compareArc(x, y string) int {
	if !isDecimal(x) || !isDecimal(y) {
		return strings.Compare(x, y)
	}
	x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
	if len(x) != len(y) {
		return cmp.Compare(len(x), len(y))
	}
	return strings.Compare(x, y)
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
