package mdns

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Decode reads one mDNS response message, as sent to port 5353, into the
// services it describes, merged like Browse merges answers: an instance
// needs its SRV record; TXT, A and AAAA records in the same message fill
// it in. Every service type in the message is read. Bad bytes give an
// error, never a panic.
func Decode(pkt []byte) ([]Service, error) {
	var m dns.Msg
	if err := m.Unpack(pkt); err != nil {
		return nil, fmt.Errorf("mdns: decode response: %w", err)
	}
	if !m.Response {
		return nil, errors.New("mdns: decode response: the message is a query, not a response")
	}
	c := newCollector(nil, DefaultMaxServices)
	for _, e := range entriesOf(&m) {
		c.add(e)
	}
	return c.services(), nil
}

// entriesOf groups a message's records into one entry per SRV record:
// its TXT by the same name, and the addresses of its target host.
func entriesOf(m *dns.Msg) []entry {
	var order []string
	srv := map[string]*dns.SRV{}
	txt := map[string][]string{}
	addrs := map[string][]netip.Addr{}
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			name := strings.ToLower(rr.Header().Name)
			switch rr := rr.(type) {
			case *dns.SRV:
				if _, ok := srv[name]; !ok {
					order = append(order, name)
					srv[name] = rr
				}
			case *dns.TXT:
				if _, ok := txt[name]; !ok {
					txt[name] = rr.Txt
				}
			case *dns.A:
				if a, ok := netip.AddrFromSlice(rr.A); ok && len(addrs[name]) < maxAddrs {
					addrs[name] = append(addrs[name], a.Unmap())
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(rr.AAAA); ok && len(addrs[name]) < maxAddrs {
					addrs[name] = append(addrs[name], a)
				}
			}
		}
	}
	out := make([]entry, 0, len(order))
	for _, name := range order {
		s := srv[name]
		out = append(out, entry{
			name:  s.Hdr.Name,
			host:  s.Target,
			port:  int(s.Port),
			addrs: addrs[strings.ToLower(s.Target)],
			txt:   txt[name],
		})
	}
	return out
}
