package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// dataKeyed are the JSON fields whose keys are data (setting names, file
// names on the printer), not names of fields.
var dataKeyed = map[string]bool{"settings": true, "file_hashes": true}

// Every command's JSON is one document with a format_version, and every
// key of it is snake_case.
func TestJSONOutputsAreVersionedAndSnakeCase(t *testing.T) {
	f := newFixture(t, 2, simulator.Options{})
	env := []string{"INKFORM_VAR_community=private"}
	planFile := filepath.Join(t.TempDir(), "plan.out")
	for _, args := range [][]string{
		{"plan", "-json", "-out", planFile},
		{"show", planFile, "-json"},
		{"apply", planFile, "-json"},
		{"show", "-json"},
		{"state", "list", "-json"},
		{"state", "show", "printer.p01", "-json"},
		{"state", "history", "-json"},
		{"state", "history", "printer.p01", "-json"},
	} {
		name := strings.Join(args, " ")
		out := f.mustRunEnv(env, args...).out
		dec := json.NewDecoder(strings.NewReader(out))
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
			continue
		}
		if dec.More() {
			t.Errorf("%s: more than one JSON document:\n%s", name, out)
		}
		if v, _ := doc["format_version"].(string); v == "" {
			t.Errorf("%s: no format_version:\n%s", name, out)
		}
		checkSnakeCase(t, name, "$", doc)
		if bytes.Contains([]byte(out), []byte(`"printers": null`)) {
			t.Errorf("%s: printers is null, want a list:\n%s", name, out)
		}
	}
}

func checkSnakeCase(t *testing.T, cmd, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if !snakeCase.MatchString(k) {
				t.Errorf("%s: key %q at %s is not snake_case", cmd, k, path)
			}
			if !dataKeyed[k] {
				checkSnakeCase(t, cmd, path+"."+k, e)
			}
		}
	case []any:
		for _, e := range v {
			checkSnakeCase(t, cmd, path+"[]", e)
		}
	}
}
