package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/pmezard/go-difflib/difflib"
	"github.com/spf13/cobra"

	"github.com/inkform/inkform/hcl"
)

// fmtOptions are the options of fmt.
type fmtOptions struct {
	IO    streams
	Paths []string // files and directories; none means "."
	Check bool
	Diff  bool
}

func newFmtCommand(f *factory) *cobra.Command {
	opts := &fmtOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "fmt [PATH...]",
		Short: "Rewrite configuration files in the canonical format",
		Long: `Rewrite *.hcl files (in the current directory, or the given files and
directories) in the canonical format. With -check, change nothing and exit 3
when a file is not formatted; with -diff, show what would change.

` + exitCodesHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return runFmt(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Check, "check", false, "change nothing; exit 3 when a file is not formatted")
	cmd.Flags().BoolVar(&opts.Diff, "diff", false, "show the changes as a unified diff")
	return cmd
}

func runFmt(_ context.Context, opts *fmtOptions) error {
	io := opts.IO
	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := hclFiles(paths)
	if err != nil {
		return err
	}
	unformatted := false
	for _, name := range files {
		src, err := hcl.ReadFile(name)
		if err != nil {
			return err
		}
		out, diags := hcl.Format(src, name)
		if diags.HasErrors() {
			_ = hcl.WriteDiagnostics(io.Err, map[string]*hhcl.File{name: {Bytes: src}}, diags, io.color())
			return &exitError{code: ExitError}
		}
		if bytes.Equal(src, out) {
			continue
		}
		unformatted = true
		fmt.Fprintln(io.Out, name)
		if opts.Diff {
			text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A: difflib.SplitLines(string(src)), B: difflib.SplitLines(string(out)),
				FromFile: "old/" + name, ToFile: "new/" + name, Context: 3,
			})
			fmt.Fprint(io.Out, text)
		}
		if !opts.Check {
			if err := writeFileKeepMode(name, out); err != nil {
				return err
			}
		}
	}
	if opts.Check && unformatted {
		return &exitError{code: ExitUnformatted}
	}
	return nil
}

func hclFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(a, "*.hcl"))
		if err != nil {
			return nil, err
		}
		files = append(files, matches...)
	}
	sort.Strings(files)
	return files, nil
}

// writeFileKeepMode replaces name atomically, keeping its permissions.
// A symlinked file is written through the link: replacing the link with a
// regular file would silently fork the configuration it points to.
func writeFileKeepMode(name string, data []byte) error {
	name, err := filepath.EvalSymlinks(name)
	if err != nil {
		return err
	}
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	return writeFileAtomic(name, fi.Mode().Perm(), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
