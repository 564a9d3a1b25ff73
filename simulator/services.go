package simulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"sync"
)

// A service is a protocol every virtual printer serves besides SNMP: the
// RAW 9100 PJL interpreter, the FTP server, the embedded web server (TCP),
// NPAP and XMLNT (UDP).
// Each lives in its own file and registers itself in init.
type service struct {
	// name is the transport name used in configurations: "pjl", "ftp",
	// "http", "https".
	name string
	// serve answers connections on ln for printer p until ln is closed or
	// ctx is done. It must return promptly when either happens and must
	// never panic on bad input.
	serve func(ctx context.Context, p *Printer, ln net.Listener) error
	// serveUDP, set instead of serve, makes a datagram service (NPAP,
	// XMLNT): it answers on conn until ctx is done, and closes conn then.
	serveUDP func(ctx context.Context, p *Printer, conn *net.UDPConn) error
	// boundUDP, when set, is called with the bound socket before Start
	// returns, so that what it sets up is in place for the first caller.
	boundUDP func(p *Printer, conn *net.UDPConn)
}

var (
	servicesMu sync.Mutex
	services   = map[string]service{}
)

func registerService(s service) {
	servicesMu.Lock()
	defer servicesMu.Unlock()
	services[s.name] = s
}

// Services returns the names of the TCP services a simulator can serve,
// sorted.
func Services() []string {
	servicesMu.Lock()
	defer servicesMu.Unlock()
	out := make([]string, 0, len(services))
	for n := range services {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// startServices listens for every requested service of every printer. With
// a base port, service k (in the order given) of printer i listens on
// BasePort + k*Printers + i, so ports stay predictable; otherwise on
// ephemeral ports.
func (s *Sim) startServices(ctx context.Context, ip netip.Addr) error {
	servicesMu.Lock()
	var svcs []service
	for _, name := range s.opts.Services {
		svc, ok := services[name]
		if !ok {
			servicesMu.Unlock()
			return fmt.Errorf("simulator: unknown service %q (have %v)", name, Services())
		}
		svcs = append(svcs, svc)
	}
	servicesMu.Unlock()

	sctx, cancel := context.WithCancel(ctx)
	s.stopServices = cancel
	for k, svc := range svcs {
		for i, p := range s.printers {
			port := 0
			if s.opts.BasePort != 0 {
				port = s.opts.BasePort + (k+1)*len(s.printers) + i
			}
			if svc.serveUDP != nil {
				conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
				if err != nil {
					return fmt.Errorf("simulator: printer %s: %s: %w", p.name, svc.name, err)
				}
				p.setPort(svc.name, conn.LocalAddr().(*net.UDPAddr).Port)
				if svc.boundUDP != nil {
					svc.boundUDP(p, conn)
				}
				s.wg.Go(func() {
					if err := svc.serveUDP(sctx, p, conn); err != nil && !errors.Is(err, net.ErrClosed) && sctx.Err() == nil {
						p.logf("%s: %v", svc.name, err)
					}
				})
				continue
			}
			ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, uint16(port)).String())
			if err != nil {
				return fmt.Errorf("simulator: printer %s: %s: %w", p.name, svc.name, err)
			}
			s.listeners = append(s.listeners, ln)
			p.setPort(svc.name, ln.Addr().(*net.TCPAddr).Port)
			s.wg.Go(func() {
				if err := svc.serve(sctx, p, ln); err != nil && !errors.Is(err, net.ErrClosed) && sctx.Err() == nil {
					p.logf("%s: %v", svc.name, err)
				}
			})
		}
	}
	return s.startLST(sctx, ip)
}

// closeServices stops every service listener; serve loops then return.
func (s *Sim) closeServices() {
	if s.stopServices != nil {
		s.stopServices()
	}
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// Port returns the TCP port of the named service, or 0 when not served.
func (p *Printer) Port(service string) int {
	p.svcMu.Lock()
	defer p.svcMu.Unlock()
	return p.ports[service]
}

// Ports returns every served TCP service's port by service name.
func (p *Printer) Ports() map[string]int {
	p.svcMu.Lock()
	defer p.svcMu.Unlock()
	out := make(map[string]int, len(p.ports))
	for k, v := range p.ports {
		out[k] = v
	}
	return out
}

func (p *Printer) setPort(service string, port int) {
	p.svcMu.Lock()
	defer p.svcMu.Unlock()
	if p.ports == nil {
		p.ports = map[string]int{}
	}
	p.ports[service] = port
}

// ReceivedFile is a file a printer received over any transport.
type ReceivedFile struct {
	Name   string
	Via    string // service name
	Size   int64
	SHA256 string
}

// receiveFile records a file a service received. Every service calls it
// for every complete upload, so a file is handled the same whichever
// protocol carried it. It returns an error the service reports to its
// client (e.g. a rejected firmware image).
func (p *Printer) receiveFile(name, via string, data []byte) error {
	sum := sha256.Sum256(data)
	f := ReceivedFile{Name: name, Via: via, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	p.svcMu.Lock()
	p.files = append(p.files, f)
	hook := p.onFile
	p.svcMu.Unlock()
	if hook != nil {
		return hook(p, f, data)
	}
	return nil
}

// Files returns the files received so far, in order.
func (p *Printer) Files() []ReceivedFile {
	p.svcMu.Lock()
	defer p.svcMu.Unlock()
	return append([]ReceivedFile(nil), p.files...)
}

func (p *Printer) logf(format string, args ...any) {
	if p.sim != nil && p.sim.opts.Logf != nil {
		p.sim.opts.Logf("%s: "+format, append([]any{p.name}, args...)...)
	}
}
