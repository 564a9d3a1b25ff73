package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
	"github.com/inkform/inkform/watch"
	"github.com/inkform/inkform/watch/mail"
)

// alertsOptions are the options shared by the alerts commands.
type alertsOptions struct {
	IO        streams
	OpenStore storeOpener
	State     stateFlags
	JSON      bool
}

func newAlertsCommand(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "See, acknowledge and silence the alerts watch keeps; test a route's email",
	}
	cmd.AddCommand(newAlertsListCommand(f), newAlertsShowCommand(f), newAlertsAckCommand(f),
		newAlertsSilenceCommand(f), newAlertsSilencesCommand(f), newAlertsUnsilenceCommand(f), newAlertsTestCommand(f))
	return cmd
}

// openOutbox opens the state for an alerts command: the state block only,
// no credentials. With create, a state that does not exist yet is made
// (a silence set before watch first runs must be kept); without, the
// commands that read see an empty one.
func (o *alertsOptions) openOutbox(ctx context.Context, create bool) (state.Store, state.Outbox, error) {
	var st state.Store
	var err error
	if create {
		st, err = o.openCreating(ctx)
	} else {
		st, err = o.State.open(ctx, o.IO, o.OpenStore)
	}
	if err != nil {
		return nil, nil, err
	}
	ob, err := capability[state.Outbox](st, "keep alerts")
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ob, nil
}

func (o *alertsOptions) openCreating(ctx context.Context) (state.Store, error) {
	loc, err := o.State.locate(o.IO)
	if err != nil {
		return nil, err
	}
	return openState(ctx, o.IO, o.OpenStore, loc)
}

func alertsFlags(cmd *cobra.Command, o *alertsOptions, withJSON bool) {
	o.State.register(cmd.Flags())
	if withJSON {
		cmd.Flags().BoolVar(&o.JSON, "json", false, "machine-readable output")
	}
}

// alertJSON is one alert or event in -json output.
type alertJSON struct {
	ID          int64     `json:"id"`
	Key         string    `json:"key"`
	Printer     string    `json:"printer"`
	Event       string    `json:"event"`
	Kind        string    `json:"kind"`
	Severity    string    `json:"severity"`
	Source      string    `json:"source"`
	Code        int       `json:"code,omitempty"`
	OID         string    `json:"oid,omitempty"`
	Description string    `json:"description"`
	At          time.Time `json:"at"`
	AckedBy     string    `json:"acked_by,omitempty"`
	AckedAt     time.Time `json:"acked_at,omitzero"`
	Comment     string    `json:"comment,omitempty"`
}

func toAlertJSON(ev alerts.Event) alertJSON {
	return alertJSON{ID: ev.ID, Key: ev.Key, Printer: ev.Printer, Event: ev.Name, Kind: string(ev.Kind),
		Severity: string(ev.Severity), Source: ev.Source, Code: ev.Code, OID: ev.OID, Description: ev.Description, At: ev.At.UTC()}
}

// alertsFormatVersion versions the -json output of the alerts commands.
const alertsFormatVersion = "1.0"

func writeJSON(io streams, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(io.Out, "%s\n", b)
	return err
}

func newAlertsListCommand(f *factory) *cobra.Command {
	o := &alertsOptions{IO: f.IO, OpenStore: f.OpenStore}
	var all bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the active alerts (with -all, the latest events)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, ob, err := o.openOutbox(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			if !o.JSON && sayNoState(o.IO, st) {
				return nil
			}
			var rows []alertJSON
			if all {
				evs, err := ob.Events(ctx, state.EventFilter{Limit: limit})
				if err != nil {
					return err
				}
				for _, ev := range evs {
					rows = append(rows, toAlertJSON(ev))
				}
			} else {
				act, err := ob.ActiveAlerts(ctx)
				if err != nil {
					return err
				}
				for _, a := range act {
					r := toAlertJSON(a.Event)
					r.AckedBy, r.AckedAt, r.Comment = a.AckedBy, a.AckedAt.UTC(), a.Comment
					rows = append(rows, r)
				}
			}
			if o.JSON {
				if rows == nil {
					rows = []alertJSON{}
				}
				return writeJSON(o.IO, struct {
					FormatVersion string      `json:"format_version"`
					Alerts        []alertJSON `json:"alerts"`
				}{alertsFormatVersion, rows})
			}
			if len(rows) == 0 {
				what := "No active alerts."
				if all {
					what = "No events recorded."
				}
				fmt.Fprintln(o.IO.Out, what)
				return nil
			}
			tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tPRINTER\tEVENT\tSEVERITY\tKIND\tACK\tDESCRIPTION\tKEY")
			for _, r := range rows {
				ack := ""
				if r.AckedBy != "" {
					ack = r.AckedBy
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.At.Local().Format("2006-01-02 15:04:05"), views.Safe(r.Printer),
					r.Event, r.Severity, r.Kind, views.Safe(ack), views.Safe(r.Description), views.Safe(r.Key))
			}
			return tw.Flush()
		},
	}
	alertsFlags(cmd, o, true)
	cmd.Flags().BoolVar(&all, "all", false, "the latest events, raised and cleared, instead of the active alerts")
	cmd.Flags().IntVar(&limit, "limit", 50, "with -all, at most this many events")
	return cmd
}

func newAlertsShowCommand(f *factory) *cobra.Command {
	o := &alertsOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "show KEY",
		Short: "Show one alert's events and the emails they made",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, ob, err := o.openOutbox(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			evs, err := ob.Events(ctx, state.EventFilter{Key: args[0]})
			if err != nil {
				return err
			}
			if len(evs) == 0 {
				return &exitError{code: ExitError, msg: fmt.Sprintf("no alert %q; inkform alerts list shows the keys", args[0])}
			}
			type deliveryJSON struct {
				ID       int64     `json:"id"`
				Event    int64     `json:"event_id"`
				Route    string    `json:"route"`
				Kind     string    `json:"kind"`
				To       []string  `json:"to"`
				Status   string    `json:"status"`
				Attempts int       `json:"attempts"`
				DueAt    time.Time `json:"due_at"`
				SentAt   time.Time `json:"sent_at,omitzero"`
				Detail   string    `json:"detail,omitempty"`
			}
			var rows []alertJSON
			var dels []deliveryJSON
			for _, ev := range evs {
				rows = append(rows, toAlertJSON(ev))
				ds, err := ob.Deliveries(ctx, state.DeliveryFilter{EventID: ev.ID})
				if err != nil {
					return err
				}
				for _, d := range ds {
					dels = append(dels, deliveryJSON{d.ID, d.EventID, d.Route, d.Kind, d.To, d.Status, d.Attempts, d.DueAt.UTC(), d.SentAt.UTC(), d.Detail})
				}
			}
			if o.JSON {
				if dels == nil {
					dels = []deliveryJSON{}
				}
				return writeJSON(o.IO, struct {
					FormatVersion string         `json:"format_version"`
					Key           string         `json:"key"`
					Events        []alertJSON    `json:"events"`
					Deliveries    []deliveryJSON `json:"deliveries"`
				}{alertsFormatVersion, args[0], rows, dels})
			}
			fmt.Fprintf(o.IO.Out, "Alert %s\n", views.Safe(args[0]))
			act, err := ob.ActiveAlerts(ctx)
			if err != nil {
				return err
			}
			for _, a := range act {
				if a.Event.Key == args[0] && a.AckedBy != "" {
					fmt.Fprintf(o.IO.Out, "Acknowledged by %s at %s", views.Safe(a.AckedBy), a.AckedAt.Local().Format("2006-01-02 15:04:05"))
					if a.Comment != "" {
						fmt.Fprintf(o.IO.Out, ": %s", views.Safe(a.Comment))
					}
					fmt.Fprintln(o.IO.Out)
				}
			}
			fmt.Fprintf(o.IO.Out, "\nEvents:\n")
			for _, r := range rows {
				fmt.Fprintf(o.IO.Out, "  %s  %-7s %-8s %s (%s)\n", r.At.Local().Format("2006-01-02 15:04:05"), r.Kind, r.Severity, views.Safe(r.Description), r.Source)
			}
			fmt.Fprintln(o.IO.Out, "\nEmails:")
			if len(dels) == 0 {
				fmt.Fprintln(o.IO.Out, "  none")
			}
			for _, d := range dels {
				fmt.Fprintf(o.IO.Out, "  route %s to %s: %s", views.Safe(d.Route), views.Safe(strings.Join(d.To, ", ")), d.Status)
				if d.Detail != "" {
					fmt.Fprintf(o.IO.Out, " (%s)", views.Safe(d.Detail))
				}
				fmt.Fprintln(o.IO.Out)
			}
			return nil
		},
	}
	alertsFlags(cmd, o, true)
	return cmd
}

func newAlertsAckCommand(f *factory) *cobra.Command {
	o := &alertsOptions{IO: f.IO, OpenStore: f.OpenStore}
	var comment string
	cmd := &cobra.Command{
		Use:   "ack KEY",
		Short: "Acknowledge an active alert: its repeats stop",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, ob, err := o.openOutbox(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := ob.Ack(ctx, args[0], owner("").User, comment, time.Now()); err != nil {
				if errors.Is(err, state.ErrNotFound) {
					return &exitError{code: ExitError, msg: fmt.Sprintf("no active alert %q; inkform alerts list shows the keys", args[0])}
				}
				return fmt.Errorf("acknowledge %s: %w", args[0], err)
			}
			fmt.Fprintf(o.IO.Out, "Acknowledged %s.\n", views.Safe(args[0]))
			return nil
		},
	}
	alertsFlags(cmd, o, false)
	cmd.Flags().StringVar(&comment, "comment", "", "why, for the others")
	return cmd
}

func newAlertsSilenceCommand(f *factory) *cobra.Command {
	o := &alertsOptions{IO: f.IO, OpenStore: f.OpenStore}
	var dur time.Duration
	var comment string
	cmd := &cobra.Command{
		Use:   "silence printer.NAME|EVENT|printer.NAME:EVENT",
		Short: "Mute the alerts of a printer (name or glob), of an event, or both, for a while",
		Example: `  inkform alerts silence printer.lab-1 --for 2h --comment "being serviced"
  inkform alerts silence toner_low --for 24h
  inkform alerts silence 'printer.lab-*:jam' --for 30m`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sil, err := parseSilence(args[0])
			if err != nil {
				return &exitError{code: ExitError, msg: err.Error()}
			}
			if dur <= 0 {
				return &exitError{code: ExitError, msg: "--for must be a positive duration such as 2h"}
			}
			ctx := cmd.Context()
			st, ob, err := o.openOutbox(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			now := time.Now()
			sil.Starts, sil.Ends, sil.Comment, sil.By = now, now.Add(dur), comment, owner("").User
			id, err := ob.AddSilence(ctx, sil)
			if err != nil {
				return err
			}
			fmt.Fprintf(o.IO.Out, "Silence %d until %s.\n", id, sil.Ends.Local().Format("2006-01-02 15:04"))
			return nil
		},
	}
	alertsFlags(cmd, o, false)
	cmd.Flags().DurationVar(&dur, "for", 0, "how long (e.g. 2h)")
	cmd.Flags().StringVar(&comment, "comment", "", "why, for the others")
	return cmd
}

// parseSilence reads printer.NAME, EVENT or printer.NAME:EVENT.
func parseSilence(s string) (state.Silence, error) {
	var sil state.Silence
	target, event, hasEvent := strings.Cut(s, ":")
	if p, ok := strings.CutPrefix(target, "printer."); ok {
		if _, err := filepath.Match(p, ""); err != nil || p == "" {
			return sil, fmt.Errorf("silence %q: the printer name or glob is not valid", s)
		}
		sil.Printer = p
	} else if !hasEvent {
		event, hasEvent = target, true
	} else {
		return sil, fmt.Errorf("silence %q: expected printer.NAME, EVENT or printer.NAME:EVENT", s)
	}
	if hasEvent {
		known := false
		for _, n := range alerts.Names() {
			known = known || n == event
		}
		if !known {
			return sil, fmt.Errorf("silence %q: %q is not an event; the events are %s", s, event, strings.Join(alerts.Names(), ", "))
		}
		sil.Event = event
	}
	return sil, nil
}

func newAlertsSilencesCommand(f *factory) *cobra.Command {
	o := &alertsOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "silences",
		Short: "List the silences in force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, ob, err := o.openOutbox(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			if !o.JSON && sayNoState(o.IO, st) {
				return nil
			}
			sils, err := ob.Silences(ctx, time.Now())
			if err != nil {
				return err
			}
			if o.JSON {
				rows := make([]silenceJSON, len(sils))
				for i, s := range sils {
					rows[i] = silenceJSON{ID: s.ID, Printer: s.Printer, Event: s.Event, Starts: s.Starts.UTC(), Ends: s.Ends.UTC(), Comment: s.Comment, By: s.By}
				}
				return writeJSON(o.IO, struct {
					FormatVersion string        `json:"format_version"`
					Silences      []silenceJSON `json:"silences"`
				}{alertsFormatVersion, rows})
			}
			if len(sils) == 0 {
				fmt.Fprintln(o.IO.Out, "No silences in force.")
				return nil
			}
			tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPRINTER\tEVENT\tUNTIL\tBY\tCOMMENT")
			for _, s := range sils {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.ID, orAny(s.Printer), orAny(s.Event), s.Ends.Local().Format("2006-01-02 15:04"), views.Safe(s.By), views.Safe(s.Comment))
			}
			return tw.Flush()
		},
	}
	alertsFlags(cmd, o, true)
	return cmd
}

// silenceJSON is one silence in -json output; "" printer or event is
// any.
type silenceJSON struct {
	ID      int64     `json:"id"`
	Printer string    `json:"printer"`
	Event   string    `json:"event"`
	Starts  time.Time `json:"starts"`
	Ends    time.Time `json:"ends"`
	Comment string    `json:"comment"`
	By      string    `json:"by"`
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return views.Safe(s)
}

func newAlertsUnsilenceCommand(f *factory) *cobra.Command {
	o := &alertsOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "unsilence ID",
		Short: "End a silence now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var id int64
			if _, err := fmt.Sscan(args[0], &id); err != nil {
				return &exitError{code: ExitError, msg: fmt.Sprintf("%q is not a silence id", args[0])}
			}
			ctx := cmd.Context()
			st, ob, err := o.openOutbox(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := ob.ExpireSilence(ctx, id, time.Now()); err != nil {
				if errors.Is(err, state.ErrNotFound) {
					return &exitError{code: ExitError, msg: fmt.Sprintf("no silence %d; inkform alerts silences lists those in force", id)}
				}
				return fmt.Errorf("silence %d: %w", id, err)
			}
			fmt.Fprintf(o.IO.Out, "Silence %d ended.\n", id)
			return nil
		},
	}
	alertsFlags(cmd, o, false)
	return cmd
}

// newAlertsTestCommand sends one test email through a route now, as
// Markvision's "test action" does: it checks the smtp block and the
// route's recipients without waiting for an alert.
func newAlertsTestCommand(f *factory) *cobra.Command {
	var cf configFlags
	cmd := &cobra.Command{
		Use:   "test ROUTE",
		Short: "Send one test email through an alert route now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cf.load(f.IO)
			if err != nil {
				return err
			}
			if cfg.SMTP == nil {
				return &exitError{code: ExitError, msg: "the configuration has no smtp block"}
			}
			var route *alerts.Route
			var names []string
			for i := range cfg.Routes {
				names = append(names, cfg.Routes[i].Name)
				if cfg.Routes[i].Name == args[0] {
					route = &cfg.Routes[i]
				}
			}
			if route == nil && len(names) == 0 {
				return &exitError{code: ExitError, msg: fmt.Sprintf("no alert_route %q: the configuration has no alert_route blocks", args[0])}
			}
			if route == nil {
				return &exitError{code: ExitError, msg: fmt.Sprintf("no alert_route %q; the routes are: %s", args[0], strings.Join(names, ", "))}
			}
			n, err := mail.New(*cfg.SMTP)
			if err != nil {
				return &exitError{code: ExitError, msg: err.Error()}
			}
			ctx := cmd.Context()
			if err := n.Check(ctx); err != nil {
				return &exitError{code: ExitError, msg: fmt.Sprintf("smtp %s: %v", n.Addr(), err)}
			}
			host, _ := os.Hostname()
			m := watch.Message{
				ID:      fmt.Sprintf("inkform.test.%d@inkform.invalid", time.Now().UnixNano()),
				To:      route.Email.To,
				Cc:      route.Email.Cc,
				Subject: fmt.Sprintf("[inkform] test message for alert_route %q", route.Name),
				Body:    fmt.Sprintf("This is a test of alert_route %q, sent by inkform alerts test on %s: its emails reach you.\n\n-- \ninkform\n", route.Name, host),
			}
			if err := n.Send(ctx, m); err != nil {
				return &exitError{code: ExitError, msg: fmt.Sprintf("smtp %s: %v", n.Addr(), err)}
			}
			fmt.Fprintf(f.IO.Out, "Sent: %s accepted the test message for %s.\n", n.Addr(), strings.Join(append(append([]string{}, route.Email.To...), route.Email.Cc...), ", "))
			return nil
		},
	}
	cf.register(cmd.Flags())
	return cmd
}
