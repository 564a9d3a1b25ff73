package hcl

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

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
		if masked, standIn := maskSecret(files, d); standIn != nil {
			// The source line holds a secret written in clear: show it
			// masked, so a CI log does not carry it further.
			err := hhcl.NewDiagnosticTextWriter(w, map[string]*hhcl.File{d.Subject.Filename: standIn}, 0, color).WriteDiagnostic(masked)
			if err != nil {
				return fmt.Errorf("write diagnostics: %w", err)
			}
			continue
		}
		if cut, standIn := excerpt(files, d); standIn != nil {
			// HCL's writer prints whole lines: give it the window only.
			err := hhcl.NewDiagnosticTextWriter(w, map[string]*hhcl.File{cut.Subject.Filename: standIn}, 0, color).WriteDiagnostic(cut)
			if err != nil {
				return fmt.Errorf("write diagnostics: %w", err)
			}
			continue
		}
		if err := tw.WriteDiagnostic(d); err != nil {
			return fmt.Errorf("write diagnostics: %w", err)
		}
	}
	return nil
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
