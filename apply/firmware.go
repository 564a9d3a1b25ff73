package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/providers"
)

// Defaults for the firmware fields of Applier.
const (
	// DefaultRebootTimeout bounds the wait for a printer to come back
	// with its new firmware: flashing and restarting take minutes.
	DefaultRebootTimeout = 15 * time.Minute
	// DefaultRebootPoll is how often the printer is asked meanwhile, at
	// most; a shorter RebootTimeout polls more often.
	DefaultRebootPoll = 5 * time.Second
)

// checkFirmware verifies that the planned firmware is still the declared
// one.
func checkFirmware(pp *plans.PrinterPlan, cfg fleet.Printer) error {
	fc := pp.Firmware
	if fc == nil {
		return nil
	}
	fw := cfg.Firmware
	switch {
	case fw == nil || fw.Name != fc.Name:
		return fmt.Errorf("%w: firmware %s is no longer declared for the printer", errConfigChanged, fc.Name)
	case fw.Version != fc.To || !strings.EqualFold(fw.File.SHA256, fc.SHA256):
		return fmt.Errorf("%w: firmware %s has a different version or file", errConfigChanged, fc.Name)
	}
	return nil
}

// upgradeFirmware installs the planned firmware: it checks the image
// against its declared SHA-256, observes the printer (identity, current
// version, uptime), sends the image, waits for the reboot and verifies
// the new version. A printer already on the version is left alone.
func (ap *Applier) upgradeFirmware(ctx context.Context, pp *plans.PrinterPlan, cfg fleet.Printer) (upgraded bool, err error) {
	fc := pp.Firmware
	fw := cfg.Firmware
	if err := checkFile(fw.File, fc.SHA256); err != nil {
		return false, fmt.Errorf("firmware %s: %w", fc.Name, err)
	}
	sess, err := ap.Connector.Connect(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("firmware: connect: %w", err)
	}
	defer sess.Close()
	before, err := providers.Check(ctx, sess, nil)
	if err != nil {
		return false, fmt.Errorf("firmware: observe: %w", err)
	}
	if reason := cfg.SerialMismatch(before.Serial); reason != "" {
		return false, fmt.Errorf("firmware: %s (not sent)", reason)
	}
	if c, ordered := catalog.OrderVersions(ap.Catalog.FamilyOf(before.Model), before.Firmware, fc.To); ordered && c >= 0 {
		return false, nil
	}
	fs, ok := sess.(providers.FileSender)
	if !ok {
		return false, fmt.Errorf("firmware: the %s transport cannot send files", sess.Transport())
	}
	// A cancelled apply lets the image finish within a grace period and
	// cuts it after that: sending may take minutes, longer than a signal
	// may wait, and printers check an image whole before they flash it.
	sctx, release := writeContext(ctx)
	via, err := fs.SendFile(sctx, fw.File, ap.uploadProgress(pp.Name, fw.File.RemoteName(), fw.File.Size))
	release()
	if err != nil {
		return false, fmt.Errorf("firmware %s: send: %w", fc.To, err)
	}
	sess.Close() // the printer reboots: connections of this session die
	after, err := ap.waitReboot(ctx, cfg, before)
	if err != nil {
		return false, fmt.Errorf("firmware %s sent via %s: %w", fc.To, via, err)
	}
	if catalog.CompareVersions(ap.Catalog.FamilyOf(after.Model), after.Firmware, fc.To) != 0 {
		return false, fmt.Errorf("firmware %s sent via %s: the printer came back with %s", fc.To, via, after.Firmware)
	}
	return true, nil
}

// waitReboot polls the printer until it has rebooted and answers again:
// its uptime went back (when it reports one), or it stopped answering and
// answers again, or it already reports the new version. Bounded by
// RebootTimeout.
func (ap *Applier) waitReboot(ctx context.Context, cfg fleet.Printer, before fleet.Observation) (fleet.Observation, error) {
	timeout, every := ap.rebootTimeout(), ap.RebootPoll
	if every <= 0 {
		// A short timeout (a simulator, a lab) polls more often.
		every = min(DefaultRebootPoll, max(200*time.Millisecond, timeout/60))
	}
	// Its own cause tells the reboot timeout from the printer's deadline.
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errNoReboot)
	defer cancel()
	wentAway := false
	tick := time.NewTicker(every)
	defer tick.Stop()
	var lastErr error
	for {
		select {
		case <-ctx.Done():
			if context.Cause(ctx) == errNoReboot {
				if lastErr != nil {
					return fleet.Observation{}, fmt.Errorf("not back within %s after the reboot: %w", timeout, lastErr)
				}
				return fleet.Observation{}, fmt.Errorf("no reboot within %s", timeout)
			}
			return fleet.Observation{}, fmt.Errorf("waiting for the reboot: %w", ctx.Err())
		case <-tick.C:
		}
		obs, err := ap.observeFacts(ctx, cfg)
		if err != nil {
			wentAway, lastErr = true, err
			continue
		}
		rebooted := wentAway ||
			before.Uptime > 0 && obs.Uptime > 0 && obs.Uptime < before.Uptime ||
			obs.Firmware != before.Firmware
		if rebooted {
			return obs, nil
		}
	}
}

// errNoReboot ends a reboot wait at RebootTimeout.
var errNoReboot = errors.New("reboot timeout")

func (ap *Applier) rebootTimeout() time.Duration {
	if ap.RebootTimeout > 0 {
		return ap.RebootTimeout
	}
	return DefaultRebootTimeout
}

// observeFacts opens a session, reads the facts only (no supplies:
// reboot waits poll it) and closes.
func (ap *Applier) observeFacts(ctx context.Context, cfg fleet.Printer) (fleet.Observation, error) {
	sess, err := ap.Connector.Connect(ctx, cfg)
	if err != nil {
		return fleet.Observation{}, err
	}
	defer sess.Close()
	return providers.Check(ctx, sess, nil)
}

// rollout stages the firmware upgrades of one apply. The printers of a
// firmware block that need it form waves of Batch printers in plan order;
// a wave starts when the previous one is done, and once more than
// MaxFailures upgrades of the block failed, the rest are halted: skipped,
// settings included, so that the next apply, which plans them again,
// resumes where this one stopped. Safe for concurrent use.
type rollout struct {
	members map[string]rolloutSlot // printer name → its group and wave
}

type rolloutSlot struct {
	g    *rolloutGroup
	wave int
}

type rolloutGroup struct {
	name  string
	max   int
	waves []*rolloutWave

	mu     sync.Mutex
	halted int
}

// A wave's failures are counted when its printers finish and read only
// after its done channel is closed, so the decision to start a wave depends
// only on finished waves, never on the race between printers of one wave.
type rolloutWave struct {
	mu       sync.Mutex
	pending  int
	failures int
	done     chan struct{}
}

func newRollout(plan *plans.Plan) *rollout {
	ro := &rollout{members: map[string]rolloutSlot{}}
	if plan.RefreshOnly {
		return ro
	}
	groups := map[string]*rolloutGroup{}
	for i := range plan.Printers {
		pp := &plan.Printers[i]
		fc := pp.Firmware
		if fc == nil || pp.Status != plans.StatusReady {
			continue
		}
		g := groups[fc.Name]
		if g == nil {
			g = &rolloutGroup{name: fc.Name, max: max(0, fc.MaxFailures)}
			groups[fc.Name] = g
		}
		n := len(g.waves)
		if n == 0 || fc.Batch > 0 && g.waves[n-1].pending >= fc.Batch {
			g.waves = append(g.waves, &rolloutWave{done: make(chan struct{})})
			n++
		}
		g.waves[n-1].pending++
		ro.members[pp.Name] = rolloutSlot{g: g, wave: n - 1}
	}
	return ro
}

// wait blocks until the printer's wave may start and returns why the
// printer must not be upgraded ("" to go ahead). Every printer for which
// wait was called must be reported to done.
func (ro *rollout) wait(ctx context.Context, printer string) string {
	s, ok := ro.members[printer]
	if !ok {
		return ""
	}
	for _, w := range s.g.waves[:s.wave] {
		select {
		case <-w.done:
		case <-ctx.Done():
			return "" // the caller sees ctx and skips the printer
		}
	}
	failures := 0
	for _, w := range s.g.waves[:s.wave] {
		failures += w.failures // stable: w.done is closed
	}
	if failures > s.g.max {
		s.g.mu.Lock()
		s.g.halted++
		s.g.mu.Unlock()
		return haltText(s.g.name, failures, s.g.max) + "; run apply again to resume"
	}
	return ""
}

// done reports how a printer's upgrade went.
func (ro *rollout) done(printer string, r plans.PrinterResult) {
	s, ok := ro.members[printer]
	if !ok {
		return
	}
	w := s.g.waves[s.wave]
	w.mu.Lock()
	if r.Firmware == plans.FirmwareFailed {
		w.failures++
	}
	w.pending--
	if w.pending == 0 {
		close(w.done)
	}
	w.mu.Unlock()
}

func haltText(name string, failures, maxFailures int) string {
	return fmt.Sprintf("rollout of firmware %s halted: %d failed upgrades exceed max_failures = %d", name, failures, maxFailures)
}

// failures counts the failed upgrades of the group's finished waves.
func (g *rolloutGroup) failures() int {
	n := 0
	for _, w := range g.waves {
		w.mu.Lock()
		n += w.failures
		w.mu.Unlock()
	}
	return n
}

// notes says which rollouts halted and how many printers they left.
func (ro *rollout) notes() []string {
	seen := map[*rolloutGroup]bool{}
	var out []string
	for _, name := range sortedMemberNames(ro.members) {
		g := ro.members[name].g
		if seen[g] {
			continue
		}
		seen[g] = true
		g.mu.Lock()
		if g.halted > 0 {
			left := fmt.Sprintf("%d printers", g.halted)
			if g.halted == 1 {
				left = "1 printer"
			}
			out = append(out, fmt.Sprintf("%s; %s not started", haltText(g.name, g.failures(), g.max), left))
		}
		g.mu.Unlock()
	}
	return out
}

func sortedMemberNames(m map[string]rolloutSlot) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// applyFirmware runs the printer's planned upgrade, if any, and notes the
// outcome in r. skip is true when ctx ended before the upgrade began.
func (ap *Applier) applyFirmware(ctx context.Context, pp *plans.PrinterPlan, cfg fleet.Printer, r *plans.PrinterResult) (skip bool, err error) {
	if pp.Firmware == nil {
		return false, nil
	}
	if ctx.Err() != nil {
		return true, nil
	}
	upgraded, err := ap.upgradeFirmware(ctx, pp, cfg)
	switch {
	case err != nil:
		r.Firmware = plans.FirmwareFailed
		return false, err
	case upgraded:
		r.Firmware = plans.FirmwareUpgraded
	}
	return false, nil
}
