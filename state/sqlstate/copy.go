package sqlstate

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/inkform/inkform/state"
)

var (
	_ state.Exporter = (*Store)(nil)
	_ state.Importer = (*Store)(nil)
)

// Export reads the whole state but its lock. The caller should hold the
// state lock, so that no run writes while it reads.
func (s *Store) Export(ctx context.Context) (*state.Snapshot, error) {
	fail := func(err error) (*state.Snapshot, error) {
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
	snap := &state.Snapshot{Printers: ps}
	for i := len(runs) - 1; i >= 0; i-- {
		os, err := s.outcomes(ctx, s.db, runs[i].ID)
		if err != nil {
			return fail(fmt.Errorf("run %d: outcomes: %w", runs[i].ID, err))
		}
		snap.Runs = append(snap.Runs, state.RunRecord{Run: runs[i], Outcomes: os})
	}
	return snap, nil
}

// Import writes snap into this state, which must hold no printers and no
// runs, in one transaction: all or nothing. Runs get new ids in the same
// order.
func (s *Store) Import(ctx context.Context, snap *state.Snapshot) error {
	return s.ImportProgress(ctx, snap, nil)
}

// ImportProgress is Import calling progress, when not nil, with the
// records (printers, then runs) written so far and their total.
func (s *Store) ImportProgress(ctx context.Context, snap *state.Snapshot, progress func(done, total int)) error {
	if progress == nil {
		progress = func(int, int) {}
	}
	total := len(snap.Printers) + len(snap.Runs)
	for _, p := range snap.Printers {
		if err := p.Validate(); err != nil {
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
		done := 0
		for _, p := range snap.Printers {
			if err := s.putPrinter(ctx, tx, p); err != nil {
				return fmt.Errorf("printer %s: %w", p.Name, err)
			}
			done++
			progress(done, total)
		}
		for _, rr := range snap.Runs {
			done++
			progress(done, total)
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
					err = o.Validate()
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
