package snmp

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/inkform/inkform/fleet"
)

func TestSplitSupplyName(t *testing.T) {
	for _, tc := range []struct{ in, name, part, serial string }{
		{"Black Toner, PN 006R01509;SN48178080E0000481", "Black Toner", "006R01509", "48178080E0000481"},
		{"Drum Cartridge (R1), PN 013R00662;SN5238EF80E000048E", "Drum Cartridge (R1)", "013R00662", "5238EF80E000048E"},
		{"Fuser, PN unknown;SNunknown", "Fuser", "", ""},
		{"Waste Toner Container, PN 008R13061;SNunknown", "Waste Toner Container", "008R13061", ""},
		{"Black Toner S/N:CRUM-14031012345", "Black Toner", "", "CRUM-14031012345"},
		{"Cyan Toner P/N: TN-423C", "Cyan Toner", "TN-423C", ""},
		{"Black Cartridge HP CF217A", "Black Cartridge", "CF217A", ""},
		{"Imaging Drum HP CF219A", "Imaging Drum", "CF219A", ""},
		{"Magenta Cartridge HP CF413A This description is longer than 32", "Magenta Cartridge HP CF413A This description is longer than 32", "", ""},
		{"Black Cartridge HP 26A", "Black Cartridge HP 26A", "", ""}, // a short name, not a part number
		{"Canon Cartridge 719/719H", "Canon Cartridge 719/719H", "", ""},
		{"Black Ink Supply Unit T9441/T9451/T9461", "Black Ink Supply Unit T9441/T9451/T9461", "", ""},
		{"PK-3010S", "PK-3010S", "", ""},
		{"SNAP Drum", "SNAP Drum", "", ""},
		{"Toner (Cyan)", "Toner (Cyan)", "", ""},
		{"PN 12345", "PN 12345", "12345", ""}, // nothing but the number: the name stays
		{"", "", "", ""},
	} {
		name, part, serial := splitSupplyName(tc.in)
		if name != tc.name || part != tc.part || serial != tc.serial {
			t.Errorf("splitSupplyName(%q) = %q, %q, %q; want %q, %q, %q", tc.in, name, part, serial, tc.name, tc.part, tc.serial)
		}
	}
}

func TestSupplyKind(t *testing.T) {
	for _, tc := range []struct {
		typ  int64
		name string
		want string
	}{
		{3, "Black Cartridge", fleet.SupplyKindToner},
		{21, "x", fleet.SupplyKindToner},
		{9, "Imaging Drum", fleet.SupplyKindDrum},
		{4, "Waste Toner", fleet.SupplyKindWaste},
		{5, "Black Ink Supply Unit", fleet.SupplyKindInk},
		{10, "Cyan Developer", fleet.SupplyKindDeveloper},
		{15, "Fusing Unit", fleet.SupplyKindFuser},
		{20, "Belt Unit", fleet.SupplyKindTransfer},
		{32, "Staple Cartridge", fleet.SupplyKindStaples},
		{18, "Transfer Belt Cleaner", fleet.SupplyKindOther}, // cleanerUnit: a type, not a kind
		// No type (Konica) or other/unknown: the name decides.
		{0, "Toner (Cyan)", fleet.SupplyKindToner},
		{0, "Developer Cartridge (Yellow)", fleet.SupplyKindDeveloper},
		{0, "Drum Cartridge (Black)", fleet.SupplyKindDrum},
		{0, "Waste Toner Box", fleet.SupplyKindWaste},
		{0, "Fusing Unit", fleet.SupplyKindFuser},
		{0, "Image Transfer Belt Unit", fleet.SupplyKindTransfer},
		{2, "Transfer Roller Unit", fleet.SupplyKindTransfer},
		{1, "Ozone Filter", fleet.SupplyKindOther},
		{0, "Canon Cartridge 719/719H", fleet.SupplyKindToner},
		{0, "Black and Color Imaging Kit", fleet.SupplyKindDrum},
		{0, "Maintenance Box", fleet.SupplyKindWaste},
		{0, "Pink Label", fleet.SupplyKindOther}, // "ink" only as a word
		{0, "", fleet.SupplyKindOther},
	} {
		if got := supplyKind(tc.typ, tc.name); got != tc.want {
			t.Errorf("supplyKind(%d, %q) = %q, want %q", tc.typ, tc.name, got, tc.want)
		}
	}
}

func TestSupplyColor(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Black Toner", "black"},
		{"Toner (Cyan)", "cyan"},
		{"Toner Magenta", "magenta"},
		{"Yellow Photoconductive Drum", "yellow"},
		{"Light Cyan Ink", "light cyan"},
		{"Photo Black Ink", "photo black"},
		{"Grey Ink", "gray"},
		{"Black and Color Imaging Kit", ""},
		{"Cyan/Magenta Developer", ""}, // two colorants
		{"Waste Toner Box", ""},
		{"Blackberry", ""}, // words only
		{"", ""},
	} {
		if got := supplyColor(tc.name); got != tc.want {
			t.Errorf("supplyColor(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzSupplyName parses supply names as printers send them: the parts are
// pieces of the input, and the name is never lost.
func FuzzSupplyName(f *testing.F) {
	for _, seed := range []string{
		"Black Toner, PN 006R01509;SN48178080E0000481", "Fuser, PN unknown;SNunknown", "Black Cartridge HP CF217A",
		"Black Toner S/N:CRUM-14031012345", "PN 1", "SN", "\xff PN \xfe", "Light Cyan Ink",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = decodeText([]byte(s))
		name, part, serial := splitSupplyName(s)
		if s != "" && name == "" {
			t.Fatalf("splitSupplyName(%q) lost the name", s)
		}
		for _, v := range []string{name, part, serial} {
			if !utf8.ValidString(v) || strings.TrimSpace(v) != v {
				t.Fatalf("splitSupplyName(%q) = %q, %q, %q", s, name, part, serial)
			}
		}
		if !strings.Contains(s, part) || !strings.Contains(s, serial) {
			t.Fatalf("splitSupplyName(%q): part %q or serial %q not in the input", s, part, serial)
		}
		_ = supplyKind(0, name)
		if c := supplyColor(name); c != "" && !strings.Contains(strings.ToLower(s), strings.Fields(c)[0][:3]) {
			t.Fatalf("supplyColor(%q) = %q, not in the name", name, c)
		}
	})
}
