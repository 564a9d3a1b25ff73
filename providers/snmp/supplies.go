package snmp

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/inkform/inkform/fleet"
)

// supplies walks the marker supplies table's colorant, type, description,
// max capacity and level columns together; and the colorant table, one
// walk more, only when a supply's name does not say its colour and its
// colorant index says where the printer does.
func (s *Session) supplies(ctx context.Context) ([]fleet.Supply, error) {
	cols, err := s.walkColumns(ctx, "walk prtMarkerSuppliesTable",
		[]string{oidSupplyType, oidSupplyDescr, oidSupplyMax, oidSupplyLevel, oidSupplyColorant}, maxWalkRows)
	if err != nil {
		return nil, err
	}
	type rowOf struct {
		fleet.Supply
		typ      int64
		colorant int64
	}
	rows := map[string]*rowOf{}
	var order []string
	row := func(index string) *rowOf {
		if r, ok := rows[index]; ok {
			return r
		}
		r := &rowOf{Supply: fleet.Supply{Level: -2, Max: -2}} // unknown until read
		rows[index] = r
		order = append(order, index)
		return r
	}
	for _, c := range cols[0] {
		if n, ok := intValue(c.pdu); ok {
			row(c.index).typ = n
		}
	}
	for _, c := range cols[1] {
		r := row(c.index)
		if b, ok := c.pdu.Value.([]byte); ok {
			r.Description = decodeText(b)
		} else {
			r.Description = cleanText([]byte(fmt.Sprint(c.pdu.Value)))
		}
	}
	for _, c := range cols[2] {
		if n, ok := intValue(c.pdu); ok {
			row(c.index).Max = clampInt(n)
		}
	}
	for _, c := range cols[3] {
		if n, ok := intValue(c.pdu); ok {
			row(c.index).Level = clampInt(n)
		}
	}
	for _, c := range cols[4] {
		// Only for rows the other columns have: the colorant alone
		// makes no supply.
		if r, ok := rows[c.index]; ok {
			if n, ok := intValue(c.pdu); ok && n > 0 {
				r.colorant = n
			}
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	slices.SortFunc(order, compareOID)
	out := make([]fleet.Supply, len(order))
	var uncoloured []int // supplies whose colorant index may say their colour
	for i, idx := range order {
		r := rows[idx]
		sup := r.Supply
		sup.Description, sup.PartNumber, sup.Serial = splitSupplyName(sup.Description)
		sup.Kind = supplyKind(r.typ, sup.Description)
		sup.Color = supplyColor(sup.Description)
		if sup.Color == "" && r.colorant > 0 && !mentionsSeveralColors(sup.Description) {
			uncoloured = append(uncoloured, i)
		}
		out[i] = sup
	}
	if len(uncoloured) > 0 {
		colorants, err := s.colorants(ctx)
		if err != nil {
			return nil, err
		}
		for _, i := range uncoloured {
			r := rows[order[i]]
			// The colorant table is indexed by hrDeviceIndex as the
			// supplies table is: the same device's row k.
			device, _, _ := strings.Cut(order[i], ".")
			out[i].Color = colorantColor(colorants[device+"."+strconv.FormatInt(r.colorant, 10)])
		}
	}
	return out, nil
}

// colorants walks prtMarkerColorantValue: the colorant's name by row.
func (s *Session) colorants(ctx context.Context) (map[string]string, error) {
	cols, err := s.walkColumns(ctx, "walk prtMarkerColorantTable", []string{oidColorantValue}, maxWalkRows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cols[0]))
	for _, c := range cols[0] {
		out[c.index] = textValue(c.pdu)
	}
	return out, nil
}

// mentionsSeveralColors says a supply's name is of more than one colorant
// ("Black and Color Imaging Kit"): its colorant index then names one of
// them only.
func mentionsSeveralColors(name string) bool {
	lower := strings.ToLower(name)
	return containsWord(lower, "color") || containsWord(lower, "colour")
}

// colorantColor reads a prtMarkerColorantValue ("black", "Cyan",
// "light magenta") as a colour: the colorant word it names, else the
// value itself in lower case when it is a short name; "" for none.
func colorantColor(v string) string {
	if c := supplyColor(v); c != "" {
		return c
	}
	lower := strings.ToLower(strings.TrimSpace(v))
	switch lower {
	case "", "other", "unknown", "none", "n/a":
		return ""
	}
	if len(lower) > 24 {
		return ""
	}
	for i := 0; i < len(lower); i++ {
		if c := lower[i]; !(c >= 'a' && c <= 'z' || c == ' ' || c == '-') {
			return ""
		}
	}
	return lower
}

// supplyTypeKinds maps prtMarkerSuppliesType (RFC 3805's
// PrtMarkerSuppliesTypeTC) to a kind; other(1), unknown(2) and types
// missing here leave the kind to the name.
var supplyTypeKinds = map[int64]string{
	3: fleet.SupplyKindToner, 21: fleet.SupplyKindToner, // toner, tonerCartridge
	4: fleet.SupplyKindWaste, 8: fleet.SupplyKindWaste, 14: fleet.SupplyKindWaste, // wasteToner, wasteInk, wasteWax
	24: fleet.SupplyKindWaste, 26: fleet.SupplyKindWaste, // wasteWater, wastePaper
	5: fleet.SupplyKindInk, 6: fleet.SupplyKindInk, 7: fleet.SupplyKindInk, // ink, inkCartridge, inkRibbon
	9:  fleet.SupplyKindDrum,                                                        // opc
	10: fleet.SupplyKindDeveloper,                                                   // developer
	11: fleet.SupplyKindFuser, 15: fleet.SupplyKindFuser, 17: fleet.SupplyKindFuser, // fuserOil, fuser, fuserOilWick
	19: fleet.SupplyKindFuser, 22: fleet.SupplyKindFuser, // fuserCleaningPad, fuserOiler
	20: fleet.SupplyKindTransfer,                             // transferUnit
	29: fleet.SupplyKindStaples, 32: fleet.SupplyKindStaples, // stitchingWire, staples
}

// supplyNameKinds are words of supply names and the kind they mean, in
// the order they are tried: "Waste Toner" is waste before it is toner, a
// "Drum Cartridge" a drum.
var supplyNameKinds = []struct {
	words []string
	kind  string
}{
	{[]string{"waste", "toner collection", "collection unit", "maintenance box", "ink collector"}, fleet.SupplyKindWaste},
	{[]string{"developer"}, fleet.SupplyKindDeveloper},
	{[]string{"drum", "photoconductor", "photoconductive", "opc", "imaging unit", "imaging kit", "image unit"}, fleet.SupplyKindDrum},
	{[]string{"fuser", "fusing"}, fleet.SupplyKindFuser},
	{[]string{"transfer", "belt"}, fleet.SupplyKindTransfer},
	{[]string{"staple", "staples", "stapler"}, fleet.SupplyKindStaples},
	{[]string{"ink"}, fleet.SupplyKindInk},
	{[]string{"toner", "cartridge"}, fleet.SupplyKindToner},
}

// supplyKind is the kind the type says, or the name when the type does
// not.
func supplyKind(typ int64, name string) string {
	if k, ok := supplyTypeKinds[typ]; ok {
		return k
	}
	if typ > 2 {
		return fleet.SupplyKindOther // a type RFC 3805 names that is none of the kinds
	}
	lower := strings.ToLower(name)
	for _, nk := range supplyNameKinds {
		for _, w := range nk.words {
			if containsWord(lower, w) {
				return nk.kind
			}
		}
	}
	return fleet.SupplyKindOther
}

// supplyColors are colorant words of supply names, longest first so that
// "light cyan" is not read as "cyan".
var supplyColors = []struct{ word, color string }{
	{"light cyan", "light cyan"}, {"light magenta", "light magenta"},
	{"photo black", "photo black"}, {"matte black", "matte black"},
	{"light black", "light gray"}, {"light gray", "light gray"}, {"light grey", "light gray"},
	{"black", "black"}, {"cyan", "cyan"}, {"magenta", "magenta"}, {"yellow", "yellow"},
	{"gray", "gray"}, {"grey", "gray"}, {"red", "red"}, {"green", "green"}, {"blue", "blue"},
	{"orange", "orange"}, {"violet", "violet"},
}

// supplyColor names the one colorant the supply's name mentions; "" when
// it names none or several ("Black and Color Imaging Kit").
func supplyColor(name string) string {
	lower := strings.ToLower(name)
	if containsWord(lower, "color") || containsWord(lower, "colour") {
		return ""
	}
	found := ""
	for _, c := range supplyColors {
		i := wordIndex(lower, c.word)
		if i < 0 {
			continue
		}
		if found != "" && found != c.color {
			return ""
		}
		found = c.color
		// Blank the longer match so "light cyan" does not also count as
		// "cyan".
		lower = lower[:i] + strings.Repeat(" ", len(c.word)) + lower[i+len(c.word):]
	}
	return found
}

// containsWord reports whether w occurs in s between non-letters.
func containsWord(s, w string) bool { return wordIndex(s, w) >= 0 }

func wordIndex(s, w string) int {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(w)
		if (i == 0 || !isLetter(s[i-1])) && (end == len(s) || !isLetter(s[end])) {
			return i
		}
		off = i + 1
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// Part and serial numbers that printers put into supply names: labelled
// ("Black Toner, PN 006R01509;SN48178080E0000481", "S/N:CRUM-1403…"), or
// HP's part number after its brand ("Black Cartridge HP CF217A"). A
// label's value starts with a digit, is "unknown", or is a code of four
// or more capitals and digits, so that a word such as "SNAP" is no label.
var (
	labelledPart   = regexp.MustCompile(`[,;]?\s*\b(?:P/?N|Part ?(?:No\.?|Number))(?:\s*[:#]\s*|\s+)?([0-9][^\s,;]*|(?i:unknown)|[A-Z0-9][A-Z0-9-]{3,})`)
	labelledSerial = regexp.MustCompile(`[,;]?\s*\b(?:S/?N|Serial ?(?:No\.?|Number))(?:\s*[:#]\s*|\s+)?([0-9][^\s,;]*|(?i:unknown)|[A-Z0-9][A-Z0-9-]{3,})`)
	hpPart         = regexp.MustCompile(`^(.*\S)\s+HP\s+([A-Z0-9]{5,10})$`)
)

// splitSupplyName moves part and serial numbers out of a supply's name.
func splitSupplyName(s string) (name, part, serial string) {
	// Every label has an N (PN, S/N, Part No, Serial Number) and HP's
	// brand an H: most names have neither pattern to try.
	if !strings.ContainsAny(s, "NH") {
		return s, "", ""
	}
	name = s
	if m := labelledSerial.FindStringSubmatchIndex(name); m != nil {
		serial = name[m[2]:m[3]]
		name = name[:m[0]] + name[m[1]:]
	}
	if m := labelledPart.FindStringSubmatchIndex(name); m != nil {
		part = name[m[2]:m[3]]
		name = name[:m[0]] + name[m[1]:]
	}
	if part == "" {
		if m := hpPart.FindStringSubmatch(name); m != nil && hasLetterAndDigit(m[2]) {
			name, part = m[1], m[2]
		}
	}
	if strings.EqualFold(part, "unknown") {
		part = ""
	}
	if strings.EqualFold(serial, "unknown") {
		serial = ""
	}
	name = strings.Trim(strings.Join(strings.Fields(name), " "), " ,;:")
	if name == "" {
		// Nothing but numbers: keep what the printer said.
		return s, part, serial
	}
	return name, part, serial
}

func hasLetterAndDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}
