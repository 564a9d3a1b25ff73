package main

import (
	"context"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/plans/values"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/views"
)

// showPrinterTimeout bounds observing the one printer show looks at.
const showPrinterTimeout = 2 * time.Minute

// runShowPrinter observes one printer of the configuration, read-only,
// and shows it in full with what state records of it. It takes no lock:
// it writes neither the printer nor the state.
func runShowPrinter(ctx context.Context, opts *showOptions) error {
	io := opts.IO
	cfg, err := opts.State.load(io)
	if err != nil {
		return err
	}
	name := trimPrinterPrefix(opts.Printer)
	i, found := slices.BinarySearchFunc(cfg.Printers, name, func(p fleet.Printer, n string) int {
		switch {
		case p.Name < n:
			return -1
		case p.Name > n:
			return 1
		}
		return 0
	})
	if !found {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer %q is not in the configuration", name)}
	}
	p := cfg.Printers[i]
	cat := cfg.Catalog
	if cat == nil {
		cat = catalog.Default()
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
	d := views.PrinterDetail{Name: p.Name, Address: p.Address()}
	rec, ok, err := st.Printer(ctx, p.Name)
	if err != nil {
		return err
	}
	if ok {
		d.Recorded = &rec
	}
	memo, err := values.MemoFor(st, cat, []fleet.Printer{p})
	if err != nil {
		return err
	}

	obs, obsErr := observeOne(ctx, opts.Connect(cat, cfg.Devices, 1), p)
	if obsErr != nil {
		d.Error = obsErr.Error()
	} else {
		d.Observed = &plans.Observed{
			Vendor: obs.Vendor, Model: obs.Model, Serial: obs.Serial, Firmware: obs.Firmware,
			SysDescr: obs.SysDescr, Status: obs.Status, Errors: nonNilStrings(obs.Errors),
			Supplies: obs.Supplies, PageCount: obs.PageCount, ObservedAt: obs.ObservedAt,
		}
		if d.Observed.Supplies == nil {
			d.Observed.Supplies = []fleet.Supply{}
		}
		d.Uptime = obs.Uptime
		d.Unsupported = obs.Unsupported
		d.Notes = obs.Notes
		if why := p.SerialMismatch(obs.Serial); why != "" {
			d.Notes = append(d.Notes, why+": apply would not write this printer")
		}
	}
	for _, want := range p.Settings {
		sd := views.SettingDetail{Name: want.Name, Sensitive: want.Sensitive, Desired: want.Value}
		if v, ok := obs.Settings[want.Name]; ok && obsErr == nil {
			sd.Observed = &v
			_, got := memo.Get(want.Name, v, want.Sensitive)
			_, wanted := memo.Get(want.Name, want.Value, want.Sensitive)
			sd.InSync = got == wanted
			sd.Transport = obs.SettingTransports[want.Name]
		}
		d.Settings = append(d.Settings, sd)
	}
	if fw := p.Firmware; fw != nil && obsErr == nil && modelMatches(fw.Models, obs.Model) {
		d.Firmware = &views.FirmwareDetail{Name: fw.Name, Version: fw.Version}
	}

	if opts.JSON {
		err = views.RenderPrinterDetailJSON(io.Out, d)
	} else {
		err = views.RenderPrinterDetail(io.Out, d)
	}
	if err != nil {
		return err
	}
	if obsErr != nil {
		return &exitError{code: ExitError, msg: fmt.Sprintf("printer %s could not be observed", p.Name)}
	}
	return nil
}

// observeOne observes one printer with its declared settings. Observe
// only reads.
func observeOne(ctx context.Context, conn providers.Connector, p fleet.Printer) (fleet.Observation, error) {
	ctx, cancel := context.WithTimeout(ctx, showPrinterTimeout)
	defer cancel()
	s, err := conn.Connect(ctx, p)
	if err != nil {
		return fleet.Observation{}, err
	}
	defer s.Close()
	return s.Observe(ctx, p.SettingNames())
}

// modelMatches says a firmware block's model patterns match the model.
func modelMatches(patterns []string, model string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, model); ok {
			return true
		}
	}
	return false
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
