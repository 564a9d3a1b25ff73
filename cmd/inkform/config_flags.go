package main

import (
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
}

func (f *configFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Dir, "config", ".", "configuration directory (every *.hcl file in it) or one file")
	fs.StringArrayVar(&f.Vars, "var", nil, "set a variable: -var name=value (repeatable)")
	fs.StringArrayVar(&f.VarFiles, "var-file", nil, "read variables from an HCL file of name = value lines (repeatable)")
}

// load reads and validates the configuration, printing diagnostics.
func (f *configFlags) load(io streams) (*hcl.Config, error) {
	files := map[string]*hhcl.File{}
	cfg, diags := hcl.Load(f.Dir, hcl.LoadOptions{
		Vars:     f.Vars,
		VarFiles: f.VarFiles,
		Env:      io.Env,
		Catalog:  catalog.Default(),
		Files:    files,
	})
	if len(diags) > 0 {
		_ = hcl.WriteDiagnostics(io.Err, files, diags, io.color())
	}
	if diags.HasErrors() || cfg == nil {
		return nil, &exitError{code: ExitError}
	}
	return cfg, nil
}
