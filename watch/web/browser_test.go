package web

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/state/memstate"
)

// demoFleet is a small office fleet that looks like one, for the browser
// test and its screenshots.
func demoFleet(now time.Time) []PrinterView {
	toner := func(k, c int, m, y int) []fleet.Supply {
		s := []fleet.Supply{{Description: "Black Toner", Kind: fleet.SupplyKindToner, Color: "black", Level: k, Max: 100}}
		if c >= 0 {
			s = append(s,
				fleet.Supply{Description: "Cyan Toner", Kind: fleet.SupplyKindToner, Color: "cyan", Level: c, Max: 100},
				fleet.Supply{Description: "Magenta Toner", Kind: fleet.SupplyKindToner, Color: "magenta", Level: m, Max: 100},
				fleet.Supply{Description: "Yellow Toner", Kind: fleet.SupplyKindToner, Color: "yellow", Level: y, Max: 100})
		}
		return append(s, fleet.Supply{Description: "Imaging Unit", Kind: fleet.SupplyKindDrum, Level: -3, Max: -2})
	}
	mk := func(name, host, mdl, fw, status string, pages int64, sup []fleet.Supply, kw ...string) PrinterView {
		return PrinterView{
			Printer: fleet.Printer{Name: name, Host: host, Port: 161, Keywords: kw, Settings: []fleet.Desired{
				{Name: "system.contact", Value: "IT Service Desk x4100"},
				{Name: "power.sleep_timeout_min", Value: "30"},
				{Name: "security.admin_pin", Value: "2468", Sensitive: true}}},
			Observation: &fleet.Observation{Vendor: strings.Fields(mdl)[0], Model: mdl, Firmware: fw, Serial: "CN" + strings.ToUpper(host[len(host)-2:]) + "7Q2",
				Status: status, PageCount: pages, Supplies: sup, ObservedAt: now.Add(-2 * time.Minute),
				Settings: map[string]string{"system.contact": "IT Service Desk x4100", "power.sleep_timeout_min": "30", "security.admin_pin": "2468"}},
		}
	}
	vs := []PrinterView{
		mk(`office["hq-2f-east"]`, "10.20.2.11", "HP Color LaserJet M554", "2506181_046602", fleet.StatusIdle, 48211, toner(72, 64, 58, 81), "hq"),
		mk(`office["hq-2f-west"]`, "10.20.2.12", "HP Color LaserJet M554", "2506181_046602", fleet.StatusDown, 51980, toner(44, 38, 50, 29), "hq"),
		mk(`office["hq-3f-print-room"]`, "10.20.3.10", "Lexmark CX931", "CXTPC.081.215", fleet.StatusPrinting, 212377, toner(8, 55, 61, 47), "hq"),
		mk(`office["hq-4f-legal"]`, "10.20.4.15", "Lexmark MS823", "MSNGM.081.215", fleet.StatusWarning, 98002, toner(3, -1, 0, 0), "hq"),
		mk(`warehouse["dock-1"]`, "10.40.0.21", "Dell S5830dn", "1.0.22", fleet.StatusIdle, 10455, toner(91, -1, 0, 0), "warehouse"),
		mk(`warehouse["dock-2"]`, "10.40.0.22", "Dell S5830dn", "1.0.19", fleet.StatusIdle, 9120, toner(57, -1, 0, 0), "warehouse"),
	}
	vs[3].Drift = []string{"power.sleep_timeout_min"}
	vs[3].Observation.Settings["power.sleep_timeout_min"] = "15"
	vs[5].Drift = []string{"system.contact"}
	vs[5].Observation.Settings["system.contact"] = "Warehouse x5100"
	vs = append(vs, PrinterView{Printer: fleet.Printer{Name: `warehouse["office"]`, Host: "10.40.0.30", Port: 161, Keywords: []string{"warehouse"}},
		Err: "snmp: request timeout after 2 attempts"})
	return vs
}

// The status page in a real browser: log in through the form, see the
// fleet with its supply bars, open a printer, acknowledge its alert.
// Screenshots go to INKFORM_SCREENSHOTS_DIR when set (make screenshots),
// else to a temporary directory.
func TestBrowser(t *testing.T) {
	testservers.Chromium(t)
	shots := os.Getenv("INKFORM_SCREENSHOTS_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	store := memstate.New()
	now := time.Now().UTC().Truncate(time.Second)
	views := demoFleet(now)
	for _, a := range []struct {
		printer, name, desc string
		at                  time.Duration
	}{
		{`office["hq-2f-west"]`, alerts.Jam, "Paper jam in tray 2", -18 * time.Minute},
		{`office["hq-4f-legal"]`, alerts.TonerLow, "Black toner low (3 %)", -3 * time.Hour},
		{`office["hq-3f-print-room"]`, alerts.TonerLow, "Black toner low (8 %)", -50 * time.Minute},
		{`warehouse["office"]`, alerts.Offline, "No answer to SNMP for 2 polls", -25 * time.Minute},
	} {
		_, err := store.AppendEvents(context.Background(), []alerts.Event{{Printer: a.printer, Key: alerts.KeyFor(a.printer, a.name, ""),
			Kind: alerts.Raised, Name: a.name, Severity: alerts.DefaultSeverity(a.name), Source: alerts.SourcePoll, Description: a.desc, At: now.Add(a.at)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Config{Page: alerts.StatusPage{Listen: "127.0.0.1:0"}, Store: store, Passwords: newPasswords(),
		Fleet: func() []PrinterView { return views }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, s)
	base := "https://" + addr

	ctx := testservers.Browser(t, 1360, 900)
	shot := func(name string) chromedp.Action[chromedp.Void] { return testservers.Screenshot(shots, name) }
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("open the page", chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		shot("status-login.png")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	must("location", err)
	if !strings.HasPrefix(loc, base+"/login?next=") {
		t.Errorf("not sent to the login form: %s", loc)
	}
	must("log in", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("username"), "sam"),
		chromedp.SendKeys(chromedp.ID("password"), "desk-pw"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("fleet")),
		shot("status-fleet.png")))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#fleet tr.printer').length`))
	must("count printers", err)
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#fleet .supply .fill').length`))
	must("count supply bars", err)
	if rows != len(views) || bars != 21 {
		t.Errorf("fleet shows %d printers and %d supply bars; want %d and 21", rows, bars, len(views))
	}
	west := chromedp.CSS(`a[href="/printers/office%5B%22hq-2f-west%22%5D"]`)
	must("open a printer", chromedp.Do(ctx,
		chromedp.Click(west),
		chromedp.WaitVisible(chromedp.CSS("form.ack")),
		shot("status-printer.png")))
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	must("title", err)
	if !strings.Contains(title, `office["hq-2f-west"]`) {
		t.Errorf("printer page title %q", title)
	}
	must("acknowledge", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`form.ack input[name="comment"]`), "clearing the jam"),
		chromedp.Click(chromedp.CSS("form.ack button")),
		chromedp.WaitNotPresent(chromedp.CSS("form.ack"))))
	acked, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("td.acked")))
	must("acknowledged", err)
	if !strings.Contains(acked, "by sam: clearing the jam") {
		t.Errorf("acknowledged cell %q", acked)
	}
	must("alerts", chromedp.Do(ctx,
		chromedp.Navigate(base+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS("table.alerts")),
		shot("status-alerts.png")))
	as, _ := store.ActiveAlerts(context.Background())
	for _, a := range as {
		if got := a.AckedBy != ""; got != (a.Event.Printer == `office["hq-2f-west"]`) {
			t.Errorf("alert %s acked by %q", a.Event.Key, a.AckedBy)
		}
	}
	for _, n := range []string{"status-login.png", "status-fleet.png", "status-printer.png", "status-alerts.png"} {
		if fi, err := os.Stat(filepath.Join(shots, n)); err != nil || fi.Size() < 5000 {
			t.Errorf("screenshot %s: %v", n, err)
		}
	}
	t.Logf("screenshots in %s", shots)
}
