package main

import (
	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/state/backend"
)

// configFlags are the flags of every command that reads the configuration.
type configFlags struct {
	dir      string
	vars     []string
	varFiles []string
	state    string // state location overriding the configuration's
}

// register adds the configuration and state flags.
func (f *configFlags) register(cmd *cobra.Command) {
	f.registerConfig(cmd)
	cmd.Flags().StringVar(&f.state, "state", "", "state location, overriding the state block and "+stateEnv+": "+backend.Syntax())
}

// registerConfig adds only the configuration flags, for commands that
// never open state.
func (f *configFlags) registerConfig(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "config", ".", "configuration directory (every *.hcl file in it) or one file")
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "set a variable: -var name=value (repeatable)")
	cmd.Flags().StringArrayVar(&f.varFiles, "var-file", nil, "read variables from an HCL file of name = value lines (repeatable)")
}

// load reads and validates the configuration, printing diagnostics.
func (f *configFlags) load(io streams) (*hcl.Config, error) {
	files := map[string]*hhcl.File{}
	cfg, diags := hcl.Load(f.dir, hcl.LoadOptions{
		Vars:     f.vars,
		VarFiles: f.varFiles,
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
