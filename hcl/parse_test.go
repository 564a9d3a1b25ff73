package hcl

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// blocks returns n small printer blocks separated as gofmt-like HCL
// writers separate them (a blank line between blocks).
func blocks(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "printer \"p%d\" {\n  address = \"10.0.%d.%d\"\n  keywords = [\"a\", \"b\"]\n}\n\n", i, i/250, i%250+1)
	}
	return b.String()
}

// Sources whose brace-only lines are not all between top-level items: a
// cut there must be refused.
var trickySources = map[string]string{
	"heredoc": "a = <<EOT\n" + blocks(3) + "EOT\n" + blocks(3),
	"comment": "/*\n" + blocks(3) + "*/\n" + blocks(3),
	// The comment ends inside the string, which then never closes.
	"comment into string": "/*\n}\nb = 1\nc = \"*/\"\n" + blocks(3),
	"object items":        "a = {\n  x = {\n}\ny = 1\n}\n" + blocks(3),
	"unindented nested":   "credentials \"c\" {\nsnmp {\ncommunity = \"x\"\n}\nretries = 1\n}\n" + blocks(3),
	"redefined attribute": "a = {\n}\n" + blocks(3) + "a = {\n}\n" + blocks(3),
	"syntax error":        blocks(3) + "printer \"x\" {\n  address = \n}\n" + blocks(3),
	"unclosed last block": blocks(3) + "printer \"x\" {\n  address = \"a\"\n",
}

// checkPieces parses src cut wherever cutPoints allows for the number of
// pieces; see checkCuts.
func checkPieces(t *testing.T, src []byte, pieces int) bool {
	t.Helper()
	return checkCuts(t, src, cutPoints(src, pieces))
}

// checkCuts parses src cut at cuts and, when the cuts are accepted,
// requires exactly what a whole-file parse gives. It reports whether the
// cuts were accepted.
func checkCuts(t *testing.T, src []byte, cuts []int) bool {
	t.Helper()
	got := parsePieces(src, "main.hcl", cuts)
	if got == nil {
		return false
	}
	want, diags := hclsyntax.ParseConfig(src, "main.hcl", hhcl.InitialPos)
	if len(diags) > 0 {
		t.Fatalf("cuts %v accepted, but the whole file has diagnostics: %v", cuts, diags)
	}
	if !reflect.DeepEqual(got.Body, want.Body) {
		t.Fatalf("cuts %v: joined body differs from the whole-file body", cuts)
	}
	if !bytes.Equal(got.Bytes, want.Bytes) {
		t.Fatal("joined file does not hold the source")
	}
	for off := 0; off < len(src); off += max(1, len(src)/97) {
		if g, w := hcled.ContextString(got, off), hcled.ContextString(want, off); g != w {
			t.Fatalf("ContextString(%d) = %q, want %q", off, g, w)
		}
		if g, w := hcled.ContextDefRange(got, off), hcled.ContextDefRange(want, off); g != w {
			t.Fatalf("ContextDefRange(%d) = %v, want %v", off, g, w)
		}
	}
	return true
}

func TestParsePiecesMatchesWholeFile(t *testing.T) {
	for name, src := range map[string]string{
		"blocks":         blocks(200),
		"no blank lines": strings.ReplaceAll(blocks(200), "}\n\n", "}\n"),
		"crlf":           strings.ReplaceAll(blocks(200), "\n", "\r\n"),
		"attributes":     "x = {\n  a = 1\n}\n" + blocks(50) + "y = [\n  1,\n]\nz = {\n}\n" + blocks(50),
		"large fleet":    largeFleet(400)["main.hcl"],
	} {
		t.Run(name, func(t *testing.T) {
			for _, pieces := range []int{2, 3, 8, 1000} {
				if !checkPieces(t, []byte(src), pieces) {
					t.Fatalf("%d pieces: cuts %v refused", pieces, cutPoints([]byte(src), pieces))
				}
			}
		})
	}
}

func TestParsePiecesRefusesCutsInsideItems(t *testing.T) {
	for name, src := range trickySources {
		t.Run(name, func(t *testing.T) {
			cuts := cutPoints([]byte(src), 1000)
			if len(cuts) < 2 {
				t.Fatalf("cut points %v: the case tests nothing", cuts)
			}
			if checkCuts(t, []byte(src), cuts) {
				t.Fatalf("cuts %v accepted", cuts)
			}
			// Each cut alone is refused or, where it is right, gives the
			// whole-file parse.
			for _, c := range cuts {
				checkCuts(t, []byte(src), []int{c})
			}
		})
	}
}

// TestParseConfigLargeFile checks that a large file is parsed in pieces
// and that a large file with a syntax error gets HCL's own diagnostics.
func TestParseConfigLargeFile(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("files are parsed whole on one CPU")
	}
	src := []byte(blocks(4000))
	if len(src) < minSplitSize {
		t.Fatalf("test file of %d bytes is below the split size", len(src))
	}
	f, diags := parseConfig(src, "main.hcl")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if _, ok := f.Nav.(pieceNav); !ok {
		t.Fatalf("large file parsed whole (Nav %T)", f.Nav)
	}
	if got := len(f.Body.(*hclsyntax.Body).Blocks); got != 4000 {
		t.Fatalf("%d blocks, want 4000", got)
	}

	broken := []byte(blocks(2000) + "printer \"x\" {\n  address = \n}\n" + blocks(2000))
	_, got := parseConfig(broken, "main.hcl")
	_, want := hclsyntax.ParseConfig(broken, "main.hcl", hhcl.InitialPos)
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("diagnostics:\n%v\nwant\n%v", got, want)
	}
}

// TestLoadConcurrentMatchesSerial loads a large fleet with errors in plain
// blocks and in for_each rows on all CPUs and on one: printers and
// diagnostics, in order, must be the same.
func TestLoadConcurrentMatchesSerial(t *testing.T) {
	if testing.Short() {
		t.Skip("large fleet in -short mode")
	}
	files := largeFleet(4000)
	main := files["main.hcl"]
	main = strings.Replace(main, `serial        = "S10"`, `serial        = "S10"
  settings      = { "system.contact" = 5, "no.such" = 1 }`, 1)
	main = strings.Replace(main, `address       = "10.1.0.20"`, `address       = "10.1.0.20:99999"`, 1)
	files["main.hcl"] = main
	csv := files["printers.csv"]
	// Bad addresses in several rows: their diagnostics share one range, so
	// only instance order keeps them in a stable order.
	for _, row := range []string{"c3,10.2.0.4,", "c77,10.2.0.78,", "c1500,10.2.6.1,"} {
		if !strings.Contains(csv, row) {
			t.Fatalf("row %q not in the CSV", row)
		}
		csv = strings.Replace(csv, row, strings.Split(row, ",")[0]+",not an address:x:y,", 1)
	}
	csv = strings.Replace(csv, "c9,10.2.0.10,", "c9,10.1.0.1,", 1) // a duplicate address
	files["printers.csv"] = csv
	dir := writeConfig(t, files)

	load := func() (string, hhcl.Diagnostics) {
		var out bytes.Buffer
		loaded := map[string]*hhcl.File{}
		cfg, diags := Load(dir, LoadOptions{Files: loaded})
		if cfg != nil {
			t.Fatal("configuration with errors loaded")
		}
		if err := WriteDiagnostics(&out, loaded, diags, false); err != nil {
			t.Fatal(err)
		}
		return out.String(), diags
	}
	concurrent, diags := load()
	if len(diags) < 6 {
		t.Fatalf("only %d diagnostics:\n%s", len(diags), concurrent)
	}
	prev := runtime.GOMAXPROCS(1)
	serial, _ := load()
	runtime.GOMAXPROCS(prev)
	if concurrent != serial {
		t.Fatalf("diagnostics differ from a one-CPU load:\n%s\nwant\n%s", concurrent, serial)
	}

	ok := largeFleet(4000)
	dir = writeConfig(t, ok)
	cfg := mustLoad(t, dir, LoadOptions{})
	runtime.GOMAXPROCS(1)
	one := mustLoad(t, dir, LoadOptions{})
	runtime.GOMAXPROCS(prev)
	if !reflect.DeepEqual(cfg.Printers, one.Printers) || cfg.Hash != one.Hash {
		t.Fatal("printers differ from a one-CPU load")
	}
}

// FuzzParsePieces: whenever cuts are accepted, the joined parse must be
// the whole-file parse.
func FuzzParsePieces(f *testing.F) {
	for _, src := range trickySources {
		f.Add([]byte(src), uint8(8))
	}
	f.Add([]byte(blocks(20)), uint8(3))
	f.Add([]byte(largeFleet(40)["main.hcl"]), uint8(16))
	f.Fuzz(func(t *testing.T, src []byte, pieces uint8) {
		checkPieces(t, src, int(pieces)%32+2)
	})
}
