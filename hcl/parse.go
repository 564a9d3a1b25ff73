package hcl

import (
	"bytes"
	"runtime"
	"sort"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A large fleet is one long file of top-level blocks, and HCL lexes and
// parses a file on one core. parseConfig cuts a large file into pieces at
// lines that start a new top-level item after a line holding only the
// closing brace of the previous one (and blank lines), parses the pieces
// concurrently, each at its true start position so that every range is
// the same as in a whole-file parse, and joins their bodies.
//
// A cut is only a guess made without lexing: the brace might sit inside a
// heredoc, a comment or a multi-line string. The guess is accepted only
// when every piece parses without any diagnostic and its items start and
// end exactly at the cuts; otherwise the file is parsed whole, so problems
// are always reported exactly as HCL reports them for the whole file.

// minSplitSize is the file size below which splitting does not pay.
const minSplitSize = 256 << 10

// Pieces: at least piecesPerCPU per CPU, so the scheduler has slack when
// pieces parse at different speeds, and about pieceSize bytes each, since
// HCL's token slice grows by copying and small pieces copy less.
const (
	piecesPerCPU = 4
	pieceSize    = 64 << 10
)

// parseConfig parses an HCL configuration file, like
// hclsyntax.ParseConfig(src, filename, hhcl.InitialPos).
func parseConfig(src []byte, filename string) (*hhcl.File, hhcl.Diagnostics) {
	if d := checkNesting(src, filename, hhcl.InitialPos); d != nil {
		return nil, hhcl.Diagnostics{d}
	}
	procs := runtime.GOMAXPROCS(0)
	n := max(procs*piecesPerCPU, len(src)/pieceSize)
	if len(src) < minSplitSize || procs < 2 {
		return hclsyntax.ParseConfig(src, filename, hhcl.InitialPos)
	}
	if f := parsePieces(src, filename, cutPoints(src, n)); f != nil {
		return f, nil
	}
	return hclsyntax.ParseConfig(src, filename, hhcl.InitialPos)
}

// cutPoints returns up to n-1 byte offsets, ascending, at which src may be
// cut: each is the start of a line beginning with a letter or underscore
// (an identifier: the next top-level item) whose previous non-blank line
// holds only "}" and optional trailing blanks.
func cutPoints(src []byte, n int) []int {
	var cuts []int
	step := len(src) / n
	for target := step; target < len(src) && len(cuts) < n-1; target += step {
		from := target
		if len(cuts) > 0 {
			from = max(from, cuts[len(cuts)-1]+1)
		}
		c := nextCut(src, from)
		if c < 0 {
			break
		}
		cuts = append(cuts, c)
	}
	return cuts
}

// nextCut finds the first cut after from, or -1.
func nextCut(src []byte, from int) int {
	for i := from; i < len(src); {
		nl := bytes.IndexByte(src[i:], '\n')
		if nl < 0 {
			return -1
		}
		start := i + nl + 1 // the line after this newline
		i = start
		if start < len(src) && identStart(src[start]) && closingBrace(src, start) >= 0 {
			return start
		}
	}
	return -1
}

// closingBrace returns the offset just past the "}" that the blank lines
// before the line start at cut follow, when that "}" is alone at the start
// of its line; otherwise -1.
func closingBrace(src []byte, cut int) int {
	i := cut - 1
	for i >= 0 && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n') {
		i--
	}
	if i < 0 || src[i] != '}' || i > 0 && src[i-1] != '\n' {
		return -1
	}
	return i + 1
}

func identStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// parsePieces parses src cut at cuts and returns the joined file, or nil
// when the cuts turn out not to fall between top-level items.
func parsePieces(src []byte, filename string, cuts []int) *hhcl.File {
	if len(cuts) == 0 {
		return nil
	}
	bounds := make([]int, 0, len(cuts)+2)
	bounds = append(bounds, 0)
	bounds = append(bounds, cuts...)
	bounds = append(bounds, len(src))
	// Line numbers of the cuts, counted once rather than per piece.
	starts := make([]hhcl.Pos, len(bounds)-1)
	starts[0] = hhcl.InitialPos
	line := 1
	for i := 1; i < len(starts); i++ {
		line += bytes.Count(src[bounds[i-1]:bounds[i]], []byte{'\n'})
		starts[i] = hhcl.Pos{Byte: bounds[i], Line: line, Column: 1}
	}

	files := make([]*hhcl.File, len(starts))
	ok := make([]bool, len(starts))
	parallelFor(len(starts), 1, func(i int) {
		f, diags := hclsyntax.ParseConfig(src[bounds[i]:bounds[i+1]], filename, starts[i])
		files[i], ok[i] = f, len(diags) == 0
	})

	joined := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	for i, f := range files {
		if !ok[i] {
			return nil
		}
		body := f.Body.(*hclsyntax.Body)
		first, last, any := itemBounds(body)
		// Each piece must begin with an item at its cut and, but for the
		// last, end with an item at the next cut: only then was the lexer
		// outside any string, comment or heredoc there, as in a whole parse.
		if i > 0 && (!any || first != bounds[i]) {
			return nil
		}
		if i < len(files)-1 && (!any || last != closingBrace(src, bounds[i+1])) {
			return nil
		}
		for name, a := range body.Attributes {
			if _, dup := joined.Attributes[name]; dup {
				return nil // the whole parse reports "Attribute redefined"
			}
			joined.Attributes[name] = a
		}
		joined.Blocks = append(joined.Blocks, body.Blocks...)
	}
	firstBody := files[0].Body.(*hclsyntax.Body)
	lastBody := files[len(files)-1].Body.(*hclsyntax.Body)
	joined.SrcRange = hhcl.RangeBetween(firstBody.SrcRange, lastBody.SrcRange)
	joined.EndRange = lastBody.EndRange
	return &hhcl.File{Body: joined, Bytes: src, Nav: pieceNav{files: files, starts: bounds[:len(files)]}}
}

// itemBounds returns where the body's first item starts and its last item
// ends, by byte offset.
func itemBounds(body *hclsyntax.Body) (first, last int, any bool) {
	first, last = -1, -1
	note := func(r hhcl.Range) {
		if first < 0 || r.Start.Byte < first {
			first = r.Start.Byte
		}
		if r.End.Byte > last {
			last = r.End.Byte
		}
	}
	for _, a := range body.Attributes {
		note(a.SrcRange)
	}
	for _, b := range body.Blocks {
		note(b.Range())
	}
	return first, last, first >= 0
}

// pieceNav answers diagnostic writers' "in printer "x"" questions for a
// joined file by asking the piece that holds the offset.
type pieceNav struct {
	files  []*hhcl.File
	starts []int // byte offset where each piece starts
}

func (n pieceNav) piece(offset int) *hhcl.File {
	i := sort.SearchInts(n.starts, offset+1) - 1
	if i < 0 {
		i = 0
	}
	return n.files[i]
}

// ContextString implements hcled's contextStringer.
func (n pieceNav) ContextString(offset int) string {
	return hcled.ContextString(n.piece(offset), offset)
}

// ContextDefRange implements hcled's contextDefRanger.
func (n pieceNav) ContextDefRange(offset int) hhcl.Range {
	return hcled.ContextDefRange(n.piece(offset), offset)
}
