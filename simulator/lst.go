package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/providers/lst/wire"
)

// Secured printers (Options.Secured) serve LST besides what every printer
// serves: the TLS 1.3 control channel on a TCP port, the DTLS data channel
// on a UDP port (both ephemeral; the control channel names the data port),
// with the printer's certificate (the one its HTTPS serves, so one
// tls_fingerprint pins both) and the simulator's admin login. Settings are
// the printer's one store, shared with SNMP, PJL and the web server.

// lstName is the transport and service name.
const lstName = "lst"

// Secured reports whether the printer is secured: it serves LST, and
// generated configurations mark it secured.
func (p *Printer) Secured() bool { return p.Port(lstName) != 0 }

// startLST starts the LST endpoints of the secured printers; they stop when
// ctx is done.
func (s *Sim) startLST(ctx context.Context, ip netip.Addr) error {
	for _, p := range s.printers[:s.opts.Secured] {
		id, err := p.ewsIdentity()
		if err != nil {
			return fmt.Errorf("simulator: printer %s: lst: %w", p.name, err)
		}
		ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
		if err != nil {
			return fmt.Errorf("simulator: printer %s: lst: %w", p.name, err)
		}
		s.listeners = append(s.listeners, ln)
		user, password := p.adminLogin()
		srv, err := wire.NewServer(onlineListener{ln, p}, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)), wire.Config{
			Certificate: id.cert, User: user, Password: password, Device: lstDevice{p},
			Logf: func(format string, args ...any) { p.logf(format, args...) },
		})
		if err != nil {
			return fmt.Errorf("simulator: printer %s: %w", p.name, err)
		}
		p.setPort(lstName, ln.Addr().(*net.TCPAddr).Port)
		s.wg.Go(func() {
			if err := srv.Serve(ctx); err != nil && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				p.logf("lst: %v", err)
			}
		})
	}
	return nil
}

// lstDevice answers LST requests from a virtual printer.
type lstDevice struct{ p *Printer }

func (d lstDevice) Identity() wire.IdentityReply {
	return wire.IdentityReply{Vendor: d.p.Vendor(), Model: d.p.Model(), Serial: d.p.Serial(), Firmware: d.p.Firmware()}
}

func (d lstDevice) Status() wire.StatusReply {
	out := wire.StatusReply{Status: "unknown"}
	if pdu, ok := d.p.Get(OIDHrPrinterStatus); ok {
		switch gosnmp.ToBigInt(pdu.Value).Int64() {
		case 3:
			out.Status = "idle"
		case 4:
			out.Status = "printing"
		case 5:
			out.Status = "warmup"
		}
	}
	if pdu, ok := d.p.Get(OIDPrtMarkerLife); ok {
		out.PageCount = gosnmp.ToBigInt(pdu.Value).Int64()
	}
	if pdu, ok := d.p.Get(OIDSysUpTime); ok {
		out.UptimeSeconds = int64(time.Duration(gosnmp.ToBigInt(pdu.Value).Int64()) * 10 * time.Millisecond / time.Second)
	}
	return out
}

func (d lstDevice) ReadSettings(names []string) (map[string]string, []string) {
	values := map[string]string{}
	var missing []string
	for _, n := range names {
		if v, ok := d.p.Setting(n); ok {
			values[n] = v
		} else {
			missing = append(missing, n)
		}
	}
	return values, missing
}

func (d lstDevice) WriteSettings(values map[string]string) map[string]string {
	refused := map[string]string{}
	for n, v := range values {
		err := d.p.SetSetting(n, v)
		switch {
		case err == nil:
		case errors.Is(err, errUnsupportedSetting):
			refused[n] = wire.ReasonUnsupported
		default:
			// Not the catalog's message: it may quote the value, which
			// may be a secret.
			refused[n] = "the value is not valid for this setting"
		}
	}
	return refused
}
