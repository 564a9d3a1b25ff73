package hcl

import (
	"fmt"
	"sort"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

type localValue struct {
	name string
	attr *hhcl.Attribute
	deps []string // declared locals this one refers to
	bad  bool     // has reference errors: not evaluated
}

func (l *loader) declareLocals(b *hhcl.Block) hhcl.Diagnostics {
	attrs, diags := b.Body.JustAttributes()
	// JustAttributes returns a map; keep source order for stable results.
	ordered := make([]*hhcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		ordered = append(ordered, a)
	}
	sortAttributes(ordered)
	for _, a := range ordered {
		if prev, ok := l.locals[a.Name]; ok {
			diags = append(diags, duplicate("local value", a.Name, a.NameRange, prev.attr.NameRange))
			continue
		}
		l.locals[a.Name] = &localValue{name: a.Name, attr: a}
		l.localNames = append(l.localNames, a.Name)
	}
	return diags
}

// resolveLocals evaluates locals by retrying: each round evaluates every
// local whose dependencies are all resolved. A round without progress
// means the rest depend on a cycle, which is named.
func (l *loader) resolveLocals() hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	pending := make([]*localValue, 0, len(l.localNames))
	for _, name := range l.localNames {
		lv := l.locals[name]
		d := l.checkRefs(lv.attr.Expr, scopeBody)
		diags = append(diags, d...)
		lv.bad = d.HasErrors()
		for _, t := range lv.attr.Expr.Variables() {
			if t.RootName() != "local" {
				continue
			}
			if dep, ok := secondName(t); ok {
				if _, declared := l.locals[dep]; declared {
					lv.deps = append(lv.deps, dep)
				}
			}
		}
		pending = append(pending, lv)
	}

	for round := 0; len(pending) > 0 && round <= len(l.localNames); round++ {
		ctx := l.evalContext(nil)
		var next []*localValue
		var ready []*localValue
		for _, lv := range pending {
			if l.depsResolved(lv) {
				ready = append(ready, lv)
			} else {
				next = append(next, lv)
			}
		}
		if len(ready) == 0 {
			break
		}
		// Values are stored after the round so that every local in it sees
		// the same scope.
		vals := make([]cty.Value, len(ready))
		for i, lv := range ready {
			vals[i] = cty.DynamicVal
			if lv.bad {
				continue
			}
			v, d := lv.attr.Expr.Value(ctx)
			diags = append(diags, d...)
			if !d.HasErrors() {
				vals[i] = v
			}
		}
		for i, lv := range ready {
			l.localValues[lv.name] = vals[i]
		}
		pending = next
	}
	return append(diags, l.reportCycles(pending)...)
}

func (l *loader) depsResolved(lv *localValue) bool {
	for _, d := range lv.deps {
		if _, ok := l.localValues[d]; !ok {
			return false
		}
	}
	return true
}

// reportCycles names each dependency cycle among the unresolved locals
// once; locals that merely depend on a cycle get a placeholder quietly.
func (l *loader) reportCycles(pending []*localValue) hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	unresolved := map[string]bool{}
	for _, lv := range pending {
		unresolved[lv.name] = true
	}
	reported := map[string]bool{}
	for _, lv := range pending {
		// Walk unresolved dependencies until a name repeats: that is a cycle.
		seenAt := map[string]int{}
		var path []string
		cur := lv.name
		for {
			if i, seen := seenAt[cur]; seen {
				cycle := append(path[i:], cur)
				if !reported[cur] {
					for _, n := range cycle {
						reported[n] = true
					}
					first := l.locals[cycle[0]]
					diags = append(diags, errorAt(first.attr.NameRange, "Cycle in local values",
						fmt.Sprintf("These local values refer to each other, so none can be evaluated: %s.", cycleText(cycle))))
				}
				break
			}
			seenAt[cur] = len(path)
			path = append(path, cur)
			next := ""
			for _, d := range l.locals[cur].deps {
				if unresolved[d] {
					next = d
					break
				}
			}
			if next == "" {
				break
			}
			cur = next
		}
	}
	for _, lv := range pending {
		l.localValues[lv.name] = cty.DynamicVal
	}
	return diags
}

func cycleText(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = "local." + n
	}
	return strings.Join(parts, " → ")
}

func sortAttributes(attrs []*hhcl.Attribute) {
	sort.Slice(attrs, func(i, j int) bool {
		a, b := attrs[i].Range, attrs[j].Range
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}
