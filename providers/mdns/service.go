// Package mdns finds printers on the local link with multicast DNS and
// DNS-SD (RFC 6762, RFC 6763): it asks for the printer service types
// (`_ipp._tcp`, `_ipps._tcp`, `_pdl-datastream._tcp`, `_printer._tcp`),
// merges the answers per device and reads the printer TXT keys of PWG
// 5100.14 (IPP Everywhere) and Apple's Bonjour Printing specification into
// fields. The queries go through github.com/hashicorp/mdns; packets are
// decoded by github.com/miekg/dns.
//
// Multicast DNS reaches only the link the querier is on: routers do not
// forward 224.0.0.251. Printers on other subnets are found by the SNMP
// sweep, not here (docs/discovery.md).
package mdns

import (
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/miekg/dns"
)

// The service types printers advertise.
const (
	TypeIPP   = "_ipp._tcp"            // IPP over plain HTTP (port 631)
	TypeIPPS  = "_ipps._tcp"           // IPP over HTTPS only (RFC 8010 ipps)
	TypePDL   = "_pdl-datastream._tcp" // raw printing, usually TCP 9100
	TypeLPD   = "_printer._tcp"        // LPD (RFC 1179), port 515
	maxTypes  = 16
	maxLabels = 63 // a DNS label's limit in bytes
)

// DefaultTypes are the service types Browse asks for when Options.Types is
// empty.
var DefaultTypes = []string{TypeIPP, TypeIPPS, TypePDL, TypeLPD}

// typeOrder ranks service types for the choice of Service.Port and for
// which type's TXT value wins when two types of one device disagree: the
// IPP records describe the printer best (PWG 5100.14), LPD's least.
var typeOrder = []string{TypeIPPS, TypeIPP, TypePDL, TypeLPD}

// Limits that keep a flood of answers, or a hostile responder, from
// growing memory without bound.
const (
	// DefaultMaxServices caps the devices one Browse keeps.
	DefaultMaxServices = 1024
	// maxTXTBytes caps the TXT data read from one record (RFC 6763 §6.2
	// advises under 1300 bytes; 8900 is the hard limit). Strings past it
	// are ignored.
	maxTXTBytes = 4096
	// maxTXTKeys caps the keys read from one record.
	maxTXTKeys = 64
	// maxAddrs caps the addresses kept per device.
	maxAddrs = 16
)

// ErrTooMany is returned, wrapped, with the services found when more
// devices answered than Options.MaxServices: the services are still
// returned; the devices past the cap were ignored.
var ErrTooMany = errors.New("more devices answered than the limit")

// Service is one device found over DNS-SD: the answers for every service
// type it advertised, merged. It is self-contained (no other inkform type)
// so that callers can merge it with what other discovery methods found.
//
// Answers are merged into one Service when they share an address, else
// when they name the same SRV target host, else when they carry the same
// instance name: a printer advertises each of its types under one name and
// host.
type Service struct {
	// Instance is the DNS-SD instance name as a person reads it: escapes
	// undone ("Lexmark CX725 HQ-2F", not `Lexmark\ CX725\ HQ-2F`). With
	// several, that of the type ranked first (see Types).
	Instance string
	// Host is the SRV target without the final dot ("ET0021B7C3D4E5.local").
	Host string
	// Addrs are the A and AAAA addresses of Host, sorted, at most 16.
	Addrs []netip.Addr
	// Port is the port of the first type, in the order _ipps, _ipp,
	// _pdl-datastream, _printer, then others: where a client talks to the
	// printer best. Ports has every type's.
	Port  int
	Ports map[string]int
	// Types are the service types the device advertised ("_ipp._tcp"),
	// among those asked for, sorted.
	Types []string
	// TXT holds the TXT keys, lower-cased (DNS-SD keys are
	// case-insensitive: "UUID" is TXT["uuid"]) with their values; a key
	// sent without "=" has the value "". Where two types' records
	// disagree, the higher-ranked type's value is kept (_ipps, _ipp,
	// _pdl-datastream, _printer); within a record the first occurrence of
	// a key wins (RFC 6763 §6.4).
	TXT map[string]string
	// Model is the make and model: `ty`, else `product` without its
	// parentheses, else `usb_MFG` and `usb_MDL` joined.
	Model string
	// Vendor is `usb_MFG`, else the first word of Model, as the device
	// writes it ("Lexmark", "HP"); callers lower-case it for a keyword.
	Vendor string
	// Product is `product` without its parentheses (the PostScript
	// product name).
	Product string
	// Location is `note`, the printer's location as its administrator
	// wrote it.
	Location string
	// AdminURL is `adminurl`, the embedded web server's page, when it is
	// an http or https URL (anything else is dropped).
	AdminURL string
	// UUID is `UUID` (the printer-uuid, without "urn:uuid:"), lower-case,
	// when it is a well-formed UUID.
	UUID string
	// PDL are the document formats of `pdl` (MIME types).
	PDL []string
	// Queue is `rp`, the resource path ("ipp/print").
	Queue string
	// TLS is `TLS`, the highest TLS version the printer supports ("1.2").
	// On `_ipp._tcp` it means the printer can upgrade to TLS (RFC 2817),
	// not that it refuses plain connections: it never sets Secured.
	TLS string
	// Secured says the printer's IPP is offered only over TLS: it
	// advertises `_ipps._tcp` and not `_ipp._tcp`. No TXT key says a
	// printer refuses plain connections (`TLS` only says it can speak
	// TLS), so the TXT does not decide it. Raw (9100) and LPD printing
	// are outside IPP and do not change it; they show in Types.
	Secured bool
}

// entry is one answer: an instance of one service type, with its host,
// addresses and TXT strings as miekg/dns presents them (escaped).
type entry struct {
	name  string // full instance name, escaped: `A\ B._ipp._tcp.local.`
	host  string // SRV target
	port  int
	addrs []netip.Addr
	txt   []string
}

// device is what the answers say about one device so far.
type device struct {
	instances map[string]string            // type → unescaped instance name
	host      string                       // first SRV target seen
	addrs     []netip.Addr                 // unique, at most maxAddrs
	ports     map[string]int               // type → port
	txt       map[string]map[string]string // type → parsed TXT
}

// collector merges answers into devices within its caps. Not safe for
// concurrent use.
type collector struct {
	want    map[string]bool // nil: every type
	max     int
	devices []*device
	byAddr  map[netip.Addr]*device
	byHost  map[string]*device
	byName  map[string]*device
	dropped int // answers of devices past max
}

func newCollector(types []string, max int) *collector {
	c := &collector{max: max, byAddr: map[netip.Addr]*device{}, byHost: map[string]*device{}, byName: map[string]*device{}}
	if types != nil {
		c.want = map[string]bool{}
		for _, t := range types {
			c.want[strings.ToLower(t)] = true
		}
	}
	if c.max <= 0 {
		c.max = DefaultMaxServices
	}
	return c
}

// add merges one answer; answers whose name is not an instance of a
// wanted type are ignored.
func (c *collector) add(e entry) {
	inst, typ, ok := splitInstance(e.name)
	if !ok || c.want != nil && !c.want[typ] || e.port <= 0 || e.port > 65535 {
		return
	}
	host := strings.ToLower(strings.TrimSuffix(e.host, "."))
	if len(host) > 255 {
		host = ""
	}
	nameKey := strings.ToLower(inst)
	var d *device
	for _, a := range e.addrs {
		if d = c.byAddr[a.Unmap()]; d != nil {
			break
		}
	}
	if d == nil && host != "" {
		d = c.byHost[host]
	}
	if d == nil {
		d = c.byName[nameKey]
	}
	if d == nil {
		if len(c.devices) >= c.max {
			c.dropped++
			return
		}
		d = &device{instances: map[string]string{}, host: host, ports: map[string]int{}, txt: map[string]map[string]string{}}
		c.devices = append(c.devices, d)
	}
	if d.host == "" {
		d.host = host
	}
	if _, ok := d.instances[typ]; !ok {
		d.instances[typ] = inst
	}
	d.ports[typ] = e.port
	if _, ok := d.txt[typ]; !ok || len(e.txt) > 0 {
		d.txt[typ] = parseTXT(e.txt)
	}
	for _, a := range e.addrs {
		a = a.Unmap()
		if !a.IsValid() || slices.Contains(d.addrs, a) || len(d.addrs) >= maxAddrs {
			continue
		}
		d.addrs = append(d.addrs, a)
		c.byAddr[a] = d
	}
	if host != "" {
		if _, ok := c.byHost[host]; !ok {
			c.byHost[host] = d
		}
	}
	if _, ok := c.byName[nameKey]; !ok {
		c.byName[nameKey] = d
	}
}

// services returns the devices found, in the order first seen.
func (c *collector) services() []Service {
	out := make([]Service, 0, len(c.devices))
	for _, d := range c.devices {
		out = append(out, d.service())
	}
	return out
}

// rank orders types: typeOrder first, then the rest by name.
func rank(types []string) []string {
	out := slices.Clone(types)
	slices.SortFunc(out, func(a, b string) int {
		ia, ib := slices.Index(typeOrder, a), slices.Index(typeOrder, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

func (d *device) service() Service {
	s := Service{Host: d.host, Addrs: slices.Clone(d.addrs), Ports: map[string]int{}, TXT: map[string]string{}}
	for t := range d.ports {
		s.Types = append(s.Types, t)
	}
	slices.Sort(s.Types)
	ranked := rank(s.Types)
	s.Instance = d.instances[ranked[0]]
	s.Port = d.ports[ranked[0]]
	for _, t := range ranked {
		s.Ports[t] = d.ports[t]
		for k, v := range d.txt[t] {
			if _, ok := s.TXT[k]; !ok {
				s.TXT[k] = v
			}
		}
	}
	slices.SortFunc(s.Addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	s.Secured = slices.Contains(s.Types, TypeIPPS) && !slices.Contains(s.Types, TypeIPP)
	s.fields()
	return s
}

// fields fills the typed fields from TXT.
func (s *Service) fields() {
	t := s.TXT
	s.Product = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(t["product"]), "("), ")"))
	mfg, mdl := strings.TrimSpace(t["usb_mfg"]), strings.TrimSpace(t["usb_mdl"])
	switch {
	case strings.TrimSpace(t["ty"]) != "":
		s.Model = strings.TrimSpace(t["ty"])
	case s.Product != "":
		s.Model = s.Product
	case mdl != "" && mfg != "" && !strings.HasPrefix(strings.ToLower(mdl), strings.ToLower(mfg)):
		s.Model = mfg + " " + mdl
	default:
		s.Model = mdl
	}
	s.Vendor = mfg
	if s.Vendor == "" {
		if f := strings.Fields(s.Model); len(f) > 0 {
			s.Vendor = f[0]
		}
	}
	s.Location = strings.TrimSpace(t["note"])
	if u, err := url.Parse(strings.TrimSpace(t["adminurl"])); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		s.AdminURL = u.String()
	}
	id := strings.TrimSpace(t["uuid"])
	if len(id) >= 9 && strings.EqualFold(id[:9], "urn:uuid:") {
		id = id[9:]
	}
	if u, err := uuid.Parse(id); err == nil && len(id) == 36 {
		s.UUID = u.String()
	}
	for _, f := range strings.Split(t["pdl"], ",") {
		if f = strings.TrimSpace(f); f != "" {
			s.PDL = append(s.PDL, f)
		}
	}
	s.Queue = strings.TrimSpace(t["rp"])
	s.TLS = strings.TrimSpace(t["tls"])
}

// parseTXT reads DNS-SD key/value strings (RFC 6763 §6): "key=value",
// or "key" alone for a boolean attribute; keys are lower-cased and the
// first occurrence wins. Strings arrive escaped the way miekg/dns
// presents them and are unescaped; at most maxTXTBytes of them and
// maxTXTKeys keys are read. Values are made valid UTF-8.
func parseTXT(txt []string) map[string]string {
	out := map[string]string{}
	n := 0
	for _, raw := range txt {
		s := unescapeText(raw)
		n += len(s) + 1
		if n > maxTXTBytes || len(out) >= maxTXTKeys {
			break
		}
		k, v, _ := strings.Cut(s, "=")
		// RFC 6763 §6.4: keys are printable US-ASCII other than "="; a
		// string starting with "=" has no key and is ignored.
		if k == "" || !printableASCII(k) {
			continue
		}
		k = strings.ToLower(k)
		if _, ok := out[k]; ok {
			continue
		}
		out[k] = strings.ToValidUTF8(v, "\uFFFD")
	}
	return out
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// unescapeText undoes miekg/dns's presentation escapes of a TXT string
// (`\"`, `\\`, `\DDD`) by packing it back to wire form with the same
// library: the bytes after the length octet are the string as sent.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{s}}
	buf := make([]byte, dns.Len(rr)+16)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	// The header of the root name is 11 bytes: name, type, class, TTL,
	// rdlength; then one length octet and the string.
	const hdr = 11
	if err != nil || off <= hdr || int(buf[hdr]) != off-hdr-1 {
		return s
	}
	return string(buf[hdr+1 : off])
}

// splitInstance splits a DNS-SD instance name (`Lexmark\ CX725._ipp._tcp.local.`)
// into its instance label, unescaped and made valid UTF-8, and its
// service type in lower case ("_ipp._tcp").
func splitInstance(name string) (inst, typ string, ok bool) {
	labels := dns.SplitDomainName(name)
	if len(labels) < 4 {
		return "", "", false
	}
	svc, proto := strings.ToLower(labels[1]), strings.ToLower(labels[2])
	if len(svc) < 2 || svc[0] != '_' || proto != "_tcp" && proto != "_udp" {
		return "", "", false
	}
	inst, ok = unescapeLabel(labels[0])
	if !ok || inst == "" {
		return "", "", false
	}
	return strings.ToValidUTF8(inst, "\uFFFD"), svc + "." + proto, true
}

// unescapeLabel undoes presentation escapes (`\ `, `\.`, `\DDD`) of one
// label by packing it to wire form with miekg/dns.
func unescapeLabel(label string) (string, bool) {
	if !strings.Contains(label, `\`) {
		return label, len(label) <= maxLabels
	}
	buf := make([]byte, 2*maxLabels+8)
	off, err := dns.PackDomainName(label+".", buf, 0, nil, false)
	// One label: a length octet, the label, the root's zero octet.
	if err != nil || off < 2 || int(buf[0]) != off-2 {
		return "", false
	}
	s := string(buf[1 : off-1])
	return s, true
}
