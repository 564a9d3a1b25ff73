// Package apply carries out a plans.Plan: printer by printer, within the
// observer's limits, it checks that neither the configuration nor the
// device changed since the plan, upgrades firmware in rollout waves and
// waits for the reboot, sends files, writes settings, verifies them by
// reading them back, and records each printer in state as soon as it is
// verified, many printers to a transaction.
package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/plans/values"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
)

// Applier carries out plans. Its fields are set once before use; Apply may
// then be called from any goroutine.
type Applier struct {
	Connector providers.Connector
	State     state.Store
	// Catalog canonicalises values as the planner did; nil keeps them
	// verbatim.
	Catalog *catalog.Catalog
	// Limits bound the printers applied at once, as they bound observing.
	observer.Limits
	// Progress, when set, is called after each printer is done. Calls are
	// serialised.
	Progress func(done, total int)
	// Now defaults to time.Now.
	Now func() time.Time
	// UploadProgress, when set, is called as files and firmware images
	// are sent, with the bytes sent so far; calls for different printers
	// may be concurrent.
	UploadProgress func(printer, file string, sent, total int64)
	// RebootTimeout bounds the wait for a printer to come back after a
	// firmware upgrade (default DefaultRebootTimeout); RebootPoll is how
	// often it is asked meanwhile (default: from the timeout, at most
	// DefaultRebootPoll).
	RebootTimeout, RebootPoll time.Duration
	// PrinterTimeout bounds one printer's whole apply: connecting, the
	// firmware upload and reboot wait, files, settings and their
	// verification (default: RebootTimeout plus 15 minutes,
	// DefaultPrinterTimeout with the default reboot wait). A printer past
	// it fails; the rest of the fleet goes on.
	PrinterTimeout time.Duration
}

func (ap *Applier) now() time.Time {
	if ap.Now != nil {
		return ap.Now()
	}
	return time.Now()
}

// Options describe the run Apply records.
type Options struct {
	// Run is recorded with BeginRun and closed with FinishRun by Apply.
	// Command defaults to "apply", ConfigHash to the plan's.
	Run state.Run
	// Lock is the state lock the caller holds. Apply asks it before each
	// printer's first write and before recording: once it is lost, apply
	// writes no further printer and records nothing more but the run's
	// end, as state.RunLockLost. Nil: no lock to keep.
	Lock *state.Lock
}

// errConfigChanged marks a printer whose configuration differs from the
// one the plan was made from.
var errConfigChanged = errors.New("configuration changed since the plan was made")

// stateError wraps a failure to record state: it stops the whole apply.
type stateError struct{ err error }

func (e *stateError) Error() string { return e.err.Error() }
func (e *stateError) Unwrap() error { return e.err }

// Apply carries out plan against the printers. printers is the
// configuration loaded again: desired values come from it and must hash to
// what the plan recorded. Printers are applied concurrently; each one is
// recorded in state as soon as it is verified, so an interrupted apply
// loses nothing and the next plan shows exactly what is left.
//
// When ctx is cancelled, printers not yet started are skipped, and so are
// printers not yet written; a printer whose writes have begun gets a few
// seconds to finish, be verified and recorded, and fails unrecorded when
// it cannot (the next plan shows what it holds). The run is then recorded
// as cancelled, and the result says so. Apply returns an error only when
// state cannot be written or o.Lock was lost (the error then wraps
// state.ErrLockLost); per-printer failures are in the result. The caller
// holds the state lock.
func (ap *Applier) Apply(ctx context.Context, plan *plans.Plan, printers []fleet.Printer, o Options) (*plans.ApplyResult, error) {
	if plan == nil {
		return nil, errors.New("apply: no plan")
	}
	if ap.Connector == nil || ap.State == nil {
		return nil, errors.New("apply: Connector and State are required")
	}
	config := make(map[string]fleet.Printer, len(printers))
	for _, p := range printers {
		config[p.Name] = p
	}
	memo, err := values.MemoFor(ap.State, ap.Catalog, printers)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	run := o.Run
	if run.Command == "" {
		run.Command = "apply"
	}
	if run.ConfigHash == "" {
		run.ConfigHash = plan.ConfigHash
	}
	if run.StartedAt.IsZero() {
		run.StartedAt = ap.now().UTC()
	}
	run.Status = "running"
	runID, err := ap.State.BeginRun(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("apply: record run start: %w", err)
	}
	// Recording must outlive cancellation: what was written is recorded.
	keep := context.WithoutCancel(ctx)
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	res := &plans.ApplyResult{RunID: runID, Printers: make([]plans.PrinterResult, len(plan.Printers))}
	rec := ap.newRecorder(keep, runID, res, o.Lock, func(err error) { stop(stopCause(err)) })
	ro := newRollout(plan)
	// Every printer gets a result: one not started is skipped.
	ap.Each(keep, len(plan.Printers), ap.Progress, func(i int) {
		pp := &plan.Printers[i]
		f := finished{i: i}
		halt := ro.wait(runCtx, pp.Name)
		switch {
		case runCtx.Err() != nil:
			f.result = plans.PrinterResult{Name: pp.Name, Status: plans.ResultSkipped, Detail: skipReason(runCtx)}
		case halt != "":
			f.result = plans.PrinterResult{Name: pp.Name, Status: plans.ResultSkipped, Detail: halt, Firmware: plans.FirmwareHalted}
		default:
			pctx, cancel := ap.printerContext(runCtx)
			f.result, f.changed, f.printer, f.err = ap.applyPrinter(pctx, memo, o.Lock, pp, config, plan.RefreshOnly)
			cancel()
		}
		ro.done(pp.Name, f.result)
		f.at = ap.now().UTC()
		rec.add(f)
	})
	stateErr := rec.close() // the recorder reports through res
	res.Notes = ro.notes()

	// A lost lock says so first; a cancelled run is cancelled even when
	// printers it cut short failed.
	status := state.RunOK
	switch {
	case errors.Is(stateErr, state.ErrLockLost):
		status = state.RunLockLost
	case stateErr != nil:
		status = state.RunFailed
	case ctx.Err() != nil:
		status = state.RunCancelled
		res.Cancelled = true
	case res.Failed():
		status = state.RunFailed
	}
	if err := ap.State.FinishRun(keep, runID, status); err != nil && stateErr == nil {
		stateErr = fmt.Errorf("record run end: %w", err)
	}
	if errors.Is(stateErr, state.ErrLockLost) {
		return res, fmt.Errorf("apply stopped: %w", stateErr)
	}
	if stateErr != nil {
		return res, fmt.Errorf("apply: state: %w", stateErr)
	}
	return res, nil
}

var (
	errStateUnusable = errors.New("state could not be written")
	errLockLost      = errors.New("the state lock was lost")
)

// stopCause is why a state error stops the apply.
func stopCause(err error) error {
	if errors.Is(err, state.ErrLockLost) {
		return errLockLost
	}
	return errStateUnusable
}

func skipReason(ctx context.Context) string {
	if cause := context.Cause(ctx); errors.Is(cause, errStateUnusable) || errors.Is(cause, errLockLost) {
		return "not started: " + cause.Error()
	}
	return "cancelled"
}

// lockLost is a printer's result when the lock turned out lost before its
// next write: done names what was written before, if anything.
func lockLost(r plans.PrinterResult, done string, err error) (plans.PrinterResult, map[string]string, *state.Printer, error) {
	r.Status, r.Detail = plans.ResultSkipped, "not started: "+errLockLost.Error()
	if done != "" {
		r.Status, r.Detail = plans.ResultFailed, done+"; the rest not written: "+errLockLost.Error()
	}
	return r, nil, nil, err
}

// applyPrinter applies one printer's plan and returns the record to write
// for it, if any; the caller writes it. The error is non-nil only when
// state could not be read or written, or lock was lost.
func (ap *Applier) applyPrinter(ctx context.Context, memo *values.Memo, lock *state.Lock, pp *plans.PrinterPlan, config map[string]fleet.Printer, refreshOnly bool) (r plans.PrinterResult, written map[string]string, rec *state.Printer, err error) {
	keep := context.WithoutCancel(ctx)
	r = plans.PrinterResult{Name: pp.Name}
	fail := func(status, format string, args ...any) (plans.PrinterResult, map[string]string, *state.Printer, error) {
		r.Status, r.Detail = status, fmt.Sprintf(format, args...)
		return r, nil, nil, nil
	}
	// ended is the result of a printer whose context c ended during err.
	ended := func(c context.Context, wrote bool, err error) (plans.PrinterResult, map[string]string, *state.Printer, error) {
		r.Status, r.Detail = stopped(c, wrote, err)
		return r, nil, nil, nil
	}
	cfg, declared := config[pp.Name]

	if refreshOnly {
		r, rec, err := ap.refreshPrinter(keep, pp)
		return r, nil, rec, err
	}
	switch pp.Status {
	case plans.StatusForgotten:
		if declared {
			return fail(plans.ResultFailed, "%v: the printer is declared again; run plan again", errConfigChanged)
		}
		if err := lock.Err(); err != nil {
			return lockLost(r, "", err)
		}
		if err := ap.State.DeletePrinter(keep, pp.Name); err != nil {
			return r, nil, nil, &stateError{fmt.Errorf("printer %s: forget: %w", pp.Name, err)}
		}
		r.Status = plans.ResultApplied
		return r, nil, nil, nil
	case plans.StatusReady:
	default:
		return fail(plans.ResultSkipped, "%s", pp.Reason)
	}
	if pp.Action == plans.NoOp {
		r.Status = plans.ResultUnchanged
		return r, nil, nil, nil
	}
	if !declared {
		return fail(plans.ResultFailed, "%v: the printer is no longer declared; run plan again", errConfigChanged)
	}
	if err := checkConfig(memo, pp, cfg); err != nil {
		return fail(plans.ResultFailed, "%v; run plan again", err)
	}
	if err := checkDeploys(pp, cfg); err != nil {
		return fail(plans.ResultFailed, "%v; run plan again", err)
	}
	desired := make(map[string]fleet.Desired, len(cfg.Settings))
	for _, d := range cfg.Settings {
		d.Value, _ = memo.Get(d.Name, d.Value, d.Sensitive)
		desired[d.Name] = d
	}
	var writes []fleet.Desired
	for _, c := range pp.Changes {
		if c.Write() {
			writes = append(writes, desired[c.Setting])
		}
	}
	if len(writes) == 0 && !pp.Deploys() {
		// Nothing to write: record what the plan observed.
		r.Status = plans.ResultApplied
		return r, nil, ap.record(memo, cfg, pp, observedOrEmpty(pp)), nil
	}

	// Firmware goes first: settings are written to the new version.
	if err := lock.Err(); err != nil && pp.Firmware != nil {
		return lockLost(r, "", err)
	}
	if skip, err := ap.applyFirmware(ctx, pp, cfg, &r); skip || err != nil {
		switch {
		case err == nil:
			return ended(ctx, false, nil)
		case ctx.Err() != nil:
			return ended(ctx, true, err)
		}
		return fail(plans.ResultFailed, "%v", err)
	}
	sess, err := ap.Connector.Connect(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return ended(ctx, false, fmt.Errorf("connect: %w", err))
		}
		return fail(plans.ResultFailed, "connect: %v", err)
	}
	defer sess.Close()
	names := cfg.SettingNames()
	// Apply records neither status nor supplies: Check reads what it needs.
	obs, err := providers.Check(ctx, sess, names)
	if err != nil {
		if ctx.Err() != nil {
			return ended(ctx, false, fmt.Errorf("observe: %w", err))
		}
		return fail(plans.ResultFailed, "observe: %v", err)
	}
	if reason := cfg.SerialMismatch(obs.Serial); reason != "" {
		return fail(plans.ResultFailed, "%s (not written)", reason)
	}
	if changed := staleSettings(memo, pp, cfg, obs); len(changed) > 0 {
		return fail(plans.ResultStale, "observed %s changed since the plan; run plan again", strings.Join(changed, ", "))
	}
	if ctx.Err() != nil {
		return ended(ctx, false, nil)
	}
	if err := lock.Err(); err != nil {
		done := ""
		if r.Firmware == plans.FirmwareUpgraded {
			done = "firmware upgraded"
		}
		return lockLost(r, done, err)
	}

	// From the first write on, a cancelled printer may finish within a
	// grace period, so that state can record what the device now holds;
	// an upload that takes longer is cut.
	wctx, release := writeContext(ctx)
	defer release()
	if err := ap.sendFiles(wctx, sess, pp, cfg); err != nil {
		if wctx.Err() != nil {
			return ended(ctx, true, err)
		}
		return fail(plans.ResultFailed, "%v", err)
	}
	if err := sess.Set(wctx, writes); err != nil {
		if wctx.Err() != nil {
			return ended(ctx, true, fmt.Errorf("set: %w", err))
		}
		return fail(plans.ResultFailed, "set: %v", err)
	}
	// Verify by reading back what was written (with the facts, which the
	// state records); the other settings were just checked unchanged.
	names = make([]string, len(writes))
	for i, d := range writes {
		names[i] = d.Name
	}
	after, err := providers.Check(wctx, sess, names)
	if err != nil {
		if wctx.Err() != nil {
			return ended(ctx, true, fmt.Errorf("verify: observe: %w", err))
		}
		return fail(plans.ResultFailed, "verify: observe: %v", err)
	}
	var wrong []string
	for _, c := range pp.Changes {
		if !c.Write() {
			continue
		}
		d := desired[c.Setting]
		got, ok := after.Settings[c.Setting]
		got, _ = memo.Get(c.Setting, got, d.Sensitive)
		switch {
		case !ok:
			wrong = append(wrong, fmt.Sprintf("%s no longer reads back", c.Setting))
		case got != d.Value && d.Sensitive:
			wrong = append(wrong, fmt.Sprintf("%s reads back (sensitive), expected (sensitive)", c.Setting))
		case got != d.Value:
			wrong = append(wrong, fmt.Sprintf("%s reads back %q, expected %q", c.Setting, got, d.Value))
		}
	}
	if len(wrong) > 0 {
		return fail(plans.ResultFailed, "%s", strings.Join(wrong, "; "))
	}
	r.Status = plans.ResultApplied
	written = make(map[string]string, len(writes))
	for _, d := range writes {
		_, written[d.Name] = memo.Get(d.Name, d.Value, d.Sensitive)
	}
	r.Changes = len(written)
	return r, written, ap.record(memo, cfg, pp, after), nil
}

// refreshPrinter returns the record of a refresh-only plan's observation
// for a printer already under management.
func (ap *Applier) refreshPrinter(ctx context.Context, pp *plans.PrinterPlan) (plans.PrinterResult, *state.Printer, error) {
	r := plans.PrinterResult{Name: pp.Name, Status: plans.ResultUnchanged}
	if pp.Status != plans.StatusReady || pp.Observed == nil {
		r.Status, r.Detail = plans.ResultSkipped, pp.Reason
		return r, nil, nil
	}
	prior, ok, err := ap.State.Printer(ctx, pp.Name)
	if err != nil {
		return r, nil, &stateError{fmt.Errorf("printer %s: read state: %w", pp.Name, err)}
	}
	if !ok {
		r.Detail = "not under management"
		return r, nil, nil
	}
	prior.Address = pp.Address
	prior.Serial, prior.Model, prior.Firmware = pp.Observed.Serial, pp.Observed.Model, pp.Observed.Firmware
	prior.ObservedAt = pp.Observed.ObservedAt
	r.Detail = "observation recorded"
	return r, &prior, nil
}

// record builds the printer's state: identity, last observation and the
// hash of every declared setting the device supports, with its value when
// not sensitive.
func (ap *Applier) record(memo *values.Memo, cfg fleet.Printer, pp *plans.PrinterPlan, obs fleet.Observation) *state.Printer {
	unsupported := make(map[string]bool, len(pp.Unsupported))
	for _, u := range pp.Unsupported {
		unsupported[u] = true
	}
	now := ap.now().UTC()
	rec := &state.Printer{
		Name:       cfg.Name,
		Address:    cfg.Address(),
		Serial:     strings.TrimSpace(obs.Serial),
		Model:      obs.Model,
		Firmware:   obs.Firmware,
		ObservedAt: obs.ObservedAt,
		AppliedAt:  now,
		Settings:   make(map[string]string, len(cfg.Settings)),
	}
	if rec.ObservedAt.IsZero() {
		rec.ObservedAt = now
	}
	for _, d := range cfg.Settings {
		if unsupported[d.Name] {
			continue
		}
		v, h := memo.Get(d.Name, d.Value, d.Sensitive)
		rec.Settings[d.Name] = h
		if !d.Sensitive {
			if rec.Values == nil {
				rec.Values = make(map[string]string, len(cfg.Settings))
			}
			rec.Values[d.Name] = v
		}
	}
	rec.Files = recordFiles(cfg)
	return rec
}

// observedOrEmpty is the plan's observation of the printer, as far as
// record reads it.
func observedOrEmpty(pp *plans.PrinterPlan) fleet.Observation {
	o := pp.Observed
	if o == nil {
		return fleet.Observation{}
	}
	return fleet.Observation{Serial: o.Serial, Model: o.Model, Firmware: o.Firmware, ObservedAt: o.ObservedAt}
}

// checkConfig verifies that the printer's declared settings are the ones
// the plan was made from.
func checkConfig(memo *values.Memo, pp *plans.PrinterPlan, cfg fleet.Printer) error {
	planned := make(map[string]bool, len(pp.Changes))
	for _, c := range pp.Changes {
		planned[c.Setting] = true
		d, ok := cfg.Setting(c.Setting)
		switch c.Action {
		case plans.Forget:
			if ok {
				return fmt.Errorf("%w: %s is declared again", errConfigChanged, c.Setting)
			}
		default:
			if !ok {
				return fmt.Errorf("%w: %s is no longer declared", errConfigChanged, c.Setting)
			}
			if _, h := memo.Get(d.Name, d.Value, d.Sensitive); h != c.AfterHash {
				return fmt.Errorf("%w: %s has a different value", errConfigChanged, c.Setting)
			}
		}
	}
	unsupported := make(map[string]bool, len(pp.Unsupported))
	for _, u := range pp.Unsupported {
		unsupported[u] = true
	}
	for _, d := range cfg.Settings {
		if planned[d.Name] || unsupported[d.Name] {
			continue
		}
		// Not a change in the plan, so it was already as declared then.
		h, observed := pp.ObservedHashes[d.Name]
		if _, want := memo.Get(d.Name, d.Value, d.Sensitive); !observed || h != want {
			return fmt.Errorf("%w: %s is new or has a different value", errConfigChanged, d.Name)
		}
	}
	// The plan observed only declared settings.
	for _, name := range slices.Sorted(maps.Keys(pp.ObservedHashes)) {
		if _, ok := cfg.Setting(name); !ok {
			return fmt.Errorf("%w: %s is no longer declared", errConfigChanged, name)
		}
	}
	return nil
}

// staleSettings names what changed on the device since the plan observed
// it: "serial" and any setting whose value hash differs.
func staleSettings(memo *values.Memo, pp *plans.PrinterPlan, cfg fleet.Printer, obs fleet.Observation) []string {
	var changed []string
	if pp.Observed != nil && !strings.EqualFold(strings.TrimSpace(pp.Observed.Serial), strings.TrimSpace(obs.Serial)) {
		changed = append(changed, "serial")
	}
	var settings []string
	for name, h := range pp.ObservedHashes {
		v, ok := obs.Settings[name]
		// checkConfig refused a setting no longer declared: how to hash
		// its value is not known.
		d, declared := cfg.Setting(name)
		if !ok || !declared {
			settings = append(settings, name)
			continue
		}
		if _, got := memo.Get(name, v, d.Sensitive); got != h {
			settings = append(settings, name)
		}
	}
	sort.Strings(settings)
	return append(changed, settings...)
}
