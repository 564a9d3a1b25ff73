package simulator

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/catalog"
)

// A Recording is the SNMP agent of a real printer as snmpsim records it
// (".snmprec": one "OID|TYPE|VALUE" a line). A simulator started with one
// (Options.Recording) serves every printer answering like that device, so
// benchmarks and demos run on real device shapes: each printer has its own
// address and its own serial number (the recorded one followed by the
// printer's number, wherever the device shows it), and keeps the settings
// the simulator can write (the system group, and the Printer MIB's
// writable objects the device has) in its own values.
type Recording struct {
	name    string
	records []record
	// What the identity rules read from it, the serial as recorded.
	vendor, model, firmware, serial string
	sysDescr                        string
	fam                             *family
	// skipped says, per line left out, why: recordings of real devices
	// hold the odd value their agent could not have sent.
	skipped []string
}

type record struct {
	oid []uint32
	typ gosnmp.Asn1BER
	val any // as layouts hold values: string, int, uint32, uint64
}

// maxRecordingSize bounds a recording read from a file.
const maxRecordingSize = 32 << 20

// LoadRecording reads a recording from a .snmprec file.
func LoadRecording(path string) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("simulator: recording: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordingSize+1))
	if err != nil {
		return nil, fmt.Errorf("simulator: recording %s: %w", path, err)
	}
	if len(data) > maxRecordingSize {
		return nil, fmt.Errorf("simulator: recording %s: larger than %d MiB", path, maxRecordingSize>>20)
	}
	return ParseRecording(path, data)
}

// Skipped lists the lines left out, each with its number and why: values
// that do not parse as their type, and second recordings of an object.
func (r *Recording) Skipped() []string { return r.skipped }

// Name is the recording's name: its file name without ".snmprec".
func (r *Recording) Name() string { return r.name }

// Model, Firmware and Serial are what the identity rules read from the
// recorded device; Serial is as recorded, before each printer's number.
func (r *Recording) Model() string    { return r.model }
func (r *Recording) Firmware() string { return r.firmware }
func (r *Recording) Serial() string   { return r.serial }

// ParseRecording reads a recording in snmpsim's format; name (a path)
// names it in errors. Errors say the line.
func ParseRecording(name string, data []byte) (*Recording, error) {
	r := &Recording{name: strings.TrimSuffix(filepath.Base(name), ".snmprec")}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rec, err := parseRecord(line)
		var bad badValue
		switch {
		case errors.As(err, &bad):
			r.skipped = append(r.skipped, fmt.Sprintf("line %d: %v", n, err))
			continue
		case err != nil:
			return nil, fmt.Errorf("simulator: recording %s:%d: %w", name, n, err)
		}
		if rec.typ == gosnmp.Null {
			continue
		}
		key := formatOID(rec.oid)
		if seen[key] {
			r.skipped = append(r.skipped, fmt.Sprintf("line %d: %s recorded again; the first value is served", n, key))
			continue
		}
		seen[key] = true
		r.records = append(r.records, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("simulator: recording %s: %w", name, err)
	}
	if len(r.records) == 0 {
		return nil, fmt.Errorf("simulator: recording %s: no objects", name)
	}
	r.identify()
	r.fam = r.family()
	return r, nil
}

// badValue is a value that does not parse as its type: the line is
// left out rather than the recording refused.
type badValue struct{ error }

// parseRecord reads one "OID|TYPE|VALUE" line. TYPE is the BER tag in
// decimal, with an "x" when the value is hex.
func parseRecord(line string) (record, error) {
	oidText, rest, ok := strings.Cut(line, "|")
	tag, value, ok2 := strings.Cut(rest, "|")
	if !ok || !ok2 {
		return record{}, fmt.Errorf("want OID|TYPE|VALUE")
	}
	oid, ok := parseOID(nil, strings.TrimSpace(oidText))
	if !ok {
		return record{}, fmt.Errorf("OID %q is not a dotted numeric OID", oidText)
	}
	hexValue := strings.HasSuffix(tag, "x")
	tagNum, err := strconv.ParseUint(strings.TrimSuffix(tag, "x"), 10, 8)
	if err != nil {
		return record{}, fmt.Errorf("type %q is not a BER tag (variation modules are not supported)", tag)
	}
	typ := gosnmp.Asn1BER(tagNum)
	raw := value
	if hexValue {
		b, err := hex.DecodeString(value)
		if err != nil {
			return record{}, badValue{fmt.Errorf("type %s: value is not hex: %w", tag, err)}
		}
		raw = string(b)
	}
	rec := record{oid: oid, typ: typ}
	switch typ {
	case gosnmp.Integer:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 32)
		if err != nil {
			return record{}, badValue{fmt.Errorf("integer %q: %w", raw, err)}
		}
		rec.val = int(n)
	case gosnmp.OctetString, gosnmp.Opaque:
		rec.typ, rec.val = gosnmp.OctetString, raw
	case gosnmp.Null:
	case gosnmp.ObjectIdentifier:
		c, _, ok := canonicalOID(strings.TrimSpace(raw))
		if !ok {
			return record{}, badValue{fmt.Errorf("object identifier %q", raw)}
		}
		rec.val = c
	case gosnmp.IPAddress:
		var ip netip.Addr
		if hexValue {
			a, ok := netip.AddrFromSlice([]byte(raw))
			if !ok || !a.Is4() {
				return record{}, badValue{fmt.Errorf("IP address of %d bytes", len(raw))}
			}
			ip = a
		} else {
			a, err := netip.ParseAddr(strings.TrimSpace(raw))
			if err != nil || !a.Is4() {
				return record{}, badValue{fmt.Errorf("IP address %q", raw)}
			}
			ip = a
		}
		rec.val = ip.String()
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
		n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, 32)
		if err != nil {
			return record{}, badValue{fmt.Errorf("%s %q: %w", typ, raw, err)}
		}
		rec.val = uint32(n)
	case gosnmp.Counter64:
		n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return record{}, badValue{fmt.Errorf("counter64 %q: %w", raw, err)}
		}
		rec.val = n
	default:
		return record{}, fmt.Errorf("type %s is not supported", tag)
	}
	return rec, nil
}

// identify reads the device's identity with the built-in identity rules,
// as inkform reads a printer.
func (r *Recording) identify() {
	objects := map[string]string{}
	var sysObjectID string
	hrType := map[string]string{}
	for _, rec := range r.records {
		name := formatOID(rec.oid)
		switch rec.typ {
		case gosnmp.OctetString:
			objects[name[1:]] = recordText(rec.val.(string))
		case gosnmp.ObjectIdentifier:
			if name == OIDSysObjectID {
				sysObjectID = rec.val.(string)
			}
			if idx, ok := strings.CutPrefix(name, ".1.3.6.1.2.1.25.3.2.1.2."); ok {
				hrType[idx] = rec.val.(string)
			}
		}
	}
	r.sysDescr = objects[OIDSysDescr[1:]]
	row := "1"
	if hrType[row] != hrDevicePrinter {
		for idx, t := range hrType {
			if t == hrDevicePrinter && (row == "1" || idx < row) {
				row = idx
			}
		}
	}
	rule := catalog.DefaultDevices().Match(sysObjectID, r.sysDescr)
	facts := catalog.DeviceFacts{SysObjectID: sysObjectID, SysDescr: r.sysDescr,
		HrDeviceDescr: objects["1.3.6.1.2.1.25.3.2.1.3."+row], Objects: objects}
	id, missing := rule.Identify(facts)
	if len(missing) > 0 {
		for _, oid := range missing {
			objects[oid] = "" // not recorded
		}
		id, _ = rule.Identify(facts)
	}
	r.vendor, r.model, r.firmware = id.Vendor, id.Model, id.Firmware
	r.serial = id.Serial
	if r.serial == "" {
		r.serial = strings.TrimSpace(objects[OIDPrtSerial[1:]])
	}
	if r.model == "" {
		r.model = r.name
	}
}

// recordText is a recorded string as text, for the identity rules: cut
// at the first NUL, Latin-1 when not UTF-8.
func recordText(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// family is the recording as a model line of the simulator.
func (r *Recording) family() *family {
	vendor := strings.ToLower(strings.ReplaceAll(r.vendor, " ", "-"))
	if vendor == "" {
		vendor = "recorded"
	}
	sysDescr := ""
	for _, rec := range r.records {
		if formatOID(rec.oid) == OIDSysDescr && rec.typ == gosnmp.OctetString {
			sysDescr = rec.val.(string)
		}
	}
	recFirmware := r.firmware
	return &family{
		vendor: vendor, model: r.model, firmware: r.firmware,
		// sysDescr as recorded, with the printer's serial and firmware
		// where the recorded ones were, so that an installed version shows.
		descr: func(f *family, serial string) string {
			d := r.vary(sysDescr, serial)
			if recFirmware != "" && f.firmware != recFirmware {
				d = strings.Replace(d, recFirmware, f.firmware, 1)
			}
			return d
		},
		rec: r,
	}
}

// minVariedSerial is the shortest recorded serial replaced wherever it
// occurs in a value (sysDescr's "SN:…", a vendor object).
const minVariedSerial = 6

// vary puts a printer's serial where the recorded one is.
func (r *Recording) vary(s, serial string) string {
	switch {
	case r.serial == "" || serial == r.serial:
		return s
	case len(r.serial) < minVariedSerial:
		// Too short to be told from other text: only where it is the
		// whole value.
		if s == r.serial {
			return serial
		}
		return s
	}
	return strings.ReplaceAll(s, r.serial, serial)
}

// oidIfPhysAddress is the interfaces table's MAC address column.
const oidIfPhysAddress = ".1.3.6.1.2.1.2.2.1.6."

// nic is the last three octets of the printer's MAC address.
func (id identity) nic() string {
	b, err := hex.DecodeString(id.mac[6:])
	if err != nil || len(b) != 3 {
		return "\x00\x00\x00"
	}
	return string(b)
}

// identityOfRecording is printer i of a fleet cloned from r.
func identityOfRecording(i int, r *Recording) identity {
	id := identityOf(i)
	id.fam = r.fam
	base := r.serial
	if base == "" {
		base = "SIM" + strings.ToUpper(r.name)
	}
	id.serial = fmt.Sprintf("%s%04d", base, i+1)
	return id
}

// buildRecordedTree lists the recording's objects with printer id's
// values. Objects the simulator's own printers let SNMP write keep that
// behaviour where the device has them (with the same type); the system
// group's contact, name and location are added when not recorded, so
// that settings can always be written.
func buildRecordedTree(id identity) (*builder, layout) {
	r := id.fam.rec
	ref, _ := buildTree(identityOf(0))
	writable := map[string]*object{}
	for i := range ref.objs {
		if o := &ref.objs[i]; o.writable {
			writable[o.name] = o
		}
	}
	b := &builder{}
	l := layout{errState: -1, lifeCount: -1, configChanges: -1, tray1Level: -1, tray1Max: -1, recorded: true}
	have := map[string]bool{}
	levels, maxes, types := map[string]int{}, map[string]int{}, map[string]int{}
	for _, rec := range r.records {
		name := formatOID(rec.oid)
		have[name] = true
		val := rec.val
		if s, ok := val.(string); ok && rec.typ == gosnmp.OctetString {
			val = r.vary(s, id.serial)
			if strings.HasPrefix(name, oidIfPhysAddress) && len(s) == 6 && s != "\x00\x00\x00\x00\x00\x00" {
				val = s[:3] + id.nic() // the vendor's OUI, this printer's NIC
			}
		}
		var opts []objOpt
		if w, ok := writable[name]; ok && w.typ == rec.typ {
			opts = append(opts, func(o *object) { o.writable, o.maxLen, o.valid = true, w.maxLen, w.valid })
		}
		if name == OIDSysUpTime && rec.typ == gosnmp.TimeTicks {
			opts = append(opts, func(o *object) { o.upTime = true })
		}
		i := b.add(name, 1, rec.typ, val, opts...)
		switch {
		case name == OIDPrtMarkerLife && rec.typ == gosnmp.Counter32:
			l.lifeCount = i
		case name == ".1.3.6.1.2.1.43.5.1.1.1.1" && rec.typ == gosnmp.Counter32:
			l.configChanges = i
		case rec.typ == gosnmp.Integer:
			if row, ok := strings.CutPrefix(name, OIDPrtSuppliesEntry+".9."); ok {
				levels[row] = i
			} else if row, ok := strings.CutPrefix(name, OIDPrtSuppliesEntry+".8."); ok {
				maxes[row] = i
			} else if row, ok := strings.CutPrefix(name, OIDPrtSuppliesEntry+".5."); ok {
				types[row] = val.(int)
			}
		}
	}
	for _, oid := range []string{OIDSysContact, OIDSysName, OIDSysLocation} {
		if !have[oid] {
			w := writable[oid]
			b.add(oid, 1, gosnmp.OctetString, "", rw(w.maxLen))
		}
	}
	if !have[OIDPrtSerial] && r.serial == "" {
		b.add(OIDPrtSerial, 1, gosnmp.OctetString, id.serial)
	}
	// Printing drains the supplies whose level and capacity are known.
	for row, li := range levels {
		mi, ok := maxes[row]
		if !ok || b.vals[li].(int) < 0 || b.vals[mi].(int) <= 0 {
			continue
		}
		l.supplies = append(l.supplies, supplySlot{level: li, max: mi, toner: types[row] == supplyToner || types[row] == 21})
	}
	return b, l
}
