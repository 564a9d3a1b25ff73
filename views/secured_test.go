package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/router"
)

// lstDevice is a secured printer's settings as a fake "lst" transport
// serves them.
type lstDevice map[string]string

func (lstDevice) Name() string { return "lst" }
func (d lstDevice) DialSettings(context.Context, fleet.Printer) (providers.SettingsConn, error) {
	return d, nil
}
func (d lstDevice) ReadSettings(_ context.Context, _ string, names []string) (map[string]string, []string, error) {
	out := map[string]string{}
	var missing []string
	for _, n := range names {
		if v, ok := d[n]; ok {
			out[n] = v
		} else {
			missing = append(missing, n)
		}
	}
	return out, missing, nil
}
func (lstDevice) WriteSettings(context.Context, string, []fleet.Desired) error { return nil }
func (lstDevice) Close() error                                                 { return nil }

// TestRenderSecured: a secured printer planned through the router, one
// reached over lst and one whose only transports are not authenticated;
// the reason shows in the human and JSON plans.
func TestRenderSecured(t *testing.T) {
	f := plannertest.NewFleet()
	admin := fleet.Admin{Username: "admin", Password: "pw"}
	v2c := fleet.SNMP{Version: fleet.SNMPv2c, Community: "private"}

	vault := plannertest.Printer("vault", "10.0.7.1", plannertest.Desired("system.contact", "Security x1", "system.location", "Vault 1")...)
	vault.Secured, vault.Transports = true, []string{"lst"}
	vault.Credentials = fleet.Credentials{SNMP: v2c, Admin: admin}
	f.Conn.Add("vault", fleet2Device("LXK-V1"))

	open := plannertest.Printer("vault-2", "10.0.7.2", plannertest.Desired("system.location", "Vault 2")...)
	open.Secured, open.Transports = true, []string{"snmp", "pjl"}
	open.Credentials = fleet.Credentials{SNMP: v2c, Admin: admin}
	f.Conn.Add("vault-2", fleet2Device("LXK-V2"))

	lst := lstDevice{"system.contact": "Security x1", "system.location": "Lobby"}
	f.Planner.Observer = observer.Observer{Connector: router.New(nil, f.Conn, []providers.SettingsTransport{lst}, nil)}
	f.Printers = []fleet.Printer{vault, open}
	plan := f.Plan(t, planner.PlanOptions{})

	var human, js bytes.Buffer
	if err := RenderHuman(&human, plan, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderJSON(&js, plan); err != nil {
		t.Fatal(err)
	}
	golden(t, "secured.txt", human.Bytes())
	golden(t, "secured.json", js.Bytes())
	const why = "secured printer: needs lst or credentials; not authenticated: snmp; add lst to transports"
	for name, out := range map[string]string{"human": human.String(), "json": js.String()} {
		if !strings.Contains(out, why) {
			t.Errorf("%s plan lacks %q:\n%s", name, why, out)
		}
	}
	if !strings.Contains(human.String(), `"Lobby"`) || !strings.Contains(human.String(), "via lst") {
		t.Errorf("human plan does not show the change over lst:\n%s", human.String())
	}
}

func fleet2Device(serial string) plannertest.Device {
	d := plannertest.NewDevice(serial, nil)
	d.Observation.Model = "Lexmark CX725"
	return d
}
