// Package fleet holds the model every stage shares: printers as declared in
// configuration (Printer) and printers as read from the network (Observation).
// It has no behaviour beyond small helpers; hcl produces it, providers fill
// observations, planner compares the two.
package fleet

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultSNMPPort is used when a printer's address carries no port.
const DefaultSNMPPort = 161

// Printer is one printer as declared. Values are final: variables, locals,
// for_each and configuration inheritance have already been applied.
type Printer struct {
	// Name is the address of the block: `hq-2f-east`, or `fleet["hq-2f-east"]`
	// for an instance of a for_each block.
	Name string
	// Host and Port say where the printer's SNMP agent answers.
	Host string
	Port int
	// Serial pins the device identity; empty means no pin.
	Serial        string
	Keywords      []string
	Configuration string // name of the configuration block, "" when none
	Credentials   Credentials
	// Transports lists, in order of preference, the protocols that may
	// carry settings and files, by their names in the catalog's transport
	// table. Empty means ["snmp"]. Facts are always observed over SNMP.
	Transports []string
	// Ports overrides a transport's standard port (the catalog's transport
	// table has them), keyed by transport name.
	Ports map[string]int
	// TLSFingerprint pins the printer's HTTPS certificate ("sha256:<hex>");
	// CACertFile, when set instead, verifies it against that CA bundle.
	TLSFingerprint string
	CACertFile     string
	// Secured marks a printer that must be reached only over
	// authenticated channels: its settings go over lst, SNMPv3 with an
	// auth protocol, or a TLS transport (https) with admin credentials,
	// never plain SNMP v1/v2c, PJL, HTTP or FTP; its files only over
	// https with admin credentials. Facts are still read over SNMP.
	Secured bool
	// Settings holds desired values, sorted by Name, one per setting.
	Settings []Desired
	// Files are deployed in order (certificates, settings bundles).
	Files []File
	// Firmware, when set, is the firmware the printer should run if its
	// model matches the firmware's patterns.
	Firmware *Firmware
}

// Address returns host:port.
func (p Printer) Address() string {
	return joinHostPort(p.Host, p.Port)
}

// Setting returns the desired value of the named setting.
func (p Printer) Setting(name string) (Desired, bool) {
	i := sort.Search(len(p.Settings), func(i int) bool { return p.Settings[i].Name >= name })
	if i < len(p.Settings) && p.Settings[i].Name == name {
		return p.Settings[i], true
	}
	return Desired{}, false
}

// SettingNames returns the names of the declared settings, sorted.
func (p Printer) SettingNames() []string {
	out := make([]string, len(p.Settings))
	for i, d := range p.Settings {
		out[i] = d.Name
	}
	return out
}

// SerialMismatch returns why an observed serial does not satisfy the
// printer's pin, or "" when it does (or nothing is pinned).
func (p Printer) SerialMismatch(observed string) string {
	pinned := strings.TrimSpace(p.Serial)
	if pinned == "" {
		return ""
	}
	got := strings.TrimSpace(observed)
	if got == "" {
		return fmt.Sprintf("serial mismatch: pinned %q, device reports no serial", pinned)
	}
	if !strings.EqualFold(pinned, got) {
		return fmt.Sprintf("serial mismatch: pinned %q, device reports %q", pinned, got)
	}
	return ""
}

// Desired is the value a setting should have. Values are carried as their
// canonical string form; the settings catalog knows each setting's type.
type Desired struct {
	Name      string
	Value     string
	Sensitive bool // derived from a sensitive variable: never displayed
}

// Credentials are how inkform authenticates to a printer. They are secret:
// never print, log or store them.
type Credentials struct {
	Name  string // the credentials block's name, "" for defaults
	SNMP  SNMP
	Admin Admin
}

// Admin is the printer's administrator login for FTP, HTTP(S) and PJL
// (where the printer protects PJL with a password).
type Admin struct {
	Username string
	Password string
}

// File is a file to deploy to a printer.
type File struct {
	Source string // absolute path on this machine
	SHA256 string // hex, computed when the configuration is loaded
	Size   int64
	Via    string // a transport that carries files, e.g. "ftp"; "" = first file-capable transport
	Dest   string // name on the printer; default the source's base name
}

// RemoteName is the name the file gets on the printer: Dest, or the base
// name of Source ("" when both are empty).
func (f File) RemoteName() string {
	if f.Dest != "" || f.Source == "" {
		return f.Dest
	}
	return filepath.Base(f.Source)
}

// Firmware is a firmware image and where it applies.
type Firmware struct {
	Name    string   // the firmware block's name
	Models  []string // path.Match patterns against the observed model
	Version string   // the version the printer should report after install
	File    File
	Rollout Rollout
}

// Rollout stages a firmware upgrade across the fleet: a canary batch first,
// then batches of the same size; the rest halts after MaxFailures failures.
type Rollout struct {
	Batch       int // 0 = all at once
	MaxFailures int // 0 = halt at the first failure
}

// SNMP versions.
const (
	SNMPv1  = "1"
	SNMPv2c = "2c"
	SNMPv3  = "3"
)

// SNMP holds SNMP credentials. For v1/v2c only Community is used; for v3 the
// User and the protocols with their passphrases (empty protocol = not used:
// noAuthNoPriv, authNoPriv or authPriv follow from which are set).
type SNMP struct {
	Version        string // "1", "2c" or "3"; "" means "2c"
	Community      string
	User           string
	AuthProtocol   string // "MD5", "SHA", "SHA256" or ""
	AuthPassphrase string
	PrivProtocol   string // "DES", "AES" or ""
	PrivPassphrase string
	// Timeout per request and Retries after the first attempt; zero values
	// mean the provider's defaults, a negative Retries means none.
	Timeout time.Duration
	Retries int
}

// Observation is what was read from one printer. Observing never changes it.
type Observation struct {
	// Vendor is the brand the identity rules (catalog.Devices) recognised,
	// e.g. "HP", "Lexmark"; "" when no rule knows the device.
	Vendor string
	// Model is the product name without serials, engine codes or firmware
	// fields, e.g. "Dell S5830dn"; it keeps the brand so that firmware
	// blocks' patterns ("Lexmark *") match it.
	Model    string
	Serial   string
	Firmware string
	// SysDescr is the raw sysDescr, kept for reference.
	SysDescr string
	// Status is one of the Status* values.
	Status string
	// Errors names the hrPrinterDetectedErrorState bits set, by their
	// RFC 3805 names, e.g. "lowToner".
	Errors     []string
	Supplies   []Supply      // in device order
	PageCount  int64         // prtMarkerLifeCount; -1 when unknown
	Uptime     time.Duration // sysUpTime: a reset means the printer rebooted
	ObservedAt time.Time
	// Settings holds the current value of every requested setting the
	// printer supports, keyed by setting name.
	Settings map[string]string
	// Unsupported lists requested settings the printer does not support.
	Unsupported []string
	// UnsupportedWhy says, per setting in Unsupported when known, why:
	// "no route over snmp; add pjl or http to transports", "pjl: port
	// 9100 closed", "the printer does not answer it over snmp".
	UnsupportedWhy map[string]string
	// Transport names how the facts were observed ("snmp").
	Transport string
	// SettingTransports names, per setting in Settings, the transport that
	// read it and will write it.
	SettingTransports map[string]string
	// Notes explain transport choices, e.g. "pjl: port 9100 closed; using snmp".
	Notes []string
	// Alerts is the printer's prtAlertTable (RFC 3805) when it was asked
	// for (watch polls it; plans do not), in table order; AlertsRead says
	// whether the printer has the table at all.
	Alerts     []Alert
	AlertsRead bool
}

// Alert is one row of the printer's prtAlertTable: an alert active now.
type Alert struct {
	Index       int // prtAlertIndex
	Severity    int // prtAlertSeverityLevel: 1 other, 3 critical, 4 warning, 5 warningBinaryChangeEvent
	Training    int // prtAlertTrainingLevel
	Group       int // prtAlertGroup (the subunit: 8 input, 9 output, 11 supplies, …)
	GroupIndex  int // prtAlertGroupIndex: which input, supply, …
	Location    int // prtAlertLocation
	Code        int // prtAlertCode
	Description string
}

// Printer statuses: one vocabulary for every observation, plan and event.
const (
	StatusIdle     = "idle"
	StatusPrinting = "printing"
	StatusWarmup   = "warmup"
	// StatusWarning: the printer works but needs attention soon (low
	// supplies, service requested).
	StatusWarning = "warning"
	// StatusDown: the printer cannot print (jam, door open, empty supply).
	StatusDown    = "down"
	StatusOffline = "offline"
	StatusUnknown = "unknown"
)
