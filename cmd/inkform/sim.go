package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/simulator"
)

// simPrinterLines is the largest fleet listed printer by printer; larger
// fleets get a one-line summary.
const simPrinterLines = 10

func newSimCommand() *cobra.Command {
	var o simulator.Options
	var hclPath string
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run simulated printers (SNMP agents) for demos, CI and benchmarks",
		Long: `Run a fleet of virtual printers, each an SNMP v1/v2c agent on its own UDP port
(printer i on base-port+i; --base-port 0 picks free ports). Models cycle through
Lexmark CX725, Lexmark MS821, HP LaserJet M507, Brother HL-L6400DW and
RICOH IM C3000; serial numbers follow from the printer's position, so a
configuration written with --write-hcl stays valid across restarts.

The read community may GET, the write community may GET and SET; other
communities get no answer. With --state-file, changed values survive restarts.

After every socket is bound the command prints the printers (or a summary)
and then a line "ready"; it runs until interrupted (SIGINT or SIGTERM).`,
		Example: `  inkform sim --printers 25 --write-hcl fleet.hcl
  inkform sim --printers 1000 --base-port 20001 --loss 0.02 --latency 5ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runSim(ctx, cmd, o, hclPath)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Printers, "printers", 10, "number of printers")
	f.StringVar(&o.Listen, "listen", "127.0.0.1", "IP address to listen on")
	f.IntVar(&o.BasePort, "base-port", 16101, "UDP port of the first printer; printer i uses base-port+i (0 = free ports)")
	f.StringVar(&hclPath, "write-hcl", "", "write an inkform configuration for the fleet to this file")
	f.StringVar(&o.StateFile, "state-file", "", "keep changed values in this JSON file across restarts")
	f.DurationVar(&o.Latency, "latency", 0, "delay added before each response (e.g. 20ms)")
	f.Float64Var(&o.Loss, "loss", 0, "fraction of requests dropped, 0 to 1")
	f.IntVar(&o.Offline, "offline", 0, "the first K printers do not answer")
	f.IntVar(&o.Slow, "slow", 0, "the K printers after the offline ones answer after --slow-latency")
	f.DurationVar(&o.SlowLatency, "slow-latency", 200*time.Millisecond, "extra delay of each response from a slow printer")
	f.StringVar(&o.ReadCommunity, "read-community", "public", "SNMP community allowed to read")
	f.StringVar(&o.WriteCommunity, "write-community", "private", "SNMP community allowed to read and write")
	f.Int64Var(&o.Seed, "seed", 1, "seed of the packet-loss generator")
	f.DurationVar(&o.PrintRate, "print-rate", 10*time.Second, "each printer prints a page this often, draining its supplies (0 = never)")
	return cmd
}

func runSim(ctx context.Context, cmd *cobra.Command, o simulator.Options, hclPath string) error {
	out := cmd.OutOrStdout()
	sim, err := simulator.Start(ctx, o)
	if err != nil {
		return err
	}
	defer sim.Close()

	if hclPath != "" {
		var buf bytes.Buffer
		if err := sim.WriteHCL(&buf); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(hclPath), 0o755); err != nil {
			return fmt.Errorf("write configuration: %w", err)
		}
		if err := os.WriteFile(hclPath, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write configuration: %w", err)
		}
	}

	printers := sim.Printers()
	o = sim.Options()
	switch {
	case len(printers) <= simPrinterLines:
		for _, p := range printers {
			fmt.Fprintf(out, "%s  %s  %s  %s\n", p.Name(), p.Addr(), p.Serial(), p.Model())
		}
	case o.BasePort != 0:
		fmt.Fprintf(out, "serving %d printers on %s-%d\n", len(printers), printers[0].Addr(), o.BasePort+len(printers)-1)
	default:
		fmt.Fprintf(out, "serving %d printers on %s (ports %s … %s)\n", len(printers), o.Listen, printers[0].Addr(), printers[len(printers)-1].Addr())
	}
	if hclPath != "" {
		fmt.Fprintf(out, "configuration written to %s\n", hclPath)
	}
	fmt.Fprintln(out, "ready")

	<-ctx.Done()
	if err := sim.Close(); err != nil {
		return err
	}
	st := sim.Stats()
	fmt.Fprintf(cmd.ErrOrStderr(), "stopped: %d requests answered, %d dropped (%d malformed, %d unknown community, %d lost, %d while offline)\n",
		st.Answered, st.Malformed+st.Refused+st.Lost+st.Ignored, st.Malformed, st.Refused, st.Lost, st.Ignored)
	return nil
}
