package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkform/inkform/catalog"
)

var update = flag.Bool("update", false, "rewrite docs/settings.md")

// docPath is docs/settings.md, seen from this package's directory.
var docPath = filepath.Join("..", "..", "..", "docs", "settings.md")

// TestDocUpToDate fails when docs/settings.md no longer matches the
// catalog. Regenerate with `go generate ./catalog` or -update.
func TestDocUpToDate(t *testing.T) {
	var buf bytes.Buffer
	render(&buf, catalog.Default())
	if *update {
		if err := os.WriteFile(docPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run go generate ./catalog)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s is out of date: run go generate ./catalog (or this test with -update)", docPath)
	}
}

// TestRenderCoversEverySetting checks the document names every setting and
// states its binding and family differences, so a renderer change cannot
// silently drop information.
func TestRenderCoversEverySetting(t *testing.T) {
	c := catalog.Default()
	var buf bytes.Buffer
	render(&buf, c)
	doc := buf.String()
	for _, s := range c.Settings {
		if !strings.Contains(doc, "| `"+s.Name+"` |") {
			t.Errorf("no table row for %s", s.Name)
		}
		if s.EWS != nil && !strings.Contains(doc, "`"+s.EWS.Field+"`") {
			t.Errorf("%s: EWS field missing", s.Name)
		}
	}
	for _, want := range []string{
		"| lexmark | `Lexmark *` |",
		"brother: no PJL",
		"`Letter` → `LETTER`",
		"`true` → `ON`, `false` → `OFF`",
		"| 1 – 999 |",
		"dots turned into underscores",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %q", want)
		}
	}
}
