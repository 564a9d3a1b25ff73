package pjl

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// UEL is the Universal Exit Language sequence: it ends whatever the printer
// was parsing and returns it to PJL. Every job starts and ends with it.
const UEL = "\x1b%-12345X"

// Limits that keep a hostile or broken peer from making the parser
// allocate without bound.
const (
	// maxOptions caps the option lines read for one entry, whatever count
	// the entry announces.
	maxOptions = 1024
	// maxCommandLen caps one PJL command line (the PJL reference allows
	// 255 bytes; printers accept somewhat more).
	maxCommandLen = 1024
)

// ErrBadValue is wrapped by errors for values PJL cannot carry.
var ErrBadValue = errors.New("value cannot be sent in PJL")

// Job frames PJL command lines (each starting with "@PJL") as one job:
// UEL, the "@PJL" line, the commands, UEL.
func Job(commands ...string) []byte {
	var b bytes.Buffer
	b.WriteString(UEL)
	b.WriteString("@PJL\r\n")
	for _, c := range commands {
		b.WriteString(c)
		b.WriteString("\r\n")
	}
	b.WriteString(UEL)
	return b.Bytes()
}

// Echo returns the ECHO command for token. The printer sends the command
// line back, so a reply stream is complete once the echo of a token only
// this job used arrives.
func Echo(token string) (string, error) {
	if token == "" || !isPlain(token) {
		return "", fmt.Errorf("echo token %q: %w", token, ErrBadValue)
	}
	return "@PJL ECHO " + token, nil
}

// Info returns the INFO command for a category ("ID", "CONFIG",
// "VARIABLES", "STATUS").
func Info(category string) string { return "@PJL INFO " + category }

// DInquire returns the DINQUIRE command that reads a variable's default.
func DInquire(variable string) (string, error) {
	if err := checkVariable(variable); err != nil {
		return "", err
	}
	return "@PJL DINQUIRE " + variable, nil
}

// Default returns the DEFAULT command that sets a variable's default.
// Values made of letters, digits and ".-_+:" go bare; anything else
// (spaces included) goes in double quotes. A PJL string cannot hold a
// double quote or a control character, so such values are refused.
func Default(variable, value string) (string, error) {
	if err := checkVariable(variable); err != nil {
		return "", err
	}
	v, err := quote(value)
	if err != nil {
		return "", fmt.Errorf("%s: %w", variable, err)
	}
	return "@PJL DEFAULT " + variable + "=" + v, nil
}

func checkVariable(v string) error {
	if v == "" || strings.TrimSpace(v) != v || len(v) > 255 {
		return fmt.Errorf("variable %q: %w", v, ErrBadValue)
	}
	for _, r := range v {
		if r <= ' ' && r != ' ' || r == '=' || r == '"' || r >= 0x7f {
			return fmt.Errorf("variable %q: %w", v, ErrBadValue)
		}
	}
	return nil
}

func quote(value string) (string, error) {
	if value != "" && isPlain(value) {
		return value, nil
	}
	for _, r := range value {
		// The message never repeats the value: it may be secret.
		if r < ' ' || r == '"' || r == 0x7f {
			return "", fmt.Errorf("value holds a double quote or a control character: %w", ErrBadValue)
		}
	}
	if len(value) > 255 {
		return "", fmt.Errorf("value is %d bytes long; PJL strings hold at most 255: %w", len(value), ErrBadValue)
	}
	return `"` + value + `"`, nil
}

func isPlain(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '.' || r == '-' || r == '_' || r == '+' || r == ':':
		default:
			return false
		}
	}
	return true
}

// Unquote strips one pair of surrounding double quotes and surrounding
// blanks from a value as printers send it.
func Unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// Reply is one block of a printer's answer: the echoed command line
// ("@PJL DINQUIRE COPIES") and the lines after it up to the form feed.
type Reply struct {
	// Command is the header without "@PJL", blanks collapsed:
	// "DINQUIRE COPIES", "ECHO t1", "INFO ID".
	Command string
	// Lines are the non-empty body lines, with line ends removed and
	// leading tabs and spaces kept (they mark option lines).
	Lines []string
	// Complete is false for a last block that the printer had not yet
	// ended with a form feed.
	Complete bool
}

// Is reports whether the reply answers the given command
// (case-insensitive, blanks collapsed), e.g. r.Is("ECHO", token).
func (r Reply) Is(words ...string) bool {
	return strings.EqualFold(r.Command, collapse(strings.Join(words, " ")))
}

// Value returns the first body line unquoted: the answer of DINQUIRE,
// INQUIRE and INFO ID. ok is false when there is none or when the printer
// answered "?" (unknown variable).
func (r Reply) Value() (value string, ok bool) {
	if len(r.Lines) == 0 {
		return "", false
	}
	raw := strings.TrimSpace(r.Lines[0])
	if raw == "?" || raw == `"?"` {
		return "", false
	}
	return Unquote(raw), true
}

// ParseReply splits what a printer sent into reply blocks. Blocks end with
// a form feed; lines end with CRLF, LF or CR. Bytes before the first
// "@PJL" header (a stray UEL, noise) and blocks without a header are
// skipped. It never fails: garbage yields no blocks.
func ParseReply(data []byte) []Reply {
	var out []Reply
	for len(data) > 0 {
		block, rest, complete := bytes.Cut(data, []byte{'\f'})
		data = rest
		if r, ok := parseBlock(block); ok {
			r.Complete = complete
			out = append(out, r)
		}
	}
	return out
}

func parseBlock(block []byte) (Reply, bool) {
	var r Reply
	header := false
	for _, line := range splitLines(block) {
		if !header {
			// A UEL may precede the header when a printer echoes job
			// framing; look for "@PJL" anywhere on the line.
			i := strings.Index(asciiUpper(line), "@PJL")
			if i < 0 {
				continue
			}
			rest := line[i+4:]
			if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
				continue
			}
			r.Command = collapse(rest)
			header = true
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		r.Lines = append(r.Lines, line)
	}
	return r, header
}

func splitLines(b []byte) []string {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

// asciiUpper upper-cases ASCII letters only, so byte offsets into the
// result are offsets into s (strings.ToUpper may change the length of
// text that is not valid UTF-8).
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// collapse trims s and folds each run of blanks into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// Entry is one item of an INFO VARIABLES or INFO CONFIG reply:
//
//	COPIES=1 [2 RANGE]
//		1
//		999
//	IN TRAYS [2 ENUMERATED]
//		INTRAY1
//		INTRAY2
//	MEMORY=8388608
type Entry struct {
	Name     string // "COPIES", "LPARM:PCL PAPER", "IN TRAYS"
	Value    string // unquoted; "" when the line has no "="
	HasValue bool
	Kind     string // "RANGE", "ENUMERATED", … ("" without brackets)
	ReadOnly bool
	Options  []string // the indented lines that follow, unquoted
}

// ParseEntries reads INFO VARIABLES / INFO CONFIG body lines. An indented
// line belongs to the entry above it; the count in brackets is a hint, not
// trusted. Indented lines before any entry are skipped. It never fails:
// what cannot be read is left out.
func ParseEntries(lines []string) []Entry {
	var out []Entry
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if n := len(out); n > 0 && len(out[n-1].Options) < maxOptions {
				out[n-1].Options = append(out[n-1].Options, Unquote(line))
			}
			continue
		}
		if e, ok := parseEntry(line); ok {
			out = append(out, e)
		}
	}
	return out
}

func parseEntry(line string) (Entry, bool) {
	line = strings.TrimSpace(line)
	var e Entry
	// A trailing "[n KIND ...]" describes the options; it is only a
	// bracket part when what is inside starts with a count.
	if strings.HasSuffix(line, "]") {
		if i := strings.LastIndexByte(line, '['); i >= 0 {
			f := strings.Fields(line[i+1 : len(line)-1])
			if len(f) > 0 {
				if _, err := strconv.Atoi(f[0]); err == nil {
					for _, w := range f[1:] {
						if strings.EqualFold(w, "READONLY") {
							e.ReadOnly = true
						} else if e.Kind == "" {
							e.Kind = strings.ToUpper(w)
						}
					}
					line = strings.TrimSpace(line[:i])
				}
			}
		}
	}
	name, value, hasValue := strings.Cut(line, "=")
	e.Name = collapse(name)
	if e.Name == "" {
		return Entry{}, false
	}
	e.HasValue = hasValue
	if hasValue {
		e.Value = Unquote(value)
	}
	return e, true
}

// ModelOf returns the model from an INFO ID reply: the first body line,
// unquoted.
func ModelOf(r Reply) (string, bool) {
	return r.Value()
}
