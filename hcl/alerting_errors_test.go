package hcl

import (
	"strings"
	"testing"

	hhcl "github.com/hashicorp/hcl/v2"
)

// TestAlertingMistakes checks that each mistake in the watch service's
// blocks yields exactly one diagnostic, at the place marked § in the
// source, with a message that helps.
func TestAlertingMistakes(t *testing.T) {
	const smtp = "smtp {\n  host = \"mail.example.com\"\n  from = \"inkform@example.com\"\n}\n"
	const secret = "variable \"pw\" {\n  type      = string\n  sensitive = true\n  default   = \"hunter2-smtp\"\n}\n"
	route := func(body string) string {
		return smtp + "alert_route \"r\" {\n  email {\n    to = [\"helpdesk@example.com\"]\n  }\n" + body + "}\n"
	}
	report := func(body string) string {
		return smtp + "report \"w\" {\n  email {\n    to = [\"ops@example.com\"]\n  }\n" + body + "}\n"
	}
	tests := []struct {
		name    string
		src     string
		warning bool
		summary string
		detail  []string
	}{
		// smtp
		{name: "smtp unknown attribute", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  §encrypton = \"ssl\"\n}\n",
			summary: "Unsupported argument", detail: []string{`Did you mean "encryption"?`}},
		{name: "smtp bad encryption", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  encryption = §\"starttl\"\n}\n",
			summary: "Invalid SMTP encryption", detail: []string{`"none", "ssl", "starttls"`, `Did you mean "starttls"?`}},
		{name: "smtp port zero", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  port = §0\n}\n",
			summary: "Invalid port", detail: []string{"from 1 to 65535"}},
		{name: "smtp bad from", src: "smtp {\n  host = \"m.example.com\"\n  from = §\"inkform\"\n}\n",
			summary: "Invalid email address", detail: []string{`"inkform" is not an email address`}},
		{name: "smtp missing from", src: "smtp §{\n  host = \"m.example.com\"\n}\n",
			summary: "Missing required argument", detail: []string{`"from"`}},
		{name: "smtp host with port", src: "smtp {\n  host = §\"m.example.com:587\"\n  from = \"a@example.com\"\n}\n",
			summary: "Invalid SMTP host", detail: []string{"set it with port"}},
		{name: "smtp bad host", src: "smtp {\n  host = §\"mail server\"\n  from = \"a@example.com\"\n}\n",
			summary: "Invalid SMTP host", detail: []string{"not a valid host name"}},
		{name: "smtp literal password", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  username = \"u\"\n  password = §\"hunter2-smtp\"\n}\n",
			warning: true, summary: "Password in the configuration", detail: []string{"sensitive variable"}},
		{name: "smtp username without password", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  username = §\"u\"\n}\n",
			summary: "Invalid SMTP credentials", detail: []string{"password is required"}},
		{name: "smtp password without username", src: secret + "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  password = §var.pw\n}\n",
			summary: "Invalid SMTP credentials", detail: []string{"username is required"}},
		{name: "smtp password in clear", src: secret + "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  encryption = \"none\"\n  username = \"u\"\n  password = §var.pw\n}\n",
			warning: true, summary: "SMTP password sent in clear", detail: []string{`"starttls"`}},
		{name: "smtp empty password", src: "variable \"pw\" {\n  sensitive = true\n  default = \"\"\n}\nsmtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  username = \"u\"\n  password = §var.pw\n}\n",
			summary: "Invalid SMTP credentials", detail: []string{"password must not be empty"}},
		{name: "smtp password of wrong type", src: "variable \"pw\" {\n  sensitive = true\n  default = [\"hunter2-smtp\"]\n}\nsmtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  username = \"u\"\n  password = §var.pw\n}\n",
			summary: "Invalid value for password", detail: []string{"string"}},
		{name: "smtp username from a sensitive variable is fine, a sensitive from is not", src: secret + "smtp {\n  host = \"m.example.com\"\n  from = §var.pw\n  username = var.pw\n  password = var.pw\n}\n",
			summary: "Sensitive value not allowed", detail: []string{"from address of the smtp block"}},
		{name: "smtp missing ca_cert", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  ca_cert = §\"nope.pem\"\n}\n",
			summary: "Invalid CA certificate", detail: []string{"nope.pem"}},
		{name: "smtp ca_cert not a certificate", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  ca_cert = §\"main.hcl\"\n}\n",
			summary: "Invalid CA certificate", detail: []string{"no PEM certificate"}},
		{name: "smtp sensitive host", src: secret + "smtp {\n  host = §var.pw\n  from = \"a@example.com\"\n}\n",
			summary: "Sensitive value not allowed", detail: []string{"host of the smtp block"}},
		{name: "smtp bad timeout", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  timeout = §\"soon\"\n}\n",
			summary: "Invalid duration", detail: []string{`timeout "soon" is not a duration`, `"1h30m"`}},
		{name: "smtp timeout without unit", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  timeout = §30\n}\n",
			summary: "Invalid duration", detail: []string{"has no unit"}},
		{name: "smtp negative timeout", src: "smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n  timeout = §\"-5s\"\n}\n",
			summary: "Invalid duration", detail: []string{"must not be negative"}},
		{name: "smtp twice", src: smtp + "§smtp {\n  host = \"m.example.com\"\n  from = \"a@example.com\"\n}\n",
			summary: "Duplicate smtp block", detail: []string{"main.hcl:1,1"}},

		// alert_route
		{name: "route without smtp", src: "alert_route \"r\" {\n  §email {\n    to = [\"a@example.com\"]\n  }\n}\n",
			summary: "No smtp block", detail: []string{`In alert_route "r": email needs an smtp block`}},
		{name: "route without email", src: smtp + "§alert_route \"r\" {\n}\n",
			summary: "Missing email block", detail: []string{`In alert_route "r": nothing is sent`}},
		{name: "route unknown event", src: route("  match {\n    events = [\"jam\", §\"jamm\"]\n  }\n"),
			summary: "Unknown event", detail: []string{`"jamm" is not an event name`, `"door_open"`, `Did you mean "jam"?`}},
		{name: "route unknown severity", src: route("  match {\n    severity = [§\"critcal\"]\n  }\n"),
			summary: "Unknown severity", detail: []string{`Did you mean "critical"?`}},
		{name: "route printer glob matches none", src: route("  match {\n    printers = [§\"lab-*\"]\n  }\n"),
			warning: true, summary: "No printer matches", detail: []string{`"lab-*"`, "selects nothing"}},
		{name: "route printer name misspelt", src: "printer \"hq-east\" {\n  address = \"10.0.0.1\"\n}\n" + route("  match {\n    printers = [\"hq-east\", §\"hq-est\"]\n  }\n"),
			warning: true, summary: "No printer matches", detail: []string{`Did you mean "hq-east"?`}},
		{name: "route printer bad glob", src: route("  match {\n    printers = [§\"lab-[\"]\n  }\n"),
			summary: "Invalid printer pattern", detail: []string{"nor a valid glob"}},
		{name: "route unknown match attribute", src: route("  match {\n    §event = [\"jam\"]\n  }\n"),
			summary: "Unsupported argument", detail: []string{`Did you mean "events"?`}},
		{name: "route missing to", src: smtp + "alert_route \"r\" {\n  email §{\n    cc = [\"a@example.com\"]\n  }\n}\n",
			summary: "Missing required argument", detail: []string{`"to"`}},
		{name: "route empty to", src: smtp + "alert_route \"r\" {\n  email {\n    to = §[]\n  }\n}\n",
			summary: "Missing recipients", detail: []string{"at least one address"}},
		{name: "route bad recipient", src: smtp + "alert_route \"r\" {\n  email {\n    to = [\"a@example.com\", §\"helpdesk at example.com\"]\n  }\n}\n",
			summary: "Invalid email address", detail: []string{`to "helpdesk at example.com"`}},
		{name: "route bad cc", src: smtp + "alert_route \"r\" {\n  email {\n    to = [\"a@example.com\"]\n    cc = [§\"b@\"]\n  }\n}\n",
			summary: "Invalid email address", detail: []string{`cc "b@"`}},
		{name: "route bad grace", src: route("  grace = §\"5 minutes\"\n"),
			summary: "Invalid duration", detail: []string{`In alert_route "r": grace "5 minutes"`}},
		{name: "route negative repeat", src: route("  repeat = §\"-1h\"\n"),
			summary: "Invalid duration", detail: []string{"repeat must not be negative"}},
		{name: "route also_on_clear not bool", src: route("  also_on_clear = §\"yes\"\n"),
			summary: "Invalid value for also_on_clear", detail: []string{"bool"}},
		{name: "route unknown attribute", src: route("  §grase = \"5m\"\n"),
			summary: "Unsupported argument", detail: []string{`Did you mean "grace"?`}},
		{name: "route unknown block", src: route("  §mach {\n  }\n"),
			summary: "Unsupported block type", detail: []string{`Did you mean "match"?`}},
		{name: "route two match blocks", src: route("  match {\n  }\n  §match {\n  }\n"),
			summary: "Duplicate match block"},
		{name: "route misspelt template field", src: route("  subject = \"{{.Severity}}: {{§.Printr}}\"\n"),
			summary: "Invalid email template", detail: []string{"subject template", "line 1, column 18", "Printr", `Did you mean "Printer"?`}},
		{name: "route unknown template function", src: route("  body = <<EOT\nHello\n§{{.Printer | shout}}\nEOT\n"),
			summary: "Invalid email template", detail: []string{"body template", "line 2", `function "shout" not defined`}},
		{name: "route template syntax", src: route("  subject = \"§{{if .Printer}}\"\n"),
			summary: "Invalid email template", detail: []string{"unexpected EOF"}},
		{name: "route template in indented heredoc", src: route("  body = <<-EOT\n    one\n§    {{.Nope}}\n    EOT\n"),
			summary: "Invalid email template", detail: []string{"line 2", "Nope"}},
		{name: "route template field inside range", src: route("  body = \"{{range .Alerts}}{{§.Route}}{{end}}\"\n"),
			summary: "Invalid email template", detail: []string{"an alert (TemplateAlert) has no field or method Route", "Printer"}},
		{name: "route template field in a branch not taken", src: route("  body = \"{{if false}}{{§.Sevrity}}{{end}}\"\n"),
			summary: "Invalid email template", detail: []string{`Did you mean "Severity"?`}},
		{name: "route template root variable", src: route("  body = \"{{range .Alerts}}{{$§.Rout}}{{end}}\"\n"),
			summary: "Invalid email template", detail: []string{`Did you mean "Route"?`}},
		{name: "route template method", src: route("  body = \"{{.Time§.Formt \\\"2006\\\"}}\"\n"),
			summary: "Invalid email template", detail: []string{"time.Time has no field or method Formt"}},
		{name: "route template calls an undefined template", src: route("  body = \"{{define \\\"line\\\"}}{{.Printer}}{{end}}{{template §\\\"lines\\\" .}}\"\n"),
			summary: "Invalid email template", detail: []string{`no template named "lines"`}},
		{name: "route empty subject", src: route("  subject = §\"\"\n"),
			summary: "Invalid email template", detail: []string{"leave subject out"}},
		{name: "route twice", src: route("") + "§alert_route \"r\" {\n  email {\n    to = [\"a@example.com\"]\n  }\n}\n",
			summary: "Duplicate alert_route", detail: []string{`alert_route "r"`}},
		{name: "route bad name", src: smtp + "alert_route §\"1st\" {\n}\n",
			summary: "Invalid alert_route name"},

		// watch
		{name: "watch poll too short", src: "watch {\n  poll = §\"5s\"\n}\n",
			summary: "Invalid duration", detail: []string{"poll must be at least 10s"}},
		{name: "watch trap_ttl zero", src: "watch {\n  trap_ttl = §\"0s\"\n}\n",
			summary: "Invalid duration", detail: []string{"trap_ttl must be at least 1s"}},
		{name: "watch offline_after zero", src: "watch {\n  offline_after = §0\n}\n",
			summary: "Invalid offline_after", detail: []string{"from 1 to 1000"}},
		{name: "watch low_percent too high", src: "watch {\n  low_percent = §101\n}\n",
			summary: "Invalid low_percent", detail: []string{"from 0 to 100"}},
		{name: "watch low_percent fraction", src: "watch {\n  low_percent = §7.5\n}\n",
			summary: "Invalid low_percent", detail: []string{"whole number"}},
		{name: "watch unknown attribute", src: "watch {\n  §pol = \"5m\"\n}\n",
			summary: "Unsupported argument", detail: []string{`Did you mean "poll"?`}},
		{name: "watch unknown block", src: "watch {\n  §trap {\n  }\n}\n",
			summary: "Unsupported block type", detail: []string{`Did you mean "traps"?`}},
		{name: "watch listen without port", src: "watch {\n  traps {\n    listen = §\"127.0.0.1\"\n  }\n}\n",
			summary: "Invalid listen address", detail: []string{"not host:port", `":162"`}},
		{name: "watch listen bad port", src: "watch {\n  traps {\n    listen = §\":70000\"\n  }\n}\n",
			summary: "Invalid listen address", detail: []string{"1 to 65535"}},
		{name: "watch bad allow", src: "watch {\n  traps {\n    allow = [\"10.0.0.0/8\", §\"10.0.0.0/33\"]\n  }\n}\n",
			summary: "Invalid allow prefix", detail: []string{`"10.0.0.0/33" is not a CIDR prefix`}},
		{name: "watch npap bad allow", src: "watch {\n  npap {\n    allow = [§\"10.0.0.0/33\"]\n  }\n}\n",
			summary: "Invalid allow prefix", detail: []string{"In the npap block", `"10.0.0.0/33" is not a CIDR prefix`}},
		{name: "watch allow host bits", src: "watch {\n  traps {\n    allow = [§\"10.20.1.5/16\"]\n  }\n}\n",
			warning: true, summary: "Address bits after the prefix", detail: []string{"it allows 10.20.0.0/16"}},
		{name: "watch drift too often", src: "watch {\n  drift {\n    every = §\"30s\"\n  }\n}\n",
			summary: "Invalid duration", detail: []string{"In the drift block: every must be at least 1m"}},
		{name: "watch drift without every", src: "watch {\n  drift §{\n    enforce = true\n  }\n}\n",
			summary: "Missing required argument", detail: []string{`"every"`}},
		{name: "watch drift enforce not bool", src: "watch {\n  drift {\n    every = \"15m\"\n    enforce = §\"sometimes\"\n  }\n}\n",
			summary: "Invalid value for enforce"},
		{name: "watch status_page without login", src: "watch {\n  status_page {\n    listen = §\":443\"\n  }\n}\n",
			summary: "Status page without login", detail: []string{"no ldap or kerberos block", `"127.0.0.1:8443"`}},
		{name: "watch twice", src: "watch {\n}\n§watch {\n}\n",
			summary: "Duplicate watch block", detail: []string{"main.hcl:1,1"}},
		{name: "watch two traps blocks", src: "watch {\n  traps {\n  }\n  §traps {\n  }\n}\n",
			summary: "Duplicate traps block"},

		// report
		{name: "report bad weekday", src: report("  view = \"supplies\"\n  schedule = \"0 7 * * §MONN\"\n"),
			summary: "Invalid schedule", detail: []string{"day-of-week field \"MONN\""}},
		{name: "report minute out of range", src: report("  view = \"supplies\"\n  schedule = \"§61 7 * * *\"\n"),
			summary: "Invalid schedule", detail: []string{"minute field \"61\"", "above maximum"}},
		{name: "report four fields", src: report("  view = \"supplies\"\n  schedule = §\"0 7 * *\"\n"),
			summary: "Invalid schedule", detail: []string{"has 4 fields", "\"0 7 * * MON\""}},
		{name: "report bad descriptor", src: report("  view = \"supplies\"\n  schedule = §\"@weekley\"\n"),
			summary: "Invalid schedule", detail: []string{"unrecognized descriptor"}},
		{name: "report bad time zone", src: report("  view = \"supplies\"\n  schedule = \"§TZ=Mars/Olympus 0 7 * * *\"\n"),
			summary: "Invalid schedule", detail: []string{"unknown time zone"}},
		{name: "report unknown view", src: report("  schedule = \"@daily\"\n  view = §\"suplies\"\n"),
			summary: "Unknown view", detail: []string{`"page_counts"`, `Did you mean "supplies"?`}},
		{name: "report without email", src: smtp + "§report \"w\" {\n  schedule = \"@daily\"\n  view = \"alerts\"\n}\n",
			summary: "Missing email block", detail: []string{`In report "w": the report goes nowhere`}},
		{name: "report without smtp", src: "report \"w\" {\n  schedule = \"@daily\"\n  view = \"alerts\"\n  §email {\n    to = [\"a@example.com\"]\n  }\n}\n",
			summary: "No smtp block", detail: []string{`In report "w": email needs an smtp block`}},
		{name: "report twice", src: report("  schedule = \"@daily\"\n  view = \"alerts\"\n") + "§report \"w\" {\n}\n",
			summary: "Duplicate report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := strings.Index(tt.src, "§")
			if at < 0 {
				t.Fatal("the source has no § marking where the diagnostic points")
			}
			src := strings.Replace(tt.src, "§", "", 1)
			wantLine := strings.Count(src[:at], "\n") + 1
			wantCol := at - strings.LastIndex(src[:at], "\n")
			dir := writeConfig(t, map[string]string{"main.hcl": src, "ca.pem": testCAPEM(t)})
			files := map[string]*hhcl.File{}
			cfg, diags := Load(dir, LoadOptions{Files: files})
			if len(diags) != 1 {
				t.Fatalf("want one diagnostic, got %d:\n%s", len(diags), diagText(diags))
			}
			d := diags[0]
			if want := map[bool]hhcl.DiagnosticSeverity{true: hhcl.DiagWarning, false: hhcl.DiagError}[tt.warning]; d.Severity != want {
				t.Errorf("severity %v, want %v", d.Severity, want)
			}
			if tt.warning == (cfg == nil) {
				t.Errorf("Config returned: %v; a warning alone must not fail the load, an error must", cfg != nil)
			}
			if d.Summary != tt.summary {
				t.Errorf("summary %q, want %q (detail %q)", d.Summary, tt.summary, d.Detail)
			}
			for _, want := range tt.detail {
				if !strings.Contains(d.Detail, want) {
					t.Errorf("detail %q lacks %q", d.Detail, want)
				}
			}
			if d.Subject == nil {
				t.Fatal("no subject")
			}
			if d.Subject.Start.Line != wantLine || d.Subject.Start.Column != wantCol {
				t.Errorf("points at %d:%d, want %d:%d", d.Subject.Start.Line, d.Subject.Start.Column, wantLine, wantCol)
			}
			var buf strings.Builder
			_ = WriteDiagnostics(&buf, files, diags, false)
			if strings.Contains(strings.ReplaceAll(buf.String(), `default   = "hunter2-smtp"`, ""), "hunter2-smtp") {
				t.Errorf("diagnostics show the password:\n%s", buf.String())
			}
		})
	}
}
