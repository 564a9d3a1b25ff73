package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans/values"
	"github.com/inkform/inkform/state"
)

// importOptions are the options of import.
type importOptions struct {
	IO        streams
	OpenStore storeOpener
	Connect   connectFunc
	State     stateFlags
	Lock      lockFlags
	Printer   string
	Address   string
}

func newImportCommand(f *factory) *cobra.Command {
	opts := &importOptions{IO: f.IO, OpenStore: f.OpenStore, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "import printer.NAME ADDRESS",
		Short: "Put a printer that is already set up under management, as it is",
		Long: `Record a printer declared in the configuration in the state, as it is now:
import observes ADDRESS with the printer's declared credentials, checks that it
is the printer declared (the serial it is pinned to, and the models of its
firmware block), and records its identity and the value it holds of every
setting declared, so that the next plan shows only what really differs.
Nothing is written to the printer. It takes the state lock.

It refuses a printer that is not declared, is already in the state (inkform
state rm forgets it first), is declared at another address, does not answer,
or reports another serial than the pinned one.

Exit codes:
  0  the printer was imported
  1  error: nothing was recorded`,
		Example: `  inkform import printer.hq-2f-east 10.20.1.21`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Printer, opts.Address = args[0], args[1]
			return runImport(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	opts.Lock.register(cmd.Flags())
	return cmd
}

// importObserveTimeout bounds observing the printer imported.
const importObserveTimeout = 2 * time.Minute

func runImport(ctx context.Context, opts *importOptions) error {
	io := opts.IO
	name := trimPrinterPrefix(opts.Printer)
	cfg, err := opts.State.load(io)
	if err != nil {
		return err
	}
	p, ok := cfg.Printer(name)
	if !ok {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer %q is not in the configuration: declare it first (a printer block with its address and credentials)", name)}
	}
	if err := sameAddress(p, opts.Address); err != nil {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer.%s: %v", name, err)}
	}
	loc, err := opts.State.location(io, cfg)
	if err != nil {
		return err
	}
	st, err := openState(ctx, io, opts.OpenStore, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	lock, err := lockState(ctx, st, "inkform import", opts.Lock.Timeout)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Unlock(context.WithoutCancel(ctx)) }()
	if rec, ok, err := st.Printer(ctx, name); err != nil {
		return err
	} else if ok {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer.%s is already in the state (serial %q, recorded %s); inkform state rm printer.%s forgets it, to import it again",
			name, rec.Serial, rec.ObservedAt.Format(time.RFC3339), name)}
	}
	cat := cfg.Catalog
	if cat == nil {
		cat = catalog.Default()
	}
	octx, cancel := context.WithTimeout(ctx, importObserveTimeout)
	obs, err := observeOne(octx, opts.Connect(cat, cfg.Devices, 1), p)
	cancel()
	if err != nil {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer.%s: not imported: %v", name, err)}
	}
	if why := p.SerialMismatch(obs.Serial); why != "" {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer.%s: not imported: %s at %s", name, why, p.Address())}
	}
	if fw := p.Firmware; fw != nil && !modelMatches(fw.Models, obs.Model) {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer.%s: not imported: the device is a %q, which firmware %s's models %q do not match", name, obs.Model, fw.Name, fw.Models)}
	}
	memo, err := values.MemoFor(st, cat, []fleet.Printer{p})
	if err != nil {
		return err
	}
	rec := importRecord(memo, p, obs)
	if err := lock.Err(); err != nil {
		return err
	}
	if err := st.PutPrinter(ctx, rec); err != nil {
		return fmt.Errorf("printer.%s: record: %w", name, err)
	}
	fmt.Fprintf(io.Out, "Imported printer.%s: %s, serial %s, firmware %s; %d of %d declared settings recorded as the device holds them.\n",
		name, orDash(obs.Model), orDash(obs.Serial), orDash(obs.Firmware), len(rec.Settings), len(p.Settings))
	if len(obs.Unsupported) > 0 {
		fmt.Fprintf(io.Out, "Not supported by the device (plan reports them): %s\n", strings.Join(obs.Unsupported, ", "))
	}
	return nil
}

// importRecord is the state record of a printer taken under management
// as observed: its identity, and for every declared setting the device
// answers, the hash (and, unless sensitive, the value) of what it holds.
// Recording what the device holds rather than what is declared leaves the
// difference to the next plan to show.
func importRecord(memo *values.Memo, p fleet.Printer, obs fleet.Observation) state.Printer {
	unsupported := make(map[string]bool, len(obs.Unsupported))
	for _, u := range obs.Unsupported {
		unsupported[u] = true
	}
	rec := state.Printer{
		Name:       p.Name,
		Address:    p.Address(),
		Serial:     strings.TrimSpace(obs.Serial),
		Model:      obs.Model,
		Firmware:   obs.Firmware,
		ObservedAt: obs.ObservedAt,
		Settings:   make(map[string]string, len(p.Settings)),
	}
	if rec.ObservedAt.IsZero() {
		rec.ObservedAt = time.Now().UTC()
	}
	for _, d := range p.Settings {
		v, ok := obs.Settings[d.Name]
		if !ok || unsupported[d.Name] {
			continue
		}
		c, h := memo.Get(d.Name, v, d.Sensitive)
		rec.Settings[d.Name] = h
		if !d.Sensitive {
			if rec.Values == nil {
				rec.Values = make(map[string]string, len(p.Settings))
			}
			rec.Values[d.Name] = c
		}
	}
	return rec
}

// sameAddress checks that addr (host, host:port or [v6]:port) is where p
// is declared.
func sameAddress(p fleet.Printer, addr string) error {
	host, port := strings.TrimSpace(addr), fleet.DefaultSNMPPort
	if h, ps, err := net.SplitHostPort(host); err == nil {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("address %q: port out of range", addr)
		}
		host, port = h, n
	}
	host = strings.Trim(host, "[]")
	want := p.Port
	if want == 0 {
		want = fleet.DefaultSNMPPort
	}
	if !strings.EqualFold(host, p.Host) || port != want {
		return fmt.Errorf("declared at %s, not %s: import the address the configuration names (change the printer block first if it moved)", p.Address(), addr)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
