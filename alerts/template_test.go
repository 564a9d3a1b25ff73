package alerts

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestPrinterMatches(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"lab-1", "lab-1", true},
		{"lab-*", "lab-1", true},
		{"lab-?", "lab-12", false},
		{"lab-*", "hq-1", false},
		// A for_each instance's name is a bad glob but matches itself.
		{`fleet["a"]`, `fleet["a"]`, true},
		{`fleet\[*`, `fleet["a"]`, true},
		{"lab-[", "lab-1", false},
	}
	for _, tt := range tests {
		if got := PrinterMatches(tt.pattern, tt.name); got != tt.want {
			t.Errorf("PrinterMatches(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestTemplateOnExample(t *testing.T) {
	tpl, err := ParseTemplate("body", `{{.Route}}: {{upper .Event}} on {{.Printer}} ({{join .Keywords ", "}}){{range .Alerts}} [{{lower (print .Severity)}}]{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, ExampleTemplateData("jams")); err != nil {
		t.Fatal(err)
	}
	if want := "jams: JAM on hq-2f-east (hq, color) [critical]"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	tpl, err = ParseTemplate("subject", "{{.Printr}}")
	if err != nil {
		t.Fatal(err)
	}
	if err := tpl.Execute(&b, ExampleTemplateData("jams")); err == nil || !strings.Contains(err.Error(), "Printr") {
		t.Errorf("a misspelt field executes: %v", err)
	}
}

func TestSMTPPrintsNoPassword(t *testing.T) {
	s := SMTP{Host: "mail.example.com", Port: 587, Username: "u", Password: "hunter2-smtp", From: "a@example.com"}
	var b strings.Builder
	log := slog.New(slog.NewJSONHandler(&b, nil))
	log.Info("smtp", "config", s)
	slog.New(slog.NewTextHandler(&b, nil)).Info("smtp", "config", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%v", &s), b.String()} {
		if strings.Contains(out, "hunter2-smtp") || !strings.Contains(out, "mail.example.com") {
			t.Errorf("printed as %s", out)
		}
	}
}

func TestLDAPPrintsNoPassword(t *testing.T) {
	l := LDAP{URL: "ldaps://ldap.example.com", BindDN: "cn=inkform,dc=example,dc=com", BindPassword: "hunter2-ldap"}
	sp := StatusPage{Listen: "127.0.0.1:8443", LDAP: &l}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("ldap", "config", l)
	slog.New(slog.NewTextHandler(&b, nil)).Info("ldap", "config", l)
	for _, out := range []string{fmt.Sprint(l), fmt.Sprintf("%+v", l), fmt.Sprintf("%#v", l), fmt.Sprintf("%v", &l), fmt.Sprintf("%+v", sp), b.String()} {
		if strings.Contains(out, "hunter2-ldap") {
			t.Errorf("printed as %s", out)
		}
	}
	if !strings.Contains(fmt.Sprint(l), "ldaps://ldap.example.com") {
		t.Errorf("printed as %s", fmt.Sprint(l))
	}
}
