package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func run(args []string, io streams) ExitCode {
	ctx, stop := signalContext(io.Err)
	defer stop()
	return runContext(ctx, args, io)
}

func runContext(ctx context.Context, args []string, io streams) ExitCode {
	root := newRootCommand(newFactory(io))
	root.SetArgs(normalizeArgs(root, args))
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(io.Err, "Error:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(io.Err, "Error:", err)
	return ExitError
}

func newRootCommand(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "inkform",
		Short: "Printer fleets managed as code",
		Long: `inkform manages printer fleets as code. HCL files declare printers and their
settings; "inkform plan" shows how the live printers differ, "inkform apply"
makes them match and verifies every write.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.Err)
	root.AddCommand(
		newValidateCommand(f),
		newFmtCommand(f),
		newPlanCommand(f),
		newApplyCommand(f),
		newShowCommand(f),
		newStateCommand(f),
		newSimCommand(f),
		newDiscoverCommand(f),
		newImportCommand(f),
		newWatchCommand(f),
		newAlertsCommand(f),
		newReportCommand(f),
		newVersionCommand(f),
	)
	root.Version = versionString()
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().BoolVar(f.IO.noColor, "no-color", false, "Do not colour the output (also NO_COLOR=1 or TERM=dumb)")
	root.SetFlagErrorFunc(flagError)
	guardGroups(root)
	return root
}

// normalizeArgs accepts Terraform-style single-dash long flags (-out FILE,
// -detailed-exitcode) by rewriting them to the double-dash form cobra
// parses. Only names of real long flags are rewritten, so negative numbers
// and single-letter shorthands pass through untouched.
func normalizeArgs(root *cobra.Command, args []string) []string {
	long := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	// cobra adds these two only when it executes.
	long["help"], long["version"] = true, true
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if long[name] {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}
