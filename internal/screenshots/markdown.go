package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	ghtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// markdownToHTML renders Markdown as GitHub renders a pull-request
// comment: GitHub Flavored Markdown, raw HTML kept, <details> shown open
// (a screenshot cannot click), and diff blocks coloured line by line.
func markdownToHTML(src []byte) (string, error) {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithRendererOptions(
			ghtml.WithUnsafe(),
			// Below the HTML renderer's 1000: this one wins for code blocks.
			renderer.WithNodeRenderers(util.Prioritized(codeRenderer{}, 100)),
		),
	)
	var buf bytes.Buffer
	if err := md.Convert(src, &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return strings.ReplaceAll(buf.String(), "<details>", "<details open>"), nil
}

// codeRenderer renders fenced code blocks; "diff" blocks get a class per
// line from its first character, as GitHub colours them.
type codeRenderer struct{}

func (codeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, renderFencedCode)
}

func renderFencedCode(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.FencedCodeBlock)
	lang := string(n.Language(source))
	var code strings.Builder
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		code.Write(seg.Value(source))
	}
	if lang == "" {
		fmt.Fprintf(w, "<pre><code>%s</code></pre>\n", html.EscapeString(code.String()))
		return ast.WalkSkipChildren, nil
	}
	fmt.Fprintf(w, `<pre><code class="language-%s">`, html.EscapeString(lang))
	if lang == "diff" {
		for _, line := range strings.SplitAfter(code.String(), "\n") {
			if line == "" {
				continue
			}
			text := html.EscapeString(strings.TrimSuffix(line, "\n"))
			if c := diffClass(line); c != "" {
				fmt.Fprintf(w, `<span class="%s">%s</span>`, c, text)
			} else {
				w.WriteString(text)
			}
			if strings.HasSuffix(line, "\n") {
				w.WriteString("\n")
			}
		}
	} else {
		w.WriteString(html.EscapeString(code.String()))
	}
	w.WriteString("</code></pre>\n")
	return ast.WalkSkipChildren, nil
}

// diffClass is the class GitHub's diff grammar gives a line.
func diffClass(line string) string {
	switch {
	case strings.HasPrefix(line, "+"):
		return "inserted"
	case strings.HasPrefix(line, "-"):
		return "deleted"
	case strings.HasPrefix(line, "!"):
		return "changed"
	case strings.HasPrefix(line, "#"):
		return "comment"
	case strings.HasPrefix(line, "@"):
		return "range"
	}
	return ""
}

func writeMarkdownPage(w io.Writer, title string, src []byte) error {
	body, err := markdownToHTML(src)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, markdownPage, html.EscapeString(title), body); err != nil {
		return fmt.Errorf("write markdown page: %w", err)
	}
	return nil
}

// markdownPage is a pull-request comment in GitHub's light theme.
const markdownPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
html, body { margin: 0; background: transparent; }
.box { margin: 12px; width: 860px; border: 1px solid #d0d7de; border-radius: 6px; background: #fff; overflow: hidden;
  color: #1f2328; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, "DejaVu Sans", sans-serif; }
.header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px; color: #59636e; }
.header b { color: #1f2328; font-weight: 600; }
.body { padding: 16px; }
.body > :first-child { margin-top: 0; }
h1, h2, h3, h4 { font-weight: 600; line-height: 1.25; margin: 24px 0 16px; }
h3 { font-size: 1.25em; } h4 { font-size: 1em; }
p, table, pre, details { margin: 0 0 16px; }
table { border-collapse: collapse; border-spacing: 0; display: block; width: max-content; max-width: 100%%; overflow: auto; }
th, td { border: 1px solid #d0d7de; padding: 6px 13px; }
th { font-weight: 600; }
tr { background: #fff; border-top: 1px solid #d1d9e0; }
tr:nth-child(2n) { background: #f6f8fa; }
code, pre { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 85%%; }
pre { background: #f6f8fa; border-radius: 6px; padding: 16px; overflow: auto; line-height: 1.45; }
pre code { font-size: 100%%; }
summary { cursor: pointer; margin-bottom: 16px; }
.inserted { color: #116329; background: #dafbe1; }
.deleted { color: #82071e; background: #ffebe9; }
.changed { color: #953800; background: #ffd8b5; }
.comment { color: #59636e; }
.range { color: #8250df; font-weight: bold; }
</style></head><body>
<div class="box"><div class="header">%s</div>
<div class="body">
%s</div></div>
</body></html>
`
