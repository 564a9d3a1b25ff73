package hcl

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/fleet"
	statebackend "github.com/inkform/inkform/state/backend"
)

// Bounds on per-request SNMP behaviour; beyond them a fleet run would hang
// for minutes on one dead printer.
const (
	maxSNMPTimeout = 60 * time.Second
	maxSNMPRetries = 10
	minPassphrase  = 8 // USM (RFC 3414) rejects shorter passphrases
)

type configurationBlock struct {
	block    *hhcl.Block
	delivery delivery
	// settings are the block's shorthands and settings map merged: what a
	// printer without settings of its own gets. Printers share it, as they
	// share delivery's slices; declared values are final, never modified.
	settings []fleet.Desired
}

func (l *loader) decodeConfiguration(ctx *hhcl.EvalContext, c *configurationBlock) hhcl.Diagnostics {
	content, diags := c.block.Body.Content(configurationSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	layers, d := l.decodeSettingLayers(ctx, attrs)
	// Clipped, so that an append by any holder copies instead of writing
	// into the shared array.
	c.settings = slices.Clip(mergeSettings(layers.shorthand, layers.settings))
	diags = append(diags, d...)
	c.delivery, d = l.decodeDelivery(ctx, attrs)
	return append(diags, d...)
}

type credentialsBlock struct {
	block *hhcl.Block
	creds fleet.Credentials
}

func (l *loader) decodeCredentials(ctx *hhcl.EvalContext, c *credentialsBlock) hhcl.Diagnostics {
	name := c.block.Labels[0]
	c.creds = fleet.Credentials{Name: name}
	content, diags := c.block.Body.Content(credentialsSchema)
	var snmpBlock, adminBlock *hhcl.Block
	for _, b := range content.Blocks {
		first := &snmpBlock
		if b.Type == "admin" {
			first = &adminBlock
		}
		if *first != nil {
			diags = append(diags, duplicate(b.Type+" block", "", b.DefRange, (*first).DefRange))
			continue
		}
		*first = b
	}
	if adminBlock != nil {
		admin, d := l.decodeAdmin(ctx, name, adminBlock)
		c.creds.Admin = admin
		diags = append(diags, d...)
	}
	if snmpBlock == nil {
		if !diags.HasErrors() {
			diags = append(diags, errorAt(c.block.DefRange, "Missing snmp block",
				fmt.Sprintf("Credentials %q need an snmp block saying how to authenticate.", name)))
		}
		return diags
	}
	snmp, d := l.decodeSNMP(ctx, name, snmpBlock)
	c.creds.SNMP = snmp
	return append(diags, d...)
}

// snmpField is one decoded string attribute of an snmp block.
type snmpField struct {
	value string
	set   bool
	ev    evaluated
}

func (l *loader) decodeSNMP(ctx *hhcl.EvalContext, credName string, b *hhcl.Block) (fleet.SNMP, hhcl.Diagnostics) {
	content, diags := b.Body.Content(snmpSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	f := map[string]snmpField{}
	for _, n := range []string{"version", "community", "user", "auth_protocol", "auth_passphrase", "priv_protocol", "priv_passphrase", "timeout"} {
		attr, ok := attrs[n]
		if !ok {
			continue
		}
		s, ev, set, d := evalString(ctx, attr, n)
		diags = append(diags, d...)
		f[n] = snmpField{value: s, set: set, ev: ev}
		if ev.unknown {
			// It depends on a missing variable, reported once where that
			// is declared (which fails the load): nothing to check here.
			return fleet.SNMP{}, diags
		}
	}
	if diags.HasErrors() {
		// Checking how the fields fit together needs them all; what is
		// wrong so far is already reported.
		return fleet.SNMP{}, diags
	}
	where := fmt.Sprintf("credentials %q", credName)
	bad := func(field, detail string) {
		rng := b.DefRange
		if attr, ok := attrs[field]; ok {
			rng = attr.Expr.Range()
		}
		diags = append(diags, errorAt(rng, "Invalid SNMP credentials", fmt.Sprintf("In %s: %s", where, detail)))
	}

	out := fleet.SNMP{Version: fleet.SNMPv2c}
	if v := f["version"]; v.set {
		switch strings.ToLower(strings.TrimPrefix(strings.ToLower(v.value), "v")) {
		case "1":
			out.Version = fleet.SNMPv1
		case "2c", "2":
			out.Version = fleet.SNMPv2c
		case "3":
			out.Version = fleet.SNMPv3
		default:
			bad("version", fmt.Sprintf("version %s is not an SNMP version; use \"1\", \"2c\" or \"3\".", show(v.value, v.ev.sensitive)))
		}
	}
	if out.Version == fleet.SNMPv3 {
		for _, n := range []string{"community"} {
			if f[n].set {
				bad(n, "community is for SNMP v1 and v2c; v3 authenticates with user and passphrases.")
			}
		}
		out.User = f["user"].value
		if !f["user"].set || out.User == "" {
			bad("user", "SNMP v3 needs a user.")
		}
		if ap := f["auth_protocol"]; ap.set {
			switch strings.ToUpper(ap.value) {
			case "MD5":
				out.AuthProtocol = "MD5"
			case "SHA", "SHA1", "SHA-1":
				out.AuthProtocol = "SHA"
			case "SHA256", "SHA-256":
				out.AuthProtocol = "SHA256"
			default:
				bad("auth_protocol", fmt.Sprintf("auth_protocol %s is not supported; use \"MD5\", \"SHA\" or \"SHA256\".", show(ap.value, ap.ev.sensitive)))
			}
		}
		if pp := f["priv_protocol"]; pp.set {
			switch strings.ToUpper(pp.value) {
			case "AES", "AES128", "AES-128":
				out.PrivProtocol = "AES"
			case "DES":
				out.PrivProtocol = "DES"
			default:
				bad("priv_protocol", fmt.Sprintf("priv_protocol %s is not supported; use \"AES\" or \"DES\".", show(pp.value, pp.ev.sensitive)))
			}
			if !f["auth_protocol"].set {
				bad("priv_protocol", "privacy (priv_protocol) requires authentication: set auth_protocol and auth_passphrase too.")
			}
		}
		out.AuthPassphrase = passphrase(f, "auth_protocol", "auth_passphrase", bad)
		out.PrivPassphrase = passphrase(f, "priv_protocol", "priv_passphrase", bad)
	} else {
		for _, n := range []string{"user", "auth_protocol", "auth_passphrase", "priv_protocol", "priv_passphrase"} {
			if f[n].set {
				bad(n, fmt.Sprintf("%s is for SNMP v3; SNMP v%s authenticates with a community.", n, out.Version))
			}
		}
		out.Community = f["community"].value
		if !f["community"].set || out.Community == "" {
			bad("community", fmt.Sprintf("SNMP v%s needs a community.", out.Version))
		}
	}
	if t := f["timeout"]; t.set {
		d, err := time.ParseDuration(t.value)
		switch {
		case err != nil:
			bad("timeout", fmt.Sprintf("timeout %s is not a duration such as \"2s\" or \"500ms\".", show(t.value, t.ev.sensitive)))
		case d <= 0 || d > maxSNMPTimeout:
			bad("timeout", fmt.Sprintf("timeout must be more than 0 and at most %s.", maxSNMPTimeout))
		default:
			out.Timeout = d
		}
	}
	if attr, ok := attrs["retries"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.Number, "retries")
		diags = append(diags, d...)
		if ok && !ev.val.IsNull() {
			n, whole := wholeNumber(ev.val)
			if !whole || n < 0 || n > maxSNMPRetries {
				bad("retries", fmt.Sprintf("retries must be a whole number from 0 to %d.", maxSNMPRetries))
			} else if n == 0 {
				out.Retries = -1 // explicitly none; 0 in fleet.SNMP means "default"
			} else {
				out.Retries = n
			}
		}
	}
	return out, diags
}

// passphrase checks that a passphrase comes with its protocol and is long
// enough, and returns it.
func passphrase(f map[string]snmpField, protoField, passField string, bad func(field, detail string)) string {
	proto, pass := f[protoField], f[passField]
	switch {
	case proto.set && !pass.set:
		bad(protoField, fmt.Sprintf("%s is set, so %s is required.", protoField, passField))
	case !proto.set && pass.set:
		bad(passField, fmt.Sprintf("%s is set without %s.", passField, protoField))
	case pass.set && len(pass.value) < minPassphrase:
		bad(passField, fmt.Sprintf("%s must be at least %d characters long.", passField, minPassphrase))
	default:
		return pass.value
	}
	return ""
}

func (l *loader) decodeState(ctx *hhcl.EvalContext) hhcl.Diagnostics {
	l.state = StateConfig{Backend: DefaultStateBackend, Path: l.resolvePath(DefaultStatePath)}
	b := l.stateBlock
	if b == nil {
		return nil
	}
	l.state.DeclRange = b.DefRange
	backend := b.Labels[0]
	content, diags := b.Body.Content(stateSchema)
	row, known := statebackend.Lookup(backend)
	if !known {
		return append(diags, errorAt(b.LabelRanges[0], "Unsupported state backend",
			fmt.Sprintf("State backend %q is not one of %s.", backend, quotedList(statebackend.Names()))))
	}
	file := row.File
	l.state.Backend = backend
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	if !file {
		l.state.Path = ""
		if attr, ok := attrs["path"]; ok {
			diags = append(diags, errorAt(attr.NameRange, "Unsupported argument",
				fmt.Sprintf("The %s backend takes dsn, not path.", backend)))
		}
		attr, ok := attrs["dsn"]
		if !ok {
			if !diags.HasErrors() {
				diags = append(diags, errorAt(b.DefRange, "Missing dsn",
					fmt.Sprintf("The %s state backend needs dsn = \"%s...\"; take it from a sensitive variable.", backend, row.Scheme)))
			}
			return diags
		}
		// The DSN holds a password: no message repeats it.
		dsn, ev, set, d := evalString(ctx, attr, "dsn")
		diags = append(diags, d...)
		if ev.unknown && l.stateOnly {
			return append(diags, unsetStateVariable(attr))
		}
		if !set {
			return diags
		}
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(dsn)), row.Scheme) {
			return append(diags, errorAt(attr.Expr.Range(), "Invalid state dsn",
				fmt.Sprintf("The dsn of a %s state must start with %s (its value is not shown: it holds credentials).", backend, row.Scheme)))
		}
		l.state.DSN = strings.TrimSpace(dsn)
		return diags
	}
	if attr, ok := attrs["dsn"]; ok {
		diags = append(diags, errorAt(attr.NameRange, "Unsupported argument",
			"dsn is for server state backends; the "+backend+" backend takes path."))
	}
	if attr, ok := attrs["path"]; ok {
		p, ev, set, d := evalString(ctx, attr, "path")
		diags = append(diags, d...)
		if ev.unknown && l.stateOnly {
			return append(diags, unsetStateVariable(attr))
		}
		if set {
			if strings.TrimSpace(p) == "" {
				return append(diags, errorAt(attr.Expr.Range(), "Invalid state path", "path must not be empty."))
			}
			l.state.Path = l.resolvePath(p)
		}
	}
	return diags
}

// unsetStateVariable reports a state block attribute that depends on a
// variable without a value (only StateOnly loads leave them unreported).
func unsetStateVariable(attr *hhcl.Attribute) *hhcl.Diagnostic {
	var names []string
	for _, tr := range attr.Expr.Variables() {
		if tr.RootName() == "var" && len(tr) > 1 {
			if a, ok := tr[1].(hhcl.TraverseAttr); ok {
				names = append(names, a.Name)
			}
		}
	}
	detail := "The state block's " + attr.Name + " uses a variable that has no value."
	if len(names) > 0 {
		detail = fmt.Sprintf("The state block's %s uses variable %q, which has no value. Set it with -var %s=..., in a -var-file, or with the environment variable %s%s.",
			attr.Name, names[0], names[0], EnvVarPrefix, names[0])
	}
	return errorAt(attr.Expr.Range(), "No value for required variable", detail)
}

// quotedList writes names as "a", "b", "c".
func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func sortDesired(ds []fleet.Desired) {
	slices.SortFunc(ds, func(a, b fleet.Desired) int { return cmp.Compare(a.Name, b.Name) })
}
