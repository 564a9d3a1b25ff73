package main

import (
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
)

// streams is the command's IO, injected so tests run commands in-process.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
	// Terminal reports whether Out is an interactive terminal: it turns on
	// colours (unless NO_COLOR), progress lines and the apply prompt.
	Terminal bool
	Env      []string
	// noColor is the -no-color flag, shared by every copy of the streams.
	noColor *bool
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

// color reports whether output may use ANSI colours: on a terminal that
// can show them, unless NO_COLOR or -no-color says otherwise.
func (s streams) color() bool {
	if s.noColor != nil && *s.noColor {
		return false
	}
	return s.Terminal && s.getenv("NO_COLOR") == "" && s.getenv("TERM") != "dumb"
}
