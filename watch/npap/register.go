package npap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/inkform/inkform/fleet"
	pnpap "github.com/inkform/inkform/providers/npap"
)

// DefaultLifetime is how long a registration is asked to last; Keep
// renews it at half that.
const DefaultLifetime = time.Hour

// registerParallel bounds the printers registered with at once.
const registerParallel = 32

// Registration is how registering with one printer went.
type Registration struct {
	Printer  string
	Lifetime time.Duration // granted
	Err      error
}

// WantsAlerts reports whether p's transports include npap: the printers
// watch registers with.
func WantsAlerts(p fleet.Printer) bool { return slices.Contains(p.Transports, pnpap.Name) }

// Register asks every printer whose transports include npap to send its
// alerts to port on this host (the address each printer sees the request
// come from), for lifetime (DefaultLifetime when 0), over tr. It returns
// one Registration per such printer, in the order given; one printer's
// failure does not stop the others.
func Register(ctx context.Context, tr *pnpap.Transport, printers []fleet.Printer, port uint16, lifetime time.Duration) []Registration {
	return each(ctx, tr, printers, func(ctx context.Context, c *pnpap.Conn) (time.Duration, error) {
		if lifetime <= 0 {
			lifetime = DefaultLifetime
		}
		return c.Register(ctx, port, lifetime)
	})
}

// Unregister asks the same printers to stop sending alerts to port.
func Unregister(ctx context.Context, tr *pnpap.Transport, printers []fleet.Printer, port uint16) []Registration {
	return each(ctx, tr, printers, func(ctx context.Context, c *pnpap.Conn) (time.Duration, error) {
		return 0, c.Unregister(ctx, port)
	})
}

func each(ctx context.Context, tr *pnpap.Transport, printers []fleet.Printer, do func(context.Context, *pnpap.Conn) (time.Duration, error)) []Registration {
	var targets []fleet.Printer
	for _, p := range printers {
		if WantsAlerts(p) {
			targets = append(targets, p)
		}
	}
	out := make([]Registration, len(targets))
	sem := make(chan struct{}, registerParallel)
	var wg sync.WaitGroup
	for i, p := range targets {
		out[i].Printer = p.Name
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i].Err = fmt.Errorf("printer %s: npap: register: %w", p.Name, ctx.Err())
				return
			}
			defer func() { <-sem }()
			c, err := tr.Dial(ctx, p)
			if err != nil {
				out[i].Err = err
				return
			}
			defer c.Close()
			out[i].Lifetime, out[i].Err = do(ctx, c)
		})
	}
	wg.Wait()
	return out
}

// Keep registers with the printers at once and again every half
// lifetime until ctx is done, then unregisters (within a few seconds).
// printers is asked each round, so a reloaded configuration's printers
// are registered with at the next round. report, when not nil, receives
// each round's registrations.
func Keep(ctx context.Context, tr *pnpap.Transport, printers func() []fleet.Printer, port uint16, lifetime time.Duration, report func([]Registration)) {
	if lifetime <= 0 {
		lifetime = DefaultLifetime
	}
	t := time.NewTicker(lifetime / 2)
	defer t.Stop()
	var last []fleet.Printer
	for {
		last = printers()
		regs := Register(ctx, tr, last, port, lifetime)
		if report != nil && ctx.Err() == nil {
			report(regs)
		}
		select {
		case <-ctx.Done():
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			Unregister(uctx, tr, last, port)
			cancel()
			return
		case <-t.C:
		}
	}
}

// Failed returns the errors of the registrations that failed.
func Failed(regs []Registration) error {
	var errs []error
	for _, r := range regs {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errors.Join(errs...)
}
