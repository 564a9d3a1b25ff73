// Package observer observes a fleet: it reads every printer through a
// providers.Connector with bounded, adaptive concurrency and hands each
// printer's observation over as soon as it is made, so that what the
// caller does with it (a diff, a rendering, an alert) overlaps the
// observation of the rest. It also holds the policy for how many printers
// are handled at once (Limits: the -parallelism flag and the open-files
// bound), which applying follows as well.
package observer

import (
	"context"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

// Observer observes printers over a connector. Its fields are set once
// before use; Observe may then be called from any goroutine.
type Observer struct {
	Connector providers.Connector
	Limits
	// Progress, when set, is called after each printer is done: observed
	// and handed over. Calls are serialised.
	Progress func(done, total int)
	// Alerts also reads each printer's alert table (watch's polls), with
	// sessions that can (providers.AlertReader).
	Alerts bool
}

// Result is one printer's observation.
type Result struct {
	// Observation holds the facts and the value of every declared setting
	// the printer supports.
	Observation fleet.Observation
	// Transport is the session's transport; "" when connecting failed.
	Transport string
	// Err says why the printer could not be observed; it wraps
	// providers.ErrUnreachable when the printer did not answer.
	Err error
}

// Observe observes printers within o.Limits, starting them in order, and
// calls fn(i, r) with the observation of printers[i] in the goroutine that
// made it, as soon as it is made. fn is called concurrently for different
// printers. Observe returns once every call of fn has returned; once ctx
// ends it starts no more printers, and fn is not called for them.
func (o *Observer) Observe(ctx context.Context, printers []fleet.Printer, fn func(i int, r Result)) {
	o.Each(ctx, len(printers), o.Progress, func(i int) {
		var r Result
		r.Observation, r.Transport, r.Err = o.observe(ctx, printers[i])
		fn(i, r)
	})
}

// observe connects, reads the declared settings and closes.
func (o *Observer) observe(ctx context.Context, p fleet.Printer) (fleet.Observation, string, error) {
	sess, err := o.Connector.Connect(ctx, p)
	if err != nil {
		return fleet.Observation{}, "", err
	}
	defer sess.Close()
	read := sess.Observe
	if o.Alerts {
		read = func(ctx context.Context, settings []string) (fleet.Observation, error) {
			return providers.ObserveAlerts(ctx, sess, settings)
		}
	}
	obs, err := read(ctx, p.SettingNames())
	if err != nil {
		return fleet.Observation{}, sess.Transport(), err
	}
	if obs.Transport == "" {
		obs.Transport = sess.Transport()
	}
	return obs, sess.Transport(), nil
}
