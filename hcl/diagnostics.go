package hcl

import (
	"fmt"
	"io"

	hhcl "github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints diagnostics for people: a file:line:col line that
// editors and CI annotations understand, then HCL's rendering with the
// source line and the message. files supplies the source lines (see
// Config.Files and LoadOptions.Files); without an entry only the location
// is shown.
func WriteDiagnostics(w io.Writer, files map[string]*hhcl.File, diags hhcl.Diagnostics, color bool) error {
	tw := hhcl.NewDiagnosticTextWriter(w, files, 0, color)
	for _, d := range diags {
		sev := "error"
		if d.Severity == hhcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject != nil {
			s := d.Subject.Start
			if _, err := fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", d.Subject.Filename, s.Line, s.Column, sev, d.Summary); err != nil {
				return fmt.Errorf("write diagnostics: %w", err)
			}
		}
		if err := tw.WriteDiagnostic(d); err != nil {
			return fmt.Errorf("write diagnostics: %w", err)
		}
	}
	return nil
}
