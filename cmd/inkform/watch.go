package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch"
)

// watchLeaseEnv overrides how long a claimed delivery stays this
// process's (a Go duration; 5m by default). A watch killed with -9 holds
// its claims until the lease runs out, and only then does a restarted or
// second one send them; tests and impatient operators shorten it.
const watchLeaseEnv = "INKFORM_WATCH_LEASE"

// watchOptions are the options of watch.
type watchOptions struct {
	IO          streams
	OpenStore   storeOpener
	Connect     connectFunc
	State       stateFlags
	LogFormat   string
	Parallelism int
	// hup delivers reload requests; nil uses SIGHUP (tests inject).
	hup <-chan os.Signal
	// ready, when set, receives the traps listen address once the
	// service listens and runs.
	ready chan<- string
	// driftEvery, when set, replaces drift.every (tests: the language
	// refuses less than a minute).
	driftEvery time.Duration
	// tuning shortens the engine's timings (retry backoff, tick) for
	// in-process tests, which cannot wait the production defaults; zero
	// fields keep them. No flag sets it: operators get the defaults.
	tuning watch.Tuning
	// trapStatsEvery is how often the traps listener's counters are
	// logged when they changed (5m when 0).
	trapStatsEvery time.Duration
}

func newWatchCommand(f *factory) *cobra.Command {
	opts := &watchOptions{IO: f.IO, OpenStore: f.OpenStore, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Run the alerting service: printer alerts in, email out; drift checks and reports",
		Long: `watch runs until stopped. It receives SNMP traps from the printers, polls
their alert tables, records every event in state before acting on it, routes
events by the alert_route blocks and emails them through the smtp block, each
email once, across restarts and across two watch processes on one state.

SIGHUP reloads the configuration: one with errors is refused and the running
one kept; nothing is sent twice either way. SIGINT or SIGTERM stops it within
seconds, after storing what it accepted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWatch(cmd.Context(), opts)
		},
	}
	opts.State.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.LogFormat, "log-format", "text", `log format on stderr: "text" or "json"`)
	cmd.Flags().IntVar(&opts.Parallelism, "parallelism", 0, "printers polled at once (0: as many as the open-files limit allows)")
	return cmd
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf(`-log-format %q: use "text" or "json"`, format)
}

func runWatch(ctx context.Context, opts *watchOptions) error {
	log, err := newLogger(opts.IO.Err, opts.LogFormat)
	if err != nil {
		return &exitError{code: ExitError, msg: err.Error()}
	}
	cfg, err := opts.State.load(opts.IO)
	if err != nil {
		return err
	}
	loc, err := opts.State.location(opts.IO, cfg)
	if err != nil {
		return err
	}
	st, err := openState(ctx, opts.IO, opts.OpenStore, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	outbox, err := capability[state.Outbox](st, "keep alerts (watch needs a state backend with an outbox)")
	if err != nil {
		return err
	}
	tune, err := watchTuning(opts.IO, opts.tuning)
	if err != nil {
		return &exitError{code: ExitError, msg: err.Error()}
	}
	svc, err := newService(opts, cfg, st, outbox, log, tune)
	if err != nil {
		return &exitError{code: ExitError, msg: err.Error()}
	}

	hup := opts.hup
	if hup == nil {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGHUP)
		defer signal.Stop(c)
		hup = c
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				svc.reload(ctx)
			}
		}
	}()
	log.Info("watch starting", "printers", len(cfg.Printers), "routes", len(cfg.Routes), "state", loc.String())
	err = svc.run(ctx, opts.ready)
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		n := svc.engine.Stats()
		// accepted = recorded + lost: what the intake queued; received
		// counts every signal, including duplicates and drops.
		log.Info("watch stopped", "events", n.EventsRecorded, "received", n.Received,
			"accepted", n.EventsRecorded+n.IntakeLost, "duplicates", n.Duplicates,
			"dropped", n.IntakeDropped, "lost", n.IntakeLost, "emails", n.Messages, "sent", n.Sent)
		return nil
	}
	return err
}

// watchTuning is the engine's tuning: t (the defaults, but in tests), with
// the lease $INKFORM_WATCH_LEASE sets.
func watchTuning(io streams, t watch.Tuning) (watch.Tuning, error) {
	if v := io.getenv(watchLeaseEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return t, fmt.Errorf("%s=%q is not a positive duration such as 30s", watchLeaseEnv, v)
		}
		t.Lease = d
	}
	return t, nil
}
