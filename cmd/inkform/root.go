package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// streams is the command's IO, injected so tests run commands in-process.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
	// Terminal reports whether Out is an interactive terminal: it turns on
	// colours (unless NO_COLOR), progress lines and the apply prompt.
	Terminal bool
	Env      []string
}

func defaultStreams() streams {
	return streams{
		In:       os.Stdin,
		Out:      os.Stdout,
		Err:      os.Stderr,
		Terminal: isatty.IsTerminal(os.Stdout.Fd()) && isatty.IsTerminal(os.Stdin.Fd()),
		Env:      os.Environ(),
	}
}

func (s streams) getenv(name string) string {
	for _, kv := range s.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// color reports whether output may use ANSI colours.
func (s streams) color() bool {
	return s.Terminal && s.getenv("NO_COLOR") == ""
}

func run(args []string, io streams) ExitCode {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, io)
}

func runContext(ctx context.Context, args []string, io streams) ExitCode {
	root := newRootCommand(io)
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

func newRootCommand(io streams) *cobra.Command {
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
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.AddCommand(
		newValidateCommand(io),
		newFmtCommand(io),
		newPlanCommand(io),
		newApplyCommand(io),
		newShowCommand(io),
		newStateCommand(io),
		newSimCommand(),
		newVersionCommand(io),
	)
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
