package discovery

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

// File is a configuration file of found printers, as discover writes it.
type File struct {
	// Header is a comment put first, one line per element, without "#".
	Header []string
	// Variables are sensitive string variables to declare, each holding a
	// secret the file's credentials need (a community given on the
	// command line): the file names them, never holds them.
	Variables []Variable
	// Credentials are credentials blocks to declare.
	Credentials []CredentialsBlock
	Printers    []PrinterBlock
}

// Variable is a sensitive string variable to declare.
type Variable struct {
	Name        string
	Description string
}

// CredentialsBlock is an SNMP v1/v2c credentials block whose community is
// a variable.
type CredentialsBlock struct {
	Name      string
	Version   string // "1" or "2c"
	Community string // the variable's name
}

// PrinterBlock is one printer block.
type PrinterBlock struct {
	Name    string
	Address netip.AddrPort
	Serial  string
	// Comment is put above the block (the model, how it was found).
	Comment string
	// Credentials names the credentials block.
	Credentials string
	// Settings are current values by setting name, in the catalog's
	// canonical form.
	Settings map[string]string
}

// Address renders an address as a printer block's address attribute
// holds it: the port only when it is not SNMP's.
func Address(a netip.AddrPort) string {
	if a.Port() == fleet.DefaultSNMPPort || a.Port() == 0 {
		return a.Addr().String()
	}
	return a.String()
}

// shorthands are the settings a printer block sets with an attribute of
// their own.
var shorthands = map[string]string{"system.contact": "contact", "system.name": "name", "system.location": "location"}

// Render writes the file with hclwrite, formatted. Settings are typed as
// the catalog says (numbers, bools, strings); one the catalog does not
// know is an error.
func (f File) Render(cat *catalog.Catalog) ([]byte, error) {
	if cat == nil {
		cat = catalog.Default()
	}
	out := hclwrite.NewEmptyFile()
	body := out.Body()
	if len(f.Header) > 0 {
		var b strings.Builder
		for _, line := range f.Header {
			b.WriteString("# " + oneLine(line) + "\n")
		}
		body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(b.String())}})
		body.AppendNewline()
	}
	for _, v := range f.Variables {
		if !hclsyntax.ValidIdentifier(v.Name) {
			return nil, fmt.Errorf("variable name %q is not an identifier", v.Name)
		}
		vb := body.AppendNewBlock("variable", []string{v.Name}).Body()
		vb.SetAttributeRaw("type", hclwrite.TokensForIdentifier("string"))
		vb.SetAttributeValue("sensitive", cty.True)
		if v.Description != "" {
			vb.SetAttributeValue("description", cty.StringVal(v.Description))
		}
		body.AppendNewline()
	}
	for _, c := range f.Credentials {
		if !hclsyntax.ValidIdentifier(c.Name) || !hclsyntax.ValidIdentifier(c.Community) {
			return nil, fmt.Errorf("credentials %q: not an identifier", c.Name)
		}
		sb := body.AppendNewBlock("credentials", []string{c.Name}).Body().AppendNewBlock("snmp", nil).Body()
		sb.SetAttributeValue("version", cty.StringVal(c.Version))
		sb.SetAttributeTraversal("community", traversal("var", c.Community))
		body.AppendNewline()
	}
	for i, p := range f.Printers {
		if !hclsyntax.ValidIdentifier(p.Name) {
			return nil, fmt.Errorf("printer name %q is not an identifier", p.Name)
		}
		if p.Comment != "" {
			body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + oneLine(p.Comment) + "\n")}})
		}
		pb := body.AppendNewBlock("printer", []string{p.Name}).Body()
		pb.SetAttributeValue("address", cty.StringVal(Address(p.Address)))
		if p.Serial != "" {
			pb.SetAttributeValue("serial", cty.StringVal(p.Serial))
		}
		if p.Credentials != "" {
			if !hclsyntax.ValidIdentifier(p.Credentials) {
				return nil, fmt.Errorf("printer %s: credentials %q is not an identifier", p.Name, p.Credentials)
			}
			pb.SetAttributeTraversal("credentials", traversal("credentials", p.Credentials))
		}
		names := make([]string, 0, len(p.Settings))
		for n := range p.Settings {
			names = append(names, n)
		}
		sort.Strings(names)
		var rest []string
		for _, n := range names {
			attr, ok := shorthands[n]
			if !ok {
				rest = append(rest, n)
				continue
			}
			v, err := typed(cat, n, p.Settings[n])
			if err != nil {
				return nil, fmt.Errorf("printer %s: %w", p.Name, err)
			}
			pb.SetAttributeValue(attr, v)
		}
		if len(rest) > 0 {
			m := make(map[string]cty.Value, len(rest))
			for _, n := range rest {
				v, err := typed(cat, n, p.Settings[n])
				if err != nil {
					return nil, fmt.Errorf("printer %s: %w", p.Name, err)
				}
				m[n] = v
			}
			pb.SetAttributeRaw("settings", settingsTokens(rest, m))
		}
		if i < len(f.Printers)-1 {
			body.AppendNewline()
		}
	}
	return hclwrite.Format(out.Bytes()), nil
}

// settingsTokens writes the settings map one quoted key a line: setting
// names contain dots, which an unquoted key would read as a traversal.
func settingsTokens(names []string, vals map[string]cty.Value) hclwrite.Tokens {
	toks := hclwrite.Tokens{{Type: hclsyntax.TokenOBrace, Bytes: []byte("{")}, {Type: hclsyntax.TokenNewline, Bytes: []byte("\n")}}
	for _, n := range names {
		toks = append(toks, hclwrite.TokensForValue(cty.StringVal(n))...)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenEqual, Bytes: []byte("=")})
		toks = append(toks, hclwrite.TokensForValue(vals[n])...)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")})
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCBrace, Bytes: []byte("}")})
}

func traversal(root, attr string) hcl.Traversal {
	return hcl.Traversal{hcl.TraverseRoot{Name: root}, hcl.TraverseAttr{Name: attr}}
}

// typed is a setting's canonical value as the HCL value of its type.
func typed(cat *catalog.Catalog, name, v string) (cty.Value, error) {
	s, ok := cat.Lookup(name)
	if !ok {
		return cty.NilVal, fmt.Errorf("setting %s is not in the catalog", name)
	}
	switch s.Type {
	case catalog.TypeInteger:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return cty.NilVal, fmt.Errorf("setting %s: %q is not a whole number", name, v)
		}
		return cty.NumberIntVal(n), nil
	case catalog.TypeBool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cty.NilVal, fmt.Errorf("setting %s: %q is not true or false", name, v)
		}
		return cty.BoolVal(b), nil
	}
	return cty.StringVal(v), nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// PrinterName derives a block name from a model and the serial (or the
// address when there is none): "lexmark-cx725-lxk7d0001",
// "hp-laserjet-m507-10-20-1-21". It is a valid identifier that is not in
// taken, which it joins.
func PrinterName(model, serial string, addr netip.AddrPort, taken map[string]bool) string {
	suffix := slug(serial)
	if suffix == "" {
		suffix = slug(addr.Addr().String())
		if addr.Port() != fleet.DefaultSNMPPort && addr.Port() != 0 {
			suffix += "-" + strconv.Itoa(int(addr.Port()))
		}
	}
	base := slug(model)
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-")
	}
	name := strings.Trim(base+"-"+suffix, "-")
	if name == "" || !(name[0] >= 'a' && name[0] <= 'z') {
		name = "printer-" + name
	}
	name = strings.TrimRight(name, "-")
	unique := name
	for i := 2; taken[unique]; i++ {
		unique = name + "-" + strconv.Itoa(i)
	}
	taken[unique] = true
	return unique
}

// slug keeps lower-case letters and digits, every other run as one "-".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
			continue
		}
		dash = true
	}
	return b.String()
}
