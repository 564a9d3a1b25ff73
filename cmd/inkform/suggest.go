package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// guardGroups makes every command that only groups others (state) refuse
// an unknown subcommand with "did you mean", instead of printing its help
// and exiting 0 as cobra does: `inkform state lst` in a script must fail.
// Without arguments a group prints its help, as before.
func guardGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		guardGroups(sub)
	}
	if c.Runnable() || !c.HasSubCommands() || !c.HasParent() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return unknownCommandError(cmd, args[0])
	}
}

func unknownCommandError(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return &exitError{code: ExitError, msg: msg + "\n\nRun '" + cmd.CommandPath() + " --help' for usage."}
}

var (
	unknownShorthand = regexp.MustCompile(`^unknown shorthand flag: '.' in (-[^\s]+)$`)
	unknownLong      = regexp.MustCompile(`^unknown flag: --([^\s=]+)$`)
)

// flagError turns pflag's "unknown shorthand flag: 'd' in
// -detailed-exit-code" (pflag reads a single-dash word as shorthands) into
// what was meant: an unknown flag, with the closest ones the command has.
func flagError(cmd *cobra.Command, err error) error {
	name := ""
	if m := unknownShorthand.FindStringSubmatch(err.Error()); m != nil {
		name = strings.TrimLeft(m[1], "-")
		name, _, _ = strings.Cut(name, "=")
	} else if m := unknownLong.FindStringSubmatch(err.Error()); m != nil {
		name = m[1]
	}
	if name == "" || len(name) < 2 {
		return err
	}
	msg := fmt.Sprintf("unknown flag -%s for %q", name, cmd.CommandPath())
	if s := closestFlags(cmd, name); len(s) > 0 {
		msg += "; did you mean -" + strings.Join(s, " or -") + "?"
	}
	return &exitError{code: ExitError, msg: msg + "\nRun '" + cmd.CommandPath() + " --help' for its flags."}
}

// closestFlags returns the command's flag names nearest to name: at most
// a third of its letters apart, or sharing it as a prefix.
func closestFlags(cmd *cobra.Command, name string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	seen := map[string]bool{}
	consider := func(f *pflag.Flag) {
		if seen[f.Name] || f.Hidden {
			return
		}
		seen[f.Name] = true
		d := levenshtein.Distance(strings.ToLower(name), f.Name, nil)
		if d <= max(2, len(name)/3) || strings.HasPrefix(f.Name, name) {
			cs = append(cs, cand{f.Name, d})
		}
	}
	cmd.Flags().VisitAll(consider)
	cmd.InheritedFlags().VisitAll(consider)
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	var out []string
	for i, c := range cs {
		if i == 3 {
			break
		}
		out = append(out, c.name)
	}
	return out
}
