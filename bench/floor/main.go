// Command floor is the lower bound a plan is measured against: it reads the
// same objects from the same printers as an inkform plan, at the same
// concurrency, with nothing but gosnmp — no configuration, no state, no
// diff, no rendering.
//
// Per printer it sends what the SNMP provider sends on a plan: the facts
// and setting OIDs in GETs of at most -max-oids varbinds, then one GETBULK
// walk of the supplies table's type, description, max-capacity and level
// columns.
//
//	floor -targets targets.txt -oids 1.3.6.1.2.1.1.4.0,... -parallelism 64
//
// targets.txt holds one host:port per line. The result is one line of JSON
// on stdout: printers answered and failed, requests sent, seconds elapsed.
// With -repeat N every printer is swept N times (a load generator for
// measuring how many requests per second the agents answer).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"
)

// factOIDs are the objects the SNMP provider reads on every observation,
// in its order.
var factOIDs = []string{
	".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.3.0",
	".1.3.6.1.2.1.25.3.2.1.2.1", ".1.3.6.1.2.1.25.3.2.1.3.1", ".1.3.6.1.2.1.25.3.2.1.5.1",
	".1.3.6.1.2.1.25.3.5.1.1.1", ".1.3.6.1.2.1.25.3.5.1.2.1",
	".1.3.6.1.2.1.43.5.1.1.17.1", ".1.3.6.1.2.1.43.10.2.1.4.1.1",
}

// supplyColumns are walked together, as the provider walks them.
var supplyColumns = []string{
	".1.3.6.1.2.1.43.11.1.1.5", ".1.3.6.1.2.1.43.11.1.1.6", ".1.3.6.1.2.1.43.11.1.1.8", ".1.3.6.1.2.1.43.11.1.1.9",
}

const bulkRepetitions = 16

type result struct {
	Printers    int     `json:"printers"`
	Answered    int64   `json:"answered"`
	Failed      int64   `json:"failed"`
	Requests    int64   `json:"requests"`
	Seconds     float64 `json:"seconds"`
	Parallelism int     `json:"parallelism"`
	FirstError  string  `json:"first_error,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run() error {
	targetsPath := flag.String("targets", "", "file of host:port lines")
	oidList := flag.String("oids", "", "comma-separated setting OIDs read besides the facts")
	community := flag.String("community", "public", "SNMP v2c community")
	parallelism := flag.Int("parallelism", 64, "printers swept at once")
	maxOIDs := flag.Int("max-oids", 30, "varbinds per GET")
	timeout := flag.Duration("timeout", time.Second, "per request")
	retries := flag.Int("retries", 1, "after the first attempt")
	repeat := flag.Int("repeat", 1, "sweeps of every printer")
	flag.Parse()
	if *targetsPath == "" || *parallelism < 1 || *maxOIDs < 1 || *repeat < 1 {
		flag.Usage()
		return errors.New("need -targets, and positive -parallelism, -max-oids and -repeat")
	}
	targets, err := readTargets(*targetsPath)
	if err != nil {
		return err
	}
	oids := append([]string(nil), factOIDs...)
	for _, o := range strings.Split(*oidList, ",") {
		if o = strings.TrimSpace(o); o != "" {
			oids = append(oids, "."+strings.TrimPrefix(o, "."))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var answered, failed, requests atomic.Int64
	var firstErr sync.Once
	var errText string
	work := make(chan target)
	var wg sync.WaitGroup
	start := time.Now()
	for range *parallelism {
		wg.Go(func() {
			for t := range work {
				n, err := sweep(ctx, t, *community, oids, *maxOIDs, *timeout, *retries)
				requests.Add(int64(n))
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { errText = err.Error() })
					continue
				}
				answered.Add(1)
			}
		})
	}
feed:
	for range *repeat {
		for _, t := range targets {
			select {
			case work <- t:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(work)
	wg.Wait()
	res := result{
		Printers: len(targets), Answered: answered.Load(), Failed: failed.Load(),
		Requests: requests.Load(), Seconds: time.Since(start).Seconds(),
		Parallelism: *parallelism, FirstError: errText,
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

type target struct {
	host string
	port uint16
}

func readTargets(path string) ([]target, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	defer fh.Close()
	var out []target
	sc := bufio.NewScanner(fh)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		host, portText, err := net.SplitHostPort(text)
		if err != nil {
			return nil, fmt.Errorf("targets %s:%d: %w", path, line, err)
		}
		port, err := strconv.ParseUint(portText, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("targets %s:%d: port %q: %w", path, line, portText, err)
		}
		out = append(out, target{host: host, port: uint16(port)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("targets %s: %w", path, err)
	}
	return out, nil
}

// sweep reads one printer and returns how many requests it sent.
func sweep(ctx context.Context, t target, community string, oids []string, maxOIDs int, timeout time.Duration, retries int) (int, error) {
	g := &gosnmp.GoSNMP{
		Target: t.host, Port: t.port, Community: community, Version: gosnmp.Version2c,
		Timeout: timeout, Retries: retries, MaxOids: maxOIDs, Context: ctx,
	}
	if err := g.Connect(); err != nil {
		return 0, fmt.Errorf("%s:%d: connect: %w", t.host, t.port, err)
	}
	defer g.Close()
	n := 0
	for start := 0; start < len(oids); start += maxOIDs {
		n++
		pkt, err := g.Get(oids[start:min(start+maxOIDs, len(oids))])
		if err != nil {
			return n, fmt.Errorf("%s:%d: get: %w", t.host, t.port, err)
		}
		if pkt.Error != gosnmp.NoError {
			return n, fmt.Errorf("%s:%d: get: %v", t.host, t.port, pkt.Error)
		}
	}
	// One GETBULK round covers a printer's few supplies, as in the
	// provider's walk; go on with the columns still inside the table.
	cols := append([]string(nil), supplyColumns...)
	cur := append([]string(nil), supplyColumns...)
	for round := 0; round < 64 && len(cur) > 0; round++ {
		n++
		pkt, err := g.GetBulk(cur, 0, bulkRepetitions)
		if err != nil {
			return n, fmt.Errorf("%s:%d: getbulk: %w", t.host, t.port, err)
		}
		if pkt.Error != gosnmp.NoError || len(pkt.Variables) < len(cur) {
			return n, fmt.Errorf("%s:%d: getbulk: %v, %d varbinds", t.host, t.port, pkt.Error, len(pkt.Variables))
		}
		// Repeaters interleave: the last len(cur) varbinds are each
		// column's furthest row.
		last := pkt.Variables[len(pkt.Variables)-len(cur):]
		var nextCols, nextCur []string
		for i, v := range last {
			if v.Type != gosnmp.EndOfMibView && strings.HasPrefix(v.Name, cols[i]+".") {
				nextCols, nextCur = append(nextCols, cols[i]), append(nextCur, v.Name)
			}
		}
		cols, cur = nextCols, nextCur
	}
	return n, nil
}
