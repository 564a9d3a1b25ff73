package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/hcl"
)

// configFlags are the flags of every command that reads the configuration.
type configFlags struct {
	Dir      string
	Vars     []string
	VarFiles []string
	// MaxFileSize bounds every file the configuration reads.
	MaxFileSize byteSize
	// CompactWarnings prints warnings on one line each.
	CompactWarnings bool
}

func (f *configFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Dir, "config", ".", "configuration directory (every *.hcl file in it) or one file")
	fs.StringArrayVar(&f.Vars, "var", nil, "set a variable: -var name=value (repeatable)")
	fs.StringArrayVar(&f.VarFiles, "var-file", nil, "read variables from an HCL file of name = value lines (repeatable)")
	fs.BoolVar(&f.CompactWarnings, "compact-warnings", false, "print configuration warnings one line each (file:line:col: warning: summary); errors stay in full")
	f.MaxFileSize = hcl.DefaultMaxFileSize
	fs.Var(&f.MaxFileSize, "max-file-size", "the largest file the configuration may read (*.hcl, -var-file, file(), ca_cert), in bytes or with a k, M or G suffix (KiB, MiB, GiB)")
}

// load reads and validates the configuration, printing diagnostics.
func (f *configFlags) load(io streams) (*hcl.Config, error) {
	return f.loadWith(io, false)
}

// loadStateOnly reads only what locates the state (see
// hcl.LoadOptions.StateOnly).
func (f *configFlags) loadStateOnly(io streams) (*hcl.Config, error) {
	return f.loadWith(io, true)
}

func (f *configFlags) loadWith(io streams, stateOnly bool) (*hcl.Config, error) {
	files := map[string]*hhcl.File{}
	cfg, diags := hcl.Load(f.Dir, hcl.LoadOptions{
		StateOnly: stateOnly,
		Vars:      f.Vars,
		VarFiles:  f.VarFiles,
		Env:       io.Env,
		Catalog:   catalog.Default(),
		Files:     files,
		// Unset (a command built without register) leaves hcl's default.
		MaxFileSize: int64(f.MaxFileSize),
	})
	if len(diags) > 0 {
		_ = hcl.WriteDiagnosticsStyled(io.Err, files, diags, hcl.DiagnosticStyle{Color: io.color(), CompactWarnings: f.CompactWarnings})
	}
	if diags.HasErrors() || cfg == nil {
		return nil, &exitError{code: ExitError}
	}
	return cfg, nil
}

// byteSize is a size in bytes, set from a number with an optional k, M or
// G suffix for KiB, MiB or GiB.
type byteSize int64

// byteUnits are the suffixes, largest first, with their shifts.
var byteUnits = []struct {
	suffix string
	shift  uint
}{{"G", 30}, {"M", 20}, {"k", 10}}

func (b *byteSize) Set(s string) error {
	num, shift := strings.TrimSpace(s), uint(0)
	if num != "" {
		switch num[len(num)-1] {
		case 'k', 'K': // both spellings are common
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		}
		if shift > 0 {
			num = num[:len(num)-1]
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a positive number of bytes, optionally with a k, M or G suffix", s)
	}
	if n > math.MaxInt64>>shift {
		return fmt.Errorf("%q is too large", s)
	}
	*b = byteSize(n << shift)
	return nil
}

// String shows the size in the largest unit that divides it, so that
// the default reads 64M in the help.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range byteUnits {
		if n > 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Type() string { return "size" }
