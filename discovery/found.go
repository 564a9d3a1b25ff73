package discovery

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Ways a device was found (Found.FoundBy).
const (
	BySNMP = "snmp"
	ByMDNS = "mdns"
)

// Found is one device as every means of discovery saw it, merged by
// address.
type Found struct {
	Address netip.AddrPort
	// Vendor, Model, Serial, Firmware and MAC come from SNMP when it
	// answered, else from what mDNS announced.
	Vendor, Model, Serial, Firmware, MAC string
	// Printer says the device looks like a printer.
	Printer bool
	// Profile names the SNMP profile that answered; "" when none did.
	Profile      string
	ProfileIndex int
	// Secured says the device announced itself secured (IPP over TLS
	// only, or a TXT record saying so).
	Secured bool
	// FoundBy lists how it was found, sorted: "mdns", "snmp".
	FoundBy []string
	// MDNS holds what its DNS-SD TXT records said; nil when not seen.
	MDNS *MDNS
}

// MDNS is what a device's DNS-SD records say (TXT keys ty/product,
// adminurl, UUID).
type MDNS struct {
	Instance string // the service instance name
	Model    string
	AdminURL string
	UUID     string
}

// FromResult is a sweep result as a Found.
func FromResult(r Result) Found {
	return Found{
		Address: r.Address, Vendor: r.Vendor, Model: r.Model, Serial: r.Serial, Firmware: r.Firmware,
		MAC: r.MAC, Printer: r.Printer, Profile: r.Profile, ProfileIndex: r.ProfileIndex,
		FoundBy: []string{BySNMP},
	}
}

// Merge joins lists of devices by address, sorted by address. mDNS knows
// no SNMP port: a device with port 0 joins the device of the same IP
// address whatever its port (the first), and one with a port joins the
// same address and port, or a port-0 device of its IP. SNMP's identity
// and port win over mDNS's; Secured and FoundBy accumulate.
func Merge(lists ...[]Found) []Found {
	var out []Found
	find := func(a netip.AddrPort) int {
		for i := range out {
			b := out[i].Address
			if b == a || b.Addr() == a.Addr() && (a.Port() == 0 || b.Port() == 0) {
				return i
			}
		}
		return -1
	}
	index := map[netip.AddrPort]int{} // exact addresses, for large sweeps
	for _, list := range lists {
		for _, f := range list {
			i, ok := index[f.Address]
			if !ok && (f.Address.Port() == 0 || len(lists) > 1) {
				i = find(f.Address)
				ok = i >= 0
			}
			if !ok {
				f.FoundBy = slices.Clone(f.FoundBy)
				index[f.Address] = len(out)
				out = append(out, f)
				continue
			}
			m := &out[i]
			snmpFirst := slices.Contains(m.FoundBy, BySNMP)
			snmpNew := slices.Contains(f.FoundBy, BySNMP)
			if snmpNew && !snmpFirst {
				// SNMP's identity and port replace mDNS's.
				keep := *m
				*m = f
				m.FoundBy = slices.Clone(f.FoundBy)
				f = keep
				index[m.Address] = i
			}
			fill(&m.Vendor, f.Vendor)
			fill(&m.Model, f.Model)
			fill(&m.Serial, f.Serial)
			fill(&m.Firmware, f.Firmware)
			fill(&m.MAC, f.MAC)
			m.Printer = m.Printer || f.Printer
			m.Secured = m.Secured || f.Secured
			if m.MDNS == nil {
				m.MDNS = f.MDNS
			}
			for _, by := range f.FoundBy {
				if !slices.Contains(m.FoundBy, by) {
					m.FoundBy = append(m.FoundBy, by)
				}
			}
		}
	}
	for i := range out {
		slices.Sort(out[i].FoundBy)
		if out[i].Model == "" && out[i].MDNS != nil {
			out[i].Model = out[i].MDNS.Model
		}
	}
	slices.SortFunc(out, func(a, b Found) int { return a.Address.Compare(b.Address) })
	return out
}

func fill(dst *string, v string) {
	if strings.TrimSpace(*dst) == "" {
		*dst = v
	}
}

// MDNSBrowser browses DNS-SD for printers for the given time and returns
// what it found (FoundBy ["mdns"], Address with port 0 or the SNMP port).
type MDNSBrowser func(ctx context.Context, wait time.Duration) ([]Found, error)

// BrowseMDNS is how discover --mdns browses; nil until an mDNS provider
// plugs itself in here.
var BrowseMDNS MDNSBrowser
