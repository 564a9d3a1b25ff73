package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
)

// Apply's state writes are grouped: one transaction per printer costs
// more than observing it at fleet scale. A single writer takes every
// printer waiting to be recorded (up to recordBatch) and writes them in one
// transaction; printers that finish meanwhile wait and form the next
// batch (group commit). Batches grow with the rate printers finish and
// add no delay when they finish slowly.
//
// A printer joins a batch only after it was verified, and its worker
// returns only once the batch is written, so state never claims a value a
// device does not hold, and a killed apply leaves at most the printers in
// flight written but unrecorded, exactly as without batching. Those
// already hold their desired values, so the next plan adopts them or
// leaves them unchanged, writing nothing.
const recordBatch = 256

// finished is one printer handed to the recorder.
type finished struct {
	i       int
	result  plans.PrinterResult
	changed map[string]string // hash of each setting written, for the run's history
	printer *state.Printer    // the record to write; nil when there is none
	err     error             // a state error met while applying the printer
	at      time.Time         // when it finished
	written chan struct{}     // closed once the printer's batch is written
}

// recorder owns apply's state writes and its result slice: workers hand
// over finished printers; one goroutine writes them in batches.
type recorder struct {
	st    state.Store
	ctx   context.Context
	runID int64
	res   *plans.ApplyResult
	lock  *state.Lock     // asked before each batch; nil: none to keep
	onErr func(err error) // called with the first state error
	batch int
	in    chan *finished
	done  chan struct{}
	err   error // first state error; read after close
}

// newRecorder starts a recorder writing with ctx, which should outlive
// the apply's cancellation, while lock is held.
func (ap *Applier) newRecorder(ctx context.Context, runID int64, res *plans.ApplyResult, lock *state.Lock, onErr func(error)) *recorder {
	r := &recorder{
		st: ap.State, ctx: ctx, runID: runID, res: res, lock: lock, onErr: onErr,
		batch: recordBatch,
		in:    make(chan *finished), done: make(chan struct{}),
	}
	if _, ok := ap.State.(state.PrinterBatcher); !ok {
		r.batch = 1
	}
	go r.run()
	return r
}

// add hands over a finished printer and returns once it is recorded (or
// its recording failed). It must not be called after close.
func (r *recorder) add(f finished) {
	f.written = make(chan struct{})
	r.in <- &f
	<-f.written
}

// close stops the recorder and returns the first state error.
func (r *recorder) close() error {
	close(r.in)
	<-r.done
	return r.err
}

func (r *recorder) run() {
	defer close(r.done)
	batch := make([]*finished, 0, r.batch)
	for f := range r.in {
		batch = append(batch[:0], f)
		// Every worker blocked in add is ready to be received.
	more:
		for len(batch) < r.batch {
			select {
			case f, ok := <-r.in:
				if !ok {
					break more
				}
				batch = append(batch, f)
			default:
				break more
			}
		}
		r.write(batch)
		for _, f := range batch {
			close(f.written)
		}
	}
}

// write records a batch: the printers' records in one transaction, then
// their outcomes in another. A printer whose record could not be written
// gets no outcome and turns failed. Once the lock is lost nothing is
// written: another run may own the state now.
func (r *recorder) write(batch []*finished) {
	if err := r.lock.Err(); err != nil {
		r.note(err)
		for _, f := range batch {
			switch {
			case f.err != nil:
				r.fail(f, f.err)
			case f.printer != nil:
				r.fail(f, err)
			default: // nothing to record but its outcome
				r.res.Printers[f.i] = f.result
			}
		}
		return
	}
	var records []state.Printer
	var ok []*finished
	for _, f := range batch {
		if f.err != nil {
			r.fail(f, f.err)
			continue
		}
		if f.printer != nil {
			records = append(records, *f.printer)
		}
		ok = append(ok, f)
	}
	if err := r.putPrinters(records); err != nil {
		for _, f := range ok {
			r.fail(f, err)
		}
		return
	}
	outcomes := make([]state.Outcome, len(ok))
	for j, f := range ok {
		outcomes[j] = state.Outcome{Printer: f.result.Name, Status: f.result.Status, Detail: f.result.Detail, Changes: f.result.Changes, At: f.at, Changed: f.changed}
	}
	if err := r.recordOutcomes(outcomes); err != nil {
		for _, f := range ok {
			r.fail(f, err)
		}
		return
	}
	for _, f := range ok {
		r.res.Printers[f.i] = f.result
	}
}

func (r *recorder) putPrinters(ps []state.Printer) error {
	switch {
	case len(ps) == 0:
		return nil
	case len(ps) == 1:
		if err := r.st.PutPrinter(r.ctx, ps[0]); err != nil {
			return fmt.Errorf("printer %s: record state: %w", ps[0].Name, err)
		}
		return nil
	}
	if err := r.st.(state.PrinterBatcher).PutPrinters(r.ctx, ps); err != nil {
		return fmt.Errorf("record state of printers %s to %s: %w", ps[0].Name, ps[len(ps)-1].Name, err)
	}
	return nil
}

func (r *recorder) recordOutcomes(outs []state.Outcome) error {
	if b, ok := r.st.(state.OutcomeBatcher); ok && len(outs) > 1 {
		if err := b.RecordOutcomes(r.ctx, r.runID, outs); err != nil {
			return fmt.Errorf("record outcomes of printers %s to %s: %w", outs[0].Printer, outs[len(outs)-1].Printer, err)
		}
		return nil
	}
	for _, o := range outs {
		if err := r.st.RecordOutcome(r.ctx, r.runID, o); err != nil {
			return fmt.Errorf("printer %s: record outcome: %w", o.Printer, err)
		}
	}
	return nil
}

// note keeps the first state error and stops the apply with it.
func (r *recorder) note(err error) {
	if r.err == nil {
		r.err = err
		r.onErr(err)
	}
}

// fail notes a state error: the apply stops starting printers, and a
// printer that would have counted as done is reported failed instead.
func (r *recorder) fail(f *finished, err error) {
	r.note(err)
	res := f.result
	if res.Status == plans.ResultApplied || res.Status == plans.ResultUnchanged || res.Status == "" {
		detail := err.Error()
		if errors.Is(err, state.ErrLockLost) {
			detail = "not recorded: " + errLockLost.Error()
		}
		res = plans.PrinterResult{Name: res.Name, Status: plans.ResultFailed, Detail: detail, Changes: res.Changes}
	}
	r.res.Printers[f.i] = res
}
