// Package router combines SNMP with the settings transports (PJL, the
// embedded web server) and the file transports (FTP, HTTP(S), RAW 9100)
// behind one providers.Connector.
//
// Facts are always observed over SNMP. Each setting goes over the first
// transport in the printer's `transports` preference that has a catalog
// binding for it on the observed model family and whose port answers; a
// closed port falls back to the next transport, and the observation's Notes
// say so. Files go over their declared transport or the first file-capable
// one of the preference, with the same fallback.
//
// A secured printer (fleet.Printer.Secured) has its settings carried only
// over authenticated transports: lst, a TLS transport (https) with admin
// credentials, or SNMPv3 with an auth protocol. A setting no such
// transport of its preference carries is unsupported, and the reason says
// it needs lst or credentials; its files go only over an authenticated
// file transport.
package router

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

// snmpName is the transport name of the SNMP connector: the table's facts
// transport, and alone the preference of a printer without `transports`.
var (
	snmpName          = catalog.FactsTransport()
	defaultPreference = catalog.DefaultTransports()
)

// Router is a providers.Connector. It holds no connections itself and is
// safe for concurrent use; each Session belongs to one goroutine.
type Router struct {
	cat      *catalog.Catalog
	snmp     providers.Connector
	settings map[string]providers.SettingsTransport
	files    map[string]providers.FileTransport
}

var _ providers.Connector = (*Router)(nil)

// New returns a Router. cat (the built-in catalog when nil) decides which
// transports can carry a setting; snmp observes facts and SNMP-bound
// settings; settings and files are the other transports, by Name.
func New(cat *catalog.Catalog, snmp providers.Connector, settings []providers.SettingsTransport, files []providers.FileTransport) *Router {
	if cat == nil {
		cat = catalog.Default()
	}
	r := &Router{
		cat:      cat,
		snmp:     snmp,
		settings: make(map[string]providers.SettingsTransport, len(settings)),
		files:    make(map[string]providers.FileTransport, len(files)),
	}
	for _, t := range settings {
		r.settings[t.Name()] = t
	}
	for _, t := range files {
		r.files[t.Name()] = t
	}
	return r
}

// Connect opens the SNMP session; other transports are dialled on first
// use, at most once per session.
func (r *Router) Connect(ctx context.Context, p fleet.Printer) (providers.Session, error) {
	s, err := r.snmp.Connect(ctx, p)
	if err != nil {
		return nil, err
	}
	return &Session{
		r:        r,
		p:        p,
		snmp:     s,
		settings: map[string]providers.SettingsConn{},
		files:    map[string]providers.FileConn{},
		dialErr:  map[string]error{},
	}, nil
}

// Session is one printer's session over every transport. It implements
// providers.Session and providers.FileSender. Not safe for concurrent use.
type Session struct {
	r    *Router
	p    fleet.Printer
	snmp providers.Session

	family string            // model family from the last Observe
	route  map[string]string // setting → transport, from the last Observe

	settings map[string]providers.SettingsConn
	files    map[string]providers.FileConn
	// dialErr remembers a failed dial per kind and transport ("settings/pjl",
	// "files/ftp") so that a closed port is tried once per session.
	dialErr map[string]error
}

var (
	_ providers.Session     = (*Session)(nil)
	_ providers.Checker     = (*Session)(nil)
	_ providers.AlertReader = (*Session)(nil)
	_ providers.FileSender  = (*Session)(nil)
)

// Transport names how facts are observed.
func (s *Session) Transport() string { return snmpName }

// preference is the printer's transport order, ["snmp"] when unset.
func (s *Session) preference() []string {
	if len(s.p.Transports) == 0 {
		return defaultPreference
	}
	return s.p.Transports
}

// hasBinding reports whether transport t can carry the setting on family:
// whether the setting has a binding of t's kind. A setting the catalog
// does not know is left to SNMP, whose provider reports it unsupported
// when it cannot read it.
func (s *Session) hasBinding(name, family, t string) bool {
	st, known := s.r.cat.Lookup(name)
	if !known {
		return t == snmpName
	}
	tr, ok := catalog.Transport(t)
	return ok && st.Bindings(family).Has(tr.Binding)
}

// Observe reads facts over SNMP and each setting over its transport.
func (s *Session) Observe(ctx context.Context, names []string) (fleet.Observation, error) {
	return s.observe(ctx, names, s.snmp.Observe)
}

// Check is Observe without the supplies, when the SNMP session can leave
// them out.
func (s *Session) Check(ctx context.Context, names []string) (fleet.Observation, error) {
	return s.observe(ctx, names, func(ctx context.Context, names []string) (fleet.Observation, error) {
		return providers.Check(ctx, s.snmp, names)
	})
}

// ObserveAlerts is Observe with the printer's alert table, when the SNMP
// session can read it.
func (s *Session) ObserveAlerts(ctx context.Context, names []string) (fleet.Observation, error) {
	return s.observe(ctx, names, func(ctx context.Context, names []string) (fleet.Observation, error) {
		return providers.ObserveAlerts(ctx, s.snmp, names)
	})
}

// readSNMP reads facts and settings over SNMP: the SNMP session's Observe
// or Check.
type readSNMP func(ctx context.Context, settings []string) (fleet.Observation, error)

func (s *Session) observe(ctx context.Context, names []string, read readSNMP) (fleet.Observation, error) {
	pref := s.preference()
	if len(pref) == 1 && pref[0] == snmpName && s.usable(snmpName) {
		return s.observeSNMP(ctx, names, read)
	}
	return s.observeRouted(ctx, names, pref, read)
}

// observeSNMP is Observe for a printer whose only transport is SNMP (most
// of a fleet): the same result as observeRouted, without its per-setting
// grouping and copying, since there is nothing to route.
func (s *Session) observeSNMP(ctx context.Context, names []string, read readSNMP) (fleet.Observation, error) {
	viaSNMP := names
	for i, n := range names {
		if !s.snmpCandidate(n) {
			// Copy only when some setting is left out.
			viaSNMP = slices.Clone(names[:i])
			for _, n := range names[i+1:] {
				if s.snmpCandidate(n) {
					viaSNMP = append(viaSNMP, n)
				}
			}
			break
		}
	}
	obs, err := read(ctx, viaSNMP)
	if err != nil {
		return obs, err
	}
	obs.Transport = snmpName
	s.family = s.r.cat.FamilyOf(obs.Model)
	values, snmpUnsupported := obs.Settings, obs.Unsupported

	s.route = make(map[string]string, len(names))
	obs.Settings = values
	if obs.Settings == nil {
		obs.Settings = map[string]string{}
	}
	obs.SettingTransports = make(map[string]string, len(names))
	var unsupported []string
	for _, n := range names {
		_, ok := values[n]
		if !s.hasBinding(n, s.family, snmpName) {
			unsupported = append(unsupported, n)
			s.why(&obs, n, s.noRoute(n, []string{snmpName}))
			continue
		}
		if !ok || slices.Contains(snmpUnsupported, n) {
			unsupported = append(unsupported, n)
			s.why(&obs, n, "the printer does not answer it over snmp")
			continue
		}
		s.route[n] = snmpName
		obs.SettingTransports[n] = snmpName
	}
	// Keep exactly the routed values (the provider's map is ours now).
	for n := range obs.Settings {
		if s.route[n] == "" {
			delete(obs.Settings, n)
		}
	}
	slices.Sort(unsupported)
	obs.Unsupported = slices.Compact(unsupported)
	return obs, nil
}

// observeRouted is Observe for a printer with several transports.
func (s *Session) observeRouted(ctx context.Context, names []string, pref []string, read readSNMP) (fleet.Observation, error) {
	// The family is known only after SNMP answers, so ask SNMP for every
	// setting it might carry on some family; one round of requests is
	// cheaper than a second one after routing.
	var viaSNMP []string
	if slices.Contains(pref, snmpName) && s.usable(snmpName) {
		for _, n := range names {
			if s.snmpCandidate(n) {
				viaSNMP = append(viaSNMP, n)
			}
		}
	}
	obs, err := read(ctx, viaSNMP)
	if err != nil {
		return obs, err
	}
	obs.Transport = snmpName
	s.family = s.r.cat.FamilyOf(obs.Model)
	snmpValues, snmpUnsupported := obs.Settings, obs.Unsupported

	s.route = make(map[string]string, len(names))
	unsupported := map[string]bool{}
	groups := map[string][]string{}
	fellBack := map[string][]string{} // closed transport → where its settings went
	for _, n := range names {
		t, closed, err := s.choose(ctx, n, pref)
		if err != nil {
			return obs, err
		}
		for _, c := range closed {
			to := fellBack[c]
			if t != "" && !slices.Contains(to, t) {
				to = append(to, t)
			}
			fellBack[c] = to
		}
		if t == "" {
			unsupported[n] = true
			switch {
			case len(closed) > 0:
				var why []string
				for _, c := range closed {
					why = append(why, c+": "+s.closedText(c))
				}
				s.why(&obs, n, strings.Join(why, "; "))
			case s.p.Secured:
				s.why(&obs, n, s.securedNoRoute(n, pref))
			default:
				s.why(&obs, n, s.noRoute(n, pref))
			}
			continue
		}
		s.route[n] = t
		groups[t] = append(groups[t], n)
	}

	obs.Settings = make(map[string]string, len(names))
	obs.SettingTransports = make(map[string]string, len(names))
	snmpMissing := map[string]bool{}
	for _, u := range snmpUnsupported {
		snmpMissing[u] = true
	}
	for _, n := range groups[snmpName] {
		v, ok := snmpValues[n]
		if !ok || snmpMissing[n] {
			unsupported[n] = true
			delete(s.route, n)
			s.why(&obs, n, "the printer does not answer it over snmp")
			continue
		}
		obs.Settings[n] = v
		obs.SettingTransports[n] = snmpName
	}
	for _, t := range sortedKeys(groups) {
		if t == snmpName {
			continue
		}
		conn := s.settings[t]
		values, missing, err := conn.ReadSettings(ctx, s.family, groups[t])
		if err != nil {
			return obs, fmt.Errorf("printer %s: %s: read settings: %w", s.p.Name, t, err)
		}
		gone := map[string]bool{}
		for _, m := range missing {
			gone[m] = true
		}
		for _, n := range groups[t] {
			v, ok := values[n]
			if !ok || gone[n] {
				unsupported[n] = true
				delete(s.route, n)
				s.why(&obs, n, "the printer does not answer it over "+t)
				continue
			}
			obs.Settings[n] = v
			obs.SettingTransports[n] = t
		}
	}
	obs.Unsupported = sortedKeys(unsupported)
	for _, c := range sortedKeys(fellBack) {
		note := fmt.Sprintf("%s: %s", c, s.closedText(c))
		if to := fellBack[c]; len(to) > 0 {
			note += "; falling back to " + strings.Join(to, ", ")
		}
		obs.Notes = append(obs.Notes, note)
	}
	return obs, nil
}

// snmpCandidate reports whether SNMP carries the setting on any family.
func (s *Session) snmpCandidate(name string) bool {
	st, known := s.r.cat.Lookup(name)
	if !known || st.SNMP != nil {
		return true
	}
	for _, o := range st.Overrides {
		if o.SNMP != nil {
			return true
		}
	}
	return false
}

// choose returns the transport for one setting ("" when none can carry
// it) and the preferred transports skipped because their port is closed.
func (s *Session) choose(ctx context.Context, name string, pref []string) (string, []string, error) {
	var closed []string
	for _, t := range pref {
		if !s.hasBinding(name, s.family, t) || !s.usable(t) {
			continue
		}
		if t == snmpName {
			return t, closed, nil
		}
		if _, ok := s.r.settings[t]; !ok {
			continue // not available in this build
		}
		_, err := s.settingsConn(ctx, t)
		switch {
		case err == nil:
			return t, closed, nil
		case errors.Is(err, providers.ErrPortClosed):
			closed = append(closed, t)
		default:
			return "", closed, err
		}
	}
	return "", closed, nil
}

func (s *Session) settingsConn(ctx context.Context, t string) (providers.SettingsConn, error) {
	if c, ok := s.settings[t]; ok {
		return c, nil
	}
	key := "settings/" + t
	if err := s.dialErr[key]; err != nil {
		return nil, err
	}
	c, err := s.r.settings[t].DialSettings(ctx, s.p)
	if err != nil {
		err = fmt.Errorf("printer %s: %s: %w", s.p.Name, t, err)
		s.dialErr[key] = err
		return nil, err
	}
	s.settings[t] = c
	return c, nil
}

// why records why setting n is not supported.
func (s *Session) why(obs *fleet.Observation, n, reason string) {
	if obs.UnsupportedWhy == nil {
		obs.UnsupportedWhy = map[string]string{}
	}
	obs.UnsupportedWhy[n] = reason
}

// noRoute says that no transport in tried carries setting n on this
// printer's family, and which transports would: "no route over snmp;
// add pjl or http to transports".
func (s *Session) noRoute(n string, tried []string) string {
	msg := "no route over " + strings.Join(tried, ", ")
	var others []string
	for _, t := range catalog.SettingsTransports() {
		// lst is the channel of secured printers; others are not sent to it.
		if t == lstName {
			continue
		}
		if !slices.Contains(tried, t) && s.hasBinding(n, s.family, t) {
			others = append(others, t)
		}
	}
	switch len(others) {
	case 0:
		return msg + "; no transport carries it on this model"
	case 1:
		return msg + "; add " + others[0] + " to transports"
	}
	return msg + "; add " + strings.Join(others[:len(others)-1], ", ") + " or " + others[len(others)-1] + " to transports"
}

// lstName is the transport of secured printers.
const lstName = "lst"

// usable reports whether transport t may carry p's settings: any
// transport on an ordinary printer; on a secured one, only an
// authenticated transport.
func (s *Session) usable(t string) bool {
	return !s.p.Secured || authenticated(s.p, t)
}

// authenticated reports whether t proves who is asking on p
// (catalog.Authenticated with p's credentials).
func authenticated(p fleet.Printer, t string) bool {
	c := p.Credentials
	return catalog.Authenticated(t, c.SNMP.Version == fleet.SNMPv3 && c.SNMP.AuthProtocol != "", c.Admin.Username != "")
}

// securedNoRoute says why a secured printer's setting has no route: the
// preferred transports that carry it are not authenticated, and what
// would help: "secured printer: needs lst or credentials; not
// authenticated: snmp, pjl; add lst to transports".
func (s *Session) securedNoRoute(n string, pref []string) string {
	msg := "secured printer: needs lst or credentials"
	var plain []string
	for _, t := range pref {
		if s.hasBinding(n, s.family, t) && !authenticated(s.p, t) {
			plain = append(plain, t)
		}
	}
	if len(plain) > 0 {
		msg += "; not authenticated: " + strings.Join(plain, ", ")
	}
	switch {
	case !slices.Contains(pref, lstName) && s.hasBinding(n, s.family, lstName):
		msg += "; add lst to transports"
	case s.p.Credentials.Admin.Username == "":
		msg += "; set admin credentials"
	}
	return msg
}

func (s *Session) closedText(t string) string {
	port := catalog.Port(t, s.p.Ports)
	if port == 0 {
		return "port closed"
	}
	return fmt.Sprintf("port %d closed", port)
}

// Set writes each value over the transport its setting was read with in
// the last Observe.
func (s *Session) Set(ctx context.Context, values []fleet.Desired) error {
	groups := map[string][]fleet.Desired{}
	for _, v := range values {
		t, ok := s.route[v.Name]
		if !ok {
			return fmt.Errorf("printer %s: setting %s: no transport carries it (observe the printer first)", s.p.Name, v.Name)
		}
		groups[t] = append(groups[t], v)
	}
	if g := groups[snmpName]; len(g) > 0 {
		if err := s.snmp.Set(ctx, g); err != nil {
			return err
		}
	}
	for _, t := range sortedKeys(groups) {
		if t == snmpName {
			continue
		}
		conn, err := s.settingsConn(ctx, t)
		if err != nil {
			return err
		}
		if err := conn.WriteSettings(ctx, s.family, groups[t]); err != nil {
			return fmt.Errorf("printer %s: %s: write settings: %w", s.p.Name, t, err)
		}
	}
	return nil
}

// fileCandidates returns the transports SendFile tries for f on p, in
// order: f.Via alone when set (the configuration asked for it), else every
// file-capable transport of the printer's preference.
func fileCandidates(p fleet.Printer, f fleet.File, names func(string) bool) []string {
	if f.Via != "" {
		return []string{f.Via}
	}
	var out []string
	for _, t := range p.Transports {
		if names(t) {
			out = append(out, t)
		}
	}
	return out
}

// SendFile uploads f over f.Via, or over the first file-capable transport
// of the printer's preference whose port answers.
func (s *Session) SendFile(ctx context.Context, f fleet.File, progress func(int64)) (string, error) {
	if s.p.Secured && f.Via != "" && !authenticated(s.p, f.Via) {
		return "", fmt.Errorf("printer %s: file %s: secured printer: %s is not authenticated; send it via https with admin credentials", s.p.Name, fileName(f), f.Via)
	}
	candidates := fileCandidates(s.p, f, func(t string) bool { _, ok := s.r.files[t]; return ok && s.usable(t) })
	if len(candidates) == 0 && s.p.Secured {
		return "", fmt.Errorf("printer %s: file %s: secured printer: no authenticated file transport (add https to transports, with admin credentials)", s.p.Name, fileName(f))
	}
	if len(candidates) == 0 {
		return "", fmt.Errorf("printer %s: file %s: no file transport (declare via, or add %s to transports)", s.p.Name, fileName(f), catalog.FileTransportsText())
	}
	var closed []string
	for _, t := range candidates {
		ft, ok := s.r.files[t]
		if !ok {
			return "", fmt.Errorf("printer %s: file %s: transport %q cannot send files", s.p.Name, fileName(f), t)
		}
		conn, err := s.fileConn(ctx, ft)
		if errors.Is(err, providers.ErrPortClosed) {
			closed = append(closed, t+" "+s.closedText(t))
			continue
		}
		if err != nil {
			return t, fmt.Errorf("file %s: %w", fileName(f), err) // err names the printer
		}
		if err := upload(ctx, conn, f, progress); err != nil {
			return t, fmt.Errorf("printer %s: %s: file %s: %w", s.p.Name, t, fileName(f), err)
		}
		return t, nil
	}
	return "", fmt.Errorf("printer %s: file %s: %w: %s", s.p.Name, fileName(f), providers.ErrPortClosed, strings.Join(closed, ", "))
}

func (s *Session) fileConn(ctx context.Context, ft providers.FileTransport) (providers.FileConn, error) {
	t := ft.Name()
	if c, ok := s.files[t]; ok {
		return c, nil
	}
	key := "files/" + t
	if err := s.dialErr[key]; err != nil {
		return nil, err
	}
	c, err := ft.DialFiles(ctx, s.p)
	if err != nil {
		err = fmt.Errorf("printer %s: %s: %w", s.p.Name, t, err)
		s.dialErr[key] = err
		return nil, err
	}
	s.files[t] = c
	return c, nil
}

// upload streams the file from disk, checking that its size is still the
// one the configuration was loaded with.
func upload(ctx context.Context, conn providers.FileConn, f fleet.File, progress func(int64)) error {
	fh, err := os.Open(f.Source)
	if err != nil {
		return err
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return err
	}
	if f.Size > 0 && info.Size() != f.Size {
		return fmt.Errorf("%s is %d bytes, the configuration expected %d; run plan again", f.Source, info.Size(), f.Size)
	}
	f.Size = info.Size()
	return conn.Upload(ctx, f, fh, progress)
}

func fileName(f fleet.File) string {
	if f.Dest != "" {
		return f.Dest
	}
	return baseName(f.Source)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Close closes every connection the session opened.
func (s *Session) Close() error {
	var errs []error
	for _, t := range sortedKeys(s.settings) {
		errs = append(errs, s.settings[t].Close())
	}
	for _, t := range sortedKeys(s.files) {
		errs = append(errs, s.files[t].Close())
	}
	s.settings, s.files = map[string]providers.SettingsConn{}, map[string]providers.FileConn{}
	errs = append(errs, s.snmp.Close())
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
