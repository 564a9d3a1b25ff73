package hcl

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"slices"
	"strings"
	"time"

	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/alerts"
)

// encryptions are the smtp block's encryption values and their standard
// ports. STARTTLS is the default: it is what mail submission uses (RFC
// 8314 prefers implicit TLS, but far more relays offer 587), and watch
// requires it, so a default never sends mail or a password in clear.
var (
	encryptions = []string{alerts.EncryptionNone, alerts.EncryptionSSL, alerts.EncryptionSTARTTLS}
	smtpPorts   = map[string]int{alerts.EncryptionNone: 25, alerts.EncryptionSSL: 465, alerts.EncryptionSTARTTLS: 587}
)

const defaultEncryption = alerts.EncryptionSTARTTLS

// decodeSMTP reads the smtp block. The password, and the username with
// it, are secret whether or not they come from a sensitive variable: no
// diagnostic carries their values or the expressions that make them.
func (l *loader) decodeSMTP(ctx *hhcl.EvalContext) hhcl.Diagnostics {
	b := l.smtpBlock
	const where = "the smtp block"
	content, diags := b.Body.Content(smtpSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	out := &alerts.SMTP{Encryption: defaultEncryption, Timeout: alerts.DefaultSMTPTimeout}
	bad := func(rng hhcl.Range, summary, detail string) {
		diags = append(diags, errorAt(rng, summary, fmt.Sprintf("In %s: %s", where, detail)))
	}

	if attr, ok := attrs["host"]; ok {
		s, ev, set, d := evalString(ctx, attr, "host")
		diags = append(diags, d...)
		diags = append(diags, notSensitive(ev, "host", where)...)
		if set && !ev.sensitive {
			if msg := checkHost(strings.TrimSpace(s)); msg != "" {
				bad(attr.Expr.Range(), "Invalid SMTP host", fmt.Sprintf("host %q %s", s, msg))
			}
			out.Host = strings.TrimSpace(s)
		}
	}
	if attr, ok := attrs["encryption"]; ok {
		s, ev, set, d := evalString(ctx, attr, "encryption")
		diags = append(diags, d...)
		diags = append(diags, notSensitive(ev, "encryption", where)...)
		if set && !ev.sensitive {
			low := strings.ToLower(strings.TrimSpace(s))
			switch {
			case slices.Contains(encryptions, low):
				out.Encryption = low
			case low == "tls" || low == "ssl/tls":
				bad(attr.Expr.Range(), "Invalid SMTP encryption",
					fmt.Sprintf("encryption %q is ambiguous: use \"ssl\" for implicit TLS (port 465) or \"starttls\" for STARTTLS (port 587).", s))
			default:
				bad(attr.Expr.Range(), "Invalid SMTP encryption",
					fmt.Sprintf("encryption %q is not one of %s.%s", s, quotedList(encryptions), didYouMean(low, encryptions)))
			}
		}
	}
	out.Port = smtpPorts[out.Encryption]
	if attr, ok := attrs["port"]; ok {
		n, set, d := evalWhole(ctx, attr, where, 1, 65535)
		diags = append(diags, d...)
		if set {
			out.Port = n
		}
	}
	if attr, ok := attrs["from"]; ok {
		s, ev, set, d := evalString(ctx, attr, "from")
		diags = append(diags, d...)
		diags = append(diags, notSensitive(ev, "from address", where)...)
		if set && !ev.sensitive {
			if msg := checkMailAddress(s); msg != "" {
				bad(attr.Expr.Range(), "Invalid email address", fmt.Sprintf("from %s", msg))
			}
			out.From = strings.TrimSpace(s)
		}
	}
	var userRange, passRange *hhcl.Range
	for _, f := range []struct {
		name string
		dst  *string
		rng  **hhcl.Range
	}{{"username", &out.Username, &userRange}, {"password", &out.Password, &passRange}} {
		attr, ok := attrs[f.name]
		if !ok {
			continue
		}
		// Given, even if wrong: pairing is checked on what is written.
		*f.rng = attr.Expr.Range().Ptr()
		v, ev, set, d := evalString(ctx, attr, f.name)
		for _, diag := range d {
			diag.Expression, diag.EvalContext = nil, nil
		}
		diags = append(diags, d...)
		if !set {
			continue
		}
		if v == "" {
			bad(attr.Expr.Range(), "Invalid SMTP credentials", fmt.Sprintf("the %s must not be empty.", f.name))
		}
		*f.dst = v
		if f.name == "password" && !ev.sensitive && len(attr.Expr.Variables()) == 0 {
			w := warningAt(attr.Expr.Range(), "Password in the configuration",
				"The SMTP password is written in the configuration file, where everyone who can read the file or its history can read it. Take it from a sensitive variable instead: password = var.smtp_password, set with INKFORM_VAR_smtp_password or a -var-file kept out of version control.")
			w.Extra = secretSubject{}
			diags = append(diags, w)
		}
	}
	switch {
	case userRange != nil && passRange == nil:
		bad(*userRange, "Invalid SMTP credentials", "username is set, so password is required.")
	case passRange != nil && userRange == nil:
		bad(*passRange, "Invalid SMTP credentials", "password is set, so username is required.")
	case passRange != nil && out.Encryption == alerts.EncryptionNone:
		diags = append(diags, warningAt(*passRange, "SMTP password sent in clear",
			`With encryption = "none" the username and password cross the network unencrypted. Use "starttls" or "ssl".`))
	}
	if attr, ok := attrs["ca_cert"]; ok {
		v, ev, set, d := evalString(ctx, attr, "ca_cert")
		diags = append(diags, d...)
		diags = append(diags, notSensitive(ev, "ca_cert", where)...)
		if set && !ev.sensitive {
			abs := l.resolvePath(v)
			if msg := l.checkCACert(abs); msg != "" {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid CA certificate", fmt.Sprintf("ca_cert %s: %s.", v, msg)))
			} else if out.Encryption == alerts.EncryptionNone {
				diags = append(diags, warningAt(attr.Expr.Range(), "CA certificate not used",
					`ca_cert verifies the server's TLS certificate, but encryption = "none" uses no TLS.`))
			}
			out.CACertFile = abs
		}
	}
	if attr, ok := attrs["timeout"]; ok {
		t, set, d := evalDuration(ctx, attr, where, time.Second)
		diags = append(diags, d...)
		if set {
			out.Timeout = t
		}
	}
	if !diags.HasErrors() {
		l.smtp = out
	}
	return diags
}

// checkHost returns why h is not a host name or IP address, or "".
func checkHost(h string) string {
	if h == "" {
		return "must not be empty."
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	if _, _, err := net.SplitHostPort(h); err == nil {
		return "holds a port: set it with port."
	}
	if err := checkHostname(h); err != nil {
		return "is " + err.Error() + "."
	}
	return ""
}

// checkMailAddress returns why s is not one email address (a display
// name is allowed: "Print Alerts <inkform@example.com>"), or "".
func checkMailAddress(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return fmt.Sprintf("%q is not an email address such as \"helpdesk@example.com\" (%s).", s, strings.TrimPrefix(err.Error(), "mail: "))
	}
	if at := strings.LastIndexByte(a.Address, '@'); at < 0 || checkHostname(a.Address[at+1:]) != nil {
		if _, err := netip.ParseAddr(strings.Trim(a.Address[at+1:], "[]")); err != nil {
			return fmt.Sprintf("%q does not end in a valid domain.", s)
		}
	}
	return ""
}
