package lst

import (
	"context"
	"slices"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

// Connector reaches printers over LST alone, facts included (identity and
// status; LST carries no supplies): a providers.Connector for a printer
// with no other channel. The router instead uses Transport for settings
// and reads facts over SNMP.
type Connector struct{ t *Transport }

var (
	_ providers.Connector = (*Connector)(nil)
	_ providers.Session   = (*Session)(nil)
)

// NewConnector returns a connector over New(cat, o).
func NewConnector(cat *catalog.Catalog, o Options) *Connector {
	return &Connector{t: New(cat, o)}
}

// Connect prepares a session; the printer is dialled on first use.
func (c *Connector) Connect(_ context.Context, p fleet.Printer) (providers.Session, error) {
	return &Session{t: c.t, p: p}, nil
}

// Session is one printer's LST session. Not safe for concurrent use.
type Session struct {
	t      *Transport
	p      fleet.Printer
	conn   *Conn
	family string // from the last Observe
}

// Transport returns "lst".
func (s *Session) Transport() string { return Name }

func (s *Session) dial(ctx context.Context) (*Conn, error) {
	if s.conn != nil {
		return s.conn, nil
	}
	c, err := s.t.Dial(ctx, s.p)
	if err != nil {
		return nil, err
	}
	s.conn = c
	return c, nil
}

// statuses are the values an observation's Status may take.
var statuses = []string{fleet.StatusIdle, fleet.StatusPrinting, fleet.StatusWarmup, fleet.StatusWarning,
	fleet.StatusDown, fleet.StatusOffline, fleet.StatusUnknown}

// Observe reads identity, status and the named settings. It only reads.
func (s *Session) Observe(ctx context.Context, names []string) (fleet.Observation, error) {
	c, err := s.dial(ctx)
	if err != nil {
		return fleet.Observation{}, err
	}
	id, err := c.Identity(ctx)
	if err != nil {
		return fleet.Observation{}, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return fleet.Observation{}, err
	}
	s.family = s.t.cat.FamilyOf(id.Model)
	values, unsupported, err := c.ReadSettings(ctx, s.family, names)
	if err != nil {
		return fleet.Observation{}, err
	}
	obs := fleet.Observation{
		Vendor: clean(id.Vendor), Model: clean(id.Model), Serial: clean(id.Serial), Firmware: clean(id.Firmware),
		Status: fleet.StatusUnknown, PageCount: st.PageCount,
		Uptime: time.Duration(st.UptimeSeconds) * time.Second, ObservedAt: time.Now(),
		Settings: values, Unsupported: unsupported, Transport: Name,
		SettingTransports: make(map[string]string, len(values)),
	}
	if slices.Contains(statuses, st.Status) {
		obs.Status = st.Status
	}
	for _, e := range st.Errors {
		obs.Errors = append(obs.Errors, clean(e))
	}
	for n := range values {
		obs.SettingTransports[n] = Name
	}
	for _, n := range unsupported {
		if obs.UnsupportedWhy == nil {
			obs.UnsupportedWhy = map[string]string{}
		}
		obs.UnsupportedWhy[n] = "the printer does not answer it over lst"
	}
	return obs, nil
}

// Set writes the values; callers verify by observing again. The model
// family comes from the last Observe, or is read first.
func (s *Session) Set(ctx context.Context, values []fleet.Desired) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	if s.family == "" {
		id, err := c.Identity(ctx)
		if err != nil {
			return err
		}
		s.family = s.t.cat.FamilyOf(id.Model)
	}
	return c.WriteSettings(ctx, s.family, values)
}

// Close ends the session.
func (s *Session) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
