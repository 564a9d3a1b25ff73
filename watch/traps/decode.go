package traps

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/watch"
)

// Trap OIDs, without the leading dot.
const (
	// OIDPrinterV2Alert is RFC 3805's printerV2Alert; its SNMPv1 form is
	// enterprise printerV2AlertPrefix's parent (43.18.2), specific 1.
	OIDPrinterV2Alert = "1.3.6.1.2.1.43.18.2.0.1"
	// OIDLexmarkAlert is LEXMARK-MPS-MIB's deviceV2AlertMPS.
	OIDLexmarkAlert = "1.3.6.1.4.1.641.6.5.2.0.1"

	oidSnmpTrapOID = "1.3.6.1.6.3.1.1.4.1.0"
	// prtAlertEntry: columns 1 index … 9 time, then .hrDeviceIndex.prtAlertIndex.
	oidPrtAlertEntry = "1.3.6.1.2.1.43.18.1.1."
	// deviceAlertEntry (LEXMARK-MPS-MIB): columns 1 index, 2 config table
	// node, 3 config table index, 4 severity, 5 Lexmark alert code,
	// 6 description, 7 data, 8 time, 10 training level, 11 the
	// Printer-MIB alert code; then .deviceIndex.deviceAlertIndex.
	oidLexmarkAlertEntry = "1.3.6.1.4.1.641.6.5.1.1."
	// snmpTraps: the generic v1 traps become snmpTraps.(generic+1).
	oidSnmpTraps = "1.3.6.1.6.3.1.1.5."
)

// Printer-MIB columns of prtAlertEntry.
const (
	colSeverity    = 2
	colGroup       = 4
	colGroupIndex  = 5
	colLocation    = 6
	colCode        = 7
	colDescription = 8
)

// maxDescription bounds the description kept from a trap: a printer's is
// a line of text; a hostile packet's must not fill state.
const maxDescription = 255

// TrapOID returns the trap's snmpTrapOID without a leading dot: the
// snmpTrapOID.0 varbind of a v2c/v3 notification, or for an SNMPv1 trap
// the OID RFC 3584 translates it to (enterprise.0.specific, or
// snmpTraps.(generic+1) for the generic traps). "" when the packet has
// none.
func TrapOID(p *gosnmp.SnmpPacket) string {
	if p.PDUType == gosnmp.Trap {
		if p.GenericTrap >= 0 && p.GenericTrap < 6 {
			return oidSnmpTraps + strconv.Itoa(p.GenericTrap+1)
		}
		ent := trimDot(p.Enterprise)
		if ent == "" {
			return ""
		}
		return ent + ".0." + strconv.Itoa(p.SpecificTrap)
	}
	for _, v := range p.Variables {
		if trimDot(v.Name) == oidSnmpTrapOID {
			if s, ok := v.Value.(string); ok && v.Type == gosnmp.ObjectIdentifier {
				return trimDot(s)
			}
			return ""
		}
	}
	return ""
}

// Decode turns one trap into signals. It trusts nothing in the packet:
// values of the wrong type are ignored, strings are bounded and made
// valid UTF-8, and it never panics.
//
//   - printerV2Alert (v1 or v2c/v3): one signal per alert the varbinds
//     describe (usually one), named after prtAlertCode; a "closed" code
//     (coverClosed, doorClosed) clears the alert it ends.
//   - Lexmark's deviceV2AlertMPS: decoded from LEXMARK-MPS-MIB's
//     deviceAlertTable varbinds; the Printer-MIB code (column 11) names
//     it when the printer sends it, otherwise it is Other with the
//     printer's description and Lexmark's own alert code in it.
//   - anything else: one Other signal carrying the trap's OID.
func Decode(p *gosnmp.SnmpPacket) []alerts.Signal {
	if p == nil {
		return nil
	}
	oid := TrapOID(p)
	switch oid {
	case OIDPrinterV2Alert:
		if s := decodePrinterAlert(p.Variables); len(s) > 0 {
			return s
		}
	case OIDLexmarkAlert:
		if s := decodeLexmarkAlert(p.Variables); len(s) > 0 {
			return s
		}
	}
	if oid == "" {
		oid = "unknown"
	}
	return []alerts.Signal{{
		Kind: alerts.Raised, Name: alerts.Other, Severity: alerts.Info, OID: oid,
		Description: "trap " + oid,
	}}
}

// row gathers the columns of one alert found in a trap's varbinds.
type row struct {
	key         string // the instance suffix: device index and alert index
	has         map[int]bool
	severity    int
	group       int
	groupIndex  int
	location    int
	code        int
	prtCode     int // Lexmark: the Printer-MIB code
	description string
}

// rowsOf groups the varbinds under entry by their instance suffix, in
// the order the rows first appear; columns maps a column number to what
// the caller wants from it.
func rowsOf(vars []gosnmp.SnmpPDU, entry string, set func(r *row, col int, v gosnmp.SnmpPDU)) []*row {
	var rows []*row
	for _, v := range vars {
		name := trimDot(v.Name)
		rest, ok := strings.CutPrefix(name, entry)
		if !ok {
			continue
		}
		colStr, inst, ok := strings.Cut(rest, ".")
		if !ok || inst == "" {
			continue
		}
		col, err := strconv.Atoi(colStr)
		if err != nil {
			continue
		}
		var r *row
		for _, x := range rows {
			if x.key == inst {
				r = x
				break
			}
		}
		if r == nil {
			if len(rows) >= 16 { // a trap carries one alert; bound the rest
				continue
			}
			r = &row{key: inst, has: map[int]bool{}}
			rows = append(rows, r)
		}
		r.has[col] = true
		set(r, col, v)
	}
	return rows
}

func decodePrinterAlert(vars []gosnmp.SnmpPDU) []alerts.Signal {
	rows := rowsOf(vars, oidPrtAlertEntry, func(r *row, col int, v gosnmp.SnmpPDU) {
		switch col {
		case colSeverity:
			r.severity = intOf(v)
		case colGroup:
			r.group = intOf(v)
		case colGroupIndex:
			r.groupIndex = intOf(v)
		case colLocation:
			r.location = intOf(v)
		case colCode:
			r.code = intOf(v)
		case colDescription:
			r.description = textOf(v)
		}
	})
	var out []alerts.Signal
	for _, r := range rows {
		if !r.has[colCode] {
			continue
		}
		out = append(out, signalOf(r.code, r.severity, r.group, r.groupIndex, r.description))
	}
	return out
}

// signalOf is the signal of one Printer-MIB alert.
func signalOf(code, severity, group, groupIndex int, description string) alerts.Signal {
	s := alerts.Signal{
		Kind: alerts.Raised, Code: code, OID: OIDPrinterV2Alert,
		Index: watch.AlertIndex(group, groupIndex), Description: description,
	}
	if ended, ok := alerts.ClearedBy(code); ok {
		// coverClosed ends coverOpen: the signal is that alert's clearing.
		s.Kind = alerts.Cleared
		s.Name = alerts.NameForCode(ended)
		s.Severity = alerts.SeverityFromMIB(severity, s.Name)
		s.Code = ended
	} else {
		s.Name = alerts.NameForCode(code)
		s.Severity = alerts.SeverityFromMIB(severity, s.Name)
	}
	if s.Description == "" {
		s.Description = fmt.Sprintf("printer alert code %d", code)
	}
	return s
}

// Lexmark deviceAlertSeverity (LEXMARK-MPS-MIB SeverityTC): unknown 1,
// other 2, informational 3, warning 4, critical 5, serviceRequired 6.
func lexmarkSeverity(level int, name string) alerts.Severity {
	switch level {
	case 5, 6:
		return alerts.Critical
	case 4:
		return alerts.Warning
	case 3:
		return alerts.Info
	}
	return alerts.DefaultSeverity(name)
}

func decodeLexmarkAlert(vars []gosnmp.SnmpPDU) []alerts.Signal {
	const (
		colTableNode  = 2
		colTableIndex = 3
		colSev        = 4
		colLexCode    = 5
		colDescr      = 6
		colPrtCode    = 11
	)
	rows := rowsOf(vars, oidLexmarkAlertEntry, func(r *row, col int, v gosnmp.SnmpPDU) {
		switch col {
		case colTableNode:
			r.group = intOf(v)
		case colTableIndex:
			r.groupIndex = intOf(v)
		case colSev:
			r.severity = intOf(v)
		case colLexCode:
			r.code = intOf(v)
		case colDescr:
			r.description = textOf(v)
		case colPrtCode:
			r.prtCode = intOf(v)
		}
	})
	var out []alerts.Signal
	for _, r := range rows {
		if !r.has[colLexCode] && !r.has[colPrtCode] && !r.has[colDescr] {
			continue
		}
		s := alerts.Signal{Kind: alerts.Raised, Name: alerts.Other, OID: OIDLexmarkAlert, Description: r.description}
		if r.has[colPrtCode] && r.prtCode > 0 {
			// The Printer-MIB code says what it is, as for printerV2Alert;
			// the place is the Lexmark inventory row the alert is about.
			s = signalOf(r.prtCode, 0, 0, 0, r.description)
			s.OID = OIDLexmarkAlert
			if s.Kind == alerts.Raised {
				s.Severity = lexmarkSeverity(r.severity, s.Name)
			}
		} else {
			s.Severity = lexmarkSeverity(r.severity, s.Name)
			s.Code = 0
			if s.Description == "" {
				s.Description = "Lexmark alert"
			}
			if r.has[colLexCode] {
				s.Description += fmt.Sprintf(" (Lexmark alert code %d)", r.code)
			}
		}
		if r.group > 0 {
			s.Index = "lexmark." + strconv.Itoa(r.group) + "." + strconv.Itoa(max(r.groupIndex, 0))
		}
		out = append(out, s)
	}
	return out
}

// intOf returns an integer varbind's value clamped to int32, 0 when the
// varbind is not an integer.
func intOf(v gosnmp.SnmpPDU) int {
	var n int64
	switch x := v.Value.(type) {
	case int:
		n = int64(x)
	case uint:
		n = int64(min(uint64(x), math.MaxInt32))
	case uint32:
		n = int64(x)
	case uint64:
		n = int64(min(x, math.MaxInt32))
	default:
		return 0
	}
	return int(max(min(n, math.MaxInt32), math.MinInt32))
}

// textOf returns a string varbind as bounded, valid UTF-8 without NULs or
// control characters; "" when the varbind is not a string.
func textOf(v gosnmp.SnmpPDU) string {
	var s string
	switch x := v.Value.(type) {
	case []byte:
		s = string(x)
	case string:
		if v.Type != gosnmp.OctetString {
			return ""
		}
		s = x
	default:
		return ""
	}
	return watch.CleanText(s, maxDescription)
}

func trimDot(s string) string { return strings.TrimPrefix(s, ".") }
