package hcl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

const (
	firmwareSHA = "da261de1f19b3c25622e0e8bb1b3acb6a30927579a250ab00cccb3848597cd1d"
	bundleSHA   = "1e90f6add608c6a5d175684baa3d9932e91c9fb9b60383ecef67b6329ac6a728"
)

func TestLoadDelivery(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "delivery"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustLoad(t, dir, LoadOptions{})
	if len(cfg.Printers) != 3 {
		t.Fatalf("%d printers", len(cfg.Printers))
	}
	ca := filepath.Join(dir, "certs", "ca.pem")
	caInfo, err := os.Stat(ca)
	if err != nil {
		t.Fatal(err)
	}
	wantFirmware := &fleet.Firmware{
		Name: "cx725", Models: []string{"Lexmark CX725*"}, Version: "CXTPC.230.037",
		File: fleet.File{
			Source: filepath.Join(dir, "firmware", "CXTPC.230.037.fls"), SHA256: firmwareSHA, Size: 25,
			Via: "ftp", Dest: "CXTPC.230.037.fls",
		},
		Rollout: fleet.Rollout{Batch: 10, MaxFailures: 1},
	}
	officeFiles := []fleet.File{
		{Source: ca, SHA256: fileSHA(t, ca), Size: caInfo.Size(), Via: "https", Dest: "ca.pem"},
		{Source: filepath.Join(dir, "bundles", "office.ucf"), SHA256: bundleSHA, Size: 35, Via: "ftp", Dest: "settings/office.ucf"},
	}

	east, _ := cfg.Printer("hq-2f-east")
	type delivery struct {
		Transports     []string
		Ports          map[string]int
		TLSFingerprint string
		CACertFile     string
		Files          []fleet.File
		Firmware       *fleet.Firmware
	}
	get := func(p fleet.Printer) delivery {
		return delivery{p.Transports, p.Ports, p.TLSFingerprint, p.CACertFile, p.Files, p.Firmware}
	}
	// The printer's fingerprint replaces the configuration's CA; its ports
	// replace the configuration's ports; the rest is inherited.
	want := delivery{
		Transports:     []string{"pjl", "snmp", "https"},
		Ports:          map[string]int{"pjl": 9100},
		TLSFingerprint: "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
		Files:          officeFiles,
		Firmware:       wantFirmware,
	}
	if diff := cmp.Diff(want, get(east)); diff != "" {
		t.Errorf("hq-2f-east (-want +got):\n%s", diff)
	}
	if east.Credentials.Admin != (fleet.Admin{Username: "admin", Password: "s3cret-admin"}) {
		t.Errorf("admin credentials = %+v", east.Credentials.Admin)
	}
	settings := map[string]string{}
	for _, d := range east.Settings {
		settings[d.Name] = d.Value
	}
	wantSettings := map[string]string{
		"system.contact": "IT Service Desk x4000", "power.sleep_timeout_min": "15", "paper.default_size": "A4",
		"print.duplex": "true", "acme.tray_lock": "1", "acme.finisher": "staple", "acme.welcome_text": "Welcome to HQ 2F",
	}
	if diff := cmp.Diff(wantSettings, settings); diff != "" {
		t.Errorf("hq-2f-east settings (-want +got):\n%s", diff)
	}

	third, _ := cfg.Printer("hq-3f")
	want = delivery{
		Transports: []string{"snmp"},
		Ports:      map[string]int{"pjl": 19100, "https": 8443},
		CACertFile: ca,
		Files:      nil, // an empty list at the printer deploys nothing
		Firmware:   wantFirmware,
	}
	if diff := cmp.Diff(want, get(third), cmpEmptyNil(), cmp.FilterValues(func(a, b []fleet.File) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())); diff != "" {
		t.Errorf("hq-3f (-want +got):\n%s", diff)
	}
	if east.Firmware != third.Firmware {
		t.Error("printers of one configuration should share one Firmware value")
	}

	lobby, _ := cfg.Printer("lobby")
	if diff := cmp.Diff(delivery{}, get(lobby)); diff != "" {
		t.Errorf("lobby declares nothing (-want +got):\n%s", diff)
	}
	if lobby.Credentials.Admin != (fleet.Admin{}) {
		t.Error("default credentials carry an admin login")
	}

	// The configuration's catalog holds its own settings beside the
	// built-in ones; the built-in catalog is untouched.
	lock, ok := cfg.Catalog.Lookup("acme.tray_lock")
	if !ok {
		t.Fatal("Config.Catalog lacks acme.tray_lock")
	}
	if lock.Type != catalog.TypeInteger || lock.SNMP == nil || lock.SNMP.OID != "1.3.6.1.4.1.99999.1.2.0" || lock.SNMP.Type != "integer" || *lock.Max != 1 || lock.Default != "0" {
		t.Errorf("acme.tray_lock = %+v (type follows from the SNMP type)", lock)
	}
	fin, _ := cfg.Catalog.Lookup("acme.finisher")
	if fin.PJL == nil || fin.PJL.DeviceValue("off") != "NONE" || fin.NPAP == nil || fin.NPAP.ID != 4097 {
		t.Errorf("acme.finisher = %+v", fin)
	}
	welcome, _ := cfg.Catalog.Lookup("acme.welcome_text")
	if welcome.Bindings("hp").Any() || welcome.Bindings("lexmark").EWS == nil {
		t.Errorf("acme.welcome_text families not applied: %+v", welcome)
	}
	if _, ok := cfg.Catalog.Lookup("print.duplex"); !ok {
		t.Error("Config.Catalog lacks the built-in settings")
	}
	if _, ok := catalog.Default().Lookup("acme.tray_lock"); ok {
		t.Error("Load changed the built-in catalog")
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	d := hashFile(path)
	if d.err != nil {
		t.Fatal(d.err)
	}
	return d.sha256
}

// TestHashCoversDeployedFiles: a plan made before a deployed file changed
// must not match the configuration after the change.
func TestHashCoversDeployedFiles(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"main.hcl":   "configuration \"c\" {\n  files = [{ source = \"bundle.ucf\" }]\n}\nprinter \"a\" {\n  address = \"10.0.0.1\"\n  configuration = configuration.c\n}\n",
		"bundle.ucf": "one",
	})
	h1 := mustLoad(t, dir, LoadOptions{}).Hash
	if err := os.WriteFile(filepath.Join(dir, "bundle.ucf"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if h2 := mustLoad(t, dir, LoadOptions{}).Hash; h1 == h2 {
		t.Error("hash unchanged after a deployed file changed")
	}
}

func TestUserSettingWithoutTypeNeedsSNMPType(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": "setting \"acme.name\" {\n  snmp {\n    oid = \".1.3.6.1.4.1.99999.3.0\"\n  }\n  type = \"string\"\n}\n"})
	cfg := mustLoad(t, dir, LoadOptions{})
	s, _ := cfg.Catalog.Lookup("acme.name")
	if s.SNMP.Type != catalog.SNMPOctetString || s.SNMP.OID != "1.3.6.1.4.1.99999.3.0" {
		t.Errorf("acme.name = %+v: a string setting goes as an OCTET STRING, and a leading dot is dropped", s.SNMP)
	}
}

// TestDeliveryErrors checks each rule the language additions bring: the
// summary, words the message must contain, words it must not (secrets), and
// the line it points at.
func TestDeliveryErrors(t *testing.T) {
	const printer = "printer \"a\" {\n  address = \"10.0.0.1\"\n"
	tests := []struct {
		name    string
		src     string
		summary string
		detail  []string
		secret  string // must not appear in any diagnostic
		line    int
	}{
		// setting blocks
		{
			name:    "setting name collides with built-in",
			src:     "setting \"system.contact\" {\n  type = \"string\"\n  ews { field = \"x\" }\n}\n",
			summary: "Setting name taken", detail: []string{`"system.contact" is a built-in setting`, "acme.contact"}, line: 1,
		},
		{
			name:    "setting name malformed",
			src:     "setting \"Acme Lock\" {\n  type = \"string\"\n  ews { field = \"x\" }\n}\n",
			summary: "Invalid setting name", detail: []string{`"Acme Lock"`}, line: 1,
		},
		{
			name:    "setting declared twice",
			src:     "setting \"acme.x\" {\n  type = \"string\"\n  ews { field = \"x\" }\n}\nsetting \"acme.x\" {\n  type = \"string\"\n  ews { field = \"x\" }\n}\n",
			summary: "Duplicate setting", detail: []string{"main.hcl:1,1"}, line: 5,
		},
		{
			name:    "setting without binding",
			src:     "setting \"acme.x\" {\n  type = \"string\"\n}\n",
			summary: "Invalid setting declaration", detail: []string{`Setting "acme.x"`, "at least one of snmp, pjl, ews or npap"}, line: 1,
		},
		{
			name:    "setting npap id out of range",
			src:     "setting \"acme.x\" {\n  type = \"string\"\n  npap { id = 70000 }\n}\n",
			summary: "Invalid setting declaration", detail: []string{"npap.id must be a whole number from 1 to 65535"}, line: 3,
		},
		{
			name:    "setting without type",
			src:     "setting \"acme.x\" {\n  ews { field = \"x\" }\n}\n",
			summary: "Missing setting type", detail: []string{`"string"`, `"bool"`}, line: 1,
		},
		{
			name:    "setting unknown type",
			src:     "setting \"acme.x\" {\n  ews { field = \"x\" }\n  type = \"float\"\n}\n",
			summary: "Invalid setting declaration", detail: []string{`unknown type "float"`}, line: 3,
		},
		{
			name:    "setting bad oid",
			src:     "setting \"acme.x\" {\n  snmp {\n    oid  = \"1.3.six\"\n    type = \"integer\"\n  }\n}\n",
			summary: "Invalid setting declaration", detail: []string{`"1.3.six" is not a numeric OID`}, line: 3,
		},
		{
			name:    "setting snmp integer for string",
			src:     "setting \"acme.x\" {\n  type = \"string\"\n  snmp {\n    oid  = \"1.3.6.1.4.1.9.1\"\n    type = \"integer\"\n  }\n}\n",
			summary: "Invalid setting declaration", detail: []string{"this setting is string"}, line: 5,
		},
		{
			name:    "setting min above max",
			src:     "setting \"acme.x\" {\n  type = \"integer\"\n  min = 5\n  max = 1\n  pjl { variable = \"X\" }\n}\n",
			summary: "Invalid setting declaration", detail: []string{"max 1 is below min 5"}, line: 4,
		},
		{
			name:    "setting fractional min",
			src:     "setting \"acme.x\" {\n  type = \"integer\"\n  min = 0.5\n  pjl { variable = \"X\" }\n}\n",
			summary: "Invalid setting declaration", detail: []string{"min must be a whole number"}, line: 3,
		},
		{
			name:    "setting default out of range",
			src:     "setting \"acme.x\" {\n  type = \"integer\"\n  max = 3\n  default = 9\n  pjl { variable = \"X\" }\n}\n",
			summary: "Invalid setting declaration", detail: []string{"9 is out of range"}, line: 4,
		},
		{
			name:    "setting empty enum",
			src:     "setting \"acme.x\" {\n  type = \"enum\"\n  enum = []\n  ews { field = \"x\" }\n}\n",
			summary: "Invalid setting declaration", detail: []string{"at least one allowed value"}, line: 3,
		},
		{
			name:    "setting bad pjl variable",
			src:     "setting \"acme.x\" {\n  type = \"integer\"\n  pjl {\n    variable = \"tray lock!\"\n  }\n}\n",
			summary: "Invalid setting declaration", detail: []string{"not a PJL variable name"}, line: 4,
		},
		{
			name:    "setting pjl values for unknown value",
			src:     "setting \"acme.x\" {\n  type = \"enum\"\n  enum = [\"a\"]\n  pjl {\n    variable = \"X\"\n    values = { b = \"B\" }\n  }\n}\n",
			summary: "Invalid setting declaration", detail: []string{`"b" is not one of`}, line: 6,
		},
		{
			name:    "setting bad ews field",
			src:     "setting \"acme.x\" {\n  type = \"string\"\n  ews {\n    field = \"Tray-Lock\"\n  }\n}\n",
			summary: "Invalid setting declaration", detail: []string{"not a form field name"}, line: 4,
		},
		{
			name:    "setting unknown family",
			src:     "setting \"acme.x\" {\n  type = \"string\"\n  families = [\"canon\"]\n  ews { field = \"x\" }\n}\n",
			summary: "Invalid setting declaration", detail: []string{`unknown model family "canon"`}, line: 3,
		},
		{
			name:    "setting two snmp blocks",
			src:     "setting \"acme.x\" {\n  type = \"integer\"\n  snmp { oid = \"1.3.6.1.4.1.9.1\" }\n  snmp { oid = \"1.3.6.1.4.1.9.2\" }\n}\n",
			summary: "Duplicate snmp block", line: 4,
		},
		{
			name:    "user setting value checked",
			src:     "setting \"acme.x\" {\n  type = \"integer\"\n  max = 1\n  pjl { variable = \"X\" }\n}\n" + printer + "  settings = { \"acme.x\" = 2 }\n}\n",
			summary: "Invalid setting value", detail: []string{"acme.x: 2 is out of range"}, line: 8,
		},
		{
			name:    "built-in bool value checked",
			src:     printer + "  settings = {\n    \"print.duplex\" = \"sometimes\"\n  }\n}\n",
			summary: "Invalid setting value", detail: []string{`"sometimes" is not true or false`}, line: 4,
		},
		// transports, ports, TLS trust
		{
			name:    "unknown transport",
			src:     printer + "  transports = [\"snmp\", \"ftps\"]\n}\n",
			summary: "Invalid transports", detail: []string{`"ftps" is not a transport; use ["snmp" "pjl" "ftp" "http" "https" "npap" "xmlnt" "lst"].`, `Did you mean "ftp"?`}, line: 3,
		},
		{
			name:    "transport twice",
			src:     printer + "  transports = [\"pjl\", \"pjl\"]\n}\n",
			summary: "Invalid transports", detail: []string{`"pjl" is listed twice`}, line: 3,
		},
		{
			name:    "no transports",
			src:     printer + "  transports = []\n}\n",
			summary: "Invalid transports", detail: []string{`at least one of ["snmp" "pjl" "ftp" "http" "https" "npap" "xmlnt" "lst"]; leave it out for ["snmp"].`}, line: 3,
		},
		{
			name:    "transports not a list",
			src:     printer + "  transports = { a = 1 }\n}\n",
			summary: "Invalid value for transports", line: 3,
		},
		{
			name:    "port out of range",
			src:     printer + "  ports = { pjl = 70000 }\n}\n",
			summary: "Invalid ports", detail: []string{"pjl port must be a whole number from 1 to 65535"}, line: 3,
		},
		{
			name:    "port for unknown transport",
			src:     printer + "  ports = { ipp = 631 }\n}\n",
			summary: "Invalid ports", detail: []string{`"ipp" is not a transport with a port of its own; use ["pjl" "ftp" "http" "https" "npap" "xmlnt" "lst"].`}, line: 3,
		},
		{
			name:    "snmp port in ports",
			src:     printer + "  ports = { snmp = 1161 }\n}\n",
			summary: "Invalid ports", detail: []string{`The SNMP port is part of the printer's address ("host:port"), not of ports.`}, line: 3,
		},
		{
			name:    "bad fingerprint",
			src:     printer + "  tls_fingerprint = \"md5:abcd\"\n}\n",
			summary: "Invalid TLS fingerprint", detail: []string{`"sha256:"`, "64 digits"}, line: 3,
		},
		{
			name:    "fingerprint without prefix",
			src:     printer + "  tls_fingerprint = \"" + strings.Repeat("ab", 32) + "\"\n}\n",
			summary: "Invalid TLS fingerprint", line: 3,
		},
		{
			name:    "missing ca_cert",
			src:     printer + "  ca_cert = \"certs/nope.pem\"\n}\n",
			summary: "Invalid CA certificate", detail: []string{"certs/nope.pem", "no such file"}, line: 3,
		},
		{
			name:    "ca_cert without certificate",
			src:     printer + "  ca_cert = \"main.hcl\"\n}\n",
			summary: "Invalid CA certificate", detail: []string{"no PEM certificate"}, line: 3,
		},
		{
			name:    "fingerprint and ca_cert",
			src:     printer + "  tls_fingerprint = \"sha256:" + strings.Repeat("ab", 32) + "\"\n  ca_cert = \"ca.pem\"\n}\n",
			summary: "Conflicting TLS trust", line: 4,
		},
		// admin credentials
		{
			name:    "admin without password",
			src:     "credentials \"c\" {\n  snmp { community = \"x\" }\n  admin {\n    username = \"admin\"\n  }\n}\n",
			summary: "Invalid admin credentials", detail: []string{`credentials "c"`, "needs a password"}, line: 3,
		},
		{
			name:    "admin password empty",
			src:     "credentials \"c\" {\n  snmp { community = \"x\" }\n  admin {\n    username = \"admin\"\n    password = \"\"\n  }\n}\n",
			summary: "Invalid admin credentials", detail: []string{"must not be empty"}, line: 5,
		},
		{
			name:    "admin password wrong type stays secret",
			src:     "variable \"pw\" {\n  default = [\"hunter2-secret\"]\n}\ncredentials \"c\" {\n  snmp { community = \"x\" }\n  admin {\n    username = \"admin\"\n    password = var.pw\n  }\n}\n",
			summary: "Invalid value for password", secret: "hunter2-secret", line: 8,
		},
		{
			name:    "two admin blocks",
			src:     "credentials \"c\" {\n  snmp { community = \"x\" }\n  admin {\n    username = \"a\"\n    password = \"b\"\n  }\n  admin {\n    username = \"a\"\n    password = \"b\"\n  }\n}\n",
			summary: "Duplicate admin block", line: 7,
		},
		{
			name:    "unknown admin attribute",
			src:     "credentials \"c\" {\n  snmp { community = \"x\" }\n  admin {\n    usernme = \"a\"\n  }\n}\n",
			summary: "Unsupported argument", detail: []string{`Did you mean "username"?`}, line: 4,
		},
		// files
		{
			name:    "missing file",
			src:     "configuration \"c\" {\n  files = [\n    { via = \"ftp\", source = \"certs/missing.pem\" },\n  ]\n}\n",
			summary: "Cannot read file", detail: []string{"File 1", "missing.pem", "no such file"}, line: 3,
		},
		{
			name:    "missing file from a local",
			src:     "locals {\n  files = [{ source = \"missing.pem\" }]\n}\nconfiguration \"c\" {\n  files = local.files\n}\n",
			summary: "Cannot read file", detail: []string{"missing.pem"}, line: 5,
		},
		{
			name:    "file bad via",
			src:     "configuration \"c\" {\n  files = [{\n    source = \"ca.pem\"\n    via    = \"scp\"\n  }]\n}\n",
			summary: "Invalid files", detail: []string{`via "scp" is not a transport that carries files; use one of ["ftp" "http" "https" "pjl"].`}, line: 4,
		},
		{
			name:    "file unknown key",
			src:     "configuration \"c\" {\n  files = [{ source = \"ca.pem\", destination = \"x\" }]\n}\n",
			summary: "Invalid files", detail: []string{`"destination" is not a file attribute`}, line: 2,
		},
		{
			name:    "file without source",
			src:     "printer \"a\" {\n  address = \"10.0.0.1\"\n  files = [{ via = \"ftp\" }]\n}\n",
			summary: "Invalid files", detail: []string{"source is required"}, line: 3,
		},
		{
			name:    "files not a list",
			src:     "configuration \"c\" {\n  files = \"ca.pem\"\n}\n",
			summary: "Invalid files", detail: []string{"list of objects"}, line: 2,
		},
		{
			name:    "files same destination",
			src:     "configuration \"c\" {\n  files = [\n    { source = \"ca.pem\" },\n    { source = \"ca.pem\", via = \"http\" },\n  ]\n}\n",
			summary: "Invalid files", detail: []string{`files 1 and 2 both deploy to "ca.pem"`}, line: 4,
		},
		{
			name:    "file dest climbs out",
			src:     "configuration \"c\" {\n  files = [{ source = \"ca.pem\", dest = \"../etc/passwd\" }]\n}\n",
			summary: "Invalid files", detail: []string{`".."`}, line: 2,
		},
		// firmware
		{
			name:    "firmware checksum mismatch",
			src:     "firmware \"f\" {\n  models  = [\"Lexmark CX725*\"]\n  version = \"1.0\"\n  file    = \"ca.pem\"\n  sha256  = \"" + strings.Repeat("0", 64) + "\"\n}\n",
			summary: "Firmware checksum mismatch", detail: []string{"ca.pem has SHA-256 ", "but sha256 says " + strings.Repeat("0", 64)}, line: 5,
		},
		{
			name:    "firmware sha256 malformed",
			src:     "firmware \"f\" {\n  models  = [\"Lexmark CX725*\"]\n  version = \"1.0\"\n  file    = \"ca.pem\"\n  sha256  = \"abc\"\n}\n",
			summary: "Invalid firmware", detail: []string{"64 hex digits"}, line: 5,
		},
		{
			name:    "firmware file missing",
			src:     "firmware \"f\" {\n  models  = [\"Lexmark CX725*\"]\n  version = \"1.0\"\n  file    = \"fw/missing.fls\"\n  sha256  = \"" + strings.Repeat("0", 64) + "\"\n}\n",
			summary: "Cannot read firmware file", detail: []string{`Firmware "f"`, "missing.fls"}, line: 4,
		},
		{
			name:    "firmware without sha256",
			src:     "firmware \"f\" {\n  models  = [\"Lexmark CX725*\"]\n  version = \"1.0\"\n  file    = \"ca.pem\"\n}\n",
			summary: "Missing required argument", detail: []string{"sha256"}, line: 1,
		},
		{
			name:    "firmware no models",
			src:     "firmware \"f\" {\n  models  = []\n  version = \"1.0\"\n  file    = \"ca.pem\"\n  sha256  = \"" + strings.Repeat("0", 64) + "\"\n}\n",
			summary: "Invalid firmware", detail: []string{"at least one model pattern"}, line: 2,
		},
		{
			name:    "firmware bad pattern",
			src:     "firmware \"f\" {\n  models  = [\"Lexmark [CX\"]\n  version = \"1.0\"\n  file    = \"ca.pem\"\n  sha256  = \"" + strings.Repeat("0", 64) + "\"\n}\n",
			summary: "Invalid firmware", detail: []string{`"Lexmark [CX" is malformed`}, line: 2,
		},
		{
			name:    "firmware bad via",
			src:     "firmware \"f\" {\n  models  = [\"L*\"]\n  version = \"1.0\"\n  via     = \"snmp\"\n  file    = \"ca.pem\"\n  sha256  = \"" + strings.Repeat("0", 64) + "\"\n}\n",
			summary: "Invalid firmware", detail: []string{`via "snmp" is not a transport that carries files; use one of ["ftp" "http" "https" "pjl"].`}, line: 4,
		},
		{
			name:    "rollout negative",
			src:     "firmware \"f\" {\n  models  = [\"L*\"]\n  version = \"1.0\"\n  file    = \"ca.pem\"\n  sha256  = \"" + strings.Repeat("0", 64) + "\"\n  rollout {\n    max_failures = -1\n  }\n}\n",
			summary: "Invalid firmware", detail: []string{"rollout max_failures must be a whole number from 0"}, line: 7,
		},
		{
			name:    "undeclared firmware",
			src:     "firmware \"cx725\" {\n  models  = [\"L*\"]\n  version = \"1.0\"\n  file    = \"ca.pem\"\n  sha256  = \"" + strings.Repeat("0", 64) + "\"\n}\nconfiguration \"c\" {\n  firmware = firmware.cx752\n}\n",
			summary: "Reference to undeclared firmware", detail: []string{`Did you mean "cx725"?`}, line: 8,
		},
		{
			name:    "firmware is not a string",
			src:     printer + "  firmware = \"cx725\"\n}\n",
			summary: "Invalid firmware reference", detail: []string{"firmware.example"}, line: 3,
		},
		{
			name:    "duplicate firmware",
			src:     "firmware \"f\" {\n}\nfirmware \"f\" {\n}\n",
			summary: "Duplicate firmware", detail: []string{"main.hcl:1,1"}, line: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": tt.src, "ca.pem": testCAPEM(t)})
			cfg, diags := Load(dir, LoadOptions{})
			if cfg != nil {
				t.Error("Load returned a Config despite errors")
			}
			var found *hhcl.Diagnostic
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no Subject", d.Summary)
				}
				if d.Severity == hhcl.DiagError && d.Summary == tt.summary && found == nil {
					found = d
				}
			}
			if found == nil {
				t.Fatalf("no error %q among:\n%s", tt.summary, diagText(diags))
			}
			for _, want := range tt.detail {
				if !strings.Contains(found.Detail, want) {
					t.Errorf("detail %q lacks %q", found.Detail, want)
				}
			}
			if found.Subject.Start.Line != tt.line {
				t.Errorf("subject %s: line %d, want %d", found.Subject, found.Subject.Start.Line, tt.line)
			}
			if tt.secret != "" {
				files := map[string]*hhcl.File{}
				_, diags := Load(dir, LoadOptions{Files: files})
				var buf strings.Builder
				_ = WriteDiagnostics(&buf, files, diags, false)
				// The source line may show the reference, never the value.
				if strings.Contains(buf.String(), tt.secret) {
					t.Errorf("diagnostics show the secret:\n%s", buf.String())
				}
			}
		})
	}
}

// TestBrokenSettingReportedOnce: uses of a setting whose declaration is
// wrong are not reported again as unknown settings.
func TestBrokenSettingReportedOnce(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": "setting \"acme.x\" {\n  type = \"integer\"\n}\nprinter \"a\" {\n  address = \"10.0.0.1\"\n  settings = { \"acme.x\" = 1 }\n}\n"})
	_, diags := Load(dir, LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Invalid setting declaration" {
		t.Errorf("want exactly the declaration's error, got:\n%s", diagText(diags))
	}
}

func testCAPEM(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "delivery", "certs", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSecured: a configuration marks its printers secured, and a printer's
// own secured replaces its configuration's.
func TestSecured(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
configuration "locked" {
  secured    = true
  transports = ["lst"]
}
printer "a" {
  address       = "10.0.0.1"
  configuration = configuration.locked
}
printer "b" {
  address       = "10.0.0.2"
  configuration = configuration.locked
  secured       = false
}
printer "c" {
  address = "10.0.0.3"
}
`})
	cfg := mustLoad(t, dir, LoadOptions{})
	for name, want := range map[string]bool{"a": true, "b": false, "c": false} {
		p, _ := cfg.Printer(name)
		if p.Secured != want {
			t.Errorf("printer %s: Secured = %v, want %v", name, p.Secured, want)
		}
	}
	a, _ := cfg.Printer("a")
	if len(a.Transports) != 1 || a.Transports[0] != "lst" {
		t.Errorf("printer a: transports %q", a.Transports)
	}
	bad := writeConfig(t, map[string]string{"main.hcl": "printer \"a\" {\n  address = \"10.0.0.1\"\n  secured = \"yes please\"\n}\n"})
	if _, err := Load(bad, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "secured") {
		t.Errorf("secured as a string: %v", err)
	}
}
