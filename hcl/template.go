package hcl

import (
	"fmt"
	"reflect"
	"text/template"
	"text/template/parse"

	"github.com/inkform/inkform/alerts"
)

// A template is checked without executing it: execution would show only
// the branches one example takes, and {{range 100000000000}} would hang
// validate. Instead the parse tree is walked with the type dot has at each
// point (TemplateData at the top, an element inside range, the value of
// with), and every field and method named is looked up in it. Where the
// type cannot be known (a function's result, a variable), nothing is
// claimed.

// templateProblem is a mistake at a byte offset of a template's source.
type templateProblem struct {
	offset int
	msg    string
	// given and fields are set for a name dot has no field or method of.
	given  string
	fields []string
}

// checkTemplateFields walks every template parse defined, the main one
// (named name) with dot of type TemplateData and the others, whose dot
// depends on the caller, unchecked at the root.
func checkTemplateFields(t *template.Template, name string) *templateProblem {
	root := reflect.TypeFor[alerts.TemplateData]()
	for _, tpl := range t.Templates() {
		if tpl.Tree == nil || tpl.Root == nil {
			continue
		}
		dot := root
		if tpl.Name() != name {
			dot = nil
		}
		c := &tplCheck{root: dot, set: t}
		c.list(tpl.Root, dot)
		if c.problem != nil {
			return c.problem
		}
	}
	return nil
}

type tplCheck struct {
	set     *template.Template // every template parse defined
	root    reflect.Type       // the type of $; nil when unknown
	problem *templateProblem
}

func (c *tplCheck) list(l *parse.ListNode, dot reflect.Type) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		c.node(n, dot)
	}
}

func (c *tplCheck) node(n parse.Node, dot reflect.Type) {
	if c.problem != nil {
		return
	}
	switch n := n.(type) {
	case *parse.ActionNode:
		c.pipe(n.Pipe, dot)
	case *parse.IfNode:
		c.pipe(n.Pipe, dot)
		c.list(n.List, dot)
		c.list(n.ElseList, dot)
	case *parse.WithNode:
		t := c.pipe(n.Pipe, dot)
		c.list(n.List, t)
		c.list(n.ElseList, dot)
	case *parse.RangeNode:
		t := c.pipe(n.Pipe, dot)
		c.list(n.List, elemType(t))
		c.list(n.ElseList, dot)
	case *parse.TemplateNode:
		if c.set.Lookup(n.Name) == nil {
			c.problem = &templateProblem{offset: int(n.Position()), msg: fmt.Sprintf("no template named %q is defined", n.Name)}
			return
		}
		if n.Pipe != nil {
			c.pipe(n.Pipe, dot)
		}
	case *parse.ListNode:
		c.list(n, dot)
	}
}

// pipe checks a pipeline and returns the type of its value, nil when
// unknown.
func (c *tplCheck) pipe(p *parse.PipeNode, dot reflect.Type) reflect.Type {
	if p == nil {
		return nil
	}
	var t reflect.Type
	for _, cmd := range p.Cmds {
		t = c.command(cmd, dot)
	}
	if len(p.Decl) > 0 {
		return nil // $x := …: dot keeps its type only in range, handled by the caller
	}
	return t
}

func (c *tplCheck) command(cmd *parse.CommandNode, dot reflect.Type) reflect.Type {
	if len(cmd.Args) == 0 {
		return nil
	}
	for _, a := range cmd.Args[1:] {
		c.arg(a, dot)
	}
	switch first := cmd.Args[0].(type) {
	case *parse.IdentifierNode:
		if f, ok := alerts.TemplateFuncs()[first.Ident]; ok {
			if ft := reflect.TypeOf(f); ft.NumOut() > 0 {
				return ft.Out(0)
			}
		}
		return nil
	default:
		return c.arg(first, dot)
	}
}

// arg checks one operand and returns its type, nil when unknown.
func (c *tplCheck) arg(n parse.Node, dot reflect.Type) reflect.Type {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return c.fields(dot, n.Ident, n)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return c.fields(c.root, n.Ident[1:], n)
		}
		return nil
	case *parse.ChainNode:
		return c.fields(c.arg(n.Node, dot), n.Field, n)
	case *parse.PipeNode:
		return c.pipe(n, dot)
	}
	return nil
}

// fields follows .A.B from t as text/template does: a method of the
// value or its pointer first, then a struct field (promoted ones
// included), then a map key.
func (c *tplCheck) fields(t reflect.Type, names []string, n parse.Node) reflect.Type {
	for _, name := range names {
		if t == nil || c.problem != nil {
			return nil
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if m, ok := reflect.PointerTo(t).MethodByName(name); ok {
			if m.Type.NumOut() == 0 {
				return nil
			}
			t = m.Type.Out(0)
			continue
		}
		switch t.Kind() {
		case reflect.Struct:
			if f, ok := t.FieldByName(name); ok && f.IsExported() {
				t = f.Type
				continue
			}
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Interface:
			return nil
		}
		c.problem = &templateProblem{
			offset: int(n.Position()),
			msg:    fmt.Sprintf("%s has no field or method %s", typeLabel(t), name),
			given:  name,
			fields: exportedFields(t),
		}
		return nil
	}
	return t
}

// elemType is the type of dot inside {{range}} over a value of type t.
func elemType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		return t.Elem()
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return t
	}
	return nil
}

// typeLabel names a type for a person writing templates: the alert
// types by what they are, others as Go does.
func typeLabel(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[alerts.TemplateData]():
		return "the email (TemplateData)"
	case reflect.TypeFor[alerts.TemplateAlert]():
		return "an alert (TemplateAlert)"
	}
	return t.String()
}

// exportedFields lists the fields of a struct type, promoted ones in
// place of the struct they come from.
func exportedFields(t reflect.Type) []string {
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		switch {
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			out = append(out, exportedFields(f.Type)...)
		case f.IsExported():
			out = append(out, f.Name)
		}
	}
	return out
}
