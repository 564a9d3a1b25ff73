package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/simulator"
)

// simPrinterLines is the largest fleet listed printer by printer; larger
// fleets get a one-line summary.
const simPrinterLines = 10

// simOptions are the options of sim.
type simOptions struct {
	IO       streams
	Sim      simulator.Options
	HCLPath  string // --write-hcl
	CSVPath  string // --write-csv
	Services string // --services, read into Sim.Services by runSim
	// Recording is --from-recording: a .snmprec file every printer
	// answers like.
	Recording string
	// --alert-every and --alert-storm, read into Sim.AlertRate by runSim.
	AlertEvery time.Duration
	AlertStorm float64
	MDNS       simMDNSFlags // --mdns… (sim_mdns.go)
}

func newSimCommand(fac *factory) *cobra.Command {
	opts := &simOptions{IO: fac.IO}
	o := &opts.Sim
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run simulated printers (SNMP agents) for demos, CI and benchmarks",
		Long: `Run a fleet of virtual printers, each an SNMP v1/v2c agent on its own UDP port
(printer i on base-port+i; --base-port 0 picks free ports). Each printer takes
that UDP port and, when it serves other services (--services; by default up to
250 printers), four TCP ports for PJL, FTP, HTTP and HTTPS and two UDP ports
for Lexmark's NPAP and XMLNT, always picked free: --write-hcl records them all.
Secured printers (--secured K: the first K) also serve LST on a free TCP port
and a free UDP port (docs/protocols/lst.md), and --write-hcl marks them
secured = true. Models cycle through
Lexmark CX725, Lexmark MS821, HP LaserJet M507, Brother HL-L6400DW and
RICOH IM C3000; serial numbers follow from the printer's position, so a
configuration written with --write-hcl stays valid across restarts.

With --from-recording FILE.snmprec (snmpsim's format, as testdata/interop holds
recordings of real printers), every printer answers like the recorded device
instead: each with its own address, and its own serial (the recorded one
followed by the printer's number, wherever the device shows it). The settings
the built-in models let SNMP write (contact, name, location, the Printer MIB's
writable objects) stay writable where the device has them.

The read community may GET, the write community may GET and SET; other
communities get no answer. With --state-file, changed values survive restarts.

Printers keep a Printer-MIB alert table (prtAlertTable) and
hrPrinterDetectedErrorState in step with their alerts: toner runs low and
out as pages print, and with --alert-every or --alert-storm jams and open
doors come and go on printers picked by a generator seeded with --seed. With
--alerts-to, each critical alert raised (and each door closed) is sent as a
printerV2Alert trap from the printer's own address. With --npap-alerts-to,
each alert raised or cleared is also sent as an NPAP alert from the printer's
NPAP port (as it is to servers that registered over NPAP or XMLNT).

With --mdns, each printer also advertises itself over mDNS / DNS-SD (its
model, location, UUID and web page in TXT), each at its own address from
--mdns-addr on: addresses of this host on a multicast-capable link, such as
a network namespace's veth (loopback carries no multicast).

After every socket is bound the command prints the printers (or a summary)
and then a line "ready"; it runs until interrupted (SIGINT or SIGTERM).`,
		Example: `  inkform sim --printers 25 --write-hcl fleet.hcl
  inkform sim --from-recording testdata/interop/jetdirect.snmprec --printers 500 --write-hcl fleet.hcl
  inkform sim --printers 1000 --base-port 20001 --loss 0.02 --latency 5ms
  inkform sim --printers 50 --alerts-to 127.0.0.1:1162 --alert-storm 100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The first SIGINT or SIGTERM cancels the command's context
			// (signals.go): the simulator closes its sockets and returns.
			return runSim(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Printers, "printers", 10, "number of printers")
	f.StringVar(&opts.Recording, "from-recording", "", "serve every printer like the device recorded in this .snmprec file")
	f.StringVar(&o.Listen, "listen", "127.0.0.1", "IP address to listen on; an IPv4 prefix (127.77.0.0/16) spreads the printers evenly over its addresses, all on --base-port, SNMP only (a subnet for discover)")
	f.IntVar(&o.BasePort, "base-port", 16101, "UDP port of the first printer; printer i uses base-port+i (0 = free ports)")
	f.StringVar(&opts.HCLPath, "write-hcl", "", "write an inkform configuration for the fleet to this file")
	f.StringVar(&opts.CSVPath, "write-csv", "", "write the fleet as CSV (name,address,serial,model) to this file, for for_each over csvdecode")
	f.StringVar(&o.StateFile, "state-file", "", "keep changed values in this JSON file across restarts")
	f.DurationVar(&o.Latency, "latency", 0, "delay added before each response (e.g. 20ms)")
	f.Float64Var(&o.Loss, "loss", 0, "fraction of requests dropped, 0 to 1")
	f.IntVar(&o.Offline, "offline", 0, "the first K printers do not answer")
	f.IntVar(&o.Slow, "slow", 0, "the K printers after the offline ones answer after --slow-latency")
	f.DurationVar(&o.SlowLatency, "slow-latency", 200*time.Millisecond, "extra delay of each response from a slow printer")
	f.StringVar(&o.ReadCommunity, "read-community", "public", "SNMP community allowed to read")
	f.StringVar(&o.WriteCommunity, "write-community", "private", "SNMP community allowed to read and write")
	f.Int64Var(&o.Seed, "seed", 1, "seed of the packet-loss and alert generators")
	f.DurationVar(&o.PrintRate, "print-rate", 10*time.Second, "each printer prints a page this often, draining its supplies (0 = never)")
	f.StringVar(&o.AdminUser, "admin-user", "admin", "administrator login of every printer's FTP server and embedded web server")
	f.StringVar(&o.AdminPassword, "admin-password", "inkform-sim", "administrator password of every printer's FTP server and embedded web server")
	f.StringVar(&o.AuthScheme, "auth-scheme", "digest", `how the embedded web server asks for the login: "basic" or "digest"`)
	f.StringVar(&opts.Services, "services", "auto", "services each printer serves besides SNMP: a list of "+strings.Join(simulator.Services(), ",")+`, "all", "none", or "auto" (all up to `+fmt.Sprint(simAllServicesUpTo)+` printers, none above)`)
	f.IntVar(&o.Secured, "secured", 0, "the first K printers are secured: they also serve LST (TLS 1.3 on a TCP port, DTLS on a UDP port) with their HTTPS certificate and the admin login, and --write-hcl marks them secured = true")
	f.IntVar(&o.FirmwareFail, "firmware-fail", 0, "the K printers after the offline and slow ones reject firmware images")
	f.DurationVar(&o.RebootDelay, "reboot-delay", 2*time.Second, "how long a printer stays offline after installing firmware")
	f.StringVar(&o.AlertsTo, "alerts-to", "", "send printerV2Alert traps (SNMPv2c) to this IP:PORT when a printer's critical alert is raised or a door closes")
	f.StringVar(&o.NPAPAlertsTo, "npap-alerts-to", "", "send NPAP alerts to this IP:PORT when a printer's alert is raised or cleared (printers serving npap)")
	f.StringVar(&o.AlertCommunity, "alert-community", "", "community of the alert traps (default: --read-community)")
	f.DurationVar(&opts.AlertEvery, "alert-every", 0, "one printer raises or clears an alert (a jam, a door) this often (0 = never; toner alerts follow printing)")
	f.Float64Var(&opts.AlertStorm, "alert-storm", 0, "N alerts a second across the fleet: a storm (overrides --alert-every)")
	opts.MDNS.register(f)
	return cmd
}

// runSim serves the simulated fleet until ctx ends.
func runSim(ctx context.Context, opts *simOptions) error {
	o := opts.Sim
	services := opts.Services
	if strings.Contains(o.Listen, "/") && services == "auto" {
		services = "none" // printers spread over a prefix serve SNMP only
	}
	svcs, err := parseServices(services, o.Printers)
	if err != nil {
		return err
	}
	o.Services = svcs
	if o.MDNS, err = opts.MDNS.options(); err != nil {
		return err
	}
	if opts.Recording != "" {
		rec, err := simulator.LoadRecording(opts.Recording)
		if err != nil {
			return err
		}
		for _, why := range rec.Skipped() {
			fmt.Fprintf(opts.IO.Err, "Warning: %s: %s\n", opts.Recording, why)
		}
		o.Recording = rec
	}
	switch {
	case opts.AlertStorm < 0 || opts.AlertEvery < 0:
		return &exitError{code: ExitError, msg: "--alert-storm and --alert-every cannot be negative"}
	case opts.AlertStorm > 0:
		o.AlertRate = opts.AlertStorm
	case opts.AlertEvery > 0:
		o.AlertRate = float64(time.Second) / float64(opts.AlertEvery)
	}
	hclPath, csvPath, out := opts.HCLPath, opts.CSVPath, opts.IO.Out
	sim, err := simulator.Start(ctx, o)
	if errors.Is(err, syscall.EADDRINUSE) && o.BasePort != 0 {
		return &exitError{code: ExitError, msg: fmt.Sprintf("%v\nA port in %d–%d is taken (by another program, or an inkform sim still running). "+
			"Pick another --base-port, or --base-port 0 to let the simulator choose free ports (--write-hcl records them).",
			err, o.BasePort, o.BasePort+o.Printers-1)}
	}
	if err != nil {
		return err
	}
	defer sim.Close()

	for _, w := range []struct {
		path  string
		write func(io.Writer) error
	}{{hclPath, sim.WriteHCL}, {csvPath, sim.WriteCSV}} {
		if w.path == "" {
			continue
		}
		var buf bytes.Buffer
		if err := w.write(&buf); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
		if err := os.WriteFile(w.path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
	}

	printers := sim.Printers()
	o = sim.Options()
	switch {
	case len(printers) <= simPrinterLines:
		for _, p := range printers {
			fmt.Fprintf(out, "%s  %s  %s  %s\n", p.Name(), p.Addr(), p.Serial(), p.Model())
		}
	case strings.Contains(o.Listen, "/"):
		fmt.Fprintf(out, "serving %d printers spread over %s on port %d (%s … %s)\n", len(printers), o.Listen, o.BasePort, printers[0].Addr(), printers[len(printers)-1].Addr())
	case o.BasePort != 0:
		fmt.Fprintf(out, "serving %d printers on %s-%d\n", len(printers), printers[0].Addr(), o.BasePort+len(printers)-1)
	default:
		fmt.Fprintf(out, "serving %d printers on %s (ports %s … %s)\n", len(printers), o.Listen, printers[0].Addr(), printers[len(printers)-1].Addr())
	}
	printSimMDNS(out, sim)
	if hclPath != "" {
		fmt.Fprintf(out, "configuration written to %s\n", hclPath)
	}
	if csvPath != "" {
		fmt.Fprintf(out, "printers written to %s\n", csvPath)
	}
	fmt.Fprintln(out, "ready")

	<-ctx.Done()
	if err := sim.Close(); err != nil {
		return err
	}
	st := sim.Stats()
	fmt.Fprintf(opts.IO.Err, "stopped: %d requests answered, %d dropped (%d malformed, %d unknown community, %d lost, %d while offline)\n",
		st.Answered, st.Malformed+st.Refused+st.Lost+st.Ignored, st.Malformed, st.Refused, st.Lost, st.Ignored)
	if o.AlertsTo != "" {
		fmt.Fprintf(opts.IO.Err, "%d alert traps sent to %s\n", sim.TrapsSent(), o.AlertsTo)
	}
	if n := sim.NPAPAlertsSent(); n > 0 || o.NPAPAlertsTo != "" {
		fmt.Fprintf(opts.IO.Err, "%d NPAP alerts sent\n", n)
	}
	return nil
}

// simAllServicesUpTo is the largest fleet "auto" gives every TCP service:
// each service costs a listening socket per printer.
const simAllServicesUpTo = 250

// parseServices reads --services: "auto", "all", "none" or a
// comma-separated list.
func parseServices(v string, printers int) ([]string, error) {
	switch strings.TrimSpace(v) {
	case "auto", "":
		if printers > simAllServicesUpTo {
			return nil, nil
		}
		return simulator.Services(), nil
	case "all":
		return simulator.Services(), nil
	case "none":
		return nil, nil
	}
	var out []string
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(simulator.Services(), name) {
			return nil, &exitError{code: ExitError, msg: fmt.Sprintf("--services: unknown service %q (have %s, all, none)", name, strings.Join(simulator.Services(), ", "))}
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}
