package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// reportOptions are the options of report.
type reportOptions struct {
	IO          streams
	OpenStore   storeOpener
	Connect     connectFunc
	State       stateFlags
	Out         string
	Parallelism int
}

func newReportCommand(f *factory) *cobra.Command {
	opts := &reportOptions{IO: f.IO, OpenStore: f.OpenStore, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "report NAME",
		Short: "Write a report block's view as CSV now (the CSV watch emails on its schedule)",
		Example: `  inkform report weekly-supplies -o supplies.csv
  inkform report weekly-supplies > supplies.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := opts.State.load(opts.IO)
			if err != nil {
				return err
			}
			r, ok := findReport(cfg, args[0])
			if !ok {
				var names []string
				for _, r := range cfg.Reports {
					names = append(names, r.Name)
				}
				msg := fmt.Sprintf("no report %q in the configuration", args[0])
				if len(names) > 0 {
					msg += "; the reports are: " + strings.Join(names, ", ")
				}
				return &exitError{code: ExitError, msg: msg}
			}
			loc, err := opts.State.location(opts.IO, cfg)
			if err != nil {
				return err
			}
			st, err := openExisting(ctx, opts.IO, opts.OpenStore, loc)
			if err != nil {
				return err
			}
			defer st.Close()
			var csv bytes.Buffer
			if err := writeReport(ctx, &csv, r.View, cfg, st, opts.Connect, opts.Parallelism); err != nil {
				return fmt.Errorf("report %s: %w", r.Name, err)
			}
			if opts.Out == "" || opts.Out == "-" {
				_, err = opts.IO.Out.Write(csv.Bytes())
				return err
			}
			return writeFileAtomic(opts.Out, 0o644, func(w io.Writer) error {
				_, err := w.Write(csv.Bytes())
				return err
			})
		},
	}
	opts.State.register(cmd.Flags())
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the CSV to this file (default: stdout)")
	cmd.Flags().IntVar(&opts.Parallelism, "parallelism", 0, "printers observed at once (0: as many as the open-files limit allows)")
	return cmd
}
