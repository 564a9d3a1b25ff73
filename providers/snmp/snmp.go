// Package snmp observes and configures printers over SNMP v1, v2c and v3
// (USM) with gosnmp. It implements providers.Connector.
//
// Facts come from the standard MIBs (system group, Host Resources, Printer
// MIB) and, where the catalog's identity rules say so, from a vendor's
// objects; settings come from the catalog's SNMP bindings.
package snmp

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers"
)

// Transport is the name this provider reports in observations.
const Transport = "snmp"

// Defaults for Options' zero values.
const (
	DefaultTimeout       = 2 * time.Second
	DefaultRetries       = 1
	DefaultMaxOIDsPerPDU = 30
)

// Options tune every session a Connector opens. Zero values mean the
// defaults. A printer's credentials may override Timeout and Retries.
type Options struct {
	Timeout       time.Duration // per request
	Retries       int           // after the first attempt; negative means none
	MaxOIDsPerPDU int           // varbinds per GET/SET PDU
	// MaxIdleClients bounds the clients of closed sessions kept, sockets
	// open, for reuse; zero means DefaultMaxIdleClients.
	MaxIdleClients int
	// Devices are the identity rules; nil means the built-in ones.
	Devices *catalog.Devices
}

// Connector opens SNMP sessions. It is safe for concurrent use; it holds no
// sockets itself.
type Connector struct {
	cat  *catalog.Catalog
	opts Options
	// idle holds v1/v2c gosnmp clients of closed sessions, their sockets
	// still open. gosnmp gives every client a 64 KB receive buffer when
	// it connects, and a socket costs several system calls to open and
	// close; at fleet scale both are much of a plan's cost, so a new
	// session takes over an idle client (buffer and socket) and points it
	// at its own agent. v3 clients keep per-agent security state and are
	// never reused.
	idle chan *gosnmp.GoSNMP
	// plans caches what Observe reads per list of setting names.
	plans *readPlans
}

var _ providers.Connector = (*Connector)(nil)

// New returns a Connector reading settings' bindings from cat (the
// built-in catalog when nil).
func New(cat *catalog.Catalog, o Options) *Connector {
	if cat == nil {
		cat = catalog.Default()
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.MaxOIDsPerPDU <= 0 {
		o.MaxOIDsPerPDU = DefaultMaxOIDsPerPDU
	}
	if o.MaxIdleClients <= 0 {
		o.MaxIdleClients = DefaultMaxIdleClients
	}
	if o.Devices == nil {
		o.Devices = catalog.DefaultDevices()
	}
	return &Connector{cat: cat, opts: o, idle: make(chan *gosnmp.GoSNMP, o.MaxIdleClients), plans: newReadPlans(cat)}
}

// DefaultMaxIdleClients bounds the sockets and buffers kept for reuse:
// about what a plan has in flight on a healthy fleet. Beyond it, closed
// sessions close their sockets.
const DefaultMaxIdleClients = 256

// Close closes the sockets of idle clients. Sessions still open are not
// affected, and the Connector stays usable.
func (c *Connector) Close() error {
	for {
		select {
		case g := <-c.idle:
			g.Close()
		default:
			return nil
		}
	}
}

// Connect checks p's credentials and prepares a session. It does not touch
// the network: the socket is opened by the first operation.
func (c *Connector) Connect(ctx context.Context, p fleet.Printer) (providers.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("printer %s: %w", p.Name, err)
	}
	if p.Host == "" {
		return nil, fmt.Errorf("printer %s: no address", p.Name)
	}
	cred := p.Credentials.SNMP
	timeout, retries := c.opts.Timeout, c.opts.Retries
	if cred.Timeout > 0 {
		timeout = cred.Timeout
	}
	switch {
	case cred.Retries > 0:
		retries = cred.Retries
	case cred.Retries < 0:
		retries = 0
	}
	port := p.Port
	if port == 0 {
		port = fleet.DefaultSNMPPort
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("printer %s: port %d out of range", p.Name, port)
	}
	g := &gosnmp.GoSNMP{
		Target:  p.Host,
		Port:    uint16(port),
		Timeout: timeout,
		Retries: retries,
		MaxOids: c.opts.MaxOIDsPerPDU,
		// Walks are bounded by our own loop; gosnmp's default of 50
		// repetitions is fine for printer tables.
		MaxRepetitions: 20,
	}
	switch cred.Version {
	case "", fleet.SNMPv2c:
		g.Version = gosnmp.Version2c
		g.Community = cred.Community
	case fleet.SNMPv1:
		g.Version = gosnmp.Version1
		g.Community = cred.Community
	case fleet.SNMPv3:
		usm, flags, err := usmParameters(cred)
		if err != nil {
			return nil, fmt.Errorf("printer %s: SNMPv3 credentials: %w", p.Name, err)
		}
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.MsgFlags = flags
		g.SecurityParameters = usm
	default:
		return nil, fmt.Errorf("printer %s: unknown SNMP version %q (want 1, 2c or 3)", p.Name, cred.Version)
	}
	var idle chan *gosnmp.GoSNMP
	if g.Version != gosnmp.Version3 {
		idle = c.idle
	}
	return &Session{
		cat:     c.cat,
		devices: c.opts.Devices,
		plans:   c.plans,
		g:       g,
		idle:    idle,
		name:    p.Name,
		addr:    p.Address(),
		version: g.Version,
		user:    cred.User,
		maxOIDs: c.opts.MaxOIDsPerPDU,
	}, nil
}

// USM turns v3 credentials into gosnmp's USM parameters and the security
// level they give; the trap listener accepts the same credentials.
func USM(c fleet.SNMP) (*gosnmp.UsmSecurityParameters, gosnmp.SnmpV3MsgFlags, error) {
	return usmParameters(c)
}

// usmParameters turns v3 credentials into gosnmp's USM parameters.
func usmParameters(c fleet.SNMP) (*gosnmp.UsmSecurityParameters, gosnmp.SnmpV3MsgFlags, error) {
	if c.User == "" {
		return nil, 0, fmt.Errorf("no user")
	}
	usm := &gosnmp.UsmSecurityParameters{UserName: c.User}
	flags := gosnmp.NoAuthNoPriv
	if c.AuthProtocol != "" {
		auth, ok := authProtocols[normProto(c.AuthProtocol)]
		if !ok {
			return nil, 0, fmt.Errorf("user %s: unknown auth protocol %q (want MD5, SHA or SHA256)", c.User, c.AuthProtocol)
		}
		if len(c.AuthPassphrase) < 8 {
			// RFC 3414 keys need at least 8 characters; net-snmp refuses shorter.
			return nil, 0, fmt.Errorf("user %s: auth passphrase is shorter than 8 characters", c.User)
		}
		usm.AuthenticationProtocol = auth
		usm.AuthenticationPassphrase = c.AuthPassphrase
		flags = gosnmp.AuthNoPriv
	}
	if c.PrivProtocol != "" {
		if flags == gosnmp.NoAuthNoPriv {
			return nil, 0, fmt.Errorf("user %s: privacy needs an auth protocol", c.User)
		}
		priv, ok := privProtocols[normProto(c.PrivProtocol)]
		if !ok {
			return nil, 0, fmt.Errorf("user %s: unknown privacy protocol %q (want DES or AES)", c.User, c.PrivProtocol)
		}
		if len(c.PrivPassphrase) < 8 {
			return nil, 0, fmt.Errorf("user %s: privacy passphrase is shorter than 8 characters", c.User)
		}
		usm.PrivacyProtocol = priv
		usm.PrivacyPassphrase = c.PrivPassphrase
		flags = gosnmp.AuthPriv
	}
	return usm, flags, nil
}

func normProto(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(s))
}

var authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
	"MD5":    gosnmp.MD5,
	"SHA":    gosnmp.SHA,
	"SHA1":   gosnmp.SHA,
	"SHA224": gosnmp.SHA224,
	"SHA256": gosnmp.SHA256,
	"SHA384": gosnmp.SHA384,
	"SHA512": gosnmp.SHA512,
}

var privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
	"DES":    gosnmp.DES,
	"AES":    gosnmp.AES,
	"AES128": gosnmp.AES,
	"AES192": gosnmp.AES192,
	"AES256": gosnmp.AES256,
}

// Session is one printer's SNMP client. It belongs to one goroutine at a
// time. Close releases its socket.
type Session struct {
	cat       *catalog.Catalog
	devices   *catalog.Devices
	plans     *readPlans
	g         *gosnmp.GoSNMP
	name      string // printer name for errors
	addr      string // host:port for errors
	version   gosnmp.SnmpVersion
	user      string // v3 user name (not secret) for errors
	maxOIDs   int
	idle      chan *gosnmp.GoSNMP // where g goes when closed; nil when not reusable
	connected bool
	answered  bool // the agent has answered a request with these credentials
	closed    bool
}

var (
	_ providers.Session = (*Session)(nil)
	_ providers.Checker = (*Session)(nil)
)

// Transport returns "snmp".
func (s *Session) Transport() string { return Transport }

// Close closes the session's socket. It is safe to call more than once.
func (s *Session) Close() error {
	s.closed = true
	if !s.connected {
		return nil
	}
	s.connected = false
	g := s.g
	if s.idle != nil {
		// Keep neither the community nor the caller's context alive in
		// an idle client.
		g.Community, g.Context = "", nil
		s.g = &gosnmp.GoSNMP{Version: s.version}
		select {
		case s.idle <- g:
			return nil
		default: // enough idle clients
		}
	}
	if err := g.Close(); err != nil {
		return fmt.Errorf("printer %s: close SNMP socket: %w", s.name, err)
	}
	return nil
}

// connect opens the session's socket, reusing an idle client when there
// is one.
func (s *Session) connect(ctx context.Context) error {
	var idle *gosnmp.GoSNMP
	select {
	case idle = <-s.idle: // never ready when s.idle is nil
	default:
	}
	if idle == nil {
		return s.g.Connect()
	}
	// Every idle client was connected by gosnmp once (so it owns a receive
	// buffer) and configured by Connector.Connect with the fields copied
	// here; the others are zero for v1/v2c.
	g := s.g
	idle.Target, idle.Port, idle.Transport = g.Target, g.Port, "udp"
	idle.Community, idle.Version = g.Community, g.Version
	idle.Timeout, idle.Retries = g.Timeout, g.Retries
	idle.MaxOids, idle.MaxRepetitions = g.MaxOids, g.MaxRepetitions
	idle.Context = ctx
	if idle.Conn == nil || retarget(idle.Conn, g.Target, g.Port) != nil {
		if idle.Conn != nil {
			idle.Conn.Close()
		}
		// As gosnmp dials: a connected UDP socket, so the kernel drops
		// datagrams from other peers.
		d := net.Dialer{Timeout: g.Timeout}
		conn, err := d.DialContext(ctx, "udp", net.JoinHostPort(g.Target, strconv.Itoa(int(g.Port))))
		if err != nil {
			idle.Conn, idle.Community, idle.Context = nil, "", nil
			select {
			case s.idle <- idle: // its buffer is still worth keeping
			default:
			}
			return fmt.Errorf("error establishing connection to host: %w", err)
		}
		idle.Conn = conn
	}
	s.g = idle
	return nil
}

// begin binds ctx to the client and opens the socket on first use.
func (s *Session) begin(ctx context.Context) error {
	if s.closed {
		return fmt.Errorf("printer %s: SNMP session is closed", s.name)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("printer %s: %w", s.name, err)
	}
	// gosnmp reads its context from the struct; the session is
	// single-goroutine, so setting it per operation is safe.
	s.g.Context = ctx
	if s.connected {
		return nil
	}
	if err := s.connect(ctx); err != nil {
		return s.wrap("connect", err)
	}
	s.connected = true
	return nil
}
