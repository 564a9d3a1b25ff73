package snmp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
)

// colorantRecording is a printer whose supply names do not all say their
// colour: its colorant table does.
const colorantRecording = `1.3.6.1.2.1.1.1.0|4|Generic Laser 5000
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.99999.1
1.3.6.1.2.1.25.3.2.1.2.1|6|1.3.6.1.2.1.25.3.1.5
1.3.6.1.2.1.25.3.2.1.3.1|4|Generic Laser 5000
1.3.6.1.2.1.25.3.2.1.5.1|2|2
1.3.6.1.2.1.43.11.1.1.3.1.1|2|1
1.3.6.1.2.1.43.11.1.1.3.1.2|2|2
1.3.6.1.2.1.43.11.1.1.3.1.3|2|3
1.3.6.1.2.1.43.11.1.1.3.1.4|2|1
1.3.6.1.2.1.43.11.1.1.3.1.5|2|0
1.3.6.1.2.1.43.11.1.1.3.1.6|2|4
1.3.6.1.2.1.43.11.1.1.5.1.1|2|3
1.3.6.1.2.1.43.11.1.1.5.1.2|2|3
1.3.6.1.2.1.43.11.1.1.5.1.3|2|3
1.3.6.1.2.1.43.11.1.1.5.1.4|2|9
1.3.6.1.2.1.43.11.1.1.5.1.5|2|4
1.3.6.1.2.1.43.11.1.1.5.1.6|2|3
1.3.6.1.2.1.43.11.1.1.6.1.1|4|Toner Cartridge
1.3.6.1.2.1.43.11.1.1.6.1.2|4|Toner Cartridge
1.3.6.1.2.1.43.11.1.1.6.1.3|4|Cyan Toner
1.3.6.1.2.1.43.11.1.1.6.1.4|4|Black and Color Imaging Kit
1.3.6.1.2.1.43.11.1.1.6.1.5|4|Waste Toner Box
1.3.6.1.2.1.43.11.1.1.6.1.6|4|Toner Cartridge
1.3.6.1.2.1.43.11.1.1.8.1.1|2|100
1.3.6.1.2.1.43.11.1.1.8.1.2|2|100
1.3.6.1.2.1.43.11.1.1.8.1.3|2|100
1.3.6.1.2.1.43.11.1.1.8.1.4|2|100
1.3.6.1.2.1.43.11.1.1.8.1.5|2|100
1.3.6.1.2.1.43.11.1.1.8.1.6|2|100
1.3.6.1.2.1.43.11.1.1.9.1.1|2|50
1.3.6.1.2.1.43.11.1.1.9.1.2|2|50
1.3.6.1.2.1.43.11.1.1.9.1.3|2|50
1.3.6.1.2.1.43.11.1.1.9.1.4|2|50
1.3.6.1.2.1.43.11.1.1.9.1.5|2|50
1.3.6.1.2.1.43.11.1.1.9.1.6|2|50
1.3.6.1.2.1.43.12.1.1.4.1.1|4|black
1.3.6.1.2.1.43.12.1.1.4.1.2|4|Magenta
1.3.6.1.2.1.43.12.1.1.4.1.3|4|yellow
1.3.6.1.2.1.43.12.1.1.4.1.4|4x|476c6f7373
`

// Supplies whose names say no colour take it from the colorant table, by
// their colorant index; a name's colour wins, and a supply of several
// colorants or of none has none.
func TestSupplyColorFromColorantTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "colorants.snmprec")
	if err := os.WriteFile(path, []byte(colorantRecording), 0o644); err != nil {
		t.Fatal(err)
	}
	sim := testservers.StartSnmpsim(t, path)
	for _, version := range []string{"1", "2c"} {
		s := connect(t, New(nil, Options{}), printerAt(sim.Host, sim.Port, fleet.SNMP{Version: version, Community: "colorants"}))
		got, err := s.Observe(context.Background(), nil)
		if err != nil {
			t.Fatalf("v%s: Observe: %v", version, err)
		}
		want := []string{"black", "magenta", "cyan", "", "", "gloss"}
		if len(got.Supplies) != len(want) {
			t.Fatalf("v%s: %d supplies: %+v", version, len(got.Supplies), got.Supplies)
		}
		for i, sup := range got.Supplies {
			if sup.Color != want[i] {
				t.Errorf("v%s: supply %d %q: color %q, want %q", version, i+1, sup.Description, sup.Color, want[i])
			}
		}
	}
}

func TestColorantColor(t *testing.T) {
	for in, want := range map[string]string{
		"black": "black", "Cyan": "cyan", "light magenta": "light magenta", "Process Black": "black",
		"Gloss": "gloss", "other": "", "unknown": "", "": "", "#1 (C)": "",
		"a very long colorant description of nothing": "",
	} {
		if got := colorantColor(in); got != want {
			t.Errorf("colorantColor(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzColorantColor reads colorant names as printers send them: a colour
// is "" or short lower-case words.
func FuzzColorantColor(f *testing.F) {
	for _, seed := range []string{"black", "Process Cyan", "other", "\x83\x56\x83\x41\x83\x93", "light-magenta", ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := colorantColor(decodeText(b))
		if len(c) > 24 || strings.ToLower(c) != c || strings.TrimSpace(c) != c {
			t.Fatalf("colour %q from %q", c, b)
		}
	})
}
