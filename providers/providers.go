// Package providers defines the contract between the planner and the
// protocols that reach printers. Each protocol lives in its own package
// (providers/snmp, …) and implements Connector.
//
// The contract follows the reconciler pattern: Observe never changes a
// device; Set is idempotent (writing a value the printer already has is a
// no-op for the device); callers verify a Set by observing again.
package providers

import (
	"context"
	"errors"

	"github.com/inkform/inkform/fleet"
)

// ErrUnreachable is wrapped by errors that mean the printer did not answer
// at all (timeout, connection refused). The planner reports such a printer
// as unreachable and goes on with the rest of the fleet.
var ErrUnreachable = errors.New("printer unreachable")

// ErrAuth is wrapped by errors that mean the printer answered but refused the
// credentials (wrong community, unknown v3 user, wrong passphrase).
var ErrAuth = errors.New("authentication failed")

// Connector opens sessions to printers. Implementations are safe for
// concurrent use; each Session belongs to one goroutine.
type Connector interface {
	// Connect prepares a session to p. It may not touch the network; errors
	// from an unreachable printer may surface only on the first operation.
	Connect(ctx context.Context, p fleet.Printer) (Session, error)
}

// Session talks to one printer.
type Session interface {
	// Observe reads the printer's facts and the current value of each named
	// setting. Settings the printer does not support are listed in
	// Observation.Unsupported, not returned as an error.
	Observe(ctx context.Context, settings []string) (fleet.Observation, error)
	// Set writes the given values. It is idempotent. It does not verify:
	// callers observe again.
	Set(ctx context.Context, values []fleet.Desired) error
	// Transport names the protocol used, e.g. "snmp".
	Transport() string
	Close() error
}

// Checker is a Session that can also read a printer without its supplies:
// what apply needs before and after writing (identity and settings), at
// less cost than a full Observe. Callers use it when a session has it.
type Checker interface {
	// Check is Observe without the supplies: the Observation's other
	// fields mean the same, and Supplies stays empty.
	Check(ctx context.Context, settings []string) (fleet.Observation, error)
}

// Check reads s with Check when it is a Checker, with Observe otherwise.
func Check(ctx context.Context, s Session, settings []string) (fleet.Observation, error) {
	if c, ok := s.(Checker); ok {
		return c.Check(ctx, settings)
	}
	return s.Observe(ctx, settings)
}

// AlertReader is a Session that can also read the printer's alert table
// (Printer-MIB prtAlertTable) with an observation: what watch's polls
// need, and plans do not pay for.
type AlertReader interface {
	// ObserveAlerts is Observe that also fills Observation.Alerts and
	// AlertsRead.
	ObserveAlerts(ctx context.Context, settings []string) (fleet.Observation, error)
}

// ObserveAlerts reads s with ObserveAlerts when it is an AlertReader, with
// Observe otherwise (AlertsRead stays false: the alerts were not read).
func ObserveAlerts(ctx context.Context, s Session, settings []string) (fleet.Observation, error) {
	if r, ok := s.(AlertReader); ok {
		return r.ObserveAlerts(ctx, settings)
	}
	return s.Observe(ctx, settings)
}

// ConnectorFunc adapts a function to Connector.
type ConnectorFunc func(ctx context.Context, p fleet.Printer) (Session, error)

// Connect calls f.
func (f ConnectorFunc) Connect(ctx context.Context, p fleet.Printer) (Session, error) {
	return f(ctx, p)
}
