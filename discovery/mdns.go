package discovery

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/inkform/inkform/providers/mdns"
)

func init() { BrowseMDNS = browseMDNS }

// browseMDNS asks the local link for printers over DNS-SD. A device with
// several addresses is one Found per address, as the sweep sees them;
// more devices than the browser keeps is not an error here: what was
// kept is shown.
func browseMDNS(ctx context.Context, wait time.Duration) ([]Found, error) {
	// IPv4 only: every printer announces itself there too, and a host
	// whose links carry no IPv6 multicast route refuses the IPv6 query.
	svcs, err := mdns.Browse(ctx, mdns.Options{Window: wait, DisableIPv6: true})
	if err != nil && !errors.Is(err, mdns.ErrTooMany) {
		return nil, err
	}
	return foundOf(svcs), nil
}

// foundOf turns DNS-SD services into devices found by mDNS.
func foundOf(svcs []mdns.Service) []Found {
	var out []Found
	for _, s := range svcs {
		for _, a := range s.Addrs {
			out = append(out, Found{
				Address: netip.AddrPortFrom(a.Unmap(), 0),
				Vendor:  s.Vendor, Model: s.Model, Printer: true, Secured: s.Secured,
				FoundBy: []string{ByMDNS},
				MDNS:    &MDNS{Instance: s.Instance, Model: s.Model, AdminURL: s.AdminURL, UUID: s.UUID},
			})
		}
	}
	return out
}
