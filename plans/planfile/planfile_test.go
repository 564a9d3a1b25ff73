package planfile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/planner"
	"github.com/inkform/inkform/planner/plannertest"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/views"
)

// renderAll renders p in every view; a plan read back must render as the
// plan written.
func renderAll(t *testing.T, p *plans.Plan) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, render := range map[string]func(*bytes.Buffer) error{
		"human":    func(b *bytes.Buffer) error { return views.RenderHuman(b, p, views.RenderOptions{}) },
		"json":     func(b *bytes.Buffer) error { return views.RenderJSON(b, p) },
		"markdown": func(b *bytes.Buffer) error { return views.RenderMarkdown(b, p) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b.Bytes()
	}
	return out
}

// seal ends a plan file's content (a JSON object without its digest) with
// the digest Write would give it, as if inkform had written it.
func seal(content []byte) []byte {
	body := bytes.TrimSuffix(bytes.TrimRight(content, "\n"), []byte("}"))
	sum := sha256.Sum256(body)
	return append(append([]byte{}, body...), digestTrailer(sum[:])...)
}

// unseal is a plan file's content without its digest, as seal takes it.
func unseal(file []byte) []byte {
	if i := bytes.LastIndex(file, []byte(digestPrefix)); i >= 0 {
		return append(append([]byte{}, file[:i]...), '}')
	}
	return file
}

func TestPlanFileRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":        "plan",
		"other kind":      `{"kind":"terraform-plan","format_version":"1.1"}`,
		"unknown version": `{"kind":"inkform-plan","format_version":"2.0"}`,
		"bad action":      `{"kind":"inkform-plan","format_version":"1.1","printers":[{"name":"a","action":"destroy","status":"ready"}]}`,
		"bad status":      `{"kind":"inkform-plan","format_version":"1.1","printers":[{"name":"a","action":"no-op","status":"fine"}]}`,
		"duplicate":       `{"kind":"inkform-plan","format_version":"1.1","printers":[{"name":"a","action":"no-op","status":"ready"},{"name":"a","action":"no-op","status":"ready"}]}`,
		"clear secret":    `{"kind":"inkform-plan","format_version":"1.1","printers":[{"name":"a","action":"update","status":"ready","changes":[{"setting":"s","action":"update","after":"x","sensitive":true}]}]}`,
		"plain hash of a secret": `{"kind":"inkform-plan","format_version":"1.1","printers":[{"name":"a","action":"update","status":"ready","changes":[{"setting":"s","action":"update","sensitive":true,"after_hash":"` +
			state.HashValue("4711") + `"}]}]}`,
	} {
		if _, err := Read(bytes.NewReader(seal([]byte(in)))); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "unknown version" && !strings.Contains(err.Error(), `format version "2.0" is not supported`) {
			t.Errorf("%s: unclear error %v", name, err)
		}
	}
}

func TestPlanFileWithoutPrinters(t *testing.T) {
	var file bytes.Buffer
	if err := Write(&file, &plans.Plan{ConfigHash: "sha256:cafe"}); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(file.Bytes()) {
		t.Fatalf("not JSON: %s", file.Bytes())
	}
	back, err := Read(&file)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Printers) != 0 || back.ConfigHash != "sha256:cafe" {
		t.Errorf("read back %+v", back)
	}
}

func TestPlanFileTooLarge(t *testing.T) {
	defer func(n int64) { maxPlanFile = n }(maxPlanFile)
	maxPlanFile = 64
	var file bytes.Buffer
	if err := Write(&file, &plans.Plan{ConfigHash: "sha256:" + strings.Repeat("0", 64)}); err != nil {
		t.Fatal(err)
	}
	_, err := Read(&file)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v, want a plan file that is too large", err)
	}
}

func TestPlanFileRoundTrip(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{ConfigHash: "sha256:cafe", Targets: nil})
	var file bytes.Buffer
	if err := Write(&file, p); err != nil {
		t.Fatal(err)
	}
	back, err := Read(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, back, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(plans.Plan{})); diff != "" {
		t.Errorf("plan changed through a plan file (-before +after):\n%s", diff)
	}
	before, after := renderAll(t, p), renderAll(t, back)
	for name := range before {
		if !bytes.Equal(before[name], after[name]) {
			t.Errorf("%s renders differently after a plan file round trip", name)
		}
	}
}

func TestPlanFileHoldsNoSecret(t *testing.T) {
	var file bytes.Buffer
	if err := Write(&file, plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{plannertest.SecretDesired, plannertest.SecretObserved} {
		if bytes.Contains(file.Bytes(), []byte(secret)) {
			t.Error("the plan file contains a secret")
		}
		// Nor its plain hash, which trying every value would undo.
		if bytes.Contains(file.Bytes(), []byte(strings.TrimPrefix(state.HashValue(secret), "sha256:"))) {
			t.Error("the plan file contains the plain hash of a secret")
		}
	}
}

// Firmware, files and notes survive a plan file.
func TestPlanFileKeepsDeploys(t *testing.T) {
	plan := plannertest.DeployFleet().Plan(t, planner.PlanOptions{})
	var buf bytes.Buffer
	if err := Write(&buf, plan); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Printers[0].Firmware == nil || len(plan.Printers[0].Files) == 0 || len(plan.Printers[0].Notes) == 0 {
		t.Fatalf("the fixture plans no firmware, file or note: %+v", plan.Printers[0])
	}
	if d := cmp.Diff(plan.Printers[0].Firmware, back.Printers[0].Firmware); d != "" {
		t.Errorf("firmware after a plan file (-want +got):\n%s", d)
	}
	if d := cmp.Diff(plan.Printers[0].Files, back.Printers[0].Files); d != "" {
		t.Errorf("files after a plan file (-want +got):\n%s", d)
	}
	if d := cmp.Diff(plan.Printers[0].Notes, back.Printers[0].Notes); d != "" {
		t.Errorf("notes after a plan file (-want +got):\n%s", d)
	}
}

func FuzzReadPlanFile(f *testing.F) {
	// The seed corpus is the rich plan's file plus broken variants.
	fx := plannertest.RichFleet(f)
	p, err := fx.Planner.Plan(context.Background(), fx.Printers, planner.PlanOptions{})
	if err != nil {
		f.Fatal(err)
	}
	var file bytes.Buffer
	if err := Write(&file, p); err != nil {
		f.Fatal(err)
	}
	// Seeds are contents without their digest: each input is sealed, so
	// that what follows the digest check is what gets fuzzed.
	content := unseal(file.Bytes())
	f.Add(content)
	f.Add(content[:len(content)/2])
	f.Add([]byte(`{"kind":"inkform-plan","format_version":"1.1","printers":[{"name":"a","action":"update","status":"ready","changes":[{"setting":"s","action":"adopt"}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Read(bytes.NewReader(data)); err == nil && !bytes.HasSuffix(data, []byte(digestSuffix)) {
			t.Fatal("a file without a digest was accepted")
		}
		p, err := Read(bytes.NewReader(seal(data)))
		if err != nil {
			return
		}
		// Whatever is accepted renders and round-trips.
		renderAll(t, p)
		var out bytes.Buffer
		if err := Write(&out, p); err != nil {
			t.Fatal(err)
		}
		again, err := Read(&out)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if diff := cmp.Diff(p, again, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(plans.Plan{})); diff != "" {
			t.Fatalf("round trip changed the plan:\n%s", diff)
		}
	})
}

// A plan file stores an observation in the one JSON form plan -json shows.
func TestPlanFileObservedAsInJSON(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})
	var file, js bytes.Buffer
	if err := Write(&file, p); err != nil {
		t.Fatal(err)
	}
	if err := views.RenderJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	type doc struct {
		Printers []struct {
			Name     string          `json:"name"`
			Observed json.RawMessage `json:"observed"`
		} `json:"printers"`
	}
	var fromFile, fromJSON doc
	if err := json.Unmarshal(file.Bytes(), &fromFile); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	observed := 0
	for i, pr := range fromFile.Printers {
		var compact bytes.Buffer
		if len(fromJSON.Printers[i].Observed) > 0 {
			if err := json.Compact(&compact, fromJSON.Printers[i].Observed); err != nil {
				t.Fatal(err)
			}
			observed++
		}
		if !bytes.Equal(pr.Observed, compact.Bytes()) {
			t.Errorf("%s: observed in the plan file\n%s\nin plan -json\n%s", pr.Name, pr.Observed, compact.Bytes())
		}
	}
	if observed == 0 {
		t.Error("no printer was observed")
	}
}

// An observation in the form plan files had before observations had one
// JSON form (empty lists left out; the observation's own unsupported
// settings and transport, which the plan keeps elsewhere) still reads.
func TestPlanFileReadsEarlierObservation(t *testing.T) {
	in := `{"kind":"inkform-plan","format_version":"1.1","created_at":"2025-03-04T05:06:07Z","config_hash":"sha256:cafe",` +
		`"printers":[{"name":"a","address":"10.0.0.1:161","action":"no-op","status":"ready","transport":"snmp","unsupported":["x"],` +
		`"observed":{"model":"M","serial":"S","firmware":"F","status":"idle","page_count":7,"observed_at":"2025-03-04T05:06:00Z","unsupported":["x"],"transport":"snmp"}}]}`
	p, err := Read(bytes.NewReader(seal([]byte(in))))
	if err != nil {
		t.Fatal(err)
	}
	want := &plans.Observed{
		Model: "M", Serial: "S", Firmware: "F", Status: "idle", Errors: []string{}, Supplies: []fleet.Supply{},
		PageCount: 7, ObservedAt: time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC),
	}
	if d := cmp.Diff(want, p.Printers[0].Observed); d != "" {
		t.Errorf("observed (-want +got):\n%s", d)
	}
}

// A plan file is known by its first bytes; plan -json's output and
// configuration are not plan files.
func TestIsPlanFile(t *testing.T) {
	p := plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})
	var file, js bytes.Buffer
	if err := Write(&file, p); err != nil {
		t.Fatal(err)
	}
	if err := views.RenderJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	if !IsPlanFile(file.Bytes()[:MagicLen]) {
		t.Errorf("a plan file is not recognised: %.60s", file.Bytes())
	}
	for _, other := range [][]byte{js.Bytes(), []byte("printer \"a\" {}\n"), []byte(`{"kind":"inkform`), nil} {
		if IsPlanFile(other) {
			t.Errorf("%.60q is taken for a plan file", other)
		}
	}
}

// richFile is the rich plan's file.
func richFile(t *testing.T) []byte {
	t.Helper()
	var file bytes.Buffer
	if err := Write(&file, plannertest.RichFleet(t).Plan(t, planner.PlanOptions{})); err != nil {
		t.Fatal(err)
	}
	return file.Bytes()
}

// A plan file edited or damaged after it was written is refused, whatever
// was changed: show must not show, nor apply carry out, another plan.
func TestPlanFileRefusesEditedOrDamagedFile(t *testing.T) {
	file := richFile(t)
	if _, err := Read(bytes.NewReader(file)); err != nil {
		t.Fatalf("the file as written: %v", err)
	}
	const after = `"after":"HQ 3F"`
	if !bytes.Contains(file, []byte(after)) {
		t.Fatalf("the fixture plans no %s:\n%s", after, file)
	}
	flipped := bytes.Clone(file)
	flipped[len(flipped)/2] ^= 0x01
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"after edited":   {bytes.Replace(file, []byte(after), []byte(`"after":"HQ 4F"`), 1), "does not match its digest"},
		"a bit flipped":  {flipped, "does not match its digest"},
		"digest removed": {unseal(file), "does not end with the digest"},
		"newline cut":    {file[:len(file)-1], "does not end with the digest"},
		"text appended":  {append(bytes.Clone(file), "{}\n"...), "does not end with the digest"},
		"line ends CRLF": {bytes.ReplaceAll(file, []byte("\n"), []byte("\r\n")), "does not end with the digest"},
	} {
		_, err := Read(bytes.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "make the plan again") {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

// Values stored in clear must match their hashes, which apply compares:
// show would otherwise show a value apply does not write. The files are
// sealed again after the edit, so that only this check can refuse them.
func TestPlanFileValuesMatchTheirHashes(t *testing.T) {
	file := unseal(richFile(t))
	for _, tc := range []struct{ from, to, want string }{
		{`"after":"HQ 3F"`, `"after":"HQ 4F"`, `printer hq-3f: setting system.location: the value after, "HQ 4F", does not match its hash`},
		{`"before":"Unknown"`, `"before":"Known"`, `printer hq-2f-east: setting system.contact: the value before, "Known", does not match its hash`},
	} {
		if !bytes.Contains(file, []byte(tc.from)) {
			t.Fatalf("the fixture plans no %s", tc.from)
		}
		_, err := Read(bytes.NewReader(seal(bytes.Replace(file, []byte(tc.from), []byte(tc.to), 1))))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s edited to %s: err = %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}

// A printer the plan writes or adopts must carry what was observed of it:
// without its observed hashes apply cannot tell that the device changed
// since the plan, and would overwrite a change made by hand. Files are
// sealed again after the edit, so that only this check can refuse them.
func TestPlanFileRequiresObservedHashes(t *testing.T) {
	file := unseal(richFile(t))
	edit := func(t *testing.T, printer string, change func(map[string]any)) []byte {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal(file, &doc); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range doc["printers"].([]any) {
			if p := p.(map[string]any); p["name"] == printer {
				change(p)
				found = true
			}
		}
		if !found {
			t.Fatalf("no printer %s in the plan file", printer)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return seal(b)
	}
	for _, tc := range []struct {
		name, printer string
		change        func(map[string]any)
		want          string
	}{
		{"hashes deleted", "hq-3f", func(p map[string]any) { delete(p, "observed_hashes") }, "printer hq-3f: the plan changes it but does not carry what it observed"},
		{"hashes deleted", "hq-2f-east", func(p map[string]any) { delete(p, "observed_hashes") }, "printer hq-2f-east: the plan changes it but does not carry what it observed"},
		{"hashes emptied", "hq-3f", func(p map[string]any) { p["observed_hashes"] = map[string]any{} }, "printer hq-3f: setting system.contact: the plan changes it but carries no observed hash"},
		{"one hash deleted", "hq-2f-east", func(p map[string]any) { delete(p["observed_hashes"].(map[string]any), "system.name") }, "printer hq-2f-east: setting system.name: the plan changes it but carries no observed hash"},
		{"one hash replaced", "hq-2f-east", func(p map[string]any) {
			p["observed_hashes"].(map[string]any)["system.contact"] = state.HashValue("IT Service Desk x4000")
		}, "printer hq-2f-east: setting system.contact: its observed hash differs"},
		{"observation deleted", "hq-3f", func(p map[string]any) { delete(p, "observed") }, "printer hq-3f: the plan changes it but does not carry what it observed"},
		{"state only, hashes deleted", "lab-3", func(p map[string]any) { delete(p, "observed_hashes") }, "printer lab-3: the plan changes it but does not carry what it observed"},
	} {
		_, err := Read(bytes.NewReader(edit(t, tc.printer, tc.change)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s of %s: err = %v, want %q", tc.name, tc.printer, err, tc.want)
		}
	}
	// Printers the plan does not change need none: they are not written.
	for _, printer := range []string{"lab-1", "lab-2", "lab-4", "old-lobby"} {
		if _, err := Read(bytes.NewReader(edit(t, printer, func(p map[string]any) { delete(p, "observed_hashes") }))); err != nil {
			t.Errorf("%s without observed hashes: %v", printer, err)
		}
	}
}

// A printer observed with no setting to hash, to which the plan sends a
// file, still carries its (empty) observed hashes through a plan file.
func TestPlanFileKeepsEmptyObservedHashes(t *testing.T) {
	p := &plans.Plan{Printers: []plans.PrinterPlan{{
		Name: "a", Action: plans.Update, Status: plans.StatusReady,
		Observed:       &plans.Observed{Serial: "S", Errors: []string{}, Supplies: []fleet.Supply{}},
		ObservedHashes: map[string]string{},
		Files:          []plans.FileChange{{Dest: "ca.pem", Action: plans.Adopt, Size: 1, SHA256: strings.Repeat("0", 64), Via: "ftp"}},
	}}}
	var file bytes.Buffer
	if err := Write(&file, p); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&file)
	if err != nil {
		t.Fatal(err)
	}
	if back.Printers[0].ObservedHashes == nil {
		t.Error("empty observed hashes came back as none")
	}
}
