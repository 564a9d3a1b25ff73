// Package values says how setting values and deployed files are compared
// and recorded, alike when planning and when applying: a setting's value
// in the catalog's canonical form and state.HashValue of that form, made
// once per distinct value (Memo), and the key and hash under which state
// records a deployed file.
package values

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/state"
)

// maxMemoValues bounds how many distinct (setting, value) pairs a
// Memo keeps: a fleet shares a few values per setting, and a setting
// with a distinct value on every printer must not grow it without end.
const maxMemoValues = 4096

// Memo canonicalises and hashes setting values once per distinct
// value. Across a fleet most printers hold and want the same values, so a
// plan of 10,000 printers otherwise spends much of its time in SHA-256 and
// holds the same 71-byte hash strings hundreds of thousands of times; the
// memo hands out one shared string per distinct value instead. Sensitive
// values are never kept. Safe for concurrent use.
type Memo struct {
	cat *catalog.Catalog
	m   sync.Map // memoKey → memoValue
	n   atomic.Int32
}

type memoKey struct{ setting, value string }

type memoValue struct{ canonical, hash string }

// NewMemo returns a memo canonicalising with cat; a nil catalog keeps
// values verbatim.
func NewMemo(cat *catalog.Catalog) *Memo { return &Memo{cat: cat} }

// Get returns v in the catalog's canonical form for setting and
// state.HashValue of that form.
func (vm *Memo) Get(setting, v string, sensitive bool) (canonical, hash string) {
	if sensitive {
		c := vm.canonical(setting, v)
		return c, state.HashValue(c)
	}
	k := memoKey{setting, v}
	if e, ok := vm.m.Load(k); ok {
		mv := e.(memoValue)
		return mv.canonical, mv.hash
	}
	c := vm.canonical(setting, v)
	mv := memoValue{canonical: c, hash: state.HashValue(c)}
	if vm.n.Load() < maxMemoValues {
		if e, loaded := vm.m.LoadOrStore(k, mv); loaded {
			mv = e.(memoValue)
		} else {
			vm.n.Add(1)
		}
	}
	return mv.canonical, mv.hash
}

// canonical returns v in the catalog's canonical form for the setting, or
// v itself when the setting is unknown or v does not validate.
func (vm *Memo) canonical(setting, v string) string {
	if vm.cat == nil {
		return v
	}
	s, ok := vm.cat.Lookup(setting)
	if !ok {
		return v
	}
	if c, err := s.Validate(v); err == nil {
		return c
	}
	return v
}

// FileHash is what state records for a file: the content's SHA-256,
// wrapped so that the backends accept it as a hash value.
func FileHash(f fleet.File) string { return state.HashValue(strings.ToLower(f.SHA256)) }
