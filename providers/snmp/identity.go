package snmp

import (
	"fmt"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/catalog"
)

// A sweep reads a device's identity from a few GETs of its own rather than
// a full Observe. What the values mean (text decoding, the identity rules,
// which objects the rules want next) is decided here, once, for Observe
// and sweeps alike.

const oidIfPhysAddress = ".1.3.6.1.2.1.2.2.1.6"

// IdentityOIDs are the objects a sweep asks every device for first, with
// gosnmp's leading dot: sysDescr, sysObjectID, the first row of the host
// device table, the Printer MIB's serial number and the hardware address
// of the first two interfaces.
func IdentityOIDs() []string {
	return []string{
		oidSysDescr, oidSysObjectID,
		oidHrDeviceType + ".1", oidHrDeviceDescr + ".1",
		oidPrtSerial,
		oidIfPhysAddress + ".1", oidIfPhysAddress + ".2",
	}
}

// Identified is what a sweep's GETs tell of a device.
type Identified struct {
	catalog.Identity
	SysDescr    string
	SysObjectID string // with a leading dot; "" when the agent has none
	// Printer says the device looks like a printer: its host device table
	// lists a printer first, it has the Printer MIB's serial number, or an
	// identity rule names its vendor.
	Printer bool
	// MAC is the first non-zero six-byte interface address, as
	// aa:bb:cc:dd:ee:ff; "" when none.
	MAC string
}

// IdentifyValues applies the identity rules to what an agent answered:
// vals holds the values the agent has (noSuchObject and friends left out)
// by OID with a leading dot, asked every OID asked so far. It returns the
// identity and the objects (leading dot) the rules want read next: ask
// for them and call again with both lists grown; an empty list means done.
func IdentifyValues(devices *catalog.Devices, vals map[string]gosnmp.SnmpPDU, asked []string) (Identified, []string) {
	if devices == nil {
		devices = catalog.DefaultDevices()
	}
	var out Identified
	out.SysDescr = textValue(vals[oidSysDescr])
	out.SysObjectID = oidValue(vals[oidSysObjectID])
	printerRow := oidValue(vals[oidHrDeviceType+".1"]) == hrDevicePrinter
	facts := catalog.DeviceFacts{
		SysObjectID: out.SysObjectID,
		SysDescr:    out.SysDescr,
		Objects:     make(map[string]string, len(asked)),
	}
	// Row 1 of the host device table describes the printer only when it
	// is one; another row's description (a network card) is no model.
	if printerRow {
		facts.HrDeviceDescr = textValue(vals[oidHrDeviceDescr+".1"])
	}
	for _, oid := range asked {
		if !strings.HasPrefix(oid, ".") {
			oid = "." + oid
		}
		facts.Objects[oid[1:]] = textValue(vals[oid])
	}
	rule := devices.Match(out.SysObjectID, out.SysDescr)
	id, missing := rule.Identify(facts)
	out.Identity = id
	_, hasSerial := vals[oidPrtSerial]
	out.Printer = printerRow || hasSerial || id.Vendor != ""
	for _, i := range []string{".1", ".2"} {
		if b, ok := vals[oidIfPhysAddress+i].Value.([]byte); ok && len(b) == 6 && !allZero(b) {
			out.MAC = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
			break
		}
	}
	for i := range missing {
		missing[i] = "." + missing[i]
	}
	return out, missing
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
