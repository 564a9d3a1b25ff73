package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
)

func newShowCommand(io streams) *cobra.Command {
	var f stateFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [PLANFILE]",
		Short: "Show a saved plan, or the recorded state",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				plan, err := readPlanFile(args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return views.RenderJSON(io.Out, plan)
				}
				return views.RenderHuman(io.Out, plan, views.RenderOptions{Color: io.color()})
			}
			st, err := f.open(cmd.Context(), io)
			if err != nil {
				return err
			}
			defer st.Close()
			printers, err := st.Printers(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeStateJSON(io, printers)
			}
			for i, p := range printers {
				if i > 0 {
					io.Out.Write([]byte("\n"))
				}
				writePrinterRecord(io, p)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "machine-readable output")
	return cmd
}

// stateJSONVersion is the format_version of show -json without a plan.
const stateJSONVersion = "1.0"

func writeStateJSON(io streams, printers []state.Printer) error {
	type printerJSON struct {
		Name       string            `json:"name"`
		Address    string            `json:"address"`
		Serial     string            `json:"serial"`
		Model      string            `json:"model"`
		Firmware   string            `json:"firmware"`
		ObservedAt string            `json:"observed_at"`
		AppliedAt  string            `json:"applied_at"`
		Settings   map[string]string `json:"setting_hashes"`
	}
	out := struct {
		FormatVersion string        `json:"format_version"`
		Printers      []printerJSON `json:"printers"`
	}{FormatVersion: stateJSONVersion, Printers: []printerJSON{}}
	for _, p := range printers {
		out.Printers = append(out.Printers, printerJSON{
			Name: p.Name, Address: p.Address, Serial: p.Serial, Model: p.Model, Firmware: p.Firmware,
			ObservedAt: formatTime(p.ObservedAt), AppliedAt: formatTime(p.AppliedAt), Settings: p.Settings,
		})
	}
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
