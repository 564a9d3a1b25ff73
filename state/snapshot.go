package state

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Snapshot is everything a state holds except its lock: what moves when
// state is copied from one backend to another.
type Snapshot struct {
	Printers []Printer   // by name
	Runs     []RunRecord // oldest first
}

// RunRecord is a run with its outcomes.
type RunRecord struct {
	Run      Run
	Outcomes []Outcome
}

// Counts are row counts of a Snapshot, compared after a copy.
type Counts struct {
	Printers, Settings, Files, Runs, Outcomes, Changes int
}

func (c Counts) String() string {
	return fmt.Sprintf("%d printers, %d settings, %d files, %d runs, %d outcomes, %d changes",
		c.Printers, c.Settings, c.Files, c.Runs, c.Outcomes, c.Changes)
}

// Counts counts the rows s stands for.
func (s *Snapshot) Counts() Counts {
	c := Counts{Printers: len(s.Printers), Runs: len(s.Runs)}
	for _, p := range s.Printers {
		c.Settings += len(p.Settings)
		c.Files += len(p.Files)
	}
	for _, r := range s.Runs {
		c.Outcomes += len(r.Outcomes)
		for _, o := range r.Outcomes {
			c.Changes += len(o.Changed)
		}
	}
	return c
}

// Checksum is a SHA-256 over a canonical form of the snapshot: every
// field length-prefixed, maps by sorted key, outcomes in a total order.
// Run ids are left out: a copy renumbers runs (keeping their order), and
// engines assign ids their own way. Times count to the nanosecond.
func (s *Snapshot) Checksum() string {
	h := sha256.New()
	str := func(v string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	num := func(v int64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	tm := func(t time.Time) {
		if t.IsZero() {
			num(0)
			return
		}
		num(t.UnixNano())
	}
	kv := func(m map[string]string) {
		num(int64(len(m)))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			str(k)
			str(m[k])
		}
	}
	ps := slices.Clone(s.Printers)
	slices.SortFunc(ps, func(a, b Printer) int { return cmp.Compare(a.Name, b.Name) })
	num(int64(len(ps)))
	for _, p := range ps {
		str(p.Name)
		str(p.Address)
		str(p.Serial)
		str(p.Model)
		str(p.Firmware)
		tm(p.ObservedAt)
		tm(p.AppliedAt)
		kv(p.Settings)
		kv(p.Values)
		kv(p.Files)
	}
	num(int64(len(s.Runs)))
	for _, rr := range s.Runs {
		r := rr.Run
		str(r.Command)
		str(r.User)
		str(r.Host)
		str(r.GitCommit)
		str(r.ConfigHash)
		str(r.Status)
		tm(r.StartedAt)
		tm(r.FinishedAt)
		os := slices.Clone(rr.Outcomes)
		slices.SortFunc(os, func(a, b Outcome) int {
			return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Printer, b.Printer), cmp.Compare(a.Status, b.Status),
				cmp.Compare(a.Detail, b.Detail), cmp.Compare(a.Changes, b.Changes))
		})
		num(int64(len(os)))
		for _, o := range os {
			str(o.Printer)
			str(o.Status)
			str(o.Detail)
			num(int64(o.Changes))
			tm(o.At)
			kv(o.Changed)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
