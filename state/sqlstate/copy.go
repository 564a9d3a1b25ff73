package sqlstate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/inkform/inkform/state"
)

// Snapshot is everything a state holds except its lock: what moves when
// state is copied from one backend to another.
type Snapshot struct {
	Printers []state.Printer // by name
	Runs     []RunRecord     // oldest first
}

// RunRecord is a run with its outcomes.
type RunRecord struct {
	Run      state.Run
	Outcomes []state.Outcome
}

// Counts are row counts of a Snapshot, compared after a copy.
type Counts struct {
	Printers, Settings, Runs, Outcomes, Changes int
}

func (c Counts) String() string {
	return fmt.Sprintf("%d printers, %d settings, %d runs, %d outcomes, %d changes",
		c.Printers, c.Settings, c.Runs, c.Outcomes, c.Changes)
}

// Counts counts the rows s stands for.
func (s *Snapshot) Counts() Counts {
	c := Counts{Printers: len(s.Printers), Runs: len(s.Runs)}
	for _, p := range s.Printers {
		c.Settings += len(p.Settings)
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
		n, _ := encTime(t) // the zero time (NULL) counts as 0
		num(n.Int64)
	}
	kv := func(m map[string]string) {
		num(int64(len(m)))
		for _, k := range sortedKeys(m) {
			str(k)
			str(m[k])
		}
	}
	ps := slices.Clone(s.Printers)
	slices.SortFunc(ps, func(a, b state.Printer) int { return cmp.Compare(a.Name, b.Name) })
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
		slices.SortFunc(os, func(a, b state.Outcome) int {
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

// Export reads the whole state but its lock. The caller should hold the
// state lock, so that no run writes while it reads.
func (s *Store) Export(ctx context.Context) (*Snapshot, error) {
	fail := func(err error) (*Snapshot, error) {
		return nil, fmt.Errorf("%s state: export: %w", s.d.Name(), err)
	}
	ps, err := s.Printers(ctx)
	if err != nil {
		return fail(err)
	}
	runs, err := s.Runs(ctx, 0)
	if err != nil {
		return fail(err)
	}
	snap := &Snapshot{Printers: ps}
	for i := len(runs) - 1; i >= 0; i-- {
		os, err := s.outcomes(ctx, s.db, runs[i].ID)
		if err != nil {
			return fail(fmt.Errorf("run %d: outcomes: %w", runs[i].ID, err))
		}
		snap.Runs = append(snap.Runs, RunRecord{Run: runs[i], Outcomes: os})
	}
	return snap, nil
}

// Import writes snap into this state, which must hold no printers and no
// runs, in one transaction: all or nothing. Runs get new ids in the same
// order.
func (s *Store) Import(ctx context.Context, snap *Snapshot) error {
	for _, p := range snap.Printers {
		if err := validPrinter(p); err != nil {
			return fmt.Errorf("%s state: import: %w", s.d.Name(), err)
		}
	}
	insRun := s.bind(s.d.InsertReturningID("runs",
		[]string{"command", "user_name", "host", "git_commit", "config_hash", "started_at", "finished_at", "status"}, "id"))
	err := s.write(ctx, func(tx *sql.Tx) error {
		var np, nr int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM printers`).Scan(&np); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs`).Scan(&nr); err != nil {
			return err
		}
		if np > 0 || nr > 0 {
			return fmt.Errorf("target already holds %d printers and %d runs; import only into an empty state", np, nr)
		}
		for _, p := range snap.Printers {
			if err := s.putPrinter(ctx, tx, p); err != nil {
				return fmt.Errorf("printer %s: %w", p.Name, err)
			}
		}
		for _, rr := range snap.Runs {
			r := rr.Run
			started, err := encTime(r.StartedAt)
			if err != nil {
				return fmt.Errorf("run %d: %w", r.ID, err)
			}
			finished, err := encTime(r.FinishedAt)
			if err != nil {
				return fmt.Errorf("run %d: %w", r.ID, err)
			}
			var id int64
			if err := tx.QueryRowContext(ctx, insRun, r.Command, r.User, r.Host, r.GitCommit, r.ConfigHash, started, finished, r.Status).Scan(&id); err != nil {
				return fmt.Errorf("run %d: %w", r.ID, err)
			}
			for _, o := range rr.Outcomes {
				at, err := encTime(o.At)
				if err == nil {
					err = validChanges(o)
				}
				if err == nil {
					err = s.insertOutcome(ctx, tx, id, o, at)
				}
				if err != nil {
					return fmt.Errorf("run %d: printer %s: %w", r.ID, o.Printer, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s state: import: %w", s.d.Name(), err)
	}
	return nil
}
