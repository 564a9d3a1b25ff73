// Package planner compares printers as declared with printers as observed
// and as recorded in state, and produces a plans.Plan: what applying it
// would change, printer by printer. The printers are observed through an
// observer.Observer, and each is diffed as soon as it is observed.
package planner

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/plans/values"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
)

// Planner plans. Its fields are set once before use; Plan may then be
// called from any goroutine.
type Planner struct {
	// Observer observes the printers: its connector, limits and progress.
	Observer observer.Observer
	State    state.Store
	// Catalog canonicalises observed values before comparing (e.g. "015"
	// and "15" for an integer setting); nil compares values verbatim.
	Catalog *catalog.Catalog
	// Now defaults to time.Now.
	Now func() time.Time
}

// PlanOptions select and shape a plan.
type PlanOptions struct {
	// Targets limit the plan to matching printers: "printer.NAME" where NAME
	// is a path.Match pattern or a literal name (so `printer.fleet["a"]`
	// works). A target that matches no printer is an error.
	Targets     []string
	RefreshOnly bool
	ConfigHash  string
	// OnPrinter, when set, is called with each observed printer's plan as
	// soon as it is made, in the worker that made it, while the rest of the
	// fleet is still observed (a view renders the printer there). Calls
	// are concurrent; the printer's plan must not be changed.
	OnPrinter func(pp *plans.PrinterPlan)
}

func (pl *Planner) now() time.Time {
	if pl.Now != nil {
		return pl.Now()
	}
	return time.Now()
}

// Plan observes the targeted printers and compares them with the
// configuration and the state. Per-printer problems (unreachable, wrong
// device, refused credentials) are reported in the plan; Plan fails only
// when the state cannot be read, a target matches nothing, or ctx ends.
func (pl *Planner) Plan(ctx context.Context, printers []fleet.Printer, o PlanOptions) (*plans.Plan, error) {
	if pl.Observer.Connector == nil || pl.State == nil {
		return nil, errors.New("planner: Observer.Connector and State are required")
	}
	// The state is read while the printers are observed: the requests need
	// only the configuration, the diff waits for the state.
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	sr := pl.readState(ctx, cancel)
	defer func() {
		cancel(nil)
		<-sr.done // nothing outlives Plan
	}()
	readErr := func(err error) error {
		if perr := parent.Err(); perr != nil {
			return fmt.Errorf("plan: %w", perr)
		}
		return fmt.Errorf("read state: %w", err)
	}

	inConfig := make(map[string]bool, len(printers))
	for _, p := range printers {
		if inConfig[p.Name] {
			return nil, fmt.Errorf("printer %s: declared twice", p.Name)
		}
		inConfig[p.Name] = true
	}

	selected := func(string) bool { return true }
	if len(o.Targets) > 0 {
		// Targets may name printers known only to the state.
		if err := sr.wait(ctx); err != nil {
			return nil, readErr(err)
		}
		names := make([]string, 0, len(printers)+len(sr.recorded))
		for _, p := range printers {
			names = append(names, p.Name)
		}
		for _, r := range sr.recorded {
			if !inConfig[r.Name] {
				names = append(names, r.Name)
			}
		}
		var err error
		if selected, err = matchTargets(o.Targets, names); err != nil {
			return nil, err
		}
	}

	plan := &plans.Plan{
		FormatVersion: plans.FormatVersion,
		CreatedAt:     pl.now().UTC(),
		ConfigHash:    o.ConfigHash,
		RefreshOnly:   o.RefreshOnly,
		Targets:       append([]string(nil), o.Targets...),
	}

	var todo []fleet.Printer
	for _, p := range printers {
		if selected(p.Name) {
			todo = append(todo, p)
		}
	}
	memo, err := values.MemoFor(pl.State, pl.Catalog, todo)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	results := make([]plans.PrinterPlan, len(todo))
	onPrinter := func(pp *plans.PrinterPlan) {
		if o.OnPrinter != nil {
			o.OnPrinter(pp)
		}
	}
	// Printers that share a device are not observed, and none of them is
	// changed: which one the user meant is theirs to say.
	shared := sameAddress(ctx, todo, nil)
	observe := make([]int, 0, len(todo)) // indexes into todo
	for i, p := range todo {
		if reason, ok := shared[i]; ok {
			results[i] = plans.PrinterPlan{Name: p.Name, Address: p.Address(), Status: plans.StatusError, Reason: reason}
			onPrinter(&results[i])
			continue
		}
		observe = append(observe, i)
	}
	subset := todo
	if len(observe) < len(todo) {
		subset = make([]fleet.Printer, len(observe))
		for k, i := range observe {
			subset[k] = todo[i]
		}
	}
	pl.Observer.Observe(ctx, subset, func(k int, r observer.Result) {
		i := observe[k]
		results[i] = pl.planPrinter(ctx, memo, todo[i], r, sr, o.RefreshOnly)
		onPrinter(&results[i])
	}) // workers report through results
	if err := parent.Err(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	for _, i := range sameSerial(results) {
		onPrinter(&results[i])
	}
	if err := sr.wait(ctx); err != nil {
		return nil, readErr(err)
	}
	plan.Printers = results

	if !o.RefreshOnly {
		for _, r := range sr.recorded {
			if inConfig[r.Name] || !selected(r.Name) {
				continue
			}
			plan.Printers = append(plan.Printers, forgetPrinter(r))
		}
	}
	sort.Slice(plan.Printers, func(i, j int) bool { return plan.Printers[i].Name < plan.Printers[j].Name })
	return plan, nil
}

// forgetPrinter plans a printer that is recorded but no longer declared.
// Its settings' recorded hashes stay out of the plan: forgetting needs
// none, and plan files are kept longer and more widely than state.
func forgetPrinter(r state.Printer) plans.PrinterPlan {
	pp := plans.PrinterPlan{Name: r.Name, Address: r.Address, Action: plans.Forget, Status: plans.StatusForgotten}
	for _, name := range sortedKeys(r.Settings) {
		pp.Changes = append(pp.Changes, plans.Change{Setting: name, Action: plans.Forget})
	}
	return pp
}

// stateRead is the state as Plan reads it, concurrently with observing.
type stateRead struct {
	done     chan struct{} // closed once read (or failed)
	recorded []state.Printer
	byName   map[string]state.Printer
	err      error
}

// readState starts reading the state; a failure is passed to fail, which
// Plan uses to stop observing.
func (pl *Planner) readState(ctx context.Context, fail func(error)) *stateRead {
	sr := &stateRead{done: make(chan struct{})}
	go func() {
		sr.recorded, sr.err = pl.State.Printers(ctx)
		if sr.err == nil {
			sr.byName = make(map[string]state.Printer, len(sr.recorded))
			for _, r := range sr.recorded {
				sr.byName[r.Name] = r
			}
		}
		close(sr.done) // before fail cancels ctx: wait then reports the read's error
		if sr.err != nil {
			fail(sr.err)
		}
	}()
	return sr
}

// wait returns once the state is read, with the read's error, or ctx's
// when it ends first.
func (sr *stateRead) wait(ctx context.Context) error {
	select {
	case <-sr.done:
		return sr.err
	default:
	}
	select {
	case <-sr.done:
		return sr.err
	case <-ctx.Done():
		// A failed read closes done and then cancels ctx: when both are
		// ready, select picks either, and the read's error is the one
		// to report.
		select {
		case <-sr.done:
			return sr.err
		default:
			return ctx.Err()
		}
	}
}

// planPrinter diffs one printer's observation with its state once that
// is read. It never fails: problems become the printer's status.
func (pl *Planner) planPrinter(ctx context.Context, memo *values.Memo, p fleet.Printer, r observer.Result, sr *stateRead, refreshOnly bool) plans.PrinterPlan {
	pp := plans.PrinterPlan{Name: p.Name, Address: p.Address(), Status: plans.StatusReady}
	obs, transport, err := r.Observation, r.Transport, r.Err
	pp.Transport = transport
	if err == nil {
		err = sr.wait(ctx) // Plan reports a failed read itself
	}
	if err != nil {
		pp.Reason = err.Error()
		pp.Status = plans.StatusError
		if errors.Is(err, providers.ErrUnreachable) {
			pp.Status = plans.StatusUnreachable
		}
		return pp
	}
	prior, managed := sr.byName[p.Name]
	if reason := p.SerialMismatch(obs.Serial); reason != "" {
		pp.Status, pp.Reason = plans.StatusMismatch, reason
		pp.Observed = observed(&obs)
		return pp
	}
	pp.Observed = observed(&obs)
	pp.Unsupported, pp.ObservedHashes = observedHashes(memo, p, obs)
	for _, u := range pp.Unsupported {
		if why, ok := obs.UnsupportedWhy[u]; ok {
			if pp.UnsupportedWhy == nil {
				pp.UnsupportedWhy = make(map[string]string, len(pp.Unsupported))
			}
			pp.UnsupportedWhy[u] = why
		}
	}
	if refreshOnly {
		return pp
	}
	unsupported := make(map[string]bool, len(pp.Unsupported))
	for _, u := range pp.Unsupported {
		unsupported[u] = true
	}
	var again []string // recorded in an older form
	for i, d := range p.Settings {
		if unsupported[d.Name] {
			continue
		}
		before, beforeHash := memo.Get(d.Name, obs.Settings[d.Name], d.Sensitive)
		after, afterHash := memo.Get(d.Name, d.Value, d.Sensitive)
		c := plans.Change{
			Setting:    d.Name,
			Sensitive:  d.Sensitive,
			Transport:  settingTransport(obs, d.Name, transport),
			BeforeHash: beforeHash,
			AfterHash:  afterHash,
		}
		if !d.Sensitive {
			c.Before, c.After = before, after
		}
		_, recorded := prior.Settings[d.Name]
		switch {
		case !managed || !recorded:
			c.Action = plans.Adopt
		case c.BeforeHash != c.AfterHash:
			c.Action = plans.Update
			c.Drift = prior.Settings[d.Name] == c.AfterHash
		case !values.Current(prior, d.Name, d.Sensitive):
			// As when first managed: apply records it, writing nothing.
			c.Action = plans.Adopt
			again = append(again, d.Name)
		default:
			pp.Unchanged++
			continue
		}
		if pp.Changes == nil {
			// Most printers of a fleet change all their settings (adoption)
			// or none: size for the rest at the first change.
			pp.Changes = make([]plans.Change, 0, len(p.Settings)-i)
		}
		pp.Changes = append(pp.Changes, c)
	}
	if managed {
		for _, name := range sortedKeys(prior.Settings) {
			if _, declared := p.Setting(name); !declared {
				pp.Changes = append(pp.Changes, plans.Change{Setting: name, Action: plans.Forget, Transport: transport})
			}
		}
	}
	sort.Slice(pp.Changes, func(i, j int) bool { return pp.Changes[i].Setting < pp.Changes[j].Setting })
	if len(again) > 0 {
		pp.Notes = append(pp.Notes, "apply records again what state keeps in an older form (an older inkform, or another sensitivity): "+strings.Join(again, ", "))
	}
	pl.planDeploys(&pp, p, prior, obs)
	switch {
	case !managed:
		pp.Action = plans.Adopt
	case pp.Deploys() || len(again) > 0 || slices.ContainsFunc(pp.Changes, plans.Change.Counts):
		// Records kept in an older form change state even when no
		// device write is due: apply keys them again.
		pp.Action = plans.Update
	default:
		// Only settings newly declared with the value the device holds:
		// nothing to write or forget, so the printer is as declared. The
		// next apply that writes it records them.
		pp.Unchanged += len(pp.Changes)
		pp.Changes = nil
	}
	return pp
}

// observedHashes hashes the observed value of every declared setting and
// lists the declared settings the device does not support. A setting the
// device neither returned nor called unsupported counts as unsupported:
// there is nothing to compare it with.
func observedHashes(memo *values.Memo, p fleet.Printer, obs fleet.Observation) ([]string, map[string]string) {
	unsupported := make(map[string]bool, len(obs.Unsupported))
	for _, u := range obs.Unsupported {
		unsupported[u] = true
	}
	hashes := make(map[string]string, len(p.Settings))
	var missing []string
	for _, d := range p.Settings {
		v, ok := obs.Settings[d.Name]
		if !ok || unsupported[d.Name] {
			missing = append(missing, d.Name)
			continue
		}
		_, hashes[d.Name] = memo.Get(d.Name, v, d.Sensitive)
	}
	sort.Strings(missing)
	return missing, hashes
}

// observed keeps of an observation what the plan shows: its facts, not
// its setting values, which may be secret (the plan keeps them only as
// changes and hashes, and each change names its transport).
func observed(o *fleet.Observation) *plans.Observed {
	return &plans.Observed{
		Vendor: o.Vendor, Model: o.Model, Serial: o.Serial, Firmware: o.Firmware,
		SysDescr: o.SysDescr, Status: o.Status,
		Errors:    append([]string{}, o.Errors...),
		Supplies:  append([]fleet.Supply{}, o.Supplies...),
		PageCount: o.PageCount, ObservedAt: o.ObservedAt,
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// matchTargets returns a predicate for the selected printer names. Every
// target must match at least one name.
func matchTargets(targets, names []string) (func(string) bool, error) {
	if len(targets) == 0 {
		return func(string) bool { return true }, nil
	}
	selected := make(map[string]bool)
	for _, t := range targets {
		pattern, ok := strings.CutPrefix(t, "printer.")
		if !ok || pattern == "" {
			msg := fmt.Sprintf("target %q: expected printer.NAME", t)
			if slices.Contains(names, t) {
				msg += fmt.Sprintf("; did you mean printer.%s?", t)
			}
			return nil, errors.New(msg)
		}
		matched := false
		var badPattern error
		for _, n := range names {
			hit := n == pattern
			if !hit {
				m, err := path.Match(pattern, n)
				if err != nil {
					badPattern = err
				}
				hit = m
			}
			if hit {
				selected[n] = true
				matched = true
			}
		}
		if !matched {
			if badPattern != nil {
				return nil, fmt.Errorf("target %q: %w", t, badPattern)
			}
			return nil, errors.New(noTargetMessage(t, pattern, names))
		}
	}
	return func(n string) bool { return selected[n] }, nil
}

// noTargetMessage says that target matches no printer, with the names
// closest to it, and how to quote a for_each instance's name in a shell
// (which otherwise eats its quotes: printer.branch[branch-a]).
func noTargetMessage(target, pattern string, names []string) string {
	msg := fmt.Sprintf("target %q matches no printer in the configuration or the state", target)
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, n := range names {
		if d := levenshtein.Distance(pattern, n, nil); d <= max(2, len(pattern)/3) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].d < cs[j].d || cs[i].d == cs[j].d && cs[i].name < cs[j].name })
	if len(cs) > 3 {
		cs = cs[:3]
	}
	for i, c := range cs {
		if i == 0 {
			msg += "; did you mean "
		} else {
			msg += " or "
		}
		msg += "printer." + c.name
	}
	if len(cs) > 0 {
		msg += "?"
	}
	if strings.Contains(pattern, "[") && !strings.Contains(pattern, `"`) {
		msg += "\nA for_each printer's name has quotes inside its brackets, which a shell removes: quote the whole target, as in -target 'printer.branch[\"branch-a\"]'"
	}
	return msg
}
