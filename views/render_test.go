package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

type rendering struct {
	golden string
	render func(*bytes.Buffer, *plans.Plan) error
}

var renderings = []rendering{
	{"rich.txt", func(b *bytes.Buffer, p *plans.Plan) error { return RenderHuman(b, p, RenderOptions{}) }},
	{"rich-color.txt", func(b *bytes.Buffer, p *plans.Plan) error { return RenderHuman(b, p, RenderOptions{Color: true}) }},
	{"rich.json", func(b *bytes.Buffer, p *plans.Plan) error { return RenderJSON(b, p) }},
	{"rich.md", func(b *bytes.Buffer, p *plans.Plan) error { return RenderMarkdown(b, p) }},
}

func renderAll(t *testing.T, p *plans.Plan) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, r := range renderings {
		var b bytes.Buffer
		if err := r.render(&b, p); err != nil {
			t.Fatalf("%s: %v", r.golden, err)
		}
		out[r.golden] = b.Bytes()
	}
	return out
}

func TestRenderGolden(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{ConfigHash: "sha256:cafe"})
	for name, got := range renderAll(t, p) {
		golden(t, name, got)
	}
}

func TestRenderColorOnlyWhenAsked(t *testing.T) {
	out := renderAll(t, plannertest.RichFleet(t).Plan(t, planner.PlanOptions{}))
	for name, b := range out {
		hasEsc := bytes.Contains(b, []byte("\x1b"))
		if hasEsc != (name == "rich-color.txt") {
			t.Errorf("%s: contains ESC = %v", name, hasEsc)
		}
	}
}

func TestRenderJSONShape(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})
	var b bytes.Buffer
	if err := RenderJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Printers      []struct {
			Name    string   `json:"name"`
			Action  []string `json:"action"`
			Changes []struct {
				Setting string   `json:"setting"`
				Actions []string `json:"actions"`
				Before  *string  `json:"before"`
			} `json:"changes"`
		} `json:"printers"`
		Summary plans.Summary `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != "1.1" {
		t.Errorf("format_version = %q", doc.FormatVersion)
	}
	if doc.Summary != p.Summary() {
		t.Errorf("summary = %+v, want %+v", doc.Summary, p.Summary())
	}
	for _, pr := range doc.Printers {
		if pr.Name != "hq-2f-east" {
			continue
		}
		if !cmp.Equal(pr.Action, []string{"update"}) {
			t.Errorf("action = %q", pr.Action)
		}
		for _, c := range pr.Changes {
			if c.Setting == "system.name" && c.Before != nil {
				t.Errorf("sensitive before = %q, want null", *c.Before)
			}
			if c.Setting == "system.contact" && (c.Before == nil || *c.Before != "Unknown" || !cmp.Equal(c.Actions, []string{"update"})) {
				t.Errorf("system.contact = %+v", c)
			}
		}
		return
	}
	t.Fatal("hq-2f-east missing from JSON")
}

func TestRenderNoChanges(t *testing.T) {
	f := plannertest.NewFleet()
	f.Printers = []fleet.Printer{plannertest.Printer("a", "10.0.0.1", plannertest.Desired("system.contact", "x")...)}
	f.Conn.Add("a", plannertest.NewDevice("A", map[string]string{"system.contact": "x"}))
	f.Put(t, plannertest.Managed("a", "10.0.0.1:161", "system.contact"))
	var b bytes.Buffer
	if err := RenderHuman(&b, f.Plan(t, planner.PlanOptions{}), RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "No changes. Your printers match the configuration.\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	// An unreachable printer is listed, counted and not said to match.
	f.Printers = append(f.Printers, plannertest.Printer("gone", "10.0.0.2"))
	b.Reset()
	if err := RenderHuman(&b, f.Plan(t, planner.PlanOptions{}), RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"! printer.gone (10.0.0.2:161) is unreachable:", "No changes to the 1 printer checked;", "1 printer not checked (1 unreachable)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "match the configuration") {
		t.Errorf("printers not checked are said to match:\n%s", b.String())
	}
}

// A plan that could check no printer never says "no changes" nor that the
// printers match, in any rendering; each says how many were not checked
// and why.
func TestRenderNothingChecked(t *testing.T) {
	f := plannertest.NewFleet()
	f.Printers = []fleet.Printer{plannertest.Printer("gone", "10.0.0.2"), plannertest.Printer("locked", "10.0.0.3", plannertest.Desired("system.contact", "x")...)}
	f.Conn.Add("locked", plannertest.Device{ObserveErr: errors.New("snmp get: wrong community: authentication failed")})
	f.Put(t, plannertest.Managed("locked", "10.0.0.3:161", "system.contact"))
	p := f.Plan(t, planner.PlanOptions{})
	if s := p.Summary(); s.Checked != 0 || s.NotChecked != 2 || s.Unreachable != 1 || s.Errors != 1 {
		t.Fatalf("summary = %+v", s)
	}
	out := renderAll(t, p)
	for name, want := range map[string][]string{
		"rich.txt":  {"No printer could be checked", "Attention: 2 printers not checked (1 unreachable, 1 could not be observed)."},
		"rich.md":   {"### inkform plan: no printer could be checked\n", "**Attention:** 2 printers not checked (1 unreachable, 1 could not be observed)."},
		"rich.json": {`"checked": 0,`, `"not_checked": 2,`, `"unreachable": 1,`, `"errors": 1,`, `"reason": "snmp get: wrong community: authentication failed"`},
	} {
		for _, w := range want {
			if !strings.Contains(string(out[name]), w) {
				t.Errorf("%s lacks %q:\n%s", name, w, out[name])
			}
		}
		for _, never := range []string{"No changes", "no changes", "match the configuration"} {
			if strings.Contains(string(out[name]), never) {
				t.Errorf("%s says %q:\n%s", name, never, out[name])
			}
		}
	}
}

// Firmware, files, per-setting transports and notes show in every view.
func TestRenderDeploys(t *testing.T) {
	plan := plannertest.DeployFleet().Plan(t, planner.PlanOptions{})
	var human, js, md bytes.Buffer
	if err := RenderHuman(&human, plan, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderJSON(&js, plan); err != nil {
		t.Fatal(err)
	}
	if err := RenderMarkdown(&md, plan); err != nil {
		t.Fatal(err)
	}
	golden(t, "deploy.txt", human.Bytes())
	golden(t, "deploy.json", js.Bytes())
	golden(t, "deploy.md", md.Bytes())
	for name, out := range map[string]string{"human": human.String(), "json": js.String(), "markdown": md.String()} {
		for _, want := range []string{"http: port 80 closed; falling back to snmp", "pjl", "CXTPC.240.001", "ca.pem"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s rendering lacks %q", name, want)
			}
		}
	}
	if !strings.Contains(human.String(), "^ firmware") || !strings.Contains(human.String(), "+ file ca.pem") {
		t.Errorf("human rendering lacks the upgrade or file line:\n%s", human.String())
	}
}

func TestSecretsNeverShown(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})
	outputs := renderAll(t, p)
	for name, b := range outputs {
		for _, secret := range []string{plannertest.SecretDesired, plannertest.SecretObserved} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains a secret", name)
			}
		}
	}
	if !bytes.Contains(outputs["rich.txt"], []byte("system.name     = (sensitive) -> (sensitive)")) {
		t.Errorf("sensitive change not shown masked:\n%s", outputs["rich.txt"])
	}
}

// A fleet-sized plan's Markdown stays within what a pull-request comment
// may hold: the per-setting counts are complete, the rest is cut at whole
// rows and printer blocks and says how much was left out.
func TestRenderMarkdownFleetFitsAComment(t *testing.T) {
	p := &plans.Plan{}
	for i := range 3000 {
		pp := plans.PrinterPlan{Name: fmt.Sprintf("p%04d", i), Address: "10.0.0.1:161", Transport: "snmp", Action: plans.Adopt, Status: plans.StatusReady}
		if i%6 == 0 {
			pp = plans.PrinterPlan{Name: pp.Name, Address: pp.Address, Status: plans.StatusUnreachable, Reason: "no SNMP answer"}
		} else {
			for j := range 21 {
				pp.Changes = append(pp.Changes, plans.Change{Setting: fmt.Sprintf("setting.%02d", j), Action: plans.Adopt, Before: "a", After: "b", BeforeHash: "x", AfterHash: "y"})
			}
		}
		p.Printers = append(p.Printers, pp)
	}
	var b bytes.Buffer
	if err := RenderMarkdown(&b, p); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if len(md) > markdownMaxBytes {
		t.Errorf("%d bytes, limit %d", len(md), markdownMaxBytes)
	}
	for _, want := range []string{
		"### inkform plan: 2500 printers to adopt",
		"| setting.00 | +2500 |\n", "| setting.20 | +2500 |\n",
		" more printers, left out to keep this comment short |\n",
		" more rows, left out to keep this comment short |\n",
		"```\n\n</details>\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	if !strings.HasSuffix(md, "```\n\n</details>\n") {
		t.Error("the folded diff is not closed")
	}
	// Every changed printer is either shown in the diff or counted.
	shown := strings.Count(md, "\n+ printer \"")
	var left int
	if _, err := fmt.Sscanf(md[strings.Index(md, "# … and ")+len("# … and "):], "%d", &left); err != nil {
		t.Fatalf("no count of printers left out of the diff: %v", err)
	}
	if shown == 0 || shown+left != 2500 {
		t.Errorf("diff shows %d printers and counts %d more; want 2500 in all", shown, left)
	}
}

func TestRenderApplyJSON(t *testing.T) {
	var b bytes.Buffer
	err := RenderApplyJSON(&b, &plans.ApplyResult{RunID: 7, Printers: []plans.PrinterResult{
		{Name: "lobby", Status: plans.ResultApplied, Changes: 2, Firmware: plans.FirmwareUpgraded},
		{Name: "hall", Status: plans.ResultStale, Detail: "system.contact changed since the plan"},
	}, Notes: []string{"rollout halted"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "format_version": "2.1",
  "run_id": 7,
  "printers": [
    {
      "name": "lobby",
      "status": "applied",
      "detail": "",
      "changes": 2,
      "firmware": "upgraded"
    },
    {
      "name": "hall",
      "status": "stale",
      "detail": "system.contact changed since the plan",
      "changes": 0
    }
  ],
  "notes": [
    "rollout halted"
  ]
}
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("apply -json (-want +got):\n%s", d)
	}
}
