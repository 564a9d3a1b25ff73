package npap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	wire "github.com/inkform/inkform/protocol/npap"
	"github.com/inkform/inkform/providers"
)

// readBatch is how many settings one read asks for: replies of that many
// catalog strings at their longest fit one NPAP datagram. A printer that
// answers "too big" gets the batch in halves.
const readBatch = 4

// bound is one setting reached by its NPAP number.
type bound struct {
	name    string
	setting catalog.Setting
	number  uint16
}

func (c *Conn) bindingOf(family, name string) (bound, bool) {
	s, ok := c.t.cat.Lookup(name)
	if !ok {
		return bound{}, false
	}
	b := s.Bindings(family).NPAP
	if b == nil || b.ID < 1 || b.ID > catalog.MaxNPAPID {
		return bound{}, false
	}
	return bound{name: name, setting: s, number: uint16(b.ID)}, true
}

// wireType is how a setting of the catalog's type travels.
func wireType(s catalog.Setting) wire.Type {
	switch s.Type {
	case catalog.TypeInteger:
		return wire.TypeInteger
	case catalog.TypeBool:
		return wire.TypeBool
	}
	return wire.TypeString // strings and enums
}

// ReadSettings reads the named settings by their NPAP numbers. Names
// without an NPAP binding for the family, and numbers the printer does
// not know, come back in unsupported.
func (c *Conn) ReadSettings(ctx context.Context, family string, names []string) (map[string]string, []string, error) {
	values := map[string]string{}
	var unsupported []string
	byNumber := map[uint16][]bound{}
	var numbers []uint16
	for _, n := range names {
		b, ok := c.bindingOf(family, n)
		if !ok {
			unsupported = append(unsupported, n)
			continue
		}
		if _, seen := byNumber[b.number]; !seen {
			numbers = append(numbers, b.number)
		}
		byNumber[b.number] = append(byNumber[b.number], b)
	}
	got := map[uint16]string{}
	for i := 0; i < len(numbers); i += readBatch {
		if err := c.read(ctx, numbers[i:min(i+readBatch, len(numbers))], got); err != nil {
			return nil, nil, err
		}
	}
	for _, num := range numbers {
		for _, b := range byNumber[num] {
			v, ok := got[num]
			if !ok {
				unsupported = append(unsupported, b.name)
				continue
			}
			values[b.name] = v
		}
	}
	return values, unsupported, nil
}

// read asks for numbers, halving the batch when the printer says the
// reply would not fit a datagram.
func (c *Conn) read(ctx context.Context, numbers []uint16, into map[uint16]string) error {
	r, err := c.Do(ctx, wire.Message{Op: wire.OpRead, Numbers: numbers})
	var we *wire.Error
	if errors.As(err, &we) && we.Code == wire.CodeTooBig && len(numbers) > 1 {
		half := len(numbers) / 2
		if err := c.read(ctx, numbers[:half], into); err != nil {
			return err
		}
		return c.read(ctx, numbers[half:], into)
	}
	if err != nil {
		return err
	}
	for _, v := range r.Values {
		if slices.Contains(numbers, v.Number) {
			into[v.Number] = v.Text
		}
	}
	return nil
}

// WriteSettings writes the values, in as few datagrams as fit, with the
// administrator password of the printer's credentials. A value the
// printer refuses is an error naming the setting (never a sensitive
// value); callers verify by reading again. Writing a value the printer
// already has changes nothing, so a retransmitted write is harmless.
func (c *Conn) WriteSettings(ctx context.Context, family string, values []fleet.Desired) error {
	var vals []wire.Value
	names := map[uint16]fleet.Desired{}
	for _, d := range values {
		b, ok := c.bindingOf(family, d.Name)
		if !ok {
			return fmt.Errorf("printer %s: %s: setting %s: no NPAP setting number for model family %q: %w", c.printer, c.t.opts.Name, d.Name, family, providers.ErrUnsupported)
		}
		v, err := b.setting.Validate(d.Value)
		if err != nil {
			if d.Sensitive {
				return fmt.Errorf("printer %s: %s: setting %s: the (sensitive) value is not valid", c.printer, c.t.opts.Name, d.Name)
			}
			return fmt.Errorf("printer %s: %s: %w", c.printer, c.t.opts.Name, err)
		}
		vals = append(vals, wire.Value{Number: b.number, Type: wireType(b.setting), Text: v})
		names[b.number] = d
	}
	return c.write(ctx, vals, names)
}

func (c *Conn) write(ctx context.Context, vals []wire.Value, names map[uint16]fleet.Desired) error {
	if len(vals) == 0 {
		return nil
	}
	req := wire.Message{Op: wire.OpWrite, Values: vals, Password: c.password}
	if _, err := c.t.opts.Codec.Encode(req); errors.Is(err, wire.ErrTooBig) && len(vals) > 1 {
		half := len(vals) / 2
		if err := c.write(ctx, vals[:half], names); err != nil {
			return err
		}
		return c.write(ctx, vals[half:], names)
	}
	r, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	var refused []string
	for _, res := range r.Results {
		if res.Code == wire.CodeOK {
			continue
		}
		name := fmt.Sprintf("setting number %d", res.Number)
		if d, ok := names[res.Number]; ok {
			name = d.Name
		}
		refused = append(refused, fmt.Sprintf("%s: %s", name, res.Code))
	}
	if len(refused) > 0 {
		return fmt.Errorf("printer %s: %s: the printer refused %s", c.printer, c.t.opts.Name, strings.Join(refused, "; "))
	}
	return nil
}

// Connect returns a Session that observes and sets the printer over NPAP
// alone: identity, status and its settings. The router reaches settings
// through DialSettings instead, with facts from SNMP.
func (t *Transport) Connect(ctx context.Context, p fleet.Printer) (providers.Session, error) {
	c, err := t.Dial(ctx, p)
	if err != nil {
		return nil, err
	}
	return &Session{c: c}, nil
}

// Session is one printer over NPAP alone. Not safe for concurrent use.
type Session struct {
	c      *Conn
	family string
	known  bool
}

var (
	_ providers.Session     = (*Session)(nil)
	_ providers.AlertReader = (*Session)(nil)
)

// Transport returns the transport's name.
func (s *Session) Transport() string { return s.c.t.opts.Name }

// Close closes the connection.
func (s *Session) Close() error { return s.c.Close() }

// Observe reads identity, status and the named settings. It writes
// nothing.
func (s *Session) Observe(ctx context.Context, names []string) (fleet.Observation, error) {
	obs, _, err := s.observe(ctx, names)
	return obs, err
}

// ObserveAlerts is Observe with the alerts of the status reply.
func (s *Session) ObserveAlerts(ctx context.Context, names []string) (fleet.Observation, error) {
	obs, alerts, err := s.observe(ctx, names)
	if err != nil {
		return obs, err
	}
	obs.AlertsRead = true
	for i, a := range alerts {
		if a.Kind != wire.AlertRaised {
			continue
		}
		obs.Alerts = append(obs.Alerts, fleet.Alert{Index: i + 1, Severity: int(a.Severity), Group: int(a.Group),
			GroupIndex: int(a.GroupIndex), Code: int(a.Code), Description: a.Description})
	}
	return obs, nil
}

func (s *Session) observe(ctx context.Context, names []string) (fleet.Observation, []wire.Alert, error) {
	obs := fleet.Observation{PageCount: -1, Transport: s.c.t.opts.Name}
	id, err := s.c.Identify(ctx)
	if err != nil {
		return obs, nil, err
	}
	obs.Vendor, obs.Model, obs.Serial, obs.Firmware = id.Vendor, id.Model, id.Serial, id.Firmware
	status, alerts, err := s.c.Status(ctx)
	if err != nil {
		return obs, nil, err
	}
	obs.Status = status.String()
	obs.ObservedAt = time.Now()
	s.family, s.known = s.c.t.cat.FamilyOf(id.Model), true
	values, unsupported, err := s.c.ReadSettings(ctx, s.family, names)
	if err != nil {
		return obs, nil, err
	}
	obs.Settings = values
	obs.SettingTransports = make(map[string]string, len(values))
	for n := range values {
		obs.SettingTransports[n] = s.c.t.opts.Name
	}
	slices.Sort(unsupported)
	obs.Unsupported = slices.Compact(unsupported)
	for _, n := range obs.Unsupported {
		if obs.UnsupportedWhy == nil {
			obs.UnsupportedWhy = map[string]string{}
		}
		obs.UnsupportedWhy[n] = "the printer does not answer it over " + s.c.t.opts.Name
	}
	return obs, alerts, nil
}

// Set writes the values. It learns the model family from the printer
// when no Observe came first.
func (s *Session) Set(ctx context.Context, values []fleet.Desired) error {
	if !s.known {
		id, err := s.c.Identify(ctx)
		if err != nil {
			return err
		}
		s.family, s.known = s.c.t.cat.FamilyOf(id.Model), true
	}
	return s.c.WriteSettings(ctx, s.family, values)
}
