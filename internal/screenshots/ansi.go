package main

import (
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
)

// style is the SGR state of one character cell.
type style struct {
	fg, bg                     int // 0 default, 30–37/90–97 foreground, 40–47/100–107 background
	bold, dim, italic, underln bool
}

// class names the CSS classes of a style; "" for the default.
func (s style) class() string {
	var c []string
	if s.bold {
		c = append(c, "b")
	}
	if s.dim {
		c = append(c, "d")
	}
	if s.italic {
		c = append(c, "i")
	}
	if s.underln {
		c = append(c, "u")
	}
	if s.fg != 0 {
		c = append(c, "f"+strconv.Itoa(s.fg))
	}
	if s.bg != 0 {
		c = append(c, "g"+strconv.Itoa(s.bg))
	}
	return strings.Join(c, " ")
}

type cell struct {
	r  rune
	st style
}

// screen is just enough of a terminal for a command's output: lines of
// styled cells, carriage return (progress lines redraw themselves with
// "\r\x1b[K") and erase-to-end-of-line. Other control sequences are
// dropped, so unknown input never garbles the text around it.
type screen struct {
	lines [][]cell
	line  []cell
	col   int
	cur   style
}

func (sc *screen) put(r rune) {
	if sc.col < len(sc.line) {
		sc.line[sc.col] = cell{r, sc.cur}
	} else {
		sc.line = append(sc.line, cell{r, sc.cur})
	}
	sc.col++
}

func (sc *screen) newline() {
	sc.lines = append(sc.lines, sc.line)
	sc.line, sc.col = nil, 0
}

// parseANSI reads terminal output into lines of styled cells.
func parseANSI(src string) [][]cell {
	sc := &screen{}
	rs := []rune(src)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\n':
			sc.newline()
		case '\r':
			sc.col = 0
		case '\x1b':
			i = sc.escape(rs, i)
		case '\t':
			for {
				sc.put(' ')
				if sc.col%8 == 0 {
					break
				}
			}
		default:
			if r < ' ' || r == 0x7f {
				continue // other C0 controls (bell, backspace, …) show nothing
			}
			sc.put(r)
		}
	}
	if len(sc.line) > 0 {
		sc.newline()
	}
	return sc.lines
}

// escape handles the sequence starting at rs[i] (ESC) and returns the
// index of its last rune.
func (sc *screen) escape(rs []rune, i int) int {
	if i+1 >= len(rs) {
		return i
	}
	switch rs[i+1] {
	case '[': // CSI: parameters, intermediates, one final byte 0x40–0x7e
		j := i + 2
		for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
			j++
		}
		if j >= len(rs) {
			return len(rs) - 1
		}
		params := string(rs[i+2 : j])
		switch rs[j] {
		case 'm':
			sc.cur = applySGR(sc.cur, params)
		case 'K':
			if params == "" || params == "0" {
				sc.line = sc.line[:min(sc.col, len(sc.line))]
			}
		}
		return j
	case ']': // OSC, ended by BEL or ESC \
		for j := i + 2; j < len(rs); j++ {
			if rs[j] == '\a' {
				return j
			}
			if rs[j] == '\x1b' && j+1 < len(rs) && rs[j+1] == '\\' {
				return j + 1
			}
		}
		return len(rs) - 1
	}
	return i + 1 // a two-character escape such as ESC 7
}

// applySGR applies "Select Graphic Rendition" parameters. 256-colour and
// true-colour selections (38;5;n, 38;2;r;g;b and the same for 48) are
// skipped whole: the plan uses the 16 basic colours only.
func applySGR(st style, params string) style {
	if params == "" {
		return style{}
	}
	ps := strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ':' })
	for k := 0; k < len(ps); k++ {
		n, err := strconv.Atoi(ps[k])
		if err != nil {
			continue
		}
		switch {
		case n == 0:
			st = style{}
		case n == 1:
			st.bold = true
		case n == 2:
			st.dim = true
		case n == 3:
			st.italic = true
		case n == 4:
			st.underln = true
		case n == 22:
			st.bold, st.dim = false, false
		case n == 23:
			st.italic = false
		case n == 24:
			st.underln = false
		case n >= 30 && n <= 37, n >= 90 && n <= 97:
			st.fg = n
		case n == 39:
			st.fg = 0
		case n >= 40 && n <= 47, n >= 100 && n <= 107:
			st.bg = n
		case n == 49:
			st.bg = 0
		case n == 38 || n == 48:
			if k+1 < len(ps) && ps[k+1] == "5" {
				k += 2
			} else if k+1 < len(ps) && ps[k+1] == "2" {
				k += 4
			}
		}
	}
	return st
}

// ansiToHTML renders terminal output as HTML: one text line per line,
// runs of equal style in one span.
func ansiToHTML(src string) string {
	var b strings.Builder
	for li, line := range parseANSI(src) {
		if li > 0 {
			b.WriteByte('\n')
		}
		for i := 0; i < len(line); {
			j := i
			var text strings.Builder
			for j < len(line) && line[j].st == line[i].st {
				text.WriteRune(line[j].r)
				j++
			}
			if c := line[i].st.class(); c != "" {
				fmt.Fprintf(&b, `<span class="%s">%s</span>`, c, html.EscapeString(text.String()))
			} else {
				b.WriteString(html.EscapeString(text.String()))
			}
			i = j
		}
	}
	return b.String()
}

func writeTerminalPage(w io.Writer, title string, src []byte) error {
	body := ansiToHTML(strings.TrimRight(string(src), "\r\n"))
	_, err := fmt.Fprintf(w, terminalPage, html.EscapeString(title), body)
	if err != nil {
		return fmt.Errorf("write terminal page: %w", err)
	}
	return nil
}

// terminalPage is a dark terminal window on a transparent page; the
// palette is a common dark terminal theme's.
const terminalPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
html, body { margin: 0; background: transparent; }
.window { margin: 12px; width: 100ch; padding: 0; border-radius: 8px; overflow: hidden;
  background: #1e1e1e; box-shadow: 0 2px 10px rgba(0,0,0,.35); font: 14px/1.45 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.bar { background: #323232; color: #bbb; font: 13px "DejaVu Sans", sans-serif; text-align: center; padding: 7px 0; position: relative; }
.dots { position: absolute; left: 12px; top: 9px; }
.dots i { display: inline-block; width: 12px; height: 12px; border-radius: 50%%; margin-right: 7px; }
pre { margin: 0; padding: 12px 16px 16px; color: #d4d4d4; white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; }
.b { font-weight: bold; } .d { opacity: .7; } .i { font-style: italic; } .u { text-decoration: underline; }
.f30 { color: #5c5c5c; } .f31 { color: #f14c4c; } .f32 { color: #23d18b; } .f33 { color: #e5e510; }
.f34 { color: #3b8eea; } .f35 { color: #d670d6; } .f36 { color: #29b8db; } .f37 { color: #e5e5e5; }
.f90 { color: #8a8a8a; } .f91 { color: #ff6b6b; } .f92 { color: #5af78e; } .f93 { color: #f4f99d; }
.f94 { color: #6cb6ff; } .f95 { color: #ff92d0; } .f96 { color: #9aedfe; } .f97 { color: #ffffff; }
.g40 { background: #000; } .g41 { background: #cd3131; } .g42 { background: #0dbc79; } .g43 { background: #e5e510; }
.g44 { background: #2472c8; } .g45 { background: #bc3fbc; } .g46 { background: #11a8cd; } .g47 { background: #e5e5e5; }
</style></head><body>
<div class="window"><div class="bar"><span class="dots"><i style="background:#ff5f56"></i><i style="background:#ffbd2e"></i><i style="background:#27c93f"></i></span>%s</div>
<pre>%s</pre></div>
</body></html>
`
