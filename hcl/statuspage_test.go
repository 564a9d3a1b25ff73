package hcl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/alerts"
)

// fakeKeytab starts as a keytab does; the loader checks no more.
const fakeKeytab = "\x05\x02\x00\x00\x00\x40"

const ldapPasswordVar = "variable \"ldap_password\" {\n  type      = string\n  sensitive = true\n}\n"

// TestStatusPageDocumentedForm loads the status_page block exactly as the
// documentation shows it.
func TestStatusPageDocumentedForm(t *testing.T) {
	src := `watch {
  status_page {
    listen = "127.0.0.1:8443"
    ldap {
      url           = "ldap://127.0.0.1:3389"
      start_tls     = false
      insecure      = true
      bind_dn       = "cn=admin,dc=example,dc=test"
      bind_password = var.ldap_password
      user_base     = "ou=people,dc=example,dc=test"
      user_filter   = "(uid={username})"
      roles = {
        admin  = "cn=print-admins,ou=groups,dc=example,dc=test"
        viewer = "cn=print-viewers,ou=groups,dc=example,dc=test"
      }
    }
    kerberos {
      keytab  = "http.keytab"
      service = "HTTP/localhost"
    }
  }
}
`
	dir := writeConfig(t, map[string]string{"main.hcl": src, "variables.hcl": ldapPasswordVar, "http.keytab": fakeKeytab})
	cfg, diags := Load(dir, LoadOptions{Env: []string{"INKFORM_VAR_ldap_password=hunter2-ldap"}})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("Load: %s", diagText(diags))
	}
	want := &alerts.StatusPage{
		Listen:     "127.0.0.1:8443",
		SessionTTL: alerts.DefaultSessionTTL,
		LDAP: &alerts.LDAP{
			URL: "ldap://127.0.0.1:3389", Insecure: true,
			BindDN: "cn=admin,dc=example,dc=test", BindPassword: "hunter2-ldap",
			UserBase: "ou=people,dc=example,dc=test", UserFilter: "(uid={username})",
			Roles: map[string]string{
				alerts.RoleAdmin:  "cn=print-admins,ou=groups,dc=example,dc=test",
				alerts.RoleViewer: "cn=print-viewers,ou=groups,dc=example,dc=test",
			},
			Timeout: alerts.DefaultLDAPTimeout,
		},
		Kerberos: &alerts.Kerberos{Keytab: filepath.Join(dir, "http.keytab"), Service: "HTTP/localhost"},
	}
	if diff := cmp.Diff(want, cfg.Watch.StatusPage); diff != "" {
		t.Errorf("StatusPage (-want +got):\n%s", diff)
	}
}

func TestStatusPageEveryAttribute(t *testing.T) {
	cert, key := selfSignedPEM(t)
	src := `locals {
  groups = "ou=groups,dc=example,dc=com"
}
watch {
  status_page {
    listen         = ":8443"
    tls_cert       = "tls/page.pem"
    tls_key        = "tls/page-key.pem"
    metrics_listen = "127.0.0.1:9100"
    url            = "https://print-status.example.com:8443/"
    session_ttl    = "12h"
    ldap {
      url           = "ldap://ldap.example.com"
      start_tls     = true
      ca_file       = "ca.pem"
      bind_dn       = "cn=inkform,ou=services,dc=example,dc=com"
      bind_password = var.ldap_password
      user_base     = "ou=people,dc=example,dc=com"
      user_filter   = "(&(objectClass=person)(sAMAccountName={username}))"
      group_base    = local.groups
      roles = {
        admin        = "cn=print-admins,${local.groups}"
        service_desk = "cn=service-desk,${local.groups}"
        "viewer"     = "cn=everyone,${local.groups}"
      }
      timeout = "5s"
    }
    kerberos {
      keytab  = "/etc/inkform/http.keytab"
      service = "HTTP/status.example.com"
      realm   = "EXAMPLE.COM"
    }
  }
}
`
	dir := writeConfig(t, map[string]string{"main.hcl": src, "variables.hcl": ldapPasswordVar, "ca.pem": testCAPEM(t)})
	writeFiles(t, dir, map[string]string{"tls/page.pem": cert, "tls/page-key.pem": key})
	keytab := filepath.Join(dir, "abs.keytab")
	writeFiles(t, dir, map[string]string{"abs.keytab": fakeKeytab})
	src = strings.Replace(src, "/etc/inkform/http.keytab", filepath.ToSlash(keytab), 1)
	writeFiles(t, dir, map[string]string{"main.hcl": src})
	cfg, diags := Load(dir, LoadOptions{Env: []string{"INKFORM_VAR_ldap_password=hunter2-ldap"}})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("Load: %s", diagText(diags))
	}
	want := &alerts.StatusPage{
		Listen: ":8443", CertFile: filepath.Join(dir, "tls", "page.pem"), KeyFile: filepath.Join(dir, "tls", "page-key.pem"),
		MetricsListen: "127.0.0.1:9100", SessionTTL: 12 * time.Hour, URL: "https://print-status.example.com:8443",
		LDAP: &alerts.LDAP{
			URL: "ldap://ldap.example.com", StartTLS: true, CAFile: filepath.Join(dir, "ca.pem"),
			BindDN: "cn=inkform,ou=services,dc=example,dc=com", BindPassword: "hunter2-ldap",
			UserBase: "ou=people,dc=example,dc=com", UserFilter: "(&(objectClass=person)(sAMAccountName={username}))",
			GroupBase: "ou=groups,dc=example,dc=com",
			Roles: map[string]string{
				alerts.RoleAdmin:       "cn=print-admins,ou=groups,dc=example,dc=com",
				alerts.RoleServiceDesk: "cn=service-desk,ou=groups,dc=example,dc=com",
				alerts.RoleViewer:      "cn=everyone,ou=groups,dc=example,dc=com",
			},
			Timeout: 5 * time.Second,
		},
		Kerberos: &alerts.Kerberos{Keytab: keytab, Service: "HTTP/status.example.com", Realm: "EXAMPLE.COM"},
	}
	if diff := cmp.Diff(want, cfg.Watch.StatusPage); diff != "" {
		t.Errorf("StatusPage (-want +got):\n%s", diff)
	}

	// roles from a local map, and a loopback page without any login.
	src = "locals {\n  roles = { viewer = \"cn=v,dc=example,dc=com\" }\n}\nwatch {\n  status_page {\n    listen = \"localhost:8443\"\n  }\n}\n"
	cfg, diags = Load(writeConfig(t, map[string]string{"main.hcl": src}), LoadOptions{})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("loopback page: %s", diagText(diags))
	}
	if sp := cfg.Watch.StatusPage; sp == nil || sp.Listen != "localhost:8443" || sp.LDAP != nil || sp.Kerberos != nil {
		t.Errorf("loopback page: %+v", sp)
	}
	src = "locals {\n  roles = { viewer = \"cn=v,dc=example,dc=com\" }\n}\nwatch {\n  status_page {\n    listen = \":8443\"\n    ldap {\n      url = \"ldaps://ldap.example.com\"\n      user_base = \"dc=example,dc=com\"\n      roles = local.roles\n    }\n  }\n}\n"
	cfg, diags = Load(writeConfig(t, map[string]string{"main.hcl": src}), LoadOptions{})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("roles from a local: %s", diagText(diags))
	}
	if got := cfg.Watch.StatusPage.LDAP.Roles; len(got) != 1 || got[alerts.RoleViewer] != "cn=v,dc=example,dc=com" {
		t.Errorf("roles from a local: %v", got)
	}
}

// TestStatusPageMistakes: each mistake gives one diagnostic at the place
// marked §, and no diagnostic shows the bind password.
func TestStatusPageMistakes(t *testing.T) {
	const secret = "variable \"pw\" {\n  type      = string\n  sensitive = true\n  default   = \"hunter2-ldap\"\n}\n"
	page := func(body string) string {
		return secret + "watch {\n  status_page {\n    listen = \"127.0.0.1:8443\"\n" + body + "  }\n}\n"
	}
	const okLDAP = "    ldap {\n      url = \"ldaps://ldap.example.com\"\n      user_base = \"dc=example,dc=com\"\n      roles = { viewer = \"cn=v,dc=example,dc=com\" }\n    }\n"
	ldap := func(attrs string) string {
		return page("    ldap {\n      user_base = \"dc=example,dc=com\"\n" + attrs + "    }\n")
	}
	const url = "      url = \"ldaps://ldap.example.com\"\n"
	const roles = "      roles = { viewer = \"cn=v,dc=example,dc=com\" }\n"
	tests := []struct {
		name    string
		src     string
		warning bool
		summary string
		detail  []string
	}{
		{name: "listen without port", src: secret + "watch {\n  status_page {\n    listen = §\"127.0.0.1\"\n  }\n}\n",
			summary: "Invalid listen address", detail: []string{"not host:port", `":8443"`}},
		{name: "listen bad port", src: secret + "watch {\n  status_page {\n    listen = §\"127.0.0.1:99999\"\n  }\n}\n",
			summary: "Invalid listen address", detail: []string{"1 to 65535"}},
		{name: "listen missing", src: secret + "watch {\n  status_page §{\n  }\n}\n",
			summary: "Missing required argument", detail: []string{`"listen"`}},
		{name: "metrics on the page's address", src: page("    metrics_listen = §\"127.0.0.1:8443\"\n"),
			summary: "Invalid listen address", detail: []string{"page's own address"}},
		{name: "url not a base address", src: page("    url = §\"print-status.example.com\"\n"),
			summary: "Invalid status page URL", detail: []string{`"https://print-status.example.com"`}},
		{name: "url with a query", src: page("    url = §\"https://status.example.com/?x=1\"\n"),
			summary: "Invalid status page URL", detail: []string{"base address"}},
		{name: "session_ttl too short", src: page("    session_ttl = §\"30s\"\n"),
			summary: "Invalid duration", detail: []string{"at least 1m"}},
		{name: "tls_cert without tls_key", src: page("    tls_cert = §\"ca.pem\"\n"),
			summary: "Invalid TLS certificate", detail: []string{"tls_key is required"}},
		{name: "tls_cert and key not a pair", src: page("    tls_cert = §\"ca.pem\"\n    tls_key = \"ca.pem\"\n"),
			summary: "Invalid TLS certificate", detail: []string{"not a certificate and its key"}},
		{name: "unknown attribute", src: page("    §sesion_ttl = \"1h\"\n"),
			summary: "Unsupported argument", detail: []string{`Did you mean "session_ttl"?`}},
		{name: "two ldap blocks", src: page(okLDAP + "    §ldap {\n    }\n"),
			summary: "Duplicate ldap block"},

		{name: "ldap url scheme", src: ldap("      url = §\"ldapss://ldap.example.com\"\n" + roles),
			summary: "Invalid LDAP URL", detail: []string{`"ldap" or "ldaps"`, `Did you mean "ldaps"?`}},
		{name: "ldap url with a DN", src: ldap("      url = §\"ldaps://ldap.example.com/dc=example,dc=com\"\n" + roles),
			summary: "Invalid LDAP URL", detail: []string{"user_base"}},
		{name: "ldap url without host", src: ldap("      url = §\"ldaps://\"\n" + roles),
			summary: "Invalid LDAP URL", detail: []string{"no host"}},
		{name: "plain ldap without insecure", src: ldap("      url = §\"ldap://ldap.example.com\"\n" + roles),
			summary: "LDAP without TLS", detail: []string{"in clear", "start_tls = true", "insecure = true"}},
		{name: "ldaps with start_tls", src: ldap(url + "      start_tls = §true\n" + roles),
			summary: "Invalid LDAP encryption", detail: []string{"start_tls is for ldap://"}},
		{name: "insecure with TLS", src: ldap(url + "      insecure = §true\n" + roles),
			warning: true, summary: "insecure not needed", detail: []string{"never turns off certificate checks"}},
		{name: "ca_file without TLS", src: ldap("      url = \"ldap://h\"\n      insecure = true\n      ca_file = §\"ca.pem\"\n" + roles),
			warning: true, summary: "CA certificate not used"},
		{name: "ca_file missing", src: ldap(url + "      ca_file = §\"nope.pem\"\n" + roles),
			summary: "Invalid CA certificate", detail: []string{"nope.pem"}},
		{name: "literal bind_password", src: ldap(url + roles + "      bind_dn = \"cn=x,dc=example,dc=com\"\n      bind_password = §\"hunter2-ldap\"\n"),
			warning: true, summary: "Password in the configuration", detail: []string{"sensitive variable"}},
		{name: "bind_dn without password", src: ldap(url + roles + "      bind_dn = §\"cn=x,dc=example,dc=com\"\n"),
			summary: "Invalid LDAP credentials", detail: []string{"bind_password is required"}},
		{name: "bind_password without dn", src: ldap(url + roles + "      bind_password = §var.pw\n"),
			summary: "Invalid LDAP credentials", detail: []string{"bind_dn is required"}},
		{name: "bind_password of wrong type", src: "variable \"pw2\" {\n  sensitive = true\n  default = [\"hunter2-ldap\"]\n}\n" +
			ldap(url+roles+"      bind_dn = \"cn=x,dc=example,dc=com\"\n      bind_password = §var.pw2\n"),
			summary: "Invalid value for bind_password", detail: []string{"string"}},
		{name: "sensitive bind_dn", src: ldap(url + roles + "      bind_dn = §var.pw\n      bind_password = var.pw\n"),
			summary: "Sensitive value not allowed", detail: []string{"bind_dn of the ldap block"}},
		{name: "bad bind_dn", src: ldap(url + roles + "      bind_dn = §\"inkform\"\n      bind_password = var.pw\n"),
			summary: "Invalid DN", detail: []string{`bind_dn "inkform" is not a DN`}},
		{name: "bad group_base", src: ldap(url + roles + "      group_base = §\"groups\"\n"),
			summary: "Invalid DN", detail: []string{"group_base"}},
		{name: "user_filter without placeholder", src: ldap(url + roles + "      user_filter = §\"(uid=alice)\"\n"),
			summary: "Invalid user filter", detail: []string{"{username}"}},
		{name: "user_filter unbalanced", src: ldap(url + roles + "      user_filter = §\"(uid={username}\"\n"),
			summary: "Invalid user filter", detail: []string{"not an LDAP filter"}},
		{name: "unknown role", src: ldap(url + "      roles = {\n        §admn = \"cn=a,dc=example,dc=com\"\n      }\n"),
			summary: "Unknown role", detail: []string{`"admin", "service_desk", "viewer"`, `Did you mean "admin"?`}},
		{name: "unknown quoted role", src: ldap(url + "      roles = {\n        §\"service-desk\" = \"cn=a,dc=example,dc=com\"\n      }\n"),
			summary: "Unknown role", detail: []string{`Did you mean "service_desk"?`}},
		{name: "role not a DN", src: ldap(url + "      roles = {\n        admin = §\"print-admins\"\n      }\n"),
			summary: "Invalid DN", detail: []string{`admin group "print-admins"`}},
		{name: "no roles", src: ldap(url + "      roles = §{}\n"),
			summary: "No roles"},
		{name: "null roles", src: ldap(url + "      roles = §null\n"),
			summary: "No roles"},
		{name: "roles not a map", src: ldap(url + "      roles = §[\"cn=a,dc=example,dc=com\"]\n"),
			summary: "Invalid value for roles", detail: []string{"map of string"}},
		{name: "sensitive role group", src: ldap(url + "      roles = {\n        admin = §var.pw\n      }\n"),
			summary: "Sensitive value not allowed"},
		{name: "roles missing", src: page("    ldap §{\n" + url + "      user_base = \"dc=example,dc=com\"\n    }\n"),
			summary: "Missing required argument", detail: []string{`"roles"`}},
		{name: "ldap timeout too short", src: ldap(url + roles + "      timeout = §\"10ms\"\n"),
			summary: "Invalid duration", detail: []string{"at least 1s"}},

		{name: "kerberos without ldap", src: page("    §kerberos {\n      keytab = \"http.keytab\"\n      service = \"HTTP/localhost\"\n    }\n"),
			summary: "Kerberos without LDAP", detail: []string{"add an ldap block"}},
		{name: "kerberos service with realm", src: page(okLDAP + "    kerberos {\n      keytab = \"http.keytab\"\n      service = §\"HTTP/localhost@EXAMPLE.TEST\"\n    }\n"),
			summary: "Invalid service principal", detail: []string{"without the realm"}},
		{name: "kerberos service without host", src: page(okLDAP + "    kerberos {\n      keytab = \"http.keytab\"\n      service = §\"HTTP\"\n    }\n"),
			summary: "Invalid service principal", detail: []string{`"HTTP/status.example.com"`}},
		{name: "kerberos keytab missing", src: page(okLDAP + "    kerberos {\n      keytab = §\"nope.keytab\"\n      service = \"HTTP/localhost\"\n    }\n"),
			summary: "Invalid keytab", detail: []string{"nope.keytab"}},
		{name: "kerberos keytab not a keytab", src: page(okLDAP + "    kerberos {\n      keytab = §\"ca.pem\"\n      service = \"HTTP/localhost\"\n    }\n"),
			summary: "Invalid keytab", detail: []string{"not a keytab"}},
		{name: "kerberos bad realm", src: page(okLDAP + "    kerberos {\n      keytab = \"http.keytab\"\n      service = \"HTTP/localhost\"\n      realm = §\"EXAMPLE COM\"\n    }\n"),
			summary: "Invalid realm"},
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
			dir := writeConfig(t, map[string]string{"main.hcl": src, "ca.pem": testCAPEM(t), "http.keytab": fakeKeytab})
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
			if strings.Contains(strings.ReplaceAll(buf.String(), `default   = "hunter2-ldap"`, ""), "hunter2-ldap") {
				t.Errorf("diagnostics show the password:\n%s", buf.String())
			}
		})
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := mkdirAll(filepath.Dir(p)); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(p, content); err != nil {
			t.Fatal(err)
		}
	}
}

// selfSignedPEM returns a certificate and its key, PEM-encoded.
func selfSignedPEM(t *testing.T) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "status.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"status.example.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

// TestStatusPageDocExample loads the example of docs/status-page.md.
func TestStatusPageDocExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "status-page.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```hcl\n")
	end := strings.Index(doc[start+7:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no hcl example in docs/status-page.md")
	}
	cert, key := selfSignedPEM(t)
	dir := writeConfig(t, map[string]string{"main.hcl": doc[start+7 : start+7+end], "http.keytab": fakeKeytab})
	writeFiles(t, dir, map[string]string{"tls/status.pem": cert, "tls/status-key.pem": key, "certs/company-ca.pem": testCAPEM(t)})
	cfg, diags := Load(dir, LoadOptions{Env: []string{"INKFORM_VAR_ldap_password=hunter2-ldap"}})
	if cfg == nil || len(diags) > 0 {
		t.Fatalf("Load: %s", diagText(diags))
	}
	sp := cfg.Watch.StatusPage
	if sp == nil || sp.LDAP == nil || sp.Kerberos == nil || len(sp.LDAP.Roles) != 3 || sp.LDAP.BindPassword != "hunter2-ldap" {
		t.Errorf("StatusPage: %+v", sp)
	}
}
