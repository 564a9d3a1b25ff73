package simulator

import "fmt"

// family is a printer model line: what its agent says about itself.
type family struct {
	vendor    string // keyword in generated configurations
	model     string // hrDeviceDescr
	objectID  string // sysObjectID
	firmware  string
	descr     func(f *family, serial string) string // sysDescr
	serialPfx string
	// namePfx and oui make the factory sysName: vendors derive it from the
	// MAC address.
	namePfx string
	oui     string
	color   bool
	lexmark bool // answers the Lexmark 641 tree
	drum    bool // has an imaging unit / drum
	// supply descriptions in prtMarkerSuppliesTable order: black, cyan,
	// magenta, yellow toners, then drum, then waste.
	toner    [4]string
	drumName string
	waste    string
	tray1    int // sheets
	mpTray   int // sheets in the multipurpose feeder
	// rec, when set, is the recording every object comes from.
	rec *Recording
}

// families cycles by printer index: printer i is families[i%len(families)].
var families = []*family{
	{
		vendor: "lexmark", model: "Lexmark CX725", objectID: ".1.3.6.1.4.1.641.1",
		firmware: "CXTPC.230.037", serialPfx: "LXK7D", namePfx: "ET", oui: "0021B7",
		descr: func(f *family, _ string) string {
			return "Lexmark CX725 version " + f.firmware + " kernel 5.4.178 All-N-1"
		},
		color: true, lexmark: true, drum: true,
		toner:    [4]string{"Black Cartridge", "Cyan Cartridge", "Magenta Cartridge", "Yellow Cartridge"},
		drumName: "Black and Color Imaging Kit", waste: "Waste Toner Bottle",
		tray1: 550, mpTray: 100,
	},
	{
		vendor: "lexmark", model: "Lexmark MS821", objectID: ".1.3.6.1.4.1.641.1",
		firmware: "MSNGM.230.037", serialPfx: "LXK4M", namePfx: "ET", oui: "0021B7",
		descr: func(f *family, _ string) string {
			return "Lexmark MS821 version " + f.firmware + " kernel 5.4.178 All-N-1"
		},
		lexmark: true, drum: true,
		toner:    [4]string{"Black Cartridge"},
		drumName: "Black Imaging Unit",
		tray1:    550, mpTray: 100,
	},
	{
		vendor: "hp", model: "HP LaserJet M507", objectID: ".1.3.6.1.4.1.11.2.3.9.1",
		firmware: "2409048_052457", serialPfx: "PHBQH", namePfx: "NPI", oui: "A0D3C1",
		descr: func(f *family, serial string) string {
			return "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM " + f.firmware +
				",CIDATE 06/17/2022,SN:" + serial
		},
		toner: [4]string{"Black Cartridge HP CF289A"},
		tray1: 550, mpTray: 100,
	},
	{
		vendor: "brother", model: "Brother HL-L6400DW series", objectID: ".1.3.6.1.4.1.2435.2.3.9.1",
		firmware: "1.07", serialPfx: "E78215", namePfx: "BRN", oui: "3C2AF4",
		descr: func(f *family, _ string) string {
			return "Brother NC-8800w, Firmware Ver." + f.firmware + "  (19.08.14),MID 8CE-F01,FID 2"
		},
		drum:     true,
		toner:    [4]string{"Black Toner Cartridge"},
		drumName: "Drum Unit",
		tray1:    520, mpTray: 50,
	},
	{
		vendor: "ricoh", model: "RICOH IM C3000", objectID: ".1.3.6.1.4.1.367.1.1",
		firmware: "1.04", serialPfx: "3101R", namePfx: "RNP", oui: "002673",
		descr: func(f *family, _ string) string {
			return "RICOH IM C3000 " + f.firmware + " / RICOH Network Printer C model / RICOH Network Scanner C model / RICOH Network Facsimile C model"
		},
		color:  true,
		toner:  [4]string{"Toner Black", "Toner Cyan", "Toner Magenta", "Toner Yellow"},
		waste:  "Waste Toner",
		tray1:  550,
		mpTray: 100,
	},
}

// identity is everything about printer i that follows from i alone.
type identity struct {
	index  int
	fam    *family
	serial string
	mac    string // 12 hex digits
}

func identityOf(i int) identity {
	f := families[i%len(families)]
	// The NIC part of the MAC is a bijection of i (an odd multiplier mod
	// 2^24), so names stay unique while looking random.
	nic := (uint32(i)*2654435761 + 0x1B7C3) & 0xFFFFFF
	return identity{
		index:  i,
		fam:    f,
		serial: fmt.Sprintf("%s%04d", f.serialPfx, i+1),
		mac:    fmt.Sprintf("%s%06X", f.oui, nic),
	}
}

// factoryName is the sysName a printer has out of the box.
func (id identity) factoryName() string {
	if id.fam.namePfx == "NPI" {
		return "NPI" + id.mac[6:] // JetDirect uses the last three octets
	}
	return id.fam.namePfx + id.mac
}

// supplyCount is how many rows prtMarkerSuppliesTable has.
func (f *family) supplyCount() int {
	n := 1
	if f.color {
		n = 4
	}
	if f.drum {
		n++
	}
	if f.waste != "" {
		n++
	}
	return n
}
