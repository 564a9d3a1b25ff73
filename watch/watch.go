// Package watch is the alerting service: sources deliver signals from
// printers, the engine records them as events in state before anything
// else, routes them to deliveries, and sends those through a Notifier,
// each once.
package watch

import (
	"context"
	"net/netip"
	"time"

	"github.com/inkform/inkform/alerts"
)

// A Source delivers alerts from printers (SNMP traps, NPAP). Its Name is
// the Source of the events it makes (alerts.SourceTrap, …). Run blocks
// until ctx is done or the source fails to start, calling deliver for
// every datagram accepted; it drops and counts what its Attributor refuses.
type Source interface {
	Name() string
	Run(ctx context.Context, deliver func(Received)) error
}

// Received is what one datagram from a printer said.
type Received struct {
	From    netip.Addr
	Printer string // from the Attributor; "" for an allowed address that is no printer
	At      time.Time
	Signals []alerts.Signal
}

// Attributor says which printer sent from addr; allowed is false when addr
// is neither a configured printer nor inside the allow list, and the
// datagram must be dropped unrecorded.
type Attributor func(addr netip.Addr) (printer string, allowed bool)

// Notifier sends one email. An error that is Permanent (the server
// refused for good, 5xx) is not retried.
type Notifier interface {
	Send(ctx context.Context, m Message) error
}

// Message is one email.
type Message struct {
	// ID is the Message-ID without its angle brackets, derived from the
	// deliveries it carries so that a receiver can tell a resend.
	ID          string
	To, Cc      []string
	Subject     string
	Body        string
	Attachments []Attachment
}

// Attachment is a file attached to a Message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// PermanentError marks a refusal that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }
