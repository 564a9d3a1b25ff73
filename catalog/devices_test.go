package catalog

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const (
	oidPrtSerial   = "1.3.6.1.2.1.43.5.1.1.17.1"
	oidHPDeviceID  = "1.3.6.1.4.1.11.2.3.9.1.1.7.0"
	oidHPFwRev     = "1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.6.0"
	oidHPDatecode  = "1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.5.0"
	oidHPSerial    = "1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.3.0"
	oidPWGDeviceID = "1.3.6.1.4.1.2699.1.2.1.2.1.1.3.1"
)

// TestIdentify reads identities from what real devices answer (the
// recordings in testdata/interop and devices of the same vendors).
func TestIdentify(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    DeviceFacts
		want Identity
	}{
		{"hp jetdirect m130nw", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.11.2.3.9.1",
			SysDescr:      "HP ETHERNET MULTI-ENVIRONMENT,SN:VNCRC48198,FN:4Q817L4,SVCID:31339,PID:HP LaserJet MFP M130nw",
			HrDeviceDescr: "HP LaserJet MFP M130nw",
			Objects: map[string]string{
				oidPrtSerial: "VNCRC48198", oidHPFwRev: "", oidHPDatecode: "20201023",
				oidHPDeviceID: "MFG:HP;CMD:PJL,PML,URP;MDL:HP LaserJet MFP M129-M134;CLS:PRINTER;DES:HP LaserJet MFP M130nw;",
			},
		}, Identity{"HP", "HP LaserJet MFP M129-M134", "20201023", "VNCRC48198"}},
		{"hp without printer mib serial", DeviceFacts{
			SysObjectID: ".1.3.6.1.4.1.11.2.3.9.1",
			SysDescr:    "HP ETHERNET MULTI-ENVIRONMENT,SN:AAA0A00000,FN:1G11F33,SVCID:26267,PID:Purchasing Color Laser",
			Objects:     map[string]string{oidPrtSerial: "", oidHPSerial: "", oidHPFwRev: "", oidHPDatecode: "", oidHPDeviceID: "MFG:Hewlett-Packard;MDL:HP Color LaserJet M452nw;"},
		}, Identity{"HP", "HP Color LaserJet M452nw", "", "AAA0A00000"}},
		{"hp simulator", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.11.2.3.9.1",
			SysDescr:      "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM 2409048_052457,CIDATE 06/17/2022,SN:PHBQH0003",
			HrDeviceDescr: "HP LaserJet M507",
			Objects:       map[string]string{oidPrtSerial: "PHBQH0003", oidHPDeviceID: "", oidHPFwRev: "", oidHPDatecode: ""},
		}, Identity{"HP", "HP LaserJet M507", "2409048_052457", "PHBQH0003"}},
		{"dell", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.674.10898.2.100.100.51.1094474004",
			SysDescr:      "Dell S5830dn version NH62.YS.N636 kernel 3.0.0 All-N-1",
			HrDeviceDescr: "Dell S5830dn 7XQ1R92 LW62.DN4.P636",
			Objects:       map[string]string{oidPrtSerial: "7XQ1R92-132-13"},
		}, Identity{"Dell", "Dell S5830dn", "NH62.YS.N636", "7XQ1R92-132-13"}},
		{"dell from its device table", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.674.10898.2.100.100.51.1",
			SysDescr:      "Dell Laser Printer",
			HrDeviceDescr: "Dell S5830dn 7XQ1R92 LW62.DN4.P636",
			Objects:       map[string]string{oidPrtSerial: "", "1.3.6.1.4.1.674.10898.100.1.1.1.0": "NH62.YS.N636"},
		}, Identity{"Dell", "Dell S5830dn", "NH62.YS.N636", ""}},
		{"epson firmware from its tree", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.1248.1.1.2.1.3.5.69.69.80.83.50",
			SysDescr:      "EPSON Built-in",
			HrDeviceDescr: "EPSON WF-C5790BA",
			Objects: map[string]string{oidPrtSerial: "X3B8022793",
				"1.3.6.1.4.1.1248.1.2.2.2.1.1.2.1.4": "", "1.3.6.1.4.1.1248.1.2.2.2.1.1.2.1.3": "11.16.WB26P6"},
		}, Identity{"Epson", "EPSON WF-C5790BA", "11.16.WB26P6", "X3B8022793"}},
		{"epson firmware row not a version", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.1248.1.1.2.1", SysDescr: "EPSON Built-in", HrDeviceDescr: "EPSON ET-5800",
			Objects: map[string]string{oidPrtSerial: "X9ZZ000001",
				"1.3.6.1.4.1.1248.1.2.2.2.1.1.2.1.4": "EPSON", "1.3.6.1.4.1.1248.1.2.2.2.1.1.2.1.3": ""},
		}, Identity{"Epson", "EPSON ET-5800", "", "X9ZZ000001"}},
		{"konica serial from its tree", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.18334.1.1.1.2.1.117.2.2", SysDescr: "KONICA MINOLTA bizhub C3110",
			HrDeviceDescr: "Generic 28C-1",
			Objects: map[string]string{oidPrtSerial: "", "1.3.6.1.4.1.18334.1.1.1.1.6.2.1.0": "KONICA MINOLTA bizhub C3110",
				"1.3.6.1.4.1.18334.1.1.1.1.6.1.0": "G00-R7", "1.3.6.1.4.1.18334.1.1.1.1.3.2.2.0": "A7PU001006799"},
		}, Identity{"Konica Minolta", "KONICA MINOLTA bizhub C3110", "G00-R7", "A7PU001006799"}},
		{"oki model from its tree", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.2001.1.1.1.1", SysDescr: "OKI OkiLAN 9450g Rev.00.69",
			Objects: map[string]string{oidPrtSerial: "", oidHPDeviceID: "", "1.3.6.1.4.1.2001.1.1.1.1.11.1.10.25.0": "C834",
				"1.3.6.1.4.1.2001.1.1.1.1.11.1.10.45.0": "AK2B012345"},
		}, Identity{"OKI", "OKI C834", "", "AK2B012345"}},
		{"lexmark", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.641.1",
			SysDescr:      "Lexmark CX725 version CXTPC.230.037 kernel 5.4.178 All-N-1",
			HrDeviceDescr: "Lexmark CX725",
			Objects:       map[string]string{oidPrtSerial: "LXK7D0001"},
		}, Identity{"Lexmark", "Lexmark CX725", "CXTPC.230.037", "LXK7D0001"}},
		{"xerox", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.253.8.62.1.35.2.3.1.1",
			SysDescr:    "Xerox AltaLink C8045; SS 100.002.057.09608, NC 100.002.09608, UI 100.002.09608, ME 063.022.000, CC 100.002.09608",
			Objects:     map[string]string{oidPrtSerial: ""},
		}, Identity{"Xerox", "Xerox AltaLink C8045", "100.002.057.09608", ""}},
		{"brother", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.2435.2.3.9.1",
			SysDescr:      "Brother NC-8300h, Firmware Ver.1.14  (14.11.06),MID 8C5-F01,FID 2",
			HrDeviceDescr: "Brother MFC-L2710DW series",
			Objects:       map[string]string{oidPrtSerial: "", "1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.1.0": "000A5J431816"},
		}, Identity{"Brother", "Brother MFC-L2710DW series", "1.14", "000A5J431816"}},
		{"brother vendor objects only", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.2435.2.3.9.1",
			SysDescr:    "Brother NC-6800h",
			Objects: map[string]string{oidPrtSerial: "",
				"1.3.6.1.4.1.2435.2.4.3.2435.5.13.3.0": "Brother HL-5370DW series [001ba90ba752]",
				"1.3.6.1.4.1.2435.2.4.3.1240.6.5.0":    "Firmware Ver.1.01 (08.12.12)"},
		}, Identity{"Brother", "Brother HL-5370DW series", "1.01", ""}},
		{"ricoh", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.367.1.1",
			SysDescr:      "RICOH Aficio MP C3002 2.20 / RICOH Network Printer C model / RICOH Network Scanner C model",
			HrDeviceDescr: "RICOH Aficio MP C3002",
			Objects:       map[string]string{oidPrtSerial: "W492KB03439"},
		}, Identity{"Ricoh", "RICOH Aficio MP C3002", "2.20", "W492KB03439"}},
		{"canon", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.1602.4.2",
			SysDescr:      "Canon LBP6670 /P",
			HrDeviceDescr: "Canon LBP6670",
			Objects:       map[string]string{oidPrtSerial: "MKRA012345", "1.3.6.1.4.1.1602.1.1.1.4.0": "R7.21"},
		}, Identity{"Canon", "Canon LBP6670", "R7.21", "MKRA012345"}},
		{"konica: hrDeviceDescr names the driver", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.18334.1.1.1.2.1.117.2.2",
			SysDescr:      "KONICA MINOLTA bizhub C3110",
			HrDeviceDescr: "Generic 28C-1",
			Objects:       map[string]string{oidPrtSerial: "", "1.3.6.1.4.1.18334.1.1.1.1.6.2.1.0": "", "1.3.6.1.4.1.18334.1.1.1.1.6.1.0": "1.80"},
		}, Identity{"Konica Minolta", "KONICA MINOLTA bizhub C3110", "1.80", ""}},
		{"oki behind its print server", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.2001.1.1.1.1",
			SysDescr:    "OKI OkiLAN 9450g Rev.00.69 10/100/1000BASE Ethernet PrintServer: Attached to MC873 Rev.07.87 : Copyright (c) 2015 Oki Data Corporation.",
			Objects:     map[string]string{oidPrtSerial: ""},
		}, Identity{"OKI", "OKI MC873", "07.87", ""}},
		{"utax", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.1347.41",
			SysDescr:      "TA_UTAX Printing System",
			HrDeviceDescr: "P-4532DN",
			Objects: map[string]string{"1.3.6.1.4.1.1347.43.5.1.1.1.1": "P-4532DN", "1.3.6.1.4.1.1347.43.5.1.1.28.1": "R9L0309954",
				"1.3.6.1.4.1.1347.43.5.4.1.5.1.1": "2TP_S000.003.402"},
		}, Identity{"UTAX", "UTAX P-4532DN", "2TP_S000.003.402", "R9L0309954"}},
		{"kyocera", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.1347.41",
			SysDescr:    "KYOCERA Document Solutions Printing System",
			Objects:     map[string]string{"1.3.6.1.4.1.1347.43.5.1.1.1.1": "ECOSYS M2540dn", "1.3.6.1.4.1.1347.43.5.1.1.28.1": "VCF8Z12345"},
		}, Identity{"Kyocera", "Kyocera ECOSYS M2540dn", "", "VCF8Z12345"}},
		{"fujifilm without a device table", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.297.1.11.93.2.1.2.3.5",
			SysDescr:    "FUJIFILM Apeos C7580",
			Objects:     map[string]string{oidPrtSerial: "TC101642170085"},
		}, Identity{"FUJIFILM", "FUJIFILM Apeos C7580", "", "TC101642170085"}},
		{"samsung", DeviceFacts{
			SysObjectID: "1.3.6.1.4.1.236.11.5.1",
			SysDescr:    "Samsung X4300LX Series; V4.00.02.25 SEP-17-2015;Engine V1.00.06;NIC V6.01.00;S/N 0B5XB07J000001A",
			Objects:     map[string]string{oidPrtSerial: "", "1.3.6.1.4.1.236.11.5.1.1.1.1.0": "", "1.3.6.1.4.1.236.11.5.1.1.1.2.0": "", "1.3.6.1.4.1.236.11.5.1.1.1.4.0": ""},
		}, Identity{"Samsung", "Samsung X4300LX", "4.00.02.25", "0B5XB07J000001A"}},
		{"unknown vendor, placeholders", DeviceFacts{
			SysObjectID:   "1.3.6.1.4.1.99999.1",
			SysDescr:      "Acme Printer, Firmware Version 3.2.1",
			HrDeviceDescr: "Unknown",
			Objects:       map[string]string{oidPrtSerial: "N/A", oidPWGDeviceID: "MFG:Acme;MDL:Acme P1;", oidHPDeviceID: ""},
		}, Identity{"", "Acme P1", "3.2.1", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := DefaultDevices().Match(tc.f.SysObjectID, tc.f.SysDescr)
			if got, _ := r.Identify(tc.f); got != tc.want {
				t.Errorf("Identify = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// missing is what Identify says one more request should read.
func missing(d *Devices, f DeviceFacts) []string {
	_, m := d.Match(f.SysObjectID, f.SysDescr).Identify(f)
	return m
}

func TestMissing(t *testing.T) {
	d := DefaultDevices()
	// The simulator's Lexmark and Brother printers say everything in the
	// objects every observation reads: no second request.
	lex := DeviceFacts{SysObjectID: "1.3.6.1.4.1.641.1", SysDescr: "Lexmark MS821 version MSNGM.230.037 kernel 5.4.178 All-N-1",
		HrDeviceDescr: "Lexmark MS821", Objects: map[string]string{oidPrtSerial: "LXK4M0002"}}
	if got := missing(d, lex); len(got) != 0 {
		t.Errorf("Lexmark: Missing = %v, want none", got)
	}
	bro := DeviceFacts{SysObjectID: "1.3.6.1.4.1.2435.2.3.9.1", SysDescr: "Brother NC-8800w, Firmware Ver.1.07  (19.08.14),MID 8CE-F01,FID 2",
		HrDeviceDescr: "Brother HL-L6400DW series", Objects: map[string]string{oidPrtSerial: "E782150004"}}
	if got := missing(d, bro); len(got) != 0 {
		t.Errorf("Brother: Missing = %v, want none", got)
	}
	// HP keeps its model in the device ID: ask for it, and for the
	// firmware objects, but not for a serial the Printer MIB gave.
	hp := DeviceFacts{SysObjectID: "1.3.6.1.4.1.11.2.3.9.1", SysDescr: "HP ETHERNET MULTI-ENVIRONMENT,SN:VNCRC48198",
		HrDeviceDescr: "HP LaserJet MFP M130nw", Objects: map[string]string{oidPrtSerial: "VNCRC48198"}}
	if got, want := missing(d, hp), []string{oidHPDeviceID, oidHPFwRev, oidHPDatecode}; !slices.Equal(got, want) {
		t.Errorf("HP: Missing = %v, want %v", got, want)
	}
	// Once asked, nothing more.
	for _, oid := range []string{oidHPDeviceID, oidHPFwRev, oidHPDatecode} {
		hp.Objects[oid] = ""
	}
	if got := missing(d, hp); len(got) != 0 {
		t.Errorf("HP after asking: Missing = %v", got)
	}
	// A printer row other than 1 is read with the second request: its
	// hrDeviceDescr is pending, not absent, so the device ID is not asked
	// for in its place.
	oki := DeviceFacts{SysObjectID: "1.3.6.1.4.1.99999.1", SysDescr: "x", HrDeviceDescrPending: true, Objects: map[string]string{oidPrtSerial: "S1"}}
	if got, want := missing(d, oki), []string{oidPWGDeviceID, oidHPDeviceID}; !slices.Equal(got, want) {
		t.Errorf("pending hrDeviceDescr: Missing = %v, want %v", got, want)
	}
}

func TestMatch(t *testing.T) {
	d := DefaultDevices()
	for _, tc := range []struct{ sysObjectID, sysDescr, vendor string }{
		{"1.3.6.1.4.1.1347.41", "TA_UTAX Printing System", "UTAX"},
		{"1.3.6.1.4.1.1347.41", "TA Triumph-Adler P-4532DN", "TA Triumph-Adler"},
		{"1.3.6.1.4.1.1347.41", "KYOCERA Document Solutions Printing System", "Kyocera"},
		{"1.3.6.1.4.1.297.1.11", "FUJI XEROX DocuPrint CM305 df", "Fuji Xerox"},
		{"1.3.6.1.4.1.297.1.11", "FUJIFILM Apeos C7580", "FUJIFILM"},
		{"1.3.6.1.4.1.99999", "Xerox Phaser 3020", "Xerox"},       // by sysDescr alone
		{"1.3.6.1.4.1.6411", "Printer", ""},                       // 6411 is not 641
		{"1.3.6.1.4.1", "", ""},                                   // no enterprise
		{"1.3.6.1.4.1.11", "HP ETHERNET MULTI-ENVIRONMENT", "HP"}, // the enterprise itself
		{"", "", ""},
	} {
		if got := d.Match(tc.sysObjectID, tc.sysDescr).Vendor; got != tc.vendor {
			t.Errorf("Match(%q, %q) = %q, want %q", tc.sysObjectID, tc.sysDescr, got, tc.vendor)
		}
	}
}

func TestParseDevicesRejects(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field", `{"vendors":[],"default":{},"extra":1}`, "unknown field"},
		{"no vendor", `{"vendors":[{"match":[{"enterprise":1}]}]}`, "names no vendor"},
		{"no match", `{"vendors":[{"vendor":"X"}]}`, "no match"},
		{"empty match", `{"vendors":[{"vendor":"X","match":[{}]}]}`, "needs an enterprise"},
		{"bad pattern", `{"vendors":[{"vendor":"X","match":[{"sys_descr":"("}]}]}`, "missing closing"},
		{"bad from", `{"default":{"model":[{"from":"web"}]}}`, `from "web"`},
		{"oid form", `{"default":{"model":[{"from":"oid","oid":".1.3.6"}]}}`, "not a dotted numeric OID"},
		{"field without device_id", `{"default":{"model":[{"from":"oid","oid":"1.3","field":"MDL"}]}}`, "field goes with device_id"},
		{"device_id without field", `{"default":{"model":[{"from":"device_id","oid":"1.3"}]}}`, "field goes with device_id"},
		{"default with vendor", `{"default":{"vendor":"X"}}`, "the default rule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDevices([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseDevices: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDeviceIDField(t *testing.T) {
	hp := "MFG:HP;CMD:PJL,PML,URP;MDL:HP LaserJet MFP M129-M134;CLS:PRINTER;DES:HP LaserJet MFP M130nw;MEM:MEM=233MB;"
	xerox := "MFG:Xerox; CMD:PCL, PJL, PostScript, XPS; MDL:AltaLink C8045; CLS:Printer; DES:Xerox AltaLink C8045; CID:XR_PS_Office_Color"
	oki := "MANUFACTURE:OKI UK LTD;COMMAND SET:PCL,XPS,IBMPPR,EPSONFX,POSTSCRIPT,IPDL;MODEL:MC873;CLASS:PRINTER;DESCRIPTION:MC873;"
	for _, tc := range []struct{ id, key, want string }{
		{hp, "MDL", "HP LaserJet MFP M129-M134"},
		{hp, "mfg", "HP"},
		{hp, "DES", "HP LaserJet MFP M130nw"},
		{hp, "MEM", "MEM=233MB"},
		{hp, "SN", ""},
		{xerox, "MDL", "AltaLink C8045"},
		{xerox, "CMD", "PCL, PJL, PostScript, XPS"},
		{oki, "MDL", "MC873"},
		{oki, "MANUFACTURER", "OKI UK LTD"},
		{oki, "CMD", "PCL,XPS,IBMPPR,EPSONFX,POSTSCRIPT,IPDL"},
		{"COMMAND SET:;MODEL:Dell S5830dn", "MDL", "Dell S5830dn"},
		{"MDL:first;MDL:second", "MDL", "first"},
		{"", "MDL", ""},
		{"no fields at all", "MDL", ""},
	} {
		if got := DeviceIDField(tc.id, tc.key); got != tc.want {
			t.Errorf("DeviceIDField(%q, %q) = %q, want %q", tc.id, tc.key, got, tc.want)
		}
	}
}

// FuzzDeviceIDField decodes device IDs as agents send them: whatever the
// bytes, a field is a trimmed piece of the input between ':' and ';'.
func FuzzDeviceIDField(f *testing.F) {
	f.Add("MFG:HP;CMD:PJL,PML;MDL:HP LaserJet MFP M129-M134;CLS:PRINTER;", "MDL")
	f.Add("MANUFACTURE:OKI UK LTD;MODEL:MC873;", "model")
	f.Add("MFG:Xerox; MDL:AltaLink C8045 ;", " mdl ")
	f.Add(";;::;\xff:\x00", "\xff")
	f.Fuzz(func(t *testing.T, id, key string) {
		got := DeviceIDField(id, key)
		if strings.Contains(got, ";") {
			t.Fatalf("DeviceIDField(%q, %q) = %q spans fields", id, key, got)
		}
		if !strings.Contains(id, got) {
			t.Fatalf("DeviceIDField(%q, %q) = %q is not in the input", id, key, got)
		}
		if got != strings.TrimSpace(got) {
			t.Fatalf("DeviceIDField(%q, %q) = %q is not trimmed", id, key, got)
		}
	})
}

// FuzzIdentify extracts identity fields from sysDescr, hrDeviceDescr and
// vendor objects as any agent may send them: every value is bounded,
// printable, trimmed text, and reading never panics.
func FuzzIdentify(f *testing.F) {
	f.Add("1.3.6.1.4.1.253.8.62", "Xerox AltaLink C8045; SS 100.002.057.09608, NC 100.002.09608", "", "")
	f.Add("1.3.6.1.4.1.674.10898", "Dell S5830dn version NH62.YS.N636 kernel 3.0.0 All-N-1", "Dell S5830dn 7XQ1R92 LW62.DN4.P636", "")
	f.Add("1.3.6.1.4.1.2001.1", "OKI OkiLAN 9450g Rev.00.69: Attached to MC873 Rev.07.87 : Copyright", "", "")
	f.Add("1.3.6.1.4.1.11.2.3.9.1", "HP ETHERNET MULTI-ENVIRONMENT,SN:VNCRC48198,PID:HP LaserJet", "HP LaserJet MFP M130nw", "MFG:HP;MDL:HP LaserJet MFP M129-M134;")
	f.Add("1.3.6.1.4.1.2435.2.3.9.1", "Brother NC-8300h, Firmware Ver.1.14  (14.11.06),MID 8C5-F01", "Brother MFC-L2710DW series", "MDL:MFC-8440;")
	f.Add("1.3.6.1.4.1.99999", "Firmware Ver.\xff\x00", "\x01\x15 \t", "MDL:\u00e9;")
	f.Fuzz(func(t *testing.T, sysObjectID, sysDescr, hrDeviceDescr, vendorText string) {
		d := DefaultDevices()
		r := d.Match(sysObjectID, sysDescr)
		facts := DeviceFacts{SysObjectID: sysObjectID, SysDescr: sysDescr, HrDeviceDescr: hrDeviceDescr, Objects: map[string]string{}}
		_, missing := r.Identify(facts)
		for _, oid := range missing {
			facts.Objects[oid] = vendorText
		}
		id, still := r.Identify(facts)
		for _, v := range []string{id.Model, id.Firmware, id.Serial} {
			if len(v) > maxIdentityLen {
				t.Fatalf("value %q longer than %d bytes", v, maxIdentityLen)
			}
			if v != strings.TrimSpace(v) || strings.Contains(v, "  ") {
				t.Fatalf("value %q is not trimmed and collapsed", v)
			}
			for _, c := range v {
				if unicode.IsControl(c) || c == utf8.RuneError {
					t.Fatalf("value %q holds %U", v, c)
				}
			}
		}
		if len(still) != 0 {
			t.Fatalf("still missing %v after reading every object asked for", still)
		}
	})
}

// BenchmarkIdentify is the identity rules' share of observing one of the
// simulator's printers, which every plan does per printer.
func BenchmarkIdentify(b *testing.B) {
	d := DefaultDevices()
	fleet := []DeviceFacts{
		{SysObjectID: "1.3.6.1.4.1.641.1", SysDescr: "Lexmark CX725 version CXTPC.230.037 kernel 5.4.178 All-N-1", HrDeviceDescr: "Lexmark CX725"},
		{SysObjectID: "1.3.6.1.4.1.11.2.3.9.1", SysDescr: "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM 2409048_052457,CIDATE 06/17/2022,SN:PHBQH0003", HrDeviceDescr: "HP LaserJet M507"},
		{SysObjectID: "1.3.6.1.4.1.2435.2.3.9.1", SysDescr: "Brother NC-8800w, Firmware Ver.1.07  (19.08.14),MID 8CE-F01,FID 2", HrDeviceDescr: "Brother HL-L6400DW series"},
		{SysObjectID: "1.3.6.1.4.1.367.1.1", SysDescr: "RICOH IM C3000 1.04 / RICOH Network Printer C model / RICOH Network Scanner C model", HrDeviceDescr: "RICOH IM C3000"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f := fleet[i%len(fleet)]
		f.Objects = map[string]string{oidPrtSerial: "S1"}
		r := d.Match(f.SysObjectID, f.SysDescr)
		if _, missing := r.Identify(f); len(missing) > 0 {
			for _, oid := range missing {
				f.Objects[oid] = ""
			}
			_, _ = r.Identify(f)
		}
	}
}
