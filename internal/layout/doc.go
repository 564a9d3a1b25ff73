// Package layout holds no code: its test checks the module's import rules,
// so that the package graph keeps showing the architecture
// (docs/architecture.md): imports point down only, the model and the
// language know no protocol, and commands reach state through its
// interface.
package layout
