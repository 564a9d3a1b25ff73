package hcl

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	hhcl "github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints diagnostics for people, each once: HCL's
// rendering with the source lines and the message. files supplies the
// source (see Config.Files and LoadOptions.Files); a diagnostic whose file
// is not there is printed as one file:line:col line, which editors and CI
// annotations understand, then its detail.
func WriteDiagnostics(w io.Writer, files map[string]*hhcl.File, diags hhcl.Diagnostics, color bool) error {
	return WriteDiagnosticsStyled(w, files, diags, DiagnosticStyle{Color: color})
}

// DiagnosticStyle says how WriteDiagnosticsStyled prints.
type DiagnosticStyle struct {
	Color bool
	// CompactWarnings prints each warning as one file:line:col line
	// (Terraform's -compact-warnings); errors stay in full.
	CompactWarnings bool
}

// WriteDiagnosticsStyled is WriteDiagnostics with a choice of style.
func WriteDiagnosticsStyled(w io.Writer, files map[string]*hhcl.File, diags hhcl.Diagnostics, style DiagnosticStyle) error {
	for _, d := range diags {
		var err error
		switch {
		case style.CompactWarnings && d.Severity == hhcl.DiagWarning:
			err = writeCompact(w, d, false)
		case d.Subject != nil && strings.HasPrefix(d.Subject.Filename, "<"):
			// "<command line>", "<value for var.x>": no file to point into.
			nd := *d
			nd.Subject, nd.Context = nil, nil
			err = hhcl.NewDiagnosticTextWriter(w, nil, 0, style.Color).WriteDiagnostic(&nd)
		case d.Subject != nil && files[d.Subject.Filename] == nil:
			err = writeCompact(w, d, true)
		default:
			var buf bytes.Buffer
			if masked, standIn := maskSecret(files, d); standIn != nil {
				// The source line holds a secret written in clear: show it
				// masked, so a CI log does not carry it further.
				err = hhcl.NewDiagnosticTextWriter(&buf, map[string]*hhcl.File{d.Subject.Filename: standIn}, 0, style.Color).WriteDiagnostic(masked)
			} else if cut, standIn := excerpt(files, d); standIn != nil {
				// HCL's writer prints whole lines: give it the window only.
				err = hhcl.NewDiagnosticTextWriter(&buf, map[string]*hhcl.File{cut.Subject.Filename: standIn}, 0, style.Color).WriteDiagnostic(cut)
			} else {
				err = hhcl.NewDiagnosticTextWriter(&buf, files, 0, style.Color).WriteDiagnostic(d)
			}
			if err == nil {
				_, err = w.Write(withColumn(buf.Bytes(), d))
			}
		}
		if err != nil {
			return fmt.Errorf("write diagnostics: %w", err)
		}
	}
	return nil
}

// withColumn turns HCL's "on main.hcl line 3" into "on main.hcl:3:39",
// the form editors and CI annotations jump to, so that the one rendering
// of a diagnostic carries its column too.
func withColumn(text []byte, d *hhcl.Diagnostic) []byte {
	if d.Subject == nil {
		return text
	}
	s := d.Subject.Start
	old := fmt.Sprintf("on %s line %d", d.Subject.Filename, s.Line)
	return bytes.Replace(text, []byte(old), fmt.Appendf(nil, "on %s:%d:%d", d.Subject.Filename, s.Line, s.Column), 1)
}

// writeCompact prints d as "file:line:col: severity: summary", with its
// detail on the next line when withDetail.
func writeCompact(w io.Writer, d *hhcl.Diagnostic, withDetail bool) error {
	sev := "error"
	if d.Severity == hhcl.DiagWarning {
		sev = "warning"
	}
	line := sev + ": " + d.Summary
	if d.Subject != nil {
		s := d.Subject.Start
		line = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, s.Line, s.Column, line)
	}
	if withDetail && d.Detail != "" {
		line += "\n  " + d.Detail + "\n"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// Source lines longer than maxExcerpt bytes are cut around the subject:
// an error in a 50 MB single-line file must print a line, not the file.
const (
	maxExcerpt    = 200
	excerptBefore = 60
	excerptAfter  = 100
)

// excerpt returns, when the subject's line is long, a copy of d whose
// subject points into a stand-in file holding only a window of that line;
// otherwise a nil file.
func excerpt(files map[string]*hhcl.File, d *hhcl.Diagnostic) (*hhcl.Diagnostic, *hhcl.File) {
	if d.Subject == nil || files == nil {
		return d, nil
	}
	f := files[d.Subject.Filename]
	if f == nil || d.Subject.Start.Byte > len(f.Bytes) {
		return d, nil
	}
	src := f.Bytes
	start := d.Subject.Start.Byte
	lineStart := bytes.LastIndexByte(src[:start], '\n') + 1
	lineEnd := bytes.IndexByte(src[start:], '\n')
	if lineEnd < 0 {
		lineEnd = len(src)
	} else {
		lineEnd += start
	}
	if lineEnd-lineStart <= maxExcerpt {
		return d, nil
	}
	from := max(lineStart, start-excerptBefore)
	to := min(lineEnd, max(start, min(d.Subject.End.Byte, lineEnd))+excerptAfter)
	for from > lineStart && !utf8.RuneStart(src[from]) {
		from--
	}
	for to < lineEnd && !utf8.RuneStart(src[to]) {
		to++
	}
	var b bytes.Buffer
	b.Write(bytes.Repeat([]byte{'\n'}, d.Subject.Start.Line-1))
	col := 1
	if from > lineStart {
		b.WriteString("…")
		col++
	}
	subjStart := b.Len() + (start - from)
	b.Write(src[from:to])
	if to < lineEnd {
		b.WriteString("…")
	}
	col += utf8.RuneCount(src[from:start])
	subjEnd := min(subjStart+(min(d.Subject.End.Byte, lineEnd)-start), b.Len())
	cut := *d
	cut.Subject = &hhcl.Range{
		Filename: d.Subject.Filename,
		Start:    hhcl.Pos{Line: d.Subject.Start.Line, Column: col, Byte: subjStart},
		End:      hhcl.Pos{Line: d.Subject.Start.Line, Column: col + utf8.RuneCount(b.Bytes()[subjStart:subjEnd]), Byte: subjEnd},
	}
	cut.Context = nil
	return &cut, &hhcl.File{Bytes: b.Bytes()}
}

// secretSubject in a diagnostic's Extra says that its subject is a secret
// written in the source, to be masked wherever the source is shown.
type secretSubject struct{}

// maskSecret returns, for a diagnostic whose subject is a secret, a copy
// of its file with the subject's bytes replaced by '*'; otherwise nil.
func maskSecret(files map[string]*hhcl.File, d *hhcl.Diagnostic) (*hhcl.Diagnostic, *hhcl.File) {
	if _, ok := d.Extra.(secretSubject); !ok || d.Subject == nil || files == nil {
		return d, nil
	}
	f := files[d.Subject.Filename]
	if f == nil || d.Subject.End.Byte > len(f.Bytes) || d.Subject.Start.Byte > d.Subject.End.Byte {
		return d, nil
	}
	b := bytes.Clone(f.Bytes)
	for i := d.Subject.Start.Byte; i < d.Subject.End.Byte; i++ {
		if b[i] != '\n' {
			b[i] = '*'
		}
	}
	masked := *d
	masked.Extra = nil
	return &masked, &hhcl.File{Bytes: b}
}
