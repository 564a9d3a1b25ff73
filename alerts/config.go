package alerts

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults, as Alertmanager's where the concept is the same.
const (
	DefaultPoll          = 5 * time.Minute
	DefaultTrapTTL       = time.Hour
	DefaultOfflineAfter  = 2 // polls
	DefaultLowPercent    = 15
	DefaultGroupWait     = 30 * time.Second
	DefaultGroupInterval = 5 * time.Minute
	DefaultRepeat        = 4 * time.Hour
	DefaultTrapListen    = ":162"
	DefaultNPAPListen    = ":9187"
	DefaultSMTPTimeout   = 30 * time.Second
	DefaultSessionTTL    = 8 * time.Hour
	DefaultLDAPTimeout   = 10 * time.Second
	DefaultUserFilter    = "(uid={username})"
	// DefaultRetention is how long finished deliveries, events that no
	// longer matter and ended silences are kept (90 days).
	DefaultRetention = 90 * 24 * time.Hour
)

// Route is one alert_route block: which events go to whom, and when.
type Route struct {
	Name  string
	Match Match
	Email Email
	// Grace: an alert that clears within it sends nothing.
	Grace time.Duration
	// Repeat re-sends an alert while it stays active; 0 never.
	Repeat        time.Duration
	AlsoOnClear   bool
	GroupWait     time.Duration
	GroupInterval time.Duration
	// Subject and Body are text/template sources; "" means the default.
	Subject string
	Body    string
}

// Match selects events. Empty lists match everything; the lists are ANDed,
// the entries within one list ORed.
type Match struct {
	Events   []string   // event names
	Severity []Severity // severities
	Printers []string   // printer names or path.Match globs ("lab-*")
	Keywords []string   // a printer with any of them
}

// Email says where a route's mail goes.
type Email struct {
	To []string
	Cc []string
}

// Encryption of the SMTP connection.
const (
	EncryptionNone     = "none"     // port 25
	EncryptionSSL      = "ssl"      // port 465, implicit TLS
	EncryptionSTARTTLS = "starttls" // port 587, required: never a silent downgrade
)

// SMTP is the smtp block. Password is secret: never print, log or store it.
type SMTP struct {
	Host       string
	Port       int // 0: the encryption's standard port
	Encryption string
	Username   string
	Password   string
	From       string
	CACertFile string // verifies the server's certificate instead of the system roots
	Timeout    time.Duration
}

// Watch is the watch block: how alerts come in and how often printers are
// polled.
type Watch struct {
	// Traps is nil when the configuration has no traps block.
	Traps *Traps
	// NPAP is nil when the configuration has no npap block.
	NPAP         *NPAP
	Poll         time.Duration
	TrapTTL      time.Duration
	OfflineAfter int
	LowPercent   int
	// Retention is how long history is kept in state (events, finished
	// deliveries, ended silences); 0 means DefaultRetention.
	Retention time.Duration
	// Drift is nil when the configuration has no drift block.
	Drift *DriftCheck
	// StatusPage is nil when the configuration has no status_page block.
	StatusPage *StatusPage
}

// StatusPage is the watch.status_page block: the HTTPS status page and
// JSON API that watch serves.
type StatusPage struct {
	Listen string // host:port
	// URL is the page's address as people reach it (behind a proxy or a
	// DNS name), which emails link printers below; "" means
	// https://LISTEN, with this host's name for an unspecified host.
	URL string
	// CertFile and KeyFile name the TLS certificate; both empty means a
	// generated self-signed one (logged loudly, with its fingerprint).
	CertFile, KeyFile string
	// MetricsListen, when set, serves /metrics on its own address
	// without auth; otherwise /metrics is behind the page's auth.
	MetricsListen string
	// SessionTTL is how long a login lasts (default 8h).
	SessionTTL time.Duration
	// LDAP and Kerberos are nil when not configured. With neither, the
	// page starts only on a loopback listen address.
	LDAP     *LDAP
	Kerberos *Kerberos
}

// Roles of the status page, from least to most.
const (
	RoleViewer      = "viewer"       // read
	RoleServiceDesk = "service_desk" // acknowledge, silence, run a plan
	RoleAdmin       = "admin"        // everything
)

// LDAP is the status_page.ldap block.
type LDAP struct {
	URL      string // ldap://host:port or ldaps://host:port
	StartTLS bool
	// Insecure allows plain ldap:// without StartTLS; it must be written.
	Insecure     bool
	CAFile       string // PEM; empty means the system roots
	BindDN       string
	BindPassword string // sensitive: never logged
	UserBase     string
	UserFilter   string // with {username}, e.g. (uid={username})
	// GroupBase, when set, is searched for groupOfNames/groupOfUniqueNames
	// naming the user; memberOf on the user is read too.
	GroupBase string
	// Roles maps a role (RoleViewer, RoleServiceDesk, RoleAdmin) to a
	// group DN.
	Roles   map[string]string
	Timeout time.Duration
}

// Kerberos is the status_page.kerberos block: SPNEGO with a keytab.
type Kerberos struct {
	Keytab  string // path
	Service string // e.g. HTTP/localhost
	// Realm, when set, is stripped from principals to give the LDAP user
	// name; otherwise the part before '@'.
	Realm string
}

// DefaultWatch is the watch configuration without a watch block: polling
// with the defaults, no trap listener, no drift checks.
func DefaultWatch() Watch {
	return Watch{Poll: DefaultPoll, TrapTTL: DefaultTrapTTL, OfflineAfter: DefaultOfflineAfter, LowPercent: DefaultLowPercent, Retention: DefaultRetention}
}

// Traps is the watch.traps block.
type Traps struct {
	Listen string
	// Allow lists CIDR prefixes whose traps are accepted besides the
	// configured printers' addresses.
	Allow []string
}

// NPAP is the watch.npap block: NPAP alerts from Lexmark printers, and
// watch's registration with the printers whose transports include npap.
type NPAP struct {
	Listen string
	// Allow lists CIDR prefixes whose alerts are accepted besides the
	// configured printers' addresses.
	Allow []string
}

// DriftCheck is the watch.drift block.
type DriftCheck struct {
	Every   time.Duration
	Enforce bool
}

// Report views.
const (
	ViewInventory  = "inventory"
	ViewSupplies   = "supplies"
	ViewPageCounts = "page_counts"
	ViewAlerts     = "alerts"
	ViewDrift      = "drift"
)

// Report is one report block: a view emailed as CSV on a cron schedule.
type Report struct {
	Name     string
	Schedule string // standard 5-field cron expression
	View     string
	Email    Email
}

// redacted is s with the password replaced, for printing.
func (s SMTP) redacted() smtpPrinted {
	p := smtpPrinted(s)
	if p.Password != "" {
		p.Password = "(sensitive)"
	}
	return p
}

// smtpPrinted is SMTP without its methods, so that printing it does not
// call String again.
type smtpPrinted SMTP

// String prints s without its password, so a %v in a log or an error
// cannot leak it.
func (s SMTP) String() string { return fmt.Sprintf("%+v", s.redacted()) }

// GoString is String for %#v.
func (s SMTP) GoString() string { return fmt.Sprintf("%#v", s.redacted()) }

// LogValue logs s without its password.
func (s SMTP) LogValue() slog.Value {
	p := s.redacted()
	return slog.GroupValue(
		slog.String("host", p.Host), slog.Int("port", p.Port), slog.String("encryption", p.Encryption),
		slog.String("username", p.Username), slog.String("password", p.Password), slog.String("from", p.From),
		slog.String("ca_cert", p.CACertFile), slog.Duration("timeout", p.Timeout))
}

// redacted is l with the bind password replaced, for printing.
func (l LDAP) redacted() ldapPrinted {
	p := ldapPrinted(l)
	if p.BindPassword != "" {
		p.BindPassword = "(sensitive)"
	}
	return p
}

// ldapPrinted is LDAP without its methods, so that printing it does not
// call String again.
type ldapPrinted LDAP

// String prints l without its bind password, so a %v in a log or an
// error cannot leak it.
func (l LDAP) String() string { return fmt.Sprintf("%+v", l.redacted()) }

// GoString is String for %#v.
func (l LDAP) GoString() string { return fmt.Sprintf("%#v", l.redacted()) }

// LogValue logs l without its bind password.
func (l LDAP) LogValue() slog.Value {
	p := l.redacted()
	return slog.GroupValue(
		slog.String("url", p.URL), slog.Bool("start_tls", p.StartTLS), slog.Bool("insecure", p.Insecure),
		slog.String("ca_file", p.CAFile), slog.String("bind_dn", p.BindDN), slog.String("bind_password", p.BindPassword),
		slog.String("user_base", p.UserBase), slog.String("user_filter", p.UserFilter), slog.String("group_base", p.GroupBase),
		slog.Any("roles", p.Roles), slog.Duration("timeout", p.Timeout))
}
