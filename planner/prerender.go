package planner

import (
	"bytes"
	"encoding/json"
	"sort"
)

// View names a rendering of a plan that Planner.Plan can prepare printer
// by printer while the rest of the fleet is still being observed.
type View int

// Views.
const (
	// ViewNone prepares nothing; every rendering starts from the model.
	ViewNone View = iota
	// ViewHuman prepares RenderHuman's per-printer blocks.
	ViewHuman
	// ViewJSON prepares RenderJSON's per-printer objects.
	ViewJSON
)

// renderCache holds per-printer pieces of one view, made by Planner.Plan
// as each printer was planned. It is tied to the Printers slice it was
// made for: a plan read from a file has none, and a renderer uses it only
// while Printers is still that slice (same array, same length), for the
// same view and options. Code that edits a PrinterPlan in place must call
// Plan.DropRendered first.
type renderCache struct {
	view     View
	opts     RenderOptions
	printers []PrinterPlan
	// pieces[i] is the rendering of printers[i]; nil when it was not
	// prepared (e.g. printers only in state) and is rendered on demand.
	pieces [][]byte
}

// DropRendered discards the pieces of rendering Planner.Plan prepared, so
// that the next rendering reads the model alone. Call it before changing
// a PrinterPlan in place.
func (p *Plan) DropRendered() { p.rendered = nil }

// prepared returns the per-printer pieces of view made with o, or nil
// when there are none or they no longer match the plan.
func (p *Plan) prepared(view View, o RenderOptions) [][]byte {
	rc := p.rendered
	if rc == nil || rc.view != view || rc.opts != o || len(rc.printers) != len(p.Printers) || len(p.Printers) == 0 ||
		&rc.printers[0] != &p.Printers[0] {
		return nil
	}
	return rc.pieces
}

// prerender renders one printer's piece of view; it runs in the worker
// that planned the printer, so the rendering overlaps observation.
func prerender(view View, o RenderOptions, pp *PrinterPlan) []byte {
	var b bytes.Buffer
	switch view {
	case ViewHuman:
		if pp.Action == NoOp {
			return nil
		}
		return appendHumanBlock(nil, painter(o.Color), pp)
	case ViewJSON:
		if err := writeJSONPrinter(&b, pp); err != nil {
			return nil // rendered again, and the error reported, at the end
		}
	default:
		return nil
	}
	return b.Bytes()
}

// byName sorts printers by name, carrying their prepared pieces along.
type byName struct {
	printers []PrinterPlan
	pieces   [][]byte
}

func (s byName) Len() int           { return len(s.printers) }
func (s byName) Less(i, j int) bool { return s.printers[i].Name < s.printers[j].Name }
func (s byName) Swap(i, j int) {
	s.printers[i], s.printers[j] = s.printers[j], s.printers[i]
	s.pieces[i], s.pieces[j] = s.pieces[j], s.pieces[i]
}

// sortPrinters sorts plan.Printers by name and, when pieces were
// prepared for them (pieces[i] for Printers[i]; shorter when printers were
// appended after), attaches them as the plan's render cache.
func (p *Plan) sortPrinters(view View, o RenderOptions, pieces [][]byte) {
	if pieces == nil {
		sort.Slice(p.Printers, func(i, j int) bool { return p.Printers[i].Name < p.Printers[j].Name })
		return
	}
	for len(pieces) < len(p.Printers) {
		pieces = append(pieces, nil)
	}
	sort.Sort(byName{p.Printers, pieces})
	p.rendered = &renderCache{view: view, opts: o, printers: p.Printers, pieces: pieces}
}

// writeJSONPrinter writes one printer as an element of the "printers"
// array of RenderJSON's output, indented as it appears there.
func writeJSONPrinter(b *bytes.Buffer, pp *PrinterPlan) error {
	data, err := json.Marshal(jsonPrinterOf(pp))
	if err != nil {
		return err
	}
	return json.Indent(b, data, "    ", "  ")
}
