package main

import (
	"bytes"
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

func newFmtCommand(io streams) *cobra.Command {
	var check, diff bool
	cmd := &cobra.Command{
		Use:   "fmt [PATH...]",
		Short: "Rewrite configuration files in the canonical format",
		Long: `Rewrite *.hcl files (in the current directory, or the given files and
directories) in the canonical format. With -check, change nothing and exit 3
when a file is not formatted; with -diff, show what would change.

` + exitCodesHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			files, err := hclFiles(args)
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
				if diff {
					text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
						A: difflib.SplitLines(string(src)), B: difflib.SplitLines(string(out)),
						FromFile: "old/" + name, ToFile: "new/" + name, Context: 3,
					})
					fmt.Fprint(io.Out, text)
				}
				if !check {
					if err := writeFileKeepMode(name, out); err != nil {
						return err
					}
				}
			}
			if check && unformatted {
				return &exitError{code: ExitUnformatted}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "change nothing; exit 3 when a file is not formatted")
	cmd.Flags().BoolVar(&diff, "diff", false, "show the changes as a unified diff")
	return cmd
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
