package views

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/inkform/inkform/state"
)

// The history of runs, as state history shows it.

// historyJSONVersion is the format_version of state history -json, with
// or without a printer.
const historyJSONVersion = "1.0"

// RunEntry is a run as history shows it.
type RunEntry struct {
	Run state.Run
	// Status is the status to show: the recorded one, or RunAbandoned for
	// a run recorded as running whose process is gone.
	Status   string
	Outcomes []state.Outcome
}

// PrinterEvent is what one run did to one printer, as history shows it.
type PrinterEvent struct {
	state.PrinterEvent
	// RunStatus is the run's status to show, as RunEntry.Status.
	RunStatus string
}

// RenderRuns writes a table of runs, most recent first, for a person.
func RenderRuns(w io.Writer, runs []RunEntry) error {
	if len(runs) == 0 {
		_, err := fmt.Fprintln(w, "No runs recorded.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tFINISHED\tCOMMAND\tSTATUS\tBY\tCOMMIT\tCONFIG\tPRINTERS")
	for _, e := range runs {
		r := e.Run
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s@%s\t%s\t%s\t%s\n", r.ID, FormatTime(r.StartedAt), finished(r), r.Command, e.Status,
			r.User, r.Host, short(r.GitCommit, 10), short(strings.TrimPrefix(r.ConfigHash, "sha256:"), 12), tally(e.Outcomes))
	}
	return tw.Flush()
}

// RenderPrinterHistory writes a table of what each run did to printer
// name, most recent first, for a person.
func RenderPrinterHistory(w io.Writer, name string, events []PrinterEvent) error {
	if len(events) == 0 {
		_, err := fmt.Fprintf(w, "No runs recorded for printer.%s.\n", name)
		return err
	}
	fmt.Fprintf(w, "# printer.%s\n", name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tAT\tCOMMAND\tRESULT\tBY\tCOMMIT\tCHANGED\tDETAIL")
	for _, e := range events {
		command := e.Run.Command
		if e.RunStatus == state.RunAbandoned {
			command += " (" + e.RunStatus + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s@%s\t%s\t%s\t%s\n", e.Run.ID, FormatTime(e.Outcome.At), command, e.Outcome.Status,
			e.Run.User, e.Run.Host, short(e.Run.GitCommit, 10), changed(e.Outcome), oneLine(e.Outcome.Detail))
	}
	return tw.Flush()
}

// RenderRunsJSON writes runs as JSON for machines (state history -json).
func RenderRunsJSON(w io.Writer, runs []RunEntry) error {
	type runJSON struct {
		ID         int64  `json:"id"`
		Command    string `json:"command"`
		Status     string `json:"status"`
		User       string `json:"user"`
		Host       string `json:"host"`
		GitCommit  string `json:"git_commit"`
		ConfigHash string `json:"config_hash"`
		StartedAt  string `json:"started_at"`
		FinishedAt string `json:"finished_at,omitempty"` // absent while running, or when the run died
		// Printers counts the run's printers by outcome.
		Printers map[string]int `json:"printers"`
	}
	out := struct {
		FormatVersion string    `json:"format_version"`
		Runs          []runJSON `json:"runs"`
	}{FormatVersion: historyJSONVersion, Runs: make([]runJSON, 0, len(runs))}
	for _, e := range runs {
		r := e.Run
		j := runJSON{ID: r.ID, Command: r.Command, Status: e.Status, User: r.User, Host: r.Host, GitCommit: r.GitCommit,
			ConfigHash: r.ConfigHash, StartedAt: FormatTime(r.StartedAt), Printers: map[string]int{}}
		if !r.FinishedAt.IsZero() {
			j.FinishedAt = FormatTime(r.FinishedAt)
		}
		for _, o := range e.Outcomes {
			j.Printers[o.Status]++
		}
		out.Runs = append(out.Runs, j)
	}
	return writeJSON(w, out)
}

// RenderPrinterHistoryJSON writes what each run did to printer name as
// JSON for machines (state history printer.NAME -json). Changed settings
// are named, not valued: values may be secret.
func RenderPrinterHistoryJSON(w io.Writer, name string, events []PrinterEvent) error {
	type eventJSON struct {
		RunID     int64    `json:"run_id"`
		At        string   `json:"at"`
		Command   string   `json:"command"`
		RunStatus string   `json:"run_status"`
		Status    string   `json:"status"`
		User      string   `json:"user"`
		Host      string   `json:"host"`
		GitCommit string   `json:"git_commit"`
		Changes   int      `json:"changes"`
		Changed   []string `json:"changed"`
		Detail    string   `json:"detail"`
	}
	out := struct {
		FormatVersion string      `json:"format_version"`
		Printer       string      `json:"printer"`
		Events        []eventJSON `json:"events"`
	}{FormatVersion: historyJSONVersion, Printer: name, Events: make([]eventJSON, 0, len(events))}
	for _, e := range events {
		names := slices.Sorted(maps.Keys(e.Outcome.Changed))
		if names == nil {
			names = []string{} // [], not null, when nothing was changed
		}
		out.Events = append(out.Events, eventJSON{
			RunID: e.Run.ID, At: FormatTime(e.Outcome.At), Command: e.Run.Command, RunStatus: e.RunStatus,
			Status: e.Outcome.Status, User: e.Run.User, Host: e.Run.Host, GitCommit: e.Run.GitCommit,
			Changes: e.Outcome.Changes, Changed: names, Detail: e.Outcome.Detail,
		})
	}
	return writeJSON(w, out)
}

func finished(r state.Run) string {
	if r.FinishedAt.IsZero() {
		return "-"
	}
	return FormatTime(r.FinishedAt)
}

// tally summarises outcomes as "3 applied, 1 failed", statuses sorted.
func tally(os []state.Outcome) string {
	if len(os) == 0 {
		return "-"
	}
	n := map[string]int{}
	for _, o := range os {
		n[o.Status]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", n[k], k)
	}
	return strings.Join(parts, ", ")
}

// changed lists the settings written (names only: values may be secret),
// or the bare count when the run did not record which.
func changed(o state.Outcome) string {
	if len(o.Changed) == 0 {
		if o.Changes > 0 {
			return fmt.Sprintf("%d settings", o.Changes)
		}
		return "-"
	}
	return strings.Join(slices.Sorted(maps.Keys(o.Changed)), ",")
}

func short(s string, n int) string {
	if s == "" {
		return "-"
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}

func oneLine(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), " ")
}
