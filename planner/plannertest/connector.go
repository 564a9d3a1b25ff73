// Package plannertest provides in-memory fakes of a printer connector and a
// state store, and small fleets built on them, for tests of planning, plan
// files, views, apply and the commands built on them.
package plannertest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

// Device is a fake printer.
type Device struct {
	// Observation holds the facts Observe returns; Observation.Settings
	// holds the current value of every setting the device supports.
	Observation fleet.Observation
	// ObserveErr, when set, is returned by every Observe.
	ObserveErr error
	// SetErr, when set, is returned by Set and nothing is written.
	SetErr error
	// Ignore lists settings whose writes are accepted but have no effect,
	// so that verification reads back the old value.
	Ignore map[string]bool
	// OnSet, when set, runs at the start of every Set, outside any lock; it
	// may block (on a channel, say) to hold the write in flight.
	OnSet func(ctx context.Context) error
	// OnObserve, when set, runs at the start of every Observe, outside any
	// lock.
	OnObserve func()
}

// SetCall records one Set.
type SetCall struct {
	Printer string
	Values  []fleet.Desired
}

// Connector is a fake providers.Connector over devices keyed by printer
// name. A printer with no device is unreachable. It is safe for concurrent
// use.
type Connector struct {
	mu       sync.Mutex
	devices  map[string]*Device
	sets     []SetCall
	observes map[string]int
	checks   map[string]int
}

// NewConnector returns a connector with no devices.
func NewConnector() *Connector {
	return &Connector{devices: map[string]*Device{}, observes: map[string]int{}, checks: map[string]int{}}
}

// Add adds (or replaces) the device answering for printer name.
func (c *Connector) Add(name string, d Device) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d.Observation.Settings = maps.Clone(d.Observation.Settings)
	if d.Observation.Settings == nil {
		d.Observation.Settings = map[string]string{}
	}
	c.devices[name] = &d
}

// Update changes a device under lock, e.g. to simulate drift.
func (c *Connector) Update(name string, f func(d *Device)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.devices[name]; ok {
		f(d)
	}
}

// Value returns a device's current value of a setting.
func (c *Connector) Value(name, setting string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.devices[name]
	if !ok {
		return "", false
	}
	v, ok := d.Observation.Settings[setting]
	return v, ok
}

// Sets returns every Set received, in order.
func (c *Connector) Sets() []SetCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sets)
}

// Observes returns how many times printer name was observed, checks
// included.
func (c *Connector) Observes(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.observes[name]
}

// Checks returns how many of printer name's observations were checks
// (providers.Checker: no supplies).
func (c *Connector) Checks(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checks[name]
}

// Connect returns a connection to the named device; it never fails.
func (c *Connector) Connect(ctx context.Context, p fleet.Printer) (providers.Session, error) {
	return &printerConn{c: c, name: p.Name}, nil
}

type printerConn struct {
	c    *Connector
	name string
}

func (s *printerConn) Transport() string { return "snmp" }
func (s *printerConn) Close() error      { return nil }

func (s *printerConn) Observe(ctx context.Context, settings []string) (fleet.Observation, error) {
	if err := ctx.Err(); err != nil {
		return fleet.Observation{}, fmt.Errorf("printer %s: observe: %w", s.name, err)
	}
	s.c.mu.Lock()
	if d, ok := s.c.devices[s.name]; ok && d.OnObserve != nil {
		s.c.mu.Unlock()
		d.OnObserve()
		s.c.mu.Lock()
	}
	defer s.c.mu.Unlock()
	s.c.observes[s.name]++
	d, ok := s.c.devices[s.name]
	if !ok {
		return fleet.Observation{}, fmt.Errorf("no SNMP answer after 2 attempts of 2s: %w", providers.ErrUnreachable)
	}
	if d.ObserveErr != nil {
		return fleet.Observation{}, d.ObserveErr
	}
	o := d.Observation
	o.Settings = map[string]string{}
	o.Unsupported = nil
	o.Errors = slices.Clone(o.Errors)
	o.Supplies = slices.Clone(o.Supplies)
	for _, name := range settings {
		if v, ok := d.Observation.Settings[name]; ok {
			o.Settings[name] = v
		} else {
			o.Unsupported = append(o.Unsupported, name)
		}
	}
	o.Transport = "snmp"
	return o, nil
}

// Check is Observe without the supplies.
func (s *printerConn) Check(ctx context.Context, settings []string) (fleet.Observation, error) {
	o, err := s.Observe(ctx, settings)
	s.c.mu.Lock()
	s.c.checks[s.name]++
	s.c.mu.Unlock()
	o.Supplies = nil
	return o, err
}

func (s *printerConn) Set(ctx context.Context, values []fleet.Desired) error {
	s.c.mu.Lock()
	d, ok := s.c.devices[s.name]
	var hook func(context.Context) error
	if ok {
		hook = d.OnSet
	}
	s.c.mu.Unlock()
	if !ok {
		return fmt.Errorf("no SNMP answer after 2 attempts of 2s: %w", providers.ErrUnreachable)
	}
	if hook != nil {
		if err := hook(ctx); err != nil {
			return err
		}
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.sets = append(s.c.sets, SetCall{Printer: s.name, Values: slices.Clone(values)})
	if d.SetErr != nil {
		return d.SetErr
	}
	for _, v := range values {
		if _, supported := d.Observation.Settings[v.Name]; !supported {
			return fmt.Errorf("%s: not supported", v.Name)
		}
		if !d.Ignore[v.Name] {
			d.Observation.Settings[v.Name] = v.Value
		}
	}
	return nil
}
