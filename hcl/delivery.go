package hcl

import (
	"crypto/x509"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

// Transports a printer's `transports` list may name, the ones with a TCP
// port that `ports` may move, and the preference when the list is left out.
var (
	transportNames    = catalog.TransportNames()
	portNames         = catalog.PortTransports()
	defaultTransports = catalog.DefaultTransports()
)

// delivery holds the attributes that say how settings and files reach a
// printer (transports, ports, TLS trust, files, firmware, secured) as one block
// declares them. A printer's own value for an attribute replaces its
// configuration's.
type delivery struct {
	transports    []string
	transportsSet bool
	ports         map[string]int
	portsSet      bool
	fingerprint   string
	caCert        string
	trustRange    *hhcl.Range // where tls_fingerprint or ca_cert was set
	trustBoth     bool        // both set in this block
	files         []fleet.File
	filesSet      bool
	firmware      *fleet.Firmware
	firmwareSet   bool
	secured       bool
	securedSet    bool
}

// over returns d layered over base: what d sets wins.
func (d delivery) over(base delivery) delivery {
	out := base
	if d.transportsSet {
		out.transports, out.transportsSet = d.transports, true
	}
	if d.portsSet {
		out.ports, out.portsSet = d.ports, true
	}
	if d.trustRange != nil {
		// TLS trust is one choice: a printer pinning a fingerprint drops its
		// configuration's CA and the other way round.
		out.fingerprint, out.caCert, out.trustRange, out.trustBoth = d.fingerprint, d.caCert, d.trustRange, d.trustBoth
	}
	if d.filesSet {
		out.files, out.filesSet = d.files, true
	}
	if d.firmwareSet {
		out.firmware, out.firmwareSet = d.firmware, true
	}
	if d.securedSet {
		out.secured, out.securedSet = d.secured, true
	}
	return out
}

func (d delivery) apply(p *fleet.Printer) {
	p.Transports = d.transports
	p.Ports = d.ports
	p.TLSFingerprint = d.fingerprint
	p.CACertFile = d.caCert
	p.Files = d.files
	p.Firmware = d.firmware
	p.Secured = d.secured
}

// decodeDelivery reads the delivery attributes of a configuration or
// printer block. Unset and null attributes leave the value to the layer
// below.
func (l *loader) decodeDelivery(ctx *hhcl.EvalContext, attrs hhcl.Attributes) (delivery, hhcl.Diagnostics) {
	var out delivery
	var diags hhcl.Diagnostics
	if attr, ok := attrs["transports"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.List(cty.String), "transports")
		diags = append(diags, d...)
		if ok && !ev.val.IsNull() {
			out.transports, out.transportsSet = l.transportList(attr, ev.val, &diags), true
		}
	}
	if attr, ok := attrs["ports"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.Map(cty.Number), "ports")
		diags = append(diags, d...)
		if ok && !ev.val.IsNull() {
			out.ports, out.portsSet = portMap(attr, ev.val, &diags), true
		}
	}
	if attr, ok := attrs["tls_fingerprint"]; ok {
		v, _, set, d := evalString(ctx, attr, "tls_fingerprint")
		diags = append(diags, d...)
		if set {
			if hexDigest, ok := parseSHA256(v); ok && strings.HasPrefix(strings.TrimSpace(v), "sha256:") {
				out.fingerprint = "sha256:" + hexDigest
			} else {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid TLS fingerprint",
					`tls_fingerprint must be "sha256:" followed by the SHA-256 digest of the printer's certificate in hex (64 digits; colons between bytes are allowed), as printed by "openssl x509 -noout -fingerprint -sha256".`))
			}
			out.trustRange = attr.Expr.Range().Ptr()
		}
	}
	if attr, ok := attrs["ca_cert"]; ok {
		v, ev, set, d := evalString(ctx, attr, "ca_cert")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "ca_cert", "a printer or configuration")...)
		if set && !ev.sensitive {
			if out.trustRange != nil {
				out.trustBoth = true
			}
			abs := l.resolvePath(v)
			if msg := l.checkCACert(abs); msg != "" {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid CA certificate", fmt.Sprintf("ca_cert %s: %s.", v, msg)))
			}
			out.caCert = abs
			out.trustRange = attr.Expr.Range().Ptr()
		}
	}
	if out.trustBoth {
		diags = append(diags, errorAt(*out.trustRange, "Conflicting TLS trust",
			"Set either tls_fingerprint (pin the printer's own certificate) or ca_cert (verify it against a CA), not both."))
	}
	if attr, ok := attrs["files"]; ok {
		files, set, d := l.decodeFiles(ctx, attr)
		diags = append(diags, d...)
		out.files, out.filesSet = files, set
	}
	if attr, ok := attrs["secured"]; ok {
		v, set, d := evalBool(ctx, attr)
		diags = append(diags, d...)
		out.secured, out.securedSet = v, set
	}
	if attr, ok := attrs[blockFirmware]; ok {
		ref, d := decodeRef(ctx, attr, blockFirmware)
		diags = append(diags, d...)
		if f, ok := l.firmwares[ref]; ok {
			out.firmware, out.firmwareSet = f.fw, true
		}
	}
	return out, diags
}

func (l *loader) transportList(attr *hhcl.Attribute, v cty.Value, diags *hhcl.Diagnostics) []string {
	bad := func(detail string) {
		*diags = append(*diags, errorAt(attr.Expr.Range(), "Invalid transports", detail))
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		switch {
		case e.IsNull():
			bad("transports must not contain null.")
		case !slices.Contains(transportNames, e.AsString()):
			bad(fmt.Sprintf("%q is not a transport; use %q.%s", e.AsString(), transportNames, didYouMean(e.AsString(), transportNames)))
		case slices.Contains(out, e.AsString()):
			bad(fmt.Sprintf("%q is listed twice; the list is an order of preference.", e.AsString()))
		default:
			out = append(out, e.AsString())
		}
	}
	if len(out) == 0 && v.LengthInt() == 0 {
		bad(fmt.Sprintf("transports must name at least one of %q; leave it out for %q.", transportNames, defaultTransports))
	}
	return out
}

func portMap(attr *hhcl.Attribute, v cty.Value, diags *hhcl.Diagnostics) map[string]int {
	out := make(map[string]int, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		name := k.AsString()
		switch {
		case inAddress(name):
			*diags = append(*diags, errorAt(attr.Expr.Range(), "Invalid ports",
				fmt.Sprintf("The %s port is part of the printer's address (\"host:port\"), not of ports.", strings.ToUpper(name))))
			continue
		case !slices.Contains(portNames, name):
			*diags = append(*diags, errorAt(attr.Expr.Range(), "Invalid ports",
				fmt.Sprintf("%q is not a transport with a port of its own; use %q.%s", name, portNames, didYouMean(name, portNames))))
			continue
		case e.IsNull():
			continue
		}
		n, whole := wholeNumber(e)
		if !whole || n < 1 || n > 65535 {
			*diags = append(*diags, errorAt(attr.Expr.Range(), "Invalid ports",
				fmt.Sprintf("The %s port must be a whole number from 1 to 65535.", name)))
			continue
		}
		out[name] = n
	}
	return out
}

// inAddress reports whether name is a transport whose port is written in
// the printer's address.
func inAddress(name string) bool {
	t, ok := catalog.Transport(name)
	return ok && t.InAddress
}

// checkCACert returns why abs is not a usable CA bundle, or "". Results are
// cached per Load like file digests.
func (l *loader) checkCACert(abs string) string {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	if msg, ok := l.caCerts[abs]; ok {
		return msg
	}
	msg := ""
	data, err := readRegular(abs, l.maxFileSize)
	switch {
	case err != nil:
		msg = fileError(err)
	case !x509.NewCertPool().AppendCertsFromPEM(data):
		msg = "the file holds no PEM certificate"
	}
	l.caCerts[abs] = msg
	return msg
}

// decodeFiles reads `files = [{ source = "…", via = "ftp", dest = "…" }, …]`.
// A literal list is read element by element so that a problem points at the
// element (its source) rather than the whole list.
func (l *loader) decodeFiles(ctx *hhcl.EvalContext, attr *hhcl.Attribute) ([]fleet.File, bool, hhcl.Diagnostics) {
	ev, ok, diags := eval(ctx, attr.Expr, cty.DynamicPseudoType, "files")
	if !ok || ev.val.IsNull() {
		return nil, false, diags
	}
	if d := refuseSensitive(ev, "files list", "a printer or configuration"); d != nil {
		return nil, false, append(diags, d...)
	}
	ty := ev.val.Type()
	if !ty.IsListType() && !ty.IsTupleType() {
		return nil, false, append(diags, errorAt(attr.Expr.Range(), "Invalid files",
			fmt.Sprintf("files must be a list of objects such as { source = \"certs/ca.pem\", via = \"ftp\" }, not %s.", ty.FriendlyName())))
	}
	var elems []hclsyntax.Expression
	if tuple, ok := attr.Expr.(*hclsyntax.TupleConsExpr); ok && len(tuple.Exprs) == ev.val.LengthInt() {
		elems = tuple.Exprs
	}
	// rangeOf finds where element i's key was written, falling back to the
	// element and then the attribute.
	rangeOf := func(i int, key string) hhcl.Range {
		if elems == nil {
			return attr.Expr.Range()
		}
		if obj, ok := elems[i].(*hclsyntax.ObjectConsExpr); ok {
			for _, item := range obj.Items {
				if k, diags := item.KeyExpr.Value(nil); !diags.HasErrors() && k.Type() == cty.String && k.AsString() == key {
					return item.ValueExpr.Range()
				}
				if hhcl.ExprAsKeyword(item.KeyExpr) == key {
					return item.ValueExpr.Range()
				}
			}
		}
		return elems[i].Range()
	}

	var out []fleet.File
	dests := map[string]int{}
	i := -1
	for it := ev.val.ElementIterator(); it.Next(); {
		i++
		_, e := it.Element()
		bad := func(key, detail string) {
			diags = append(diags, errorAt(rangeOf(i, key), "Invalid files", fmt.Sprintf("File %d: %s", i+1, detail)))
		}
		if e.IsNull() || !(e.Type().IsObjectType() || e.Type().IsMapType()) {
			bad("", "each file is an object such as { source = \"certs/ca.pem\", via = \"ftp\" }.")
			continue
		}
		fields := map[string]string{}
		fine := true
		for fit := e.ElementIterator(); fit.Next(); {
			k, v := fit.Element()
			key := k.AsString()
			if key != "source" && key != "via" && key != "dest" {
				bad(key, fmt.Sprintf("%q is not a file attribute; use source, via and dest.%s", key, didYouMean(key, []string{"source", "via", "dest"})))
				fine = false
				continue
			}
			if v.IsNull() {
				continue
			}
			s, ok := valueString(v)
			if !ok || v.Type() != cty.String {
				bad(key, fmt.Sprintf("%s must be a string.", key))
				fine = false
				continue
			}
			fields[key] = s
		}
		if !fine {
			continue
		}
		src, ok := fields["source"]
		if !ok || strings.TrimSpace(src) == "" {
			bad("", "source is required: the file to deploy, relative to the configuration directory.")
			continue
		}
		f := fleet.File{Source: l.resolvePath(src), Via: fields["via"]}
		if f.Via != "" && !slices.Contains(fileTransports, f.Via) {
			bad("via", fmt.Sprintf("via %q is not a transport that carries files; use one of %q.", f.Via, fileTransports))
			continue
		}
		f.Dest = filepath.Base(f.Source)
		if dest, ok := fields["dest"]; ok {
			if msg := checkDest(dest); msg != "" {
				bad("dest", msg)
				continue
			}
			f.Dest = dest
		}
		dg := l.digest(f.Source)
		if dg.err != nil {
			diags = append(diags, errorAt(rangeOf(i, "source"), "Cannot read file", fmt.Sprintf("File %d: %s.", i+1, fileError(dg.err))))
			continue
		}
		f.SHA256, f.Size = dg.sha256, dg.size
		if j, dup := dests[f.Dest]; dup {
			bad("dest", fmt.Sprintf("files %d and %d both deploy to %q; set dest to tell them apart.", j+1, i+1, f.Dest))
			continue
		}
		dests[f.Dest] = i
		out = append(out, f)
	}
	return out, true, diags
}
