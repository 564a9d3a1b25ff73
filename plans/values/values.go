// Package values says how setting values and deployed files are compared
// and recorded, alike when planning and when applying: a setting's value
// in the catalog's canonical form and its hash, made once per distinct
// value (Memo), whether a printer's record of a setting is in the form it
// should be (Current), and the key and hash under which state records a
// deployed file.
//
// A value that is not sensitive is hashed with state.HashValue and
// recorded in clear too. A sensitive one is hashed with the state's key
// (state.Key.Hash): a plain hash of a short secret is undone by trying
// every value, and plans and plan files carry these hashes.
package values

import (
	"fmt"
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
	key state.Key
	m   sync.Map // memoKey → memoValue
	n   atomic.Int32
}

type memoKey struct{ setting, value string }

type memoValue struct{ canonical, hash string }

// NewMemo returns a memo canonicalising with cat (a nil catalog keeps
// values verbatim) and hashing sensitive values with key. With the zero
// key it must not be given a sensitive value: MemoFor is how callers ask
// for the key when one is needed.
func NewMemo(cat *catalog.Catalog, key state.Key) *Memo { return &Memo{cat: cat, key: key} }

// MemoFor returns a memo for the values of printers: with st's key when
// one of them declares a sensitive setting, so that a state without a key
// serves configurations without secrets. The error says which setting
// needs the key.
func MemoFor(st state.Store, cat *catalog.Catalog, printers []fleet.Printer) (*Memo, error) {
	for _, p := range printers {
		for _, d := range p.Settings {
			if !d.Sensitive {
				continue
			}
			key, err := st.ValueKey()
			if err != nil {
				return nil, fmt.Errorf("printer %s: %s is sensitive, and its value is recorded as a hash keyed with the state's key: %w", p.Name, d.Name, err)
			}
			return NewMemo(cat, key), nil
		}
	}
	return NewMemo(cat, state.Key{}), nil
}

// Get returns v in the catalog's canonical form for setting and the hash
// of that form: state.HashValue, or the memo's key's Key.Hash when
// sensitive.
func (vm *Memo) Get(setting, v string, sensitive bool) (canonical, hash string) {
	if sensitive {
		c := vm.canonical(setting, v)
		return c, vm.key.Hash(c)
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

// Current reports whether p records setting in the form its sensitivity
// asks: a keyed hash when sensitive, a value in clear otherwise. Records
// made by an older inkform, or while the setting's sensitivity was the
// other, are not, and apply records them again.
func Current(p state.Printer, setting string, sensitive bool) bool {
	if sensitive {
		return state.IsKeyedHash(p.Settings[setting])
	}
	_, ok := p.Values[setting]
	return ok
}

// FileHash is what state records for a file: the content's SHA-256,
// wrapped so that the backends accept it as a hash value.
func FileHash(f fleet.File) string { return state.HashValue(strings.ToLower(f.SHA256)) }
