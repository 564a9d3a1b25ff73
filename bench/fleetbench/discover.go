package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
)

// The discover rows: inkform discover sweeps a simulated /16 at its
// default rate and retries. inkform sim spreads the printers evenly over
// 127.77.0.0/16 (Linux routes all of 127.0.0.0/8 to the loopback
// interface), all on one port, which the sweep is told with --port.
const (
	discoverPrefix   = "127.77.0.0/16"
	discoverPrinters = 300
	budgetDiscoverS  = 60
)

func (o options) benchDiscover(ctx context.Context, t table, dir string) error {
	// One port free on the prefix's first address; the others are
	// unused loopback addresses.
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.77.0.1:0")))
	if err != nil {
		return fmt.Errorf("find a free port on %s: %w", discoverPrefix, err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	sim, err := o.startSim(ctx, dir, discoverPrinters, []string{"--listen", discoverPrefix, "--base-port", strconv.Itoa(port),
		"--read-community", "public", "--services", "none"})
	if err != nil {
		return err
	}
	defer sim.stop()
	m, err := o.inkformRun(ctx, "discover", discoverPrefix, "--port", strconv.Itoa(port), "--community", "public",
		"-json", "-config", filepath.Join(dir, "empty"))
	if err != nil {
		return err
	}
	var out struct {
		Printers []json.RawMessage `json:"printers"`
		Stats    struct {
			Addresses   int     `json:"addresses"`
			PacketsSent uint64  `json:"packets_sent"`
			Seconds     float64 `json:"seconds"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(m.stdout, &out); err != nil {
		return fmt.Errorf("discover -json: %w: %s", err, tail(m.stdout))
	}
	// A printer missed (its request and the retry both lost, as a
	// loaded loopback may drop) fails the row, not the run.
	found := len(out.Printers)
	wall := m.wall.Seconds()
	t.row("discover-16-s", discoverPrinters, wall, check(wall <= budgetDiscoverS && found == discoverPrinters,
		fmt.Sprintf("≤ %d s and every printer: %d addresses at the default rate, %d of %d printers found", budgetDiscoverS, out.Stats.Addresses, found, discoverPrinters)))
	t.row("discover-16-packets", discoverPrinters, float64(out.Stats.PacketsSent), "packets sent; a closed port answers ICMP, so no retry")
	return nil
}
