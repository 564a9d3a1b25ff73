package hcl

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/alerts"
)

// Bounds of the status_page block.
const (
	minSessionTTL  = time.Minute
	minLDAPTimeout = time.Second
)

// roleNames are the keys of an ldap block's roles, most powerful first.
var roleNames = []string{alerts.RoleAdmin, alerts.RoleServiceDesk, alerts.RoleViewer}

// servicePrincipal is a Kerberos service principal without its realm:
// the service, a slash, the host name clients use.
var servicePrincipal = regexp.MustCompile(`^[^\s/@]+/[^\s/@]+$`)

// plainStrings reads the string attributes of a block that must not be
// sensitive: trimmed, with the attribute, and whether it is set and fit
// to use. Its diagnostics go to diags.
func plainStrings(ctx *hhcl.EvalContext, attrs hhcl.Attributes, where string, diags *hhcl.Diagnostics) func(name string) (string, *hhcl.Attribute, bool) {
	return func(name string) (string, *hhcl.Attribute, bool) {
		attr, ok := attrs[name]
		if !ok {
			return "", nil, false
		}
		s, ev, set, d := evalString(ctx, attr, name)
		*diags = append(*diags, d...)
		*diags = append(*diags, notSensitive(ev, name, where)...)
		return strings.TrimSpace(s), attr, set && !ev.sensitive
	}
}

// decodeStatusPage reads watch.status_page: where the page listens, its
// certificate, and how people log in.
func (l *loader) decodeStatusPage(ctx *hhcl.EvalContext, b *hhcl.Block) (*alerts.StatusPage, hhcl.Diagnostics) {
	const where = "the status_page block"
	out := &alerts.StatusPage{SessionTTL: alerts.DefaultSessionTTL}
	content, diags := b.Body.Content(statusPageSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	str := plainStrings(ctx, attrs, where, &diags)

	var listen *hhcl.Attribute
	for _, f := range []struct {
		name string
		dst  *string
	}{{"listen", &out.Listen}, {"metrics_listen", &out.MetricsListen}} {
		s, attr, set := str(f.name)
		if !set {
			continue
		}
		if f.name == "listen" {
			listen = attr
		}
		if msg := checkWebListen(s); msg != "" {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid listen address", fmt.Sprintf("In %s: %s %q %s", where, f.name, s, msg)))
			continue
		}
		*f.dst = s
	}
	if out.Listen != "" && out.Listen == out.MetricsListen {
		diags = append(diags, errorAt(attrs["metrics_listen"].Expr.Range(), "Invalid listen address",
			fmt.Sprintf("In %s: metrics_listen is the page's own address; leave it out to serve /metrics on the page, behind its login.", where)))
	}

	var certAttr, keyAttr *hhcl.Attribute
	if s, attr, set := str("tls_cert"); set {
		out.CertFile, certAttr = l.resolvePath(s), attr
	}
	if s, attr, set := str("tls_key"); set {
		out.KeyFile, keyAttr = l.resolvePath(s), attr
	}
	switch {
	case certAttr != nil && keyAttr == nil:
		diags = append(diags, errorAt(certAttr.Expr.Range(), "Invalid TLS certificate", fmt.Sprintf("In %s: tls_cert is set, so tls_key is required.", where)))
	case keyAttr != nil && certAttr == nil:
		diags = append(diags, errorAt(keyAttr.Expr.Range(), "Invalid TLS certificate", fmt.Sprintf("In %s: tls_key is set, so tls_cert is required.", where)))
	case certAttr != nil:
		if msg := l.checkKeyPair(out.CertFile, out.KeyFile); msg != "" {
			diags = append(diags, errorAt(certAttr.Expr.Range(), "Invalid TLS certificate", fmt.Sprintf("In %s: %s.", where, msg)))
		}
	}

	if s, attr, set := str("url"); set {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid status page URL",
				fmt.Sprintf("In %s: url %q is not the page's base address; write it as people open it, e.g. \"https://print-status.example.com\".", where, s)))
		} else {
			out.URL = strings.TrimRight(s, "/")
		}
	}

	if attr, ok := attrs["session_ttl"]; ok {
		v, set, d := evalDuration(ctx, attr, where, minSessionTTL)
		diags = append(diags, d...)
		if set {
			out.SessionTTL = v
		}
	}

	blocks, d := singleBlocks(content.Blocks)
	diags = append(diags, d...)
	if sub, ok := blocks["ldap"]; ok {
		out.LDAP, d = l.decodeLDAP(ctx, sub)
		diags = append(diags, d...)
	}
	if sub, ok := blocks["kerberos"]; ok {
		out.Kerberos, d = l.decodeKerberos(ctx, sub)
		diags = append(diags, d...)
		if _, ok := blocks["ldap"]; !ok {
			diags = append(diags, errorAt(sub.DefRange, "Kerberos without LDAP",
				fmt.Sprintf("In %s: a Kerberos ticket proves who a person is, but their role comes from their groups in the directory: add an ldap block with roles.", where)))
		}
	}
	if len(blocks) == 0 && listen != nil && out.Listen != "" && !loopbackListen(out.Listen) {
		diags = append(diags, errorAt(listen.Expr.Range(), "Status page without login",
			fmt.Sprintf("In %s: listen %q is reachable from other machines, but there is no ldap or kerberos block to log people in. Add one, or listen on a loopback address such as \"127.0.0.1:8443\".", where, out.Listen)))
	}
	return out, diags
}

// checkWebListen returns why s is not a host:port for a web server, or "".
func checkWebListen(s string) string {
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return `is not host:port; write ":8443" for every address, or "127.0.0.1:8443".`
	}
	return checkListen(s)
}

// loopbackListen reports whether s listens only on this machine.
func loopbackListen(s string) bool {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// checkKeyPair returns why cert and key are not a usable pair, or "".
func (l *loader) checkKeyPair(cert, key string) string {
	certPEM, err := readRegular(cert, l.maxFileSize)
	if err != nil {
		return "tls_cert: " + fileError(err)
	}
	keyPEM, err := readRegular(key, l.maxFileSize)
	if err != nil {
		return "tls_key: " + fileError(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return "tls_cert and tls_key are not a certificate and its key: " + strings.TrimPrefix(err.Error(), "tls: ")
	}
	return ""
}

// decodeLDAP reads status_page.ldap. The bind password is secret whether
// or not it comes from a sensitive variable: no diagnostic carries its
// value or the expression that makes it.
func (l *loader) decodeLDAP(ctx *hhcl.EvalContext, b *hhcl.Block) (*alerts.LDAP, hhcl.Diagnostics) {
	const where = "the ldap block"
	out := &alerts.LDAP{UserFilter: alerts.DefaultUserFilter, Timeout: alerts.DefaultLDAPTimeout}
	content, diags := b.Body.Content(ldapSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	bad := func(rng hhcl.Range, summary, detail string) {
		diags = append(diags, errorAt(rng, summary, fmt.Sprintf("In %s: %s", where, detail)))
	}
	str := plainStrings(ctx, attrs, where, &diags)
	flag := func(name string) (bool, *hhcl.Attribute) {
		attr, ok := attrs[name]
		if !ok {
			return false, nil
		}
		v, _, d := evalBool(ctx, attr)
		diags = append(diags, d...)
		return v, attr
	}

	var tlsUsed, urlOK bool
	urlAttr, ldaps := attrs["url"], false
	if s, attr, set := str("url"); set {
		if scheme, msg := checkLDAPURL(s); msg != "" {
			bad(attr.Expr.Range(), "Invalid LDAP URL", fmt.Sprintf("url %q %s", s, msg))
		} else {
			out.URL, ldaps, urlOK = s, scheme == "ldaps", true
		}
	}
	var startAttr, insecureAttr *hhcl.Attribute
	out.StartTLS, startAttr = flag("start_tls")
	out.Insecure, insecureAttr = flag("insecure")
	if urlOK {
		tlsUsed = ldaps || out.StartTLS
		switch {
		case ldaps && out.StartTLS:
			bad(startAttr.Expr.Range(), "Invalid LDAP encryption", "ldaps:// speaks TLS from the start; start_tls is for ldap:// only. Remove start_tls, or use an ldap:// url.")
		case !tlsUsed && !out.Insecure:
			bad(urlAttr.Expr.Range(), "LDAP without TLS",
				fmt.Sprintf("url %q is plain ldap:// without start_tls, so passwords would cross the network in clear. Use ldaps://, or set start_tls = true, or, on a network you trust, set insecure = true to allow it.", out.URL))
		case tlsUsed && out.Insecure && insecureAttr != nil:
			diags = append(diags, warningAt(insecureAttr.Expr.Range(), "insecure not needed",
				fmt.Sprintf("In %s: the connection uses TLS, so insecure = true changes nothing (it never turns off certificate checks).", where)))
		}
	}
	if s, attr, set := str("ca_file"); set {
		out.CAFile = l.resolvePath(s)
		if msg := l.checkCACert(out.CAFile); msg != "" {
			bad(attr.Expr.Range(), "Invalid CA certificate", fmt.Sprintf("ca_file %s: %s.", s, msg))
		} else if urlOK && !tlsUsed {
			diags = append(diags, warningAt(attr.Expr.Range(), "CA certificate not used",
				fmt.Sprintf("In %s: ca_file verifies the directory's TLS certificate, but plain ldap:// without start_tls uses no TLS.", where)))
		}
	}

	// Pairing is checked on what is written, even if it is wrong.
	var dnRange, pwRange *hhcl.Range
	if attr, ok := attrs["bind_dn"]; ok {
		dnRange = attr.Expr.Range().Ptr()
	}
	if s, attr, set := str("bind_dn"); set {
		if msg := checkDN(s); msg != "" {
			bad(attr.Expr.Range(), "Invalid DN", fmt.Sprintf("bind_dn %q %s", s, msg))
		}
		out.BindDN = s
	}
	if attr, ok := attrs["bind_password"]; ok {
		pwRange = attr.Expr.Range().Ptr()
		v, ev, set, d := evalString(ctx, attr, "bind_password")
		for _, diag := range d {
			diag.Expression, diag.EvalContext = nil, nil
		}
		diags = append(diags, d...)
		if set {
			if v == "" {
				bad(attr.Expr.Range(), "Invalid LDAP credentials", "the bind_password must not be empty.")
			}
			out.BindPassword = v
			if !ev.sensitive && len(attr.Expr.Variables()) == 0 {
				w := warningAt(attr.Expr.Range(), "Password in the configuration",
					"The LDAP bind password is written in the configuration file, where everyone who can read the file or its history can read it. Take it from a sensitive variable instead: bind_password = var.ldap_password, set with INKFORM_VAR_ldap_password or a -var-file kept out of version control.")
				w.Extra = secretSubject{}
				diags = append(diags, w)
			}
		}
	}
	switch {
	case dnRange != nil && pwRange == nil:
		bad(*dnRange, "Invalid LDAP credentials", "bind_dn is set, so bind_password is required.")
	case pwRange != nil && dnRange == nil:
		bad(*pwRange, "Invalid LDAP credentials", "bind_password is set, so bind_dn is required.")
	}

	for _, f := range []struct {
		name string
		dst  *string
	}{{"user_base", &out.UserBase}, {"group_base", &out.GroupBase}} {
		if s, attr, set := str(f.name); set {
			if msg := checkDN(s); msg != "" {
				bad(attr.Expr.Range(), "Invalid DN", fmt.Sprintf("%s %q %s", f.name, s, msg))
			}
			*f.dst = s
		}
	}
	if s, attr, set := str("user_filter"); set {
		if msg := checkUserFilter(s); msg != "" {
			bad(attr.Expr.Range(), "Invalid user filter", fmt.Sprintf("user_filter %q %s", s, msg))
		}
		out.UserFilter = s
	}
	if attr, ok := attrs["roles"]; ok {
		out.Roles, d = decodeRoles(ctx, attr, where)
		diags = append(diags, d...)
	}
	if attr, ok := attrs["timeout"]; ok {
		v, set, d := evalDuration(ctx, attr, where, minLDAPTimeout)
		diags = append(diags, d...)
		if set {
			out.Timeout = v
		}
	}
	return out, diags
}

// checkLDAPURL returns the scheme of an ldap:// or ldaps:// URL naming
// only a host and port, or why s is not one.
func checkLDAPURL(s string) (string, string) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "", `is not a URL such as "ldaps://ldap.example.com" or "ldap://ldap.example.com:389".`
	}
	scheme := strings.ToLower(u.Scheme)
	schemes := []string{"ldap", "ldaps"}
	if !slices.Contains(schemes, scheme) {
		return "", fmt.Sprintf("has scheme %q; it must be \"ldap\" or \"ldaps\".%s", u.Scheme, didYouMean(scheme, schemes))
	}
	if u.Hostname() == "" {
		return "", "names no host."
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", "must be only scheme://host[:port]: the search bases are user_base and group_base, the account bind_dn."
	}
	if p := u.Port(); p != "" {
		if _, err := parsePort(p); err != nil {
			return "", "has a bad port: " + err.Error() + "."
		}
	}
	return scheme, ""
}

// checkDN returns why s is not an LDAP distinguished name, or "".
func checkDN(s string) string {
	if s == "" {
		return "must not be empty."
	}
	if _, err := goldap.ParseDN(s); err != nil {
		return fmt.Sprintf("is not a DN such as \"ou=people,dc=example,dc=com\" (%s).", err)
	}
	return ""
}

// checkUserFilter returns why s is not a search filter with {username},
// or "".
func checkUserFilter(s string) string {
	if !strings.Contains(s, "{username}") {
		return `has no {username}: write where the login name goes, e.g. "(uid={username})".`
	}
	if _, err := goldap.CompileFilter(strings.ReplaceAll(s, "{username}", "x")); err != nil {
		return fmt.Sprintf("is not an LDAP filter (%s).", strings.TrimPrefix(err.Error(), "LDAP Result Code 201 \"Filter Compile Error\": "))
	}
	return ""
}

// decodeRoles reads `roles = { admin = "cn=…", … }`. A literal object is
// read item by item so that each problem points at its key or value.
func decodeRoles(ctx *hhcl.EvalContext, attr *hhcl.Attribute, where string) (map[string]string, hhcl.Diagnostics) {
	var diags hhcl.Diagnostics
	out := map[string]string{}
	seen := map[string]hhcl.Range{}
	add := func(role string, keyRng hhcl.Range, dn string, valRng hhcl.Range) {
		if !slices.Contains(roleNames, role) {
			diags = append(diags, errorAt(keyRng, "Unknown role",
				fmt.Sprintf("In %s: roles has %q, which is not one of %s.%s", where, role, quotedList(roleNames), didYouMean(role, roleNames))))
			return
		}
		if prev, dup := seen[role]; dup {
			diags = append(diags, errorAt(keyRng, "Duplicate role",
				fmt.Sprintf("In %s: roles gives %q twice; the first is at %s.", where, role, prev)))
			return
		}
		seen[role] = keyRng
		if msg := checkDN(strings.TrimSpace(dn)); msg != "" {
			diags = append(diags, errorAt(valRng, "Invalid DN", fmt.Sprintf("In %s: the %s group %q %s", where, role, dn, msg)))
			return
		}
		out[role] = strings.TrimSpace(dn)
	}
	if obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range obj.Items {
			k, d := item.KeyExpr.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			k, _ = k.Unmark()
			if k.IsNull() || !k.IsKnown() || k.Type() != cty.String {
				diags = append(diags, errorAt(item.KeyExpr.Range(), "Unknown role",
					fmt.Sprintf("In %s: each key of roles is a role: %s.", where, quotedList(roleNames))))
				continue
			}
			ev, ok, d := eval(ctx, item.ValueExpr, cty.String, "a role's group")
			diags = append(diags, d...)
			if !ok {
				continue
			}
			diags = append(diags, notSensitive(ev, "roles", where)...)
			if ev.sensitive {
				continue
			}
			if ev.val.IsNull() {
				diags = append(diags, errorAt(item.ValueExpr.Range(), "Invalid DN", fmt.Sprintf("In %s: the %s group must not be null.", where, k.AsString())))
				continue
			}
			add(k.AsString(), item.KeyExpr.Range(), ev.val.AsString(), item.ValueExpr.Range())
		}
	} else {
		ev, ok, d := eval(ctx, attr.Expr, cty.Map(cty.String), "roles")
		diags = append(diags, d...)
		if !ok {
			return out, diags
		}
		if d := notSensitive(ev, "roles", where); d != nil {
			return out, append(diags, d...)
		}
		if !ev.val.IsNull() {
			for it := ev.val.ElementIterator(); it.Next(); {
				k, v := it.Element()
				if v.IsNull() {
					diags = append(diags, errorAt(attr.Expr.Range(), "Invalid DN", fmt.Sprintf("In %s: the %s group must not be null.", where, k.AsString())))
					continue
				}
				add(k.AsString(), attr.Expr.Range(), v.AsString(), attr.Expr.Range())
			}
		}
	}
	if len(out) == 0 && !diags.HasErrors() {
		diags = append(diags, errorAt(attr.Expr.Range(), "No roles",
			fmt.Sprintf("In %s: roles must give the group DN of at least one role of %s.", where, quotedList(roleNames))))
	}
	return out, diags
}

// decodeKerberos reads status_page.kerberos.
func (l *loader) decodeKerberos(ctx *hhcl.EvalContext, b *hhcl.Block) (*alerts.Kerberos, hhcl.Diagnostics) {
	const where = "the kerberos block"
	out := &alerts.Kerberos{}
	content, diags := b.Body.Content(kerberosSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	str := plainStrings(ctx, attrs, where, &diags)
	if s, attr, set := str("keytab"); set {
		out.Keytab = l.resolvePath(s)
		if msg := l.checkKeytab(out.Keytab); msg != "" {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid keytab", fmt.Sprintf("In %s: keytab %s: %s.", where, s, msg)))
		}
	}
	if s, attr, set := str("service"); set {
		if !servicePrincipal.MatchString(s) {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid service principal",
				fmt.Sprintf("In %s: service %q is not a principal such as \"HTTP/status.example.com\": the service, a slash and the host name browsers use, without the realm.", where, s)))
		}
		out.Service = s
	}
	if s, attr, set := str("realm"); set {
		if s == "" || strings.ContainsAny(s, "@/ \t") {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid realm",
				fmt.Sprintf("In %s: realm %q is not a Kerberos realm such as \"EXAMPLE.COM\".", where, s)))
		}
		out.Realm = s
	}
	return out, diags
}

// checkKeytab returns why abs is not a keytab file, or "". A keytab
// starts with the byte 5 and a format version of 1 or 2.
func (l *loader) checkKeytab(abs string) string {
	data, err := readRegular(abs, l.maxFileSize)
	switch {
	case err != nil:
		return fileError(err)
	case len(data) < 2 || data[0] != 5 || (data[1] != 1 && data[1] != 2):
		return "the file is not a keytab (make one with ktutil, kadmin's ktadd or ktpass)"
	}
	return ""
}
