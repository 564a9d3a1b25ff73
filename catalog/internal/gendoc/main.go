// Command gendoc writes docs/settings.md from the embedded settings
// catalog. It runs from `go generate ./catalog`; a test in this
// package fails when the committed document is out of date.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/inkform/inkform/catalog"
)

func main() {
	out := flag.String("o", "", "write the document to this file (default: standard output)")
	flag.Parse()
	var buf bytes.Buffer
	render(&buf, catalog.Default())
	if *out == "" {
		os.Stdout.Write(buf.Bytes())
		return
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "gendoc: %v\n", err)
		os.Exit(1)
	}
}
