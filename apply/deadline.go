package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/inkform/inkform/plans"
)

const (
	// printerTimeoutMargin is what a printer's deadline allows beyond its
	// reboot wait: sending a firmware image over a slow link, the files,
	// the settings and their verification.
	printerTimeoutMargin = 15 * time.Minute
	// DefaultPrinterTimeout bounds one printer's whole apply when neither
	// PrinterTimeout nor RebootTimeout is set.
	DefaultPrinterTimeout = DefaultRebootTimeout + printerTimeoutMargin
	// finishGrace is how long a printer whose writes have begun may go on
	// once the apply is cancelled: enough for
	// settings to be written, read back and recorded, short enough that a
	// signal still stops apply within seconds.
	finishGrace = 3 * time.Second
)

// printerTimeout is the deadline of one printer's apply.
func (ap *Applier) printerTimeout() time.Duration {
	if ap.PrinterTimeout > 0 {
		return ap.PrinterTimeout
	}
	return ap.rebootTimeout() + printerTimeoutMargin
}

// printerContext bounds one printer's apply by the printer timeout.
func (ap *Applier) printerContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := ap.printerTimeout()
	return context.WithTimeoutCause(ctx, d, &timeoutError{d})
}

// timeoutError is the cause of a printer's context ending at its deadline.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("not done within the printer timeout of %s", e.d)
}

// writeContext is the context of a printer's writes. It ends with ctx at
// the printer's deadline, but only finishGrace after ctx is cancelled
// otherwise (a signal), with ctx's cause, so that writes begun can finish
// and be recorded. release frees it.
func writeContext(ctx context.Context) (_ context.Context, release func()) {
	w, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := func() {}
	if d, ok := ctx.Deadline(); ok {
		w, stop = context.WithDeadline(w, d)
	}
	released := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-released:
			return
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return // w's own deadline
		}
		t := time.NewTimer(finishGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(context.Cause(ctx))
		case <-released:
		}
	}()
	return w, func() {
		close(released)
		stop()
		cancel(nil)
	}
}

// stopped is the status and detail of a printer whose context ctx (not its
// writeContext) ended, or whose writes ended at its deadline, while it was
// doing what err says (nil: between two steps). Its own deadline
// fails it. Otherwise (a signal, or state that cannot be written) it is
// skipped when nothing was written yet, and fails when its writes had
// begun: the device may hold part of them, which the next plan shows.
func stopped(ctx context.Context, wrote bool, err error) (status, detail string) {
	// A printer's writes end at its deadline on a timer of their own,
	// which may fire first: ctx's cause is known once it has ended too.
	<-ctx.Done()
	var te *timeoutError
	switch cause := context.Cause(ctx); {
	case errors.As(cause, &te) && err != nil:
		return plans.ResultFailed, fmt.Sprintf("%v: %v", te, err)
	case errors.As(cause, &te):
		return plans.ResultFailed, te.Error()
	case !wrote:
		return plans.ResultSkipped, skipReason(ctx)
	case err != nil:
		return plans.ResultFailed, fmt.Sprintf("cancelled while writing; the next plan shows what the printer holds: %v", err)
	}
	return plans.ResultFailed, "cancelled while writing; the next plan shows what the printer holds"
}
