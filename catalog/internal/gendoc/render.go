package main

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/inkform/inkform/catalog"
)

// render writes the settings reference: how to read it, the model
// families, then one table per group of settings (the part of the name
// before the first dot) followed by each setting's description and
// per-family differences.
func render(w *bytes.Buffer, c *catalog.Catalog) {
	fmt.Fprintf(w, `# Settings catalog

<!-- Generated from catalog/catalog.json by `+"`go generate ./catalog`"+`. Do not edit. -->

Catalog version %d: %d settings. A configuration sets them by name in a
`+"`settings`"+` map (see [the language](language.md)); the catalog says which values
are allowed and how each setting is read and written on each model family.
Configurations add their own settings with `+"`setting`"+` blocks.

**Types.** `+"`string`"+` (UTF-8, at most *max length* bytes), `+"`integer`"+` (a whole
number within the range; `+"`…`"+` means unbounded), `+"`enum`"+` (one of the listed
values, exactly as written), `+"`bool`"+` (`+"`true`"+` or `+"`false`"+`).

**Bindings.** A setting is carried by any of:

- **SNMP**: the object's full instance OID and SNMP type, read with GET and written with SET.
- **PJL**: a PJL environment variable over RAW port 9100, read with `+"`@PJL DINQUIRE`"+`
  and written with `+"`@PJL DEFAULT`"+`. Where the printer's words differ from the
  catalog's values, the mapping is listed (catalog value → PJL value); PJL
  values compare without regard to case.
- **EWS**: a field of the embedded web server's settings form
  ([docs/protocols/ews.md](protocols/ews.md)). The field name is always the
  setting name with dots turned into underscores: `+"`power.sleep_timeout_min`"+` →
  `+"`power_sleep_timeout_min`"+`.
- **NPAP**: a setting number of Lexmark's own management protocols, NPAP (UDP 9300)
  and XMLNT (UDP 6000), which reach the same setting by the same number
  ([docs/protocols/npap.md](protocols/npap.md)). The numbers are inkform's own:
  compatibility with Lexmark firmware is unverified. Lexmark printers only.
- **LST**: every setting below, by its name, over inkform's LST for secured
  printers ([docs/protocols/lst.md](protocols/lst.md)); no column, since the
  binding is the name itself. The printer answers the names it lacks as unsupported.

A printer's `+"`transports`"+` list decides which binding is used. A setting whose
*families* column names families supports only those; on any other model it
is reported as unsupported in the plan and the run goes on. Where a family
differs, the setting's notes say how ("brother: no PJL" means Brother
printers take the setting over the other bindings only).

**Defaults** are the usual factory values; — means the value depends on the
device (its model name, its trays).

## Model families

A printer's family comes from the model it reports over SNMP, matched against
these patterns in order.

| family | model patterns |
|---|---|
`, c.Version, len(c.Settings))
	for _, f := range c.Families {
		fmt.Fprintf(w, "| %s | %s |\n", f.Name, codeList(f.Models))
	}

	var groups []string
	byGroup := map[string][]catalog.Setting{}
	for _, s := range c.Settings {
		g, _, _ := strings.Cut(s.Name, ".")
		if _, seen := byGroup[g]; !seen {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], s)
	}
	slices.Sort(groups)
	fmt.Fprintf(w, "\n## Settings\n\n")
	links := make([]string, len(groups))
	for i, g := range groups {
		links[i] = fmt.Sprintf("[%s](#%s)", g, g)
	}
	fmt.Fprintln(w, strings.Join(links, " · "))
	for _, g := range groups {
		fmt.Fprintf(w, "\n### %s\n\n", g)
		fmt.Fprintln(w, "| setting | type | values | unit | default | SNMP | PJL | EWS | families |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
		for _, s := range byGroup[g] {
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				s.Name, s.Type, values(s), cell(s.Unit), defaultText(s), snmpText(s.SNMP), pjlText(s.PJL), ewsText(s.EWS), families(s))
		}
		fmt.Fprintln(w)
		for _, s := range byGroup[g] {
			fmt.Fprintf(w, "- `%s`: %s%s\n", s.Name, escape(s.Description), notes(s))
		}
	}
}

func values(s catalog.Setting) string {
	switch s.Type {
	case catalog.TypeEnum:
		return codeList(s.Enum)
	case catalog.TypeBool:
		return "`true`, `false`"
	case catalog.TypeInteger:
		lo, hi := "…", "…"
		if s.Min != nil {
			lo = strconv.FormatInt(*s.Min, 10)
		}
		if s.Max != nil {
			hi = strconv.FormatInt(*s.Max, 10)
		}
		return lo + " – " + hi
	case catalog.TypeString:
		if s.MaxLength > 0 {
			return fmt.Sprintf("max length %d", s.MaxLength)
		}
		return "any text"
	}
	return ""
}

func defaultText(s catalog.Setting) string {
	if s.Default == "" {
		if s.Type == catalog.TypeString {
			return `""`
		}
		return "—"
	}
	return "`" + escape(s.Default) + "`"
}

func snmpText(b *catalog.SNMP) string {
	if b == nil || b.OID == "" {
		return ""
	}
	return fmt.Sprintf("`%s` %s", b.OID, b.Type)
}

func pjlText(b *catalog.PJL) string {
	if b == nil || b.Variable == "" {
		return ""
	}
	return "`" + b.Variable + "`"
}

func ewsText(b *catalog.EWS) string {
	if b == nil || b.Field == "" {
		return ""
	}
	return "`" + b.Field + "`"
}

func families(s catalog.Setting) string {
	if len(s.Families) == 0 {
		return "all"
	}
	return strings.Join(s.Families, ", ")
}

// notes lists a setting's PJL value mapping and its per-family overrides.
func notes(s catalog.Setting) string {
	var parts []string
	if s.PJL != nil && len(s.PJL.Values) > 0 && !identity(s.PJL.Values) {
		parts = append(parts, "PJL values: "+mapping(s))
	}
	for _, fam := range slices.Sorted(maps.Keys(s.Overrides)) {
		o := s.Overrides[fam]
		var what []string
		describe := func(transport string, present bool, key string) {
			switch {
			case !present:
			case key == "":
				what = append(what, "no "+transport)
			default:
				what = append(what, fmt.Sprintf("%s `%s`", transport, key))
			}
		}
		if o.SNMP != nil {
			describe("SNMP", true, strings.TrimSpace(o.SNMP.OID+" "+o.SNMP.Type))
		}
		if o.PJL != nil {
			describe("PJL", true, o.PJL.Variable)
		}
		if o.EWS != nil {
			describe("EWS", true, o.EWS.Field)
		}
		if o.NPAP != nil {
			key := ""
			if o.NPAP.ID != 0 {
				key = strconv.Itoa(o.NPAP.ID)
			}
			describe("NPAP", true, key)
		}
		if len(what) > 0 {
			parts = append(parts, fam+": "+strings.Join(what, ", "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// mapping lists catalog → PJL values in the setting's own value order.
func mapping(s catalog.Setting) string {
	order := s.Enum
	if s.Type == catalog.TypeBool {
		order = []string{"true", "false"}
	}
	var out []string
	for _, v := range order {
		if d, ok := s.PJL.Values[v]; ok {
			out = append(out, fmt.Sprintf("`%s` → `%s`", v, d))
		}
	}
	return strings.Join(out, ", ")
}

func identity(m map[string]string) bool {
	for k, v := range m {
		if k != v {
			return false
		}
	}
	return true
}

func codeList(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = "`" + escape(v) + "`"
	}
	return strings.Join(out, ", ")
}

func cell(s string) string { return escape(s) }

// escape keeps table cells intact: a pipe would end the cell.
func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
