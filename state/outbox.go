package state

import (
	"context"
	"errors"
	"time"

	"github.com/inkform/inkform/alerts"
)

// ErrClaimLost is returned (wrapped) when a process finishes or releases a
// delivery that it no longer holds: its lease ran out and another process
// may have claimed it.
var ErrClaimLost = errors.New("delivery claim lost")

// Outbox is what watch keeps in state, so that a restart, a reload or a
// second watch process on the same state neither loses nor repeats
// anything: every event is recorded before it is acted on, every email is
// a delivery row that is claimed with a lease, and marked sent only once
// the mail server accepted it. Backends that keep no outbox lack it.
type Outbox interface {
	// AppendEvents records events in one transaction, all or none, and
	// returns their ids in order (increasing). It keeps the set of active
	// alerts in the same transaction: a raised event makes its Key active
	// (replacing an older raise of that key, keeping its acknowledgement),
	// a cleared one ends it. An event without Printer, Key or Name, or
	// whose Kind is neither Raised nor Cleared, fails the whole call; a
	// zero At is recorded as now.
	AppendEvents(ctx context.Context, evs []alerts.Event) ([]int64, error)
	// ActiveAlerts returns the alerts raised and not cleared, by key.
	ActiveAlerts(ctx context.Context) ([]ActiveAlert, error)
	// Events returns recorded events matching f, most recent first (by
	// At, then by id).
	Events(ctx context.Context, f EventFilter) ([]alerts.Event, error)
	// UnroutedEvents returns up to limit events (all when limit <= 0)
	// that no process has routed yet, oldest first: in the order they
	// were recorded (by id).
	UnroutedEvents(ctx context.Context, limit int) ([]alerts.Event, error)
	// RouteEvent marks one event routed and adds the deliveries it makes
	// (as AddDeliveries does, with EventID set to eventID), in one
	// transaction. It returns false, and adds nothing, when the event was
	// routed already (by this process or another); an error wrapping
	// ErrNotFound when there is no such event.
	RouteEvent(ctx context.Context, eventID int64, ds []Delivery) (bool, error)
	// AddDeliveries adds deliveries that no event routing makes (repeats,
	// reports, tests) in one transaction, skipping those whose (Route,
	// Dedupe) is stored already or came earlier in ds; it returns how
	// many it added. The store sets ID, no claim and no attempts; an
	// empty Status is DeliveryPending, a zero DueAt now.
	AddDeliveries(ctx context.Context, ds []Delivery) (int, error)
	// ClaimDeliveries leases to owner, until now+lease, up to limit
	// pending deliveries due by now (DueAt <= now) that hold no live
	// claim of another owner (one is live while now < ClaimUntil),
	// earliest due first (then by id). A claim of owner's own that is
	// still live is returned again, its lease renewed.
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishDeliveries sets the final status (DeliverySent,
	// DeliverySuppressed, DeliveryFailed) and Detail of deliveries owner
	// holds, in one transaction; SentAt becomes at for DeliverySent, and
	// ClaimedBy keeps owner. An error wrapping ErrClaimLost, changing
	// nothing, when owner no longer holds one of them. Owner holds a
	// delivery while it is pending and owner claimed it last, even past
	// the lease: nobody else can have claimed it meanwhile, so a mail
	// accepted late is still recorded once.
	FinishDeliveries(ctx context.Context, owner string, ids []int64, status string, at time.Time, detail string) error
	// ReleaseDeliveries gives back deliveries owner holds (unclaimed,
	// due at next), in one transaction, with ErrClaimLost as
	// FinishDeliveries; attempt says whether a sending attempt failed
	// (counted in Attempts, detail kept as the last error) or the
	// delivery was only postponed (group_interval: Attempts and Detail
	// stay as they are).
	ReleaseDeliveries(ctx context.Context, owner string, ids []int64, next time.Time, attempt bool, detail string) error
	// MarkSending records messageID as the MessageID of deliveries owner
	// holds, in one transaction, with ErrClaimLost as FinishDeliveries.
	// Nothing clears it: a release keeps it.
	MarkSending(ctx context.Context, owner string, ids []int64, messageID string) error
	// Deliveries returns deliveries matching f, most recent first: the
	// last added first (by id).
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// LastSent returns when route last had a delivery sent; zero when never.
	LastSent(ctx context.Context, route string) (time.Time, error)

	// AddSilence records a silence and returns its id. A zero Starts is
	// now; Ends must be after Starts.
	AddSilence(ctx context.Context, s Silence) (int64, error)
	// Silences returns the silences active at t (Starts <= t < Ends), or
	// all when t is zero, most recent first (by Starts, then by id).
	Silences(ctx context.Context, t time.Time) ([]Silence, error)
	// ExpireSilence ends a silence at t (one that ends earlier already
	// stays as it is); ErrNotFound for an unknown id.
	ExpireSilence(ctx context.Context, id int64, t time.Time) error
	// Ack acknowledges an active alert; ErrNotFound when the key is not active.
	Ack(ctx context.Context, key, by, comment string, at time.Time) error
}

// Pruner is an Outbox that forgets old history, so that a service that
// runs for years keeps a bounded state.
type Pruner interface {
	// Prune deletes, in one transaction, what ended before before:
	// deliveries sent, suppressed or failed (by SentAt, else DueAt);
	// routed events that no active alert and no delivery left refers
	// to; silences that ended. Pending deliveries, active alerts and
	// the events they need are kept whatever their age.
	Prune(ctx context.Context, before time.Time) (Pruned, error)
}

// Pruned counts what Prune deleted.
type Pruned struct {
	Events, Deliveries, Silences int64
}

// ActiveAlertsByKey is an Outbox that reads the active alerts of given
// keys alone. Sending needs a few keys' alerts; reading every active
// alert for each email costs in proportion to all alerts active (a trap
// storm leaves tens of thousands).
type ActiveAlertsByKey interface {
	// ActiveAlertsOf returns the active alerts among keys, sorted by key;
	// keys not active are left out.
	ActiveAlertsOf(ctx context.Context, keys []string) ([]ActiveAlert, error)
}

// ActiveAlert is an alert raised and not cleared.
type ActiveAlert struct {
	Event   alerts.Event // the event that raised it
	AckedBy string       // "" when not acknowledged
	AckedAt time.Time
	Comment string
}

// EventFilter selects events; zero fields select all.
type EventFilter struct {
	Printer string
	Key     string
	Since   time.Time
	// IDs selects the events with these ids (what deliveries point at).
	IDs   []int64
	Limit int // 0: no limit
}

// Delivery statuses.
const (
	DeliveryPending    = "pending"
	DeliverySent       = "sent"
	DeliverySuppressed = "suppressed" // grace, silence, inhibition: said in Detail
	DeliveryFailed     = "failed"     // refused for good (a 5xx), said in Detail
)

// Delivery kinds.
const (
	DeliveryNotify = "notify" // an event routed to a route
	DeliveryRepeat = "repeat" // an active alert re-sent (route repeat)
	DeliveryReport = "report" // a scheduled report
	DeliveryTest   = "test"   // inkform alerts test
)

// Delivery is one email to be sent, or sent. Deliveries of one route due
// together are sent as one digest.
type Delivery struct {
	ID      int64
	EventID int64 // 0 when no event made it
	Route   string
	Kind    string
	// Dedupe makes a delivery unique within its route: "event:<id>",
	// "repeat:<key>:<n>", "report:<name>:<slot>".
	Dedupe     string
	To, Cc     []string
	DueAt      time.Time
	Status     string
	Attempts   int
	ClaimedBy  string
	ClaimUntil time.Time
	SentAt     time.Time
	Detail     string
	// MessageID is the Message-ID of the email that carries the delivery,
	// recorded before that email is handed to the server; "" until then.
	// A delivery given back after a crash or a failed attempt goes out
	// again under it, so a receiver sees the same message twice at
	// worst, never the same alert in two different messages.
	MessageID string
}

// DeliveryFilter selects deliveries; zero fields select all.
type DeliveryFilter struct {
	Route   string
	Status  string
	EventID int64
	Limit   int
}

// Silence mutes matching events from Starts until Ends.
type Silence struct {
	ID      int64
	Printer string // a printer name or glob; "" any
	Event   string // an event name; "" any
	Starts  time.Time
	Ends    time.Time
	Comment string
	By      string
}
