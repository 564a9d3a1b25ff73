package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/reports"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch"
)

// reportRoute names a report's deliveries in the outbox, apart from the
// alert routes.
const reportRoute = "report:"

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// reportLoop adds a delivery for each report at every time its schedule
// names. Its dedupe, report:NAME:TIME, makes one delivery per scheduled
// time however many watch processes share the state, and across restarts;
// a time passed while no watch ran is not made up.
func (s *service) reportLoop(ctx context.Context) {
	for {
		cfg := s.cfg.Load()
		now := time.Now()
		var next time.Time
		var due []alerts.Report
		for _, r := range cfg.Reports {
			sch, err := cronParser.Parse(r.Schedule)
			if err != nil {
				continue // hcl checked it
			}
			switch t := sch.Next(now); {
			case next.IsZero() || t.Before(next):
				next, due = t, []alerts.Report{r}
			case t.Equal(next):
				due = append(due, r)
			}
		}
		wait := time.Duration(0) // no report: until a reload
		if !next.IsZero() {
			wait = max(time.Until(next), time.Nanosecond)
		}
		if !waitTimer(ctx, wait, s.reportReload) {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		ds := make([]state.Delivery, len(due))
		for i, r := range due {
			ds[i] = state.Delivery{
				Route: reportRoute + r.Name, Kind: state.DeliveryReport,
				Dedupe: "report:" + r.Name + ":" + next.UTC().Format(time.RFC3339),
				To:     r.Email.To, Cc: r.Email.Cc, DueAt: next, Status: state.DeliveryPending,
			}
		}
		if _, err := s.outbox.AddDeliveries(ctx, ds); err != nil && ctx.Err() == nil {
			s.log.Error("report schedule", "err", err)
		}
	}
}

// composeReport makes the email of a report delivery: the view as a CSV
// attachment, made when it is sent.
func (s *service) composeReport(ctx context.Context, d state.Delivery) (watch.Message, error) {
	cfg := s.cfg.Load()
	name, ok := strings.CutPrefix(d.Route, reportRoute)
	if !ok {
		return watch.Message{}, fmt.Errorf("delivery %d: not a report", d.ID)
	}
	r, ok := findReport(cfg, name)
	if !ok {
		return watch.Message{}, fmt.Errorf("report %q is no longer in the configuration", name)
	}
	var csv bytes.Buffer
	if err := writeReport(ctx, &csv, r.View, cfg, s.st, s.opts.Connect, s.opts.Parallelism); err != nil {
		return watch.Message{}, err
	}
	at := d.DueAt.UTC()
	return watch.Message{
		ID: fmt.Sprintf("inkform.report.%d@inkform.invalid", d.ID),
		To: d.To, Cc: d.Cc,
		Subject: fmt.Sprintf("[inkform] report %s: %s, %s", name, r.View, at.Format("2006-01-02 15:04 MST")),
		Body: fmt.Sprintf("The %s view of the fleet, as scheduled (%s), is attached as CSV.\n\n-- \ninkform watch\n",
			r.View, r.Schedule),
		Attachments: []watch.Attachment{{
			Name:        fmt.Sprintf("%s-%s.csv", name, at.Format("20060102-1504")),
			ContentType: reports.ContentType,
			Data:        csv.Bytes(),
		}},
	}, nil
}

func findReport(cfg *hcl.Config, name string) (alerts.Report, bool) {
	for _, r := range cfg.Reports {
		if r.Name == name {
			return r, true
		}
	}
	return alerts.Report{}, false
}

// writeReport writes one view as CSV: the fleet observed now (facts and
// supplies), what state records, the active alerts, and for the drift
// view a plan.
func writeReport(ctx context.Context, w *bytes.Buffer, view string, cfg *hcl.Config, st state.Store, connect connectFunc, parallelism int) error {
	in := reports.Input{Printers: cfg.Printers, LowPercent: watchBlock(cfg).LowPercent}
	recorded, err := st.Printers(ctx)
	if err != nil {
		return err
	}
	in.Recorded = recorded
	if ob, ok := st.(state.Outbox); ok && view == alerts.ViewAlerts {
		if in.Active, err = ob.ActiveAlerts(ctx); err != nil {
			return err
		}
	}
	limits, _ := observer.NewLimits(parallelism, len(cfg.Printers))
	cat := catalogOf(cfg)
	conn := connect(cat, cfg.Devices, limits.MaxInFlight)
	switch view {
	case alerts.ViewInventory, alerts.ViewSupplies, alerts.ViewPageCounts:
		in.Observations = make(map[string]reports.Observed, len(cfg.Printers))
		var mu sync.Mutex
		o := observer.Observer{Connector: conn, Limits: limits}
		facts := make([]fleet.Printer, len(cfg.Printers))
		copy(facts, cfg.Printers)
		for i := range facts {
			facts[i].Settings = nil
		}
		o.Observe(ctx, facts, func(i int, r observer.Result) {
			mu.Lock()
			in.Observations[facts[i].Name] = reports.Observed{Observation: r.Observation, Err: r.Err}
			mu.Unlock()
		})
	case alerts.ViewDrift:
		pl := &planner.Planner{Observer: observer.Observer{Connector: conn, Limits: limits}, State: st, Catalog: cat}
		plan, err := pl.Plan(ctx, cfg.Printers, planner.PlanOptions{ConfigHash: cfg.Hash})
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, pp := range plan.Printers {
			var d reports.Drift
			for _, c := range pp.Changes {
				if !c.Drift {
					continue
				}
				d.Changes = append(d.Changes, reports.DriftChange{Kind: reports.DriftSetting, Name: c.Setting,
					Desired: c.After, Observed: c.Before, Sensitive: c.Sensitive})
			}
			if len(d.Changes) > 0 {
				d.Printer, d.CheckedAt = pp.Name, now
				in.Drift = append(in.Drift, d)
			}
		}
	}
	if ctx.Err() != nil {
		return errors.New("report cancelled")
	}
	return reports.Write(w, view, in)
}
