package hcl

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/alerts"
)

// issueForms is the configuration the watch service is specified with,
// written exactly so.
const issueForms = `smtp {
  host       = "127.0.0.1"
  port       = 2525
  encryption = "none"
  from       = "inkform@example.test"
}
alert_route "jams" {
  match {
    events   = ["jam", "door_open"]
    printers = ["lab-*"]
  }
  email {
    to = ["helpdesk@example.test"]
  }
  grace         = "0s"
  group_wait    = "0s"
  also_on_clear = true
}
watch {
  traps {
    listen = "127.0.0.1:1162"
    allow  = ["127.0.0.0/8"]
  }
  poll = "5m"
}
`

const labPrinter = "printer \"lab-1\" {\n  address = \"10.0.0.1\"\n}\n"

func TestLoadAlertingForms(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": issueForms, "printers.hcl": labPrinter})
	cfg, diags := Load(dir, LoadOptions{})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("Load: %s", diagText(diags))
	}
	wantSMTP := &alerts.SMTP{Host: "127.0.0.1", Port: 2525, Encryption: "none", From: "inkform@example.test", Timeout: alerts.DefaultSMTPTimeout}
	if diff := cmp.Diff(wantSMTP, cfg.SMTP); diff != "" {
		t.Errorf("SMTP (-want +got):\n%s", diff)
	}
	wantRoutes := []alerts.Route{{
		Name:          "jams",
		Match:         alerts.Match{Events: []string{"jam", "door_open"}, Printers: []string{"lab-*"}},
		Email:         alerts.Email{To: []string{"helpdesk@example.test"}},
		Grace:         0,
		Repeat:        alerts.DefaultRepeat,
		AlsoOnClear:   true,
		GroupWait:     0,
		GroupInterval: alerts.DefaultGroupInterval,
	}}
	if diff := cmp.Diff(wantRoutes, cfg.Routes); diff != "" {
		t.Errorf("Routes (-want +got):\n%s", diff)
	}
	wantWatch := &alerts.Watch{
		Traps:        &alerts.Traps{Listen: "127.0.0.1:1162", Allow: []string{"127.0.0.0/8"}},
		Poll:         5 * time.Minute,
		TrapTTL:      alerts.DefaultTrapTTL,
		OfflineAfter: alerts.DefaultOfflineAfter,
		LowPercent:   alerts.DefaultLowPercent,
		Retention:    alerts.DefaultRetention,
	}
	if diff := cmp.Diff(wantWatch, cfg.Watch); diff != "" {
		t.Errorf("Watch (-want +got):\n%s", diff)
	}
	if cfg.Reports != nil {
		t.Errorf("Reports = %+v, want none", cfg.Reports)
	}
}

func TestLoadAlertingEveryAttribute(t *testing.T) {
	src := `variable "smtp_password" {
  type      = string
  sensitive = true
}
smtp {
  host       = "smtp.example.com"
  encryption = "ssl"
  username   = "inkform"
  password   = var.smtp_password
  from       = "Print Alerts <inkform@example.com>"
  ca_cert    = "ca.pem"
  timeout    = "10s"
}
alert_route "supplies" {
  match {
    events   = ["supply_low", "supply_empty", "supply_low"]
    severity = ["warning", "critical"]
    printers = ["hq-2f-east", "lab-*"]
    keywords = ["hq"]
  }
  email {
    to = ["helpdesk@example.com", "Facilities <facilities@example.com>"]
    cc = ["it-lead@example.com"]
  }
  grace          = "5m"
  repeat         = "1h30m"
  also_on_clear  = false
  group_wait     = "1m"
  group_interval = "10m"
  subject        = "[{{.Severity}}] {{.Printer}}: {{.Event}}"
  body           = <<EOT
{{range .Alerts}}{{.Time.Format "2006-01-02 15:04"}} {{.Printer}} ({{.Location}}): {{.Description}}
{{end}}Keywords: {{join .Keywords ", "}}
EOT
}
alert_route "all" {
  email {
    to = ["noc@example.com"]
  }
}
watch {
  traps {
    allow = ["10.20.0.0/16", "fd00::/8", "192.0.2.7"]
  }
  npap {
    listen = "127.0.0.1:19187"
    allow  = ["10.30.0.0/16"]
  }
  poll          = "1m"
  trap_ttl      = "30m"
  offline_after = 3
  low_percent   = 10
  retention     = "30d"
  drift {
    every   = "15m"
    enforce = true
  }
}
report "weekly-supplies" {
  schedule = "0 7 * * MON"
  view     = "supplies"
  email {
    to = ["ops@example.com"]
  }
}
report "daily" {
  schedule = "@daily"
  view     = "page_counts"
  email {
    to = ["ops@example.com"]
    cc = ["finance@example.com"]
  }
}
`
	dir := writeConfig(t, map[string]string{"main.hcl": src, "printers.hcl": labPrinter + "printer \"hq-2f-east\" {\n  address = \"10.0.0.2\"\n}\n", "ca.pem": testCAPEM(t)})
	cfg, diags := Load(dir, LoadOptions{Env: []string{"INKFORM_VAR_smtp_password=hunter2-smtp"}})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("Load: %s", diagText(diags))
	}
	wantSMTP := &alerts.SMTP{
		Host: "smtp.example.com", Port: 465, Encryption: "ssl", Username: "inkform", Password: "hunter2-smtp",
		From: "Print Alerts <inkform@example.com>", CACertFile: filepath.Join(dir, "ca.pem"), Timeout: 10 * time.Second,
	}
	if diff := cmp.Diff(wantSMTP, cfg.SMTP); diff != "" {
		t.Errorf("SMTP (-want +got):\n%s", diff)
	}
	wantRoutes := []alerts.Route{
		{
			Name:          "all",
			Email:         alerts.Email{To: []string{"noc@example.com"}},
			Repeat:        alerts.DefaultRepeat,
			GroupWait:     alerts.DefaultGroupWait,
			GroupInterval: alerts.DefaultGroupInterval,
		},
		{
			Name: "supplies",
			Match: alerts.Match{
				Events:   []string{"supply_low", "supply_empty"},
				Severity: []alerts.Severity{alerts.Warning, alerts.Critical},
				Printers: []string{"hq-2f-east", "lab-*"},
				Keywords: []string{"hq"},
			},
			Email: alerts.Email{
				To: []string{"helpdesk@example.com", "Facilities <facilities@example.com>"},
				Cc: []string{"it-lead@example.com"},
			},
			Grace:         5 * time.Minute,
			Repeat:        90 * time.Minute,
			GroupWait:     time.Minute,
			GroupInterval: 10 * time.Minute,
			Subject:       "[{{.Severity}}] {{.Printer}}: {{.Event}}",
			Body:          "{{range .Alerts}}{{.Time.Format \"2006-01-02 15:04\"}} {{.Printer}} ({{.Location}}): {{.Description}}\n{{end}}Keywords: {{join .Keywords \", \"}}\n",
		},
	}
	if diff := cmp.Diff(wantRoutes, cfg.Routes, cmpEmptyNil()); diff != "" {
		t.Errorf("Routes (-want +got):\n%s", diff)
	}
	wantWatch := &alerts.Watch{
		Traps:        &alerts.Traps{Listen: alerts.DefaultTrapListen, Allow: []string{"10.20.0.0/16", "fd00::/8", "192.0.2.7/32"}},
		NPAP:         &alerts.NPAP{Listen: "127.0.0.1:19187", Allow: []string{"10.30.0.0/16"}},
		Poll:         time.Minute,
		TrapTTL:      30 * time.Minute,
		OfflineAfter: 3,
		LowPercent:   10,
		Retention:    30 * 24 * time.Hour,
		Drift:        &alerts.DriftCheck{Every: 15 * time.Minute, Enforce: true},
	}
	if diff := cmp.Diff(wantWatch, cfg.Watch); diff != "" {
		t.Errorf("Watch (-want +got):\n%s", diff)
	}
	wantReports := []alerts.Report{
		{Name: "daily", Schedule: "@daily", View: "page_counts", Email: alerts.Email{To: []string{"ops@example.com"}, Cc: []string{"finance@example.com"}}},
		{Name: "weekly-supplies", Schedule: "0 7 * * MON", View: "supplies", Email: alerts.Email{To: []string{"ops@example.com"}}},
	}
	if diff := cmp.Diff(wantReports, cfg.Reports); diff != "" {
		t.Errorf("Reports (-want +got):\n%s", diff)
	}
}

func TestSMTPDefaults(t *testing.T) {
	for _, tt := range []struct {
		encryption string
		port       int
	}{{"", 587}, {`encryption = "starttls"`, 587}, {`encryption = "ssl"`, 465}, {`encryption = "none"`, 25}} {
		src := "smtp {\n  host = \"mail.example.com\"\n  from = \"inkform@example.com\"\n  " + tt.encryption + "\n}\n"
		cfg := mustLoad(t, writeConfig(t, map[string]string{"main.hcl": src}), LoadOptions{})
		want := tt.encryption
		if want == "" {
			want = `encryption = "starttls"`
		}
		if got := `encryption = "` + cfg.SMTP.Encryption + `"`; got != want || cfg.SMTP.Port != tt.port || cfg.SMTP.Timeout != alerts.DefaultSMTPTimeout {
			t.Errorf("%q: got %s port %d timeout %s, want %s port %d", tt.encryption, got, cfg.SMTP.Port, cfg.SMTP.Timeout, want, tt.port)
		}
	}
}

// TestWatchDiagnosticsGolden renders the diagnostics of a watch
// configuration with a mistake in every block, as validate prints them.
func TestWatchDiagnosticsGolden(t *testing.T) {
	files := map[string]*hhcl.File{}
	cfg, diags := Load(filepath.Join("testdata", "watch-broken"), LoadOptions{Files: files})
	if cfg != nil {
		t.Fatal("Load returned a Config for a broken configuration")
	}
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "written-in-clear") {
		t.Errorf("the diagnostics show the password")
	}
	golden := filepath.Join("testdata", "watch-broken.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("diagnostics differ from %s (-want +got):\n%s", golden, diff)
	}
}

// TestTemplatesAccepted: templates using what TemplateData offers load,
// and none is executed (a range over a huge number would not return).
func TestTemplatesAccepted(t *testing.T) {
	for _, tpl := range []string{
		`{{.Route}} {{.StatusPage}} {{.Printer}} {{.Model}} {{.Serial}} {{.Location}} {{.Event}} {{.Kind}} {{.Severity}} {{.Description}} {{.Link}}`,
		`{{.Time.Format "2006-01-02"}} {{.Time.UTC.Year}} {{join .Keywords ", "}} {{upper .Event | lower}}`,
		`{{range $i, $a := .Alerts}}{{$i}} {{$a.Printer}} {{.Event}} {{$.Route}}{{end}}`,
		`{{with .Alerts}}{{len .}} alerts{{else}}none{{end}}`,
		`{{range 100000000000}}{{end}}{{if eq .Kind "cleared"}}cleared{{end}}`,
		`{{define "line"}}{{.Printer}}: {{.Description}}{{end}}{{range .Alerts}}{{template "line" .}}{{end}}`,
		`{{(index .Alerts 0).Printer}} {{printf "%s" .Severity}}`,
	} {
		src := "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n}\nalert_route \"r\" {\n  email {\n    to = [\"a@example.com\"]\n  }\n  body = " + strconv.Quote(tpl) + "\n}\n"
		cfg, diags := Load(writeConfig(t, map[string]string{"main.hcl": src}), LoadOptions{})
		if cfg == nil || len(diags) > 0 {
			t.Errorf("%s: %s", tpl, diagText(diags))
			continue
		}
		if cfg.Routes[0].Body != tpl {
			t.Errorf("body %q, want %q", cfg.Routes[0].Body, tpl)
		}
	}
}

// TestAlertingDocumented checks that docs/language.md lists every event
// name, view and template field, and documents every attribute and block
// of the watch service's blocks.
func TestAlertingDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "language.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	events := doc[strings.Index(doc, "| `events` |"):]
	events = events[:strings.IndexByte(events, '\n')]
	for _, n := range eventNames {
		if !strings.Contains(events, "`"+n+"`") {
			t.Errorf("the events row lacks %q", n)
		}
	}
	for _, v := range viewNames {
		if !strings.Contains(doc, `"`+v+`"`) {
			t.Errorf("docs lack the view %q", v)
		}
	}
	for _, f := range exportedFields(reflect.TypeFor[alerts.TemplateData]()) {
		if !strings.Contains(doc, "`."+f+"`") {
			t.Errorf("docs lack the template field .%s", f)
		}
	}
	for _, s := range []*hhcl.BodySchema{smtpSchema, alertRouteSchema, matchSchema, emailSchema, watchSchema, trapsSchema, driftSchema, statusPageSchema, ldapSchema, kerberosSchema, reportSchema} {
		for _, a := range s.Attributes {
			if !strings.Contains(doc, "| `"+a.Name+"`") && !strings.Contains(doc, "`"+a.Name+"` |") && !strings.Contains(doc, ", `"+a.Name+"`") {
				t.Errorf("docs lack a row for the attribute %s", a.Name)
			}
		}
		for _, bl := range s.Blocks {
			if !strings.Contains(doc, "`"+bl.Type+"`") {
				t.Errorf("docs lack the block %s", bl.Type)
			}
		}
	}
	for _, h := range []string{"## smtp", "## alert_route", "## watch", "## report"} {
		if !strings.Contains(doc, "\n"+h+"\n") {
			t.Errorf("docs lack the section %q", h)
		}
	}
}

// TestRouteAndReportForms: the forms the documentation shows load without
// a warning.
func TestRouteAndReportForms(t *testing.T) {
	src := `smtp {
  host = "mail.example.com"
  from = "inkform@example.com"
}
printer "fleet" {
  for_each = toset(["a.example.com", "b.example.com"])
  address  = each.value
}
alert_route "fleet" {
  match {
    printers = ["fleet\\[*", "fleet[\"a.example.com\"]"]
  }
  email {
    to = ["a@example.com"]
  }
}
report "office-hours" {
  schedule = "*/30 8-18 * * 1-5"
  view     = "alerts"
  email {
    to = ["a@example.com"]
  }
}
report "berlin" {
  schedule = "TZ=Europe/Berlin 0 7 * * MON"
  view     = "drift"
  email {
    to = ["a@example.com"]
  }
}
report "often" {
  schedule = "@every 6h"
  view     = "inventory"
  email {
    to = ["a@example.com"]
  }
}
`
	cfg, diags := Load(writeConfig(t, map[string]string{"main.hcl": src}), LoadOptions{})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("Load: %s", diagText(diags))
	}
	if got := cfg.Routes[0].Match.Printers; !cmp.Equal(got, []string{`fleet\[*`, `fleet["a.example.com"]`}) {
		t.Errorf("printers = %q", got)
	}
	var schedules []string
	for _, r := range cfg.Reports {
		schedules = append(schedules, r.Schedule)
	}
	if want := []string{"TZ=Europe/Berlin 0 7 * * MON", "*/30 8-18 * * 1-5", "@every 6h"}; !cmp.Equal(schedules, want) {
		t.Errorf("schedules = %q, want %q", schedules, want)
	}
}

func TestSourceOffset(t *testing.T) {
	tests := []struct {
		src, value string
		off, want  int
		ok         bool
	}{
		{`abc`, "abc", 2, 2, true},
		{`a\"b\"c`, `a"b"c`, 4, 6, true},
		{`x\ny`, "x\ny", 2, 3, true},
		{`\u00e9!`, "é!", 2, 6, true},
		{`$${a}`, "${a}", 2, 3, true},
		{`    one`, "one", 1, 0, false}, // an indented heredoc's stripped margin
		{`abc`, "abc", 4, 0, false},
		{`\u00zz`, "x", 1, 0, false},
	}
	for _, tt := range tests {
		got, ok := sourceOffset(tt.src, tt.value, tt.off)
		if got != tt.want || ok != tt.ok {
			t.Errorf("sourceOffset(%q, %q, %d) = %d, %v; want %d, %v", tt.src, tt.value, tt.off, got, ok, tt.want, tt.ok)
		}
	}
}
