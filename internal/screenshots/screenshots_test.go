package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestANSIToHTML(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain text is escaped", `a <b> & "c"`, `a &lt;b&gt; &amp; &#34;c&#34;`},
		{"colour then reset", "\x1b[32m+\x1b[0m x", `<span class="f32">+</span> x`},
		{"empty SGR resets", "\x1b[1mPlan:\x1b[m 2", `<span class="b">Plan:</span> 2`},
		{"bold and colour combine", "\x1b[1;31m!\x1b[22m!", `<span class="b f31">!</span><span class="f31">!</span>`},
		{"256 colour is skipped whole", "\x1b[38;5;1mx\x1b[39my", `xy`},
		{"true colour is skipped whole", "\x1b[48;2;1;2;3;4mx", `<span class="u">x</span>`},
		{"bright and background", "\x1b[92;41mx", `<span class="f92 g41">x</span>`},
		{"progress redraw keeps the last text", "\r\x1b[KObserving 1/3\r\x1b[KObserving 3/3\r\x1b[Kinkform will\r\n", `inkform will`},
		{"carriage return overwrites", "abcdef\rXY", `XYcdef`},
		{"CRLF is one line break", "a\r\nb\r\n", "a\nb"},
		{"other sequences vanish", "a\x1b[2Jb\x1b]0;title\x07c\x1b7d\x07e", "abcde"},
		{"unterminated escape at the end", "a\x1b[3", "a"},
		{"tab to the next stop", "a\tb", "a       b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ansiToHTML(tc.in); got != tc.want {
				t.Errorf("ansiToHTML(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTerminalPage(t *testing.T) {
	var buf bytes.Buffer
	if err := writeTerminalPage(&buf, "inkform <plan>", []byte("\x1b[31m!\x1b[0m x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"inkform &lt;plan&gt;</div>", `<pre><span class="f31">!</span> x</pre>`, ".f31 { color:"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "%!") {
		t.Errorf("page has a formatting error:\n%s", page)
	}
}

const planMarkdown = "### inkform plan: 1 printer to adopt\n\n" +
	"| Printer | Action | Settings changed |\n|---|---|---|\n| office\\[\"a\"\\] | ~~adopt~~ | +system.contact |\n\n" +
	"<details><summary>Full diff</summary>\n\n" +
	"```diff\n# printer.office[\"a\"] will be updated\n! printer.office[\"a\"] {\n+     contact = \"x<y\"\n-     old\n      same\n  }\n```\n\n" +
	"</details>\n"

func TestMarkdownToHTML(t *testing.T) {
	got, err := markdownToHTML([]byte(planMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<h3>inkform plan: 1 printer to adopt</h3>",
		"<th>Printer</th>",
		`<td>office[&quot;a&quot;]</td>`,
		"<del>adopt</del>",
		"<details open><summary>Full diff</summary>",
		`<pre><code class="language-diff"><span class="comment"># printer.office[&#34;a&#34;] will be updated</span>`,
		`<span class="changed">! printer.office[&#34;a&#34;] {</span>`,
		`<span class="inserted">+     contact = &#34;x&lt;y&#34;</span>`,
		`<span class="deleted">-     old</span>`,
		"\n      same\n  }\n</code></pre>",
		"</details>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("HTML lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "raw HTML omitted") {
		t.Errorf("raw HTML was dropped:\n%s", got)
	}
}

func TestMarkdownOtherCode(t *testing.T) {
	got, err := markdownToHTML([]byte("```sh\necho +1 <x>\n```\n\n```\n- a\n```\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<pre><code class="language-sh">echo +1 &lt;x&gt;` + "\n</code></pre>",
		"<pre><code>- a\n</code></pre>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("HTML lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<span") {
		t.Errorf("only diff blocks are coloured:\n%s", got)
	}
}

func TestTrim(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 10, 100))
	img.Set(3, 39, color.NRGBA{255, 0, 0, 255}) // content ends on row 39
	got := trim(img, 5).Bounds()
	if got != image.Rect(0, 0, 10, 45) {
		t.Errorf("trimmed to %v, want 10x45", got)
	}
	if got := trim(img, 500).Bounds(); got != img.Bounds() {
		t.Errorf("a pad past the end trimmed to %v, want the whole image", got)
	}
	if got := trim(image.NewNRGBA(image.Rect(0, 0, 4, 4)), 0).Bounds(); got.Dy() != 4 {
		t.Errorf("a blank image trimmed to %v, want it whole", got)
	}
}

func TestTrimFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shot.png")
	img := image.NewNRGBA(image.Rect(0, 0, 8, 50))
	img.Set(0, 9, color.NRGBA{0, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"trim", "-pad", "2", path}, nil, nil); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 8 || cfg.Height != 12 {
		t.Errorf("trimmed file is %dx%d, want 8x12", cfg.Width, cfg.Height)
	}

	if err := os.WriteFile(path, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"trim", path}, nil, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("trim of a broken file: error %v, want one naming the file", err)
	}
}

func TestRunUsage(t *testing.T) {
	if err := run([]string{"photo"}, nil, nil); err == nil || !strings.Contains(err.Error(), `"photo"`) {
		t.Errorf("unknown command: error %v", err)
	}
	if err := run(nil, nil, nil); err == nil {
		t.Error("no command: no error")
	}
}
