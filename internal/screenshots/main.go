// Command screenshots turns inkform's output into the HTML pages that
// scripts/screenshots.sh photographs for the README: a plan as a colour
// terminal shows it, and the Markdown plan comment as a pull request shows
// it. It is a build tool, not part of the inkform binary.
//
//	screenshots terminal -title T <ansi.txt >page.html
//	screenshots markdown -title T <plan.md >page.html
//	screenshots trim -pad N shot.png
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: screenshots terminal|markdown|trim [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	title := fs.String("title", "", "title shown above the page's content")
	pad := fs.Int("pad", 16, "trim: rows of background kept below the content")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "terminal":
		src, err := io.ReadAll(in)
		if err != nil {
			return fmt.Errorf("read terminal output: %w", err)
		}
		return writeTerminalPage(out, *title, src)
	case "markdown":
		src, err := io.ReadAll(in)
		if err != nil {
			return fmt.Errorf("read markdown: %w", err)
		}
		return writeMarkdownPage(out, *title, src)
	case "trim":
		if fs.NArg() != 1 {
			return fmt.Errorf("trim: want one PNG file, got %d arguments", fs.NArg())
		}
		return trimFile(fs.Arg(0), *pad)
	}
	return fmt.Errorf("unknown command %q (have terminal, markdown, trim)", args[0])
}
