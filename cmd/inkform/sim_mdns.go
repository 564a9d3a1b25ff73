package main

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/inkform/inkform/simulator"
)

// simMDNSFlags are sim's mDNS advertising flags.
type simMDNSFlags struct {
	Types     string // --mdns
	Secured   int    // --mdns-secured
	Addr      string // --mdns-addr
	Interface string // --mdns-interface
}

func (m *simMDNSFlags) register(f *pflag.FlagSet) {
	f.StringVar(&m.Types, "mdns", "", `advertise every printer over mDNS / DNS-SD with these service types: a list of `+
		strings.Join(simMDNSShort(), ",")+` (or their full names, e.g. _ipp._tcp), or "all"; empty = no mDNS`)
	f.IntVar(&m.Secured, "mdns-secured", 0, "the last K printers offer IPP only over TLS: they advertise _ipps._tcp and never _ipp._tcp")
	f.StringVar(&m.Addr, "mdns-addr", "", "with --mdns: the address printer 1 is advertised at; printer i gets the i-th address from it. "+
		"The addresses must be this host's, on a multicast-capable link (not loopback), with --listen 0.0.0.0")
	f.StringVar(&m.Interface, "mdns-interface", "", "with --mdns: the interface to answer mDNS queries on (default: the system's multicast route)")
}

// simMDNSShort are the type names --mdns takes: "ipp" for "_ipp._tcp".
func simMDNSShort() []string {
	var out []string
	for _, t := range simulator.MDNSTypes() {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(t, "_"), "._tcp"))
	}
	return out
}

// options reads the flags; nil when --mdns is not given.
func (m *simMDNSFlags) options() (*simulator.MDNSOptions, error) {
	v := strings.TrimSpace(m.Types)
	if v == "" {
		if m.Secured != 0 || m.Addr != "" || m.Interface != "" {
			return nil, &exitError{code: ExitError, msg: "--mdns-secured, --mdns-addr and --mdns-interface need --mdns"}
		}
		return nil, nil
	}
	o := &simulator.MDNSOptions{Secured: m.Secured, Interface: m.Interface}
	if v == "all" {
		o.Types = simulator.MDNSTypes()
	} else {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			full := name
			if !strings.HasPrefix(full, "_") {
				full = "_" + full + "._tcp"
			}
			if !slices.Contains(simulator.MDNSTypes(), full) {
				return nil, &exitError{code: ExitError, msg: fmt.Sprintf("--mdns: unknown service type %q (have %s, all)", name, strings.Join(simMDNSShort(), ", "))}
			}
			if !slices.Contains(o.Types, full) {
				o.Types = append(o.Types, full)
			}
		}
	}
	if m.Addr != "" {
		a, err := netip.ParseAddr(m.Addr)
		if err != nil {
			return nil, &exitError{code: ExitError, msg: fmt.Sprintf("--mdns-addr: %v", err)}
		}
		o.FirstAddr = a
	}
	return o, nil
}

// printSimMDNS says where the printers are advertised.
func printSimMDNS(out io.Writer, sim *simulator.Sim) {
	o := sim.Options().MDNS
	if o == nil {
		return
	}
	ps := sim.Printers()
	first, last := ps[0], ps[len(ps)-1]
	fmt.Fprintf(out, "mDNS: %s at %s", first.Name(), first.MDNSAddr())
	if len(ps) > 1 {
		fmt.Fprintf(out, " … %s at %s", last.Name(), last.MDNSAddr())
	}
	fmt.Fprintf(out, " (%s", strings.Join(o.Types, ", "))
	if o.Secured > 0 {
		fmt.Fprintf(out, "; the last %d IPP over TLS only", o.Secured)
	}
	fmt.Fprintln(out, ")")
}
