package hcl

import (
	"bytes"
	"fmt"

	hhcl "github.com/hashicorp/hcl/v2"
)

// MaxNesting bounds how deeply brackets, strings and template
// interpolations may nest. HCL's parser recurses once per level: 100,000
// nested "[" exhaust Go's stack (a fatal error, not a panic) and 30,000
// take many seconds, so deeper input is refused before it is parsed. Real
// configurations stay far below this.
const MaxNesting = 256

// frame kinds of the nesting scanner.
const (
	frameBracket = iota // ( [ { in an expression
	frameInterp         // ${ or %{ in a string or heredoc
	frameString         // "…"
	frameHeredoc        // <<EOT … EOT
)

type nestFrame struct {
	kind   int
	marker []byte // a heredoc's closing marker
}

// checkNesting scans src as HCL (comments, strings, heredocs and
// interpolations included) and returns an error diagnostic where the
// nesting first exceeds MaxNesting, or nil. It does not validate: the
// parser reports malformed input after it.
func checkNesting(src []byte, filename string, start hhcl.Pos) *hhcl.Diagnostic {
	var stack []nestFrame
	i := 0
	push := func(f nestFrame) *hhcl.Diagnostic {
		stack = append(stack, f)
		if len(stack) <= MaxNesting {
			return nil
		}
		// Positions are worked out only for the refusal: counting lines
		// and columns on every byte would cost more than the scan itself.
		pos := start
		for _, c := range src[:i] {
			pos.Byte++
			switch {
			case c == '\n':
				pos.Line++
				pos.Column = 1
			case c&0xC0 != 0x80: // not a UTF-8 continuation byte
				pos.Column++
			}
		}
		end := pos
		end.Byte++
		end.Column++
		return &hhcl.Diagnostic{
			Severity: hhcl.DiagError,
			Summary:  "Nesting too deep",
			Detail:   fmt.Sprintf("Brackets, strings and interpolations nest more than %d levels deep here; inkform refuses such input rather than exhaust the parser.", MaxNesting),
			Subject:  &hhcl.Range{Filename: filename, Start: pos, End: end},
		}
	}
	pop := func() {
		if len(stack) > 0 {
			stack = stack[:len(stack)-1]
		}
	}
	lineStart := true
	for i < len(src) {
		c := src[i]
		n := 1
		var top *nestFrame
		special := &exprSpecial
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
			switch top.kind {
			case frameString:
				special = &stringSpecial
			case frameHeredoc:
				special = &heredocSpecial
			}
		}
		// Skip plain bytes in one tight loop: most of a file is names,
		// values and blanks.
		if !special[c] && !(lineStart && top != nil && top.kind == frameHeredoc) {
			j := i + 1
			for j < len(src) && !special[src[j]] {
				j++
			}
			lineStart = false
			i = j
			continue
		}
		switch {
		case top != nil && top.kind == frameString:
			switch {
			case c == '\\':
				n = 2
			case c == '"' || c == '\n':
				pop()
			case (c == '$' || c == '%') && bytes.HasPrefix(src[i+1:], []byte{c, '{'}):
				n = 3 // $${ and %%{ are literal
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				if d := push(nestFrame{kind: frameInterp}); d != nil {
					return d
				}
				n = 2
			}
		case top != nil && top.kind == frameHeredoc:
			if lineStart {
				eol := bytes.IndexByte(src[i:], '\n')
				if eol < 0 {
					eol = len(src) - i
				}
				if bytes.Equal(bytes.TrimSpace(src[i:i+eol]), top.marker) {
					pop()
					n = eol
					break
				}
			}
			switch {
			case (c == '$' || c == '%') && bytes.HasPrefix(src[i+1:], []byte{c, '{'}):
				n = 3
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				if d := push(nestFrame{kind: frameInterp}); d != nil {
					return d
				}
				n = 2
			}
		default: // an expression: top level, a bracket or an interpolation
			switch {
			case c == '#' || c == '/' && i+1 < len(src) && src[i+1] == '/':
				n = bytes.IndexByte(src[i:], '\n')
				if n < 0 {
					n = len(src) - i
				}
			case c == '/' && i+1 < len(src) && src[i+1] == '*':
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					n = len(src) - i
				} else {
					n = end + 4
				}
			case c == '"':
				if d := push(nestFrame{kind: frameString}); d != nil {
					return d
				}
			case c == '<' && bytes.HasPrefix(src[i:], []byte("<<")):
				marker, skip := heredocMarker(src[i+2:])
				if marker == nil {
					n = 2
					break
				}
				if d := push(nestFrame{kind: frameHeredoc, marker: marker}); d != nil {
					return d
				}
				n = 2 + skip
			case c == '(' || c == '[' || c == '{':
				if d := push(nestFrame{kind: frameBracket}); d != nil {
					return d
				}
			case c == ')' || c == ']' || c == '}':
				pop()
			}
		}
		n = min(n, len(src)-i)
		lineStart = src[i+n-1] == '\n'
		i += n
	}
	return nil
}

// Bytes that may change the scanner's state, per frame kind.
var exprSpecial, stringSpecial, heredocSpecial = specials("#/\"<([{)]}\n"), specials("\\\"\n$%"), specials("\n$%")

func specials(chars string) (t [256]bool) {
	for i := range len(chars) {
		t[chars[i]] = true
	}
	return t
}

// heredocMarker reads the rest of a heredoc opener after "<<": an optional
// "-", an identifier and the end of the line. It returns the marker and
// how many bytes the opener takes (newline included), or nil when this is
// not a heredoc.
func heredocMarker(b []byte) ([]byte, int) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	for i < len(b) && (b[i] == '_' || b[i] == '-' || b[i] >= 'a' && b[i] <= 'z' || b[i] >= 'A' && b[i] <= 'Z' || b[i] >= '0' && b[i] <= '9') {
		i++
	}
	if i == start {
		return nil, 0
	}
	marker := b[start:i]
	if i < len(b) && b[i] == '\r' {
		i++
	}
	if i >= len(b) || b[i] != '\n' {
		return nil, 0
	}
	return marker, i + 1
}
