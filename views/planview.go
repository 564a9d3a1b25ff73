package views

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"

	"github.com/inkform/inkform/plans"
)

// Format is one rendering of a plan.
type Format int

// Formats.
const (
	// Human is RenderHuman's rendering.
	Human Format = iota
	// JSON is RenderJSON's.
	JSON
	// Markdown is RenderMarkdown's; it is rendered at the end only.
	Markdown
)

// PlanView renders plans in one format. Handed each printer's plan through
// OnPrinter while the plan is being made, it renders that printer's part
// there and then, in the worker that planned the printer while the rest of
// the fleet is still observed, and Render copies the parts instead of
// rendering them again. The parts are the view's own: the plan stays data.
type PlanView struct {
	format Format
	opts   RenderOptions
	mu     sync.Mutex
	// parts holds the rendering of each printer handed to OnPrinter, by
	// name (a plan sorts its printers after they are planned).
	parts map[string][]byte
}

// NewPlanView returns a view rendering plans in format f; o applies to
// Human only.
func NewPlanView(f Format, o RenderOptions) *PlanView {
	if f != Human {
		o = RenderOptions{}
	}
	return &PlanView{format: f, opts: o}
}

// OnPrinter renders pp's part of the view. It is meant for the planner's
// PlanOptions.OnPrinter: pp must not change afterwards. Safe for
// concurrent use.
func (v *PlanView) OnPrinter(pp *plans.PrinterPlan) {
	var b []byte
	switch v.format {
	case Human:
		if pp.Action == plans.NoOp {
			return // not shown
		}
		b = appendHumanBlock(nil, painter(v.opts.Color), pp)
	case JSON:
		var buf bytes.Buffer
		if err := writeJSONPrinter(&buf, pp); err != nil {
			return // rendered again, and the error reported, at the end
		}
		b = buf.Bytes()
	default:
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.parts == nil {
		v.parts = map[string][]byte{}
	}
	v.parts[pp.Name] = b
}

// Render writes p in the view's format. The printers handed to OnPrinter
// are copied from their parts; the others (printers only in state, or all
// of a plan read from a file) are rendered from the model.
func (v *PlanView) Render(w io.Writer, p *plans.Plan) error {
	v.mu.Lock()
	parts := v.parts
	v.mu.Unlock()
	switch v.format {
	case Human:
		return renderHuman(w, p, v.opts, parts)
	case JSON:
		return renderJSON(w, p, parts)
	}
	return RenderMarkdown(w, p)
}

// writeJSONPrinter writes one printer as an element of the "printers"
// array of RenderJSON's output, indented as it appears there.
func writeJSONPrinter(b *bytes.Buffer, pp *plans.PrinterPlan) error {
	data, err := json.Marshal(jsonPrinterOf(pp))
	if err != nil {
		return err
	}
	return json.Indent(b, data, "    ", "  ")
}
