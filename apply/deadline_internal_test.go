package apply

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/plans"
)

// Writes cut at a printer's deadline are told apart from a cancellation
// however the two timers of that deadline fire. Repeated: they race.
func TestWritesCutAtTheDeadlineSayTimeout(t *testing.T) {
	ap := &Applier{PrinterTimeout: time.Millisecond}
	for range 200 {
		pctx, cancel := ap.printerContext(context.Background())
		wctx, release := writeContext(pctx)
		<-wctx.Done()
		status, detail := stopped(pctx, true, wctx.Err())
		release()
		cancel()
		if status != plans.ResultFailed || !strings.Contains(detail, "printer timeout of 1ms") || !errors.Is(wctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("status %s, detail %q, writes ended by %v", status, detail, wctx.Err())
		}
	}
}

// A cancelled printer's writes go on for the grace period, then end with
// the cancellation's cause.
func TestWritesOutliveACancellationByTheGrace(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	wctx, release := writeContext(ctx)
	defer release()
	stop := errors.New("stopped by SIGTERM")
	start := time.Now()
	cancel(stop)
	<-wctx.Done()
	if d := time.Since(start); d < finishGrace {
		t.Errorf("writes ended %s after the cancellation, before the %s grace", d, finishGrace)
	}
	if context.Cause(wctx) != stop {
		t.Errorf("cause = %v", context.Cause(wctx))
	}
	if status, detail := stopped(ctx, true, nil); status != plans.ResultFailed || !strings.Contains(detail, "cancelled while writing") {
		t.Errorf("stopped: %s %q", status, detail)
	}
	if status, detail := stopped(ctx, false, nil); status != plans.ResultSkipped || detail != "cancelled" {
		t.Errorf("stopped before writing: %s %q", status, detail)
	}
}
