package planner

import (
	"sync"
	"sync/atomic"

	"github.com/inkform/inkform/state"
)

// maxMemoValues bounds how many distinct (setting, value) pairs a
// valueMemo keeps: a fleet shares a few values per setting, and a setting
// with a distinct value on every printer must not grow it without end.
const maxMemoValues = 4096

// valueMemo canonicalises and hashes setting values once per distinct
// value. Across a fleet most printers hold and want the same values, so a
// plan of 10,000 printers otherwise spends much of its time in SHA-256 and
// holds the same 71-byte hash strings hundreds of thousands of times; the
// memo hands out one shared string per distinct value instead. Sensitive
// values are never kept. Safe for concurrent use.
type valueMemo struct {
	pl *Planner
	m  sync.Map // memoKey → memoValue
	n  atomic.Int32
}

type memoKey struct{ setting, value string }

type memoValue struct{ canonical, hash string }

func newValueMemo(pl *Planner) *valueMemo { return &valueMemo{pl: pl} }

// get returns v in the catalog's canonical form for setting and
// state.HashValue of that form.
func (vm *valueMemo) get(setting, v string, sensitive bool) (canonical, hash string) {
	if sensitive {
		c := vm.pl.canonical(setting, v)
		return c, state.HashValue(c)
	}
	k := memoKey{setting, v}
	if e, ok := vm.m.Load(k); ok {
		mv := e.(memoValue)
		return mv.canonical, mv.hash
	}
	c := vm.pl.canonical(setting, v)
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
