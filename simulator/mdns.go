package simulator

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
)

// MDNSOptions make every printer advertise itself over multicast DNS /
// DNS-SD, as network printers do (PWG 5100.14, Bonjour Printing): each
// printer is its own responder for its own instance, host name and
// address.
//
// Multicast reaches only the link the responders are on, and loopback
// addresses carry no multicast in general: give the printers addresses on
// a real or virtual link (tests use a veth pair between two network
// namespaces) and serve them there (Options.Listen "0.0.0.0").
type MDNSOptions struct {
	// Types are the service types each printer advertises, among
	// MDNSTypes(): IPP "_ipp._tcp" (at the printer's http port), IPP over
	// TLS "_ipps._tcp" (its https port), raw printing
	// "_pdl-datastream._tcp" (its pjl port), LPD "_printer._tcp". A type
	// whose service the printer does not serve (LPD never; the others
	// without Options.Services) is advertised at its well-known port (631,
	// 631, 9100, 515), where nothing answers.
	Types []string
	// Secured printers, the last Secured ones by index, offer IPP only
	// over TLS: they advertise "_ipps._tcp" and never "_ipp._tcp".
	Secured int
	// FirstAddr: printer i is advertised at FirstAddr+i. The zero value
	// advertises each printer at the address it listens on, which must
	// then be its own.
	FirstAddr netip.Addr
	// Interface names the interface the responders join the mDNS group
	// on; empty means the system's default multicast route.
	Interface string
}

// mdnsMaxPrinters caps the fleet advertised: each printer is its own
// responder, with two sockets and two 64 KiB receive buffers.
const mdnsMaxPrinters = 256

// mdnsTypes are the service types a printer can advertise, with the TCP
// service behind each and its well-known port.
var mdnsTypes = []struct {
	name, service string
	port          int
}{
	{"_ipp._tcp", "http", 631},
	{"_ipps._tcp", "https", 631},
	{"_pdl-datastream._tcp", "pjl", 9100},
	{"_printer._tcp", "", 515},
}

// MDNSTypes returns the service types printers can advertise.
func MDNSTypes() []string {
	out := make([]string, len(mdnsTypes))
	for i, t := range mdnsTypes {
		out[i] = t.name
	}
	return out
}

// mdnsState is the fleet's responders.
type mdnsState struct {
	addrs   []netip.Addr // by printer index
	servers []*mdns.Server
}

// startMDNS starts one responder per printer. It runs after the printers'
// sockets are bound, so their ports are known.
func (s *Sim) startMDNS() error {
	o := s.opts.MDNS
	if o == nil {
		return nil
	}
	if len(s.printers) > mdnsMaxPrinters {
		return fmt.Errorf("simulator: mDNS for %d printers: at most %d (each printer is its own responder)", len(s.printers), mdnsMaxPrinters)
	}
	if len(o.Types) == 0 {
		return fmt.Errorf("simulator: mDNS: no service types (have %s)", strings.Join(MDNSTypes(), ", "))
	}
	for _, t := range o.Types {
		if !slices.Contains(MDNSTypes(), t) {
			return fmt.Errorf("simulator: mDNS: unknown service type %q (have %s)", t, strings.Join(MDNSTypes(), ", "))
		}
	}
	if o.Secured < 0 || o.Secured > len(s.printers) {
		return fmt.Errorf("simulator: mDNS: %d secured printers out of %d", o.Secured, len(s.printers))
	}
	listen, _ := netip.ParseAddr(s.opts.Listen)
	seen := map[netip.Addr]string{}
	a := o.FirstAddr
	for _, p := range s.printers {
		addr := a
		if !o.FirstAddr.IsValid() {
			ap, err := netip.ParseAddrPort(p.addr)
			if err != nil || ap.Addr().IsUnspecified() {
				return fmt.Errorf("simulator: mDNS: printer %s listens on every address: give the first address to advertise", p.name)
			}
			addr = ap.Addr()
		} else {
			if !addr.IsValid() {
				return fmt.Errorf("simulator: mDNS: no address for printer %s after %s", p.name, o.FirstAddr)
			}
			if !listen.IsUnspecified() && listen != addr {
				return fmt.Errorf("simulator: mDNS: printer %s would be advertised at %s but listens on %s: listen on 0.0.0.0 (or ::) so that it answers there", p.name, addr, listen)
			}
			a = a.Next()
		}
		if other, ok := seen[addr]; ok {
			return fmt.Errorf("simulator: mDNS: printers %s and %s would share the address %s", other, p.name, addr)
		}
		seen[addr] = p.name
		s.mdns.addrs = append(s.mdns.addrs, addr)
	}
	var iface *net.Interface
	if o.Interface != "" {
		var err error
		if iface, err = net.InterfaceByName(o.Interface); err != nil {
			return fmt.Errorf("simulator: mDNS: interface %q: %w", o.Interface, err)
		}
	}
	logger := log.New(io.Discard, "", 0)
	if s.opts.Logf != nil {
		logf := s.opts.Logf
		logger = log.New(logfWriter(func(line string) { logf("mdns: %s", line) }), "", 0)
	}
	for i, p := range s.printers {
		z := &printerZone{p: p, addr: s.mdns.addrs[i], types: p.mdnsTypes(o)}
		srv, err := mdns.NewServer(&mdns.Config{Zone: z, Iface: iface, Logger: logger})
		if err != nil {
			return fmt.Errorf("simulator: printer %s: mDNS responder: %w", p.name, err)
		}
		s.mdns.servers = append(s.mdns.servers, srv)
	}
	return nil
}

// closeMDNS stops every responder.
func (s *Sim) closeMDNS() {
	for _, srv := range s.mdns.servers {
		_ = srv.Shutdown()
	}
}

// MDNSAddr is the address the printer is advertised at over mDNS; the
// zero Addr when the fleet does not advertise.
func (p *Printer) MDNSAddr() netip.Addr {
	if p.sim == nil || p.id.index >= len(p.sim.mdns.addrs) {
		return netip.Addr{}
	}
	return p.sim.mdns.addrs[p.id.index]
}

// MDNSInstance is the printer's DNS-SD instance name: its model and its
// name ("Lexmark CX725 sim-001"), within a DNS label's 63 bytes.
func (p *Printer) MDNSInstance() string {
	s := p.Model() + " " + p.name
	if len(s) > 63 {
		s = s[len(s)-63:] // keep the name, which tells printers apart
	}
	return strings.TrimSpace(strings.ToValidUTF8(s, ""))
}

// MDNSHost is the printer's mDNS host name ("sim-001.local").
func (p *Printer) MDNSHost() string { return p.name + ".local" }

// UUID is the printer's UUID as IPP and DNS-SD show it (printer-uuid),
// made from its serial number, so it is stable across restarts.
func (p *Printer) UUID() string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("inkform-simulator/"+p.id.serial)).String()
}

// mdnsTypes are the types this printer advertises: a secured printer
// offers IPP over TLS only.
func (p *Printer) mdnsTypes(o *MDNSOptions) []string {
	secured := p.id.index >= len(p.sim.printers)-o.Secured
	var out []string
	for _, t := range o.Types {
		if secured && t == "_ipp._tcp" {
			t = "_ipps._tcp"
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// printerZone answers mDNS questions about one printer. Records are made
// for each question, so the TXT follows the printer's current location,
// and an offline printer does not answer.
type printerZone struct {
	p     *Printer
	addr  netip.Addr
	types []string
}

// Records answers one question.
func (z *printerZone) Records(q dns.Question) []dns.RR {
	if z.p.Offline() {
		return nil
	}
	var out []dns.RR
	seen := map[string]bool{}
	for _, t := range z.types {
		svc, err := z.service(t)
		if err != nil {
			z.p.logf("mdns: %s: %v", t, err)
			continue
		}
		for _, rr := range svc.Records(q) {
			// Every type's service would give the host's address record.
			if k := rr.String(); !seen[k] {
				seen[k] = true
				out = append(out, rr)
			}
		}
	}
	return out
}

// nameEscaper writes an instance name in the presentation form the
// mDNS library packs: a dot or backslash would otherwise split the label.
var nameEscaper = strings.NewReplacer(`\`, `\\`, `.`, `\.`)

// txtEscaper keeps a backslash in a TXT value from starting an escape.
var txtEscaper = strings.NewReplacer(`\`, `\\`)

func (z *printerZone) service(typ string) (*mdns.MDNSService, error) {
	p := z.p
	port := 0
	for _, t := range mdnsTypes {
		if t.name == typ {
			port = t.port
			if t.service != "" && p.Port(t.service) != 0 {
				port = p.Port(t.service)
			}
		}
	}
	model := p.Model()
	mfg, mdl, _ := strings.Cut(model, " ")
	txt := []string{"txtvers=1", "ty=" + model, "product=(" + model + ")", "note=" + p.location(),
		"UUID=" + p.UUID(), "usb_MFG=" + mfg, "usb_MDL=" + mdl}
	host := z.addr.String()
	if z.addr.Is6() {
		host = "[" + host + "]"
	}
	if port := p.Port("https"); port != 0 {
		txt = append(txt, fmt.Sprintf("adminurl=https://%s:%d/", host, port))
	} else if port := p.Port("http"); port != 0 {
		txt = append(txt, fmt.Sprintf("adminurl=http://%s:%d/", host, port))
	}
	switch typ {
	case "_ipp._tcp", "_ipps._tcp":
		txt = append(txt, "rp=ipp/print", "qtotal=1", "pdl=application/pdf,image/urf,application/postscript")
		if p.Port("https") != 0 {
			txt = append(txt, "TLS=1.3")
		}
	case "_pdl-datastream._tcp":
		txt = append(txt, "qtotal=1", "pdl=application/vnd.hp-PCL,application/postscript")
	case "_printer._tcp":
		txt = append(txt, "rp=auto", "qtotal=1")
	}
	for i := range txt {
		txt[i] = txtEscaper.Replace(txt[i])
	}
	return mdns.NewMDNSService(nameEscaper.Replace(p.MDNSInstance()), typ, "local.", p.MDNSHost()+".", port,
		[]net.IP{z.addr.AsSlice()}, txt)
}

// location is the printer's sysLocation now.
func (p *Printer) location() string {
	pdu, ok := p.Get(OIDSysLocation)
	if !ok {
		return ""
	}
	b, _ := pdu.Value.([]byte)
	return string(b)
}

// logfWriter hands a logger's lines to a function.
type logfWriter func(line string)

func (w logfWriter) Write(b []byte) (int, error) {
	w(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
