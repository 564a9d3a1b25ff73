package hcl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormat(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "format", "messy.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	got, diags := Format(in, "messy.hcl")
	if diags.HasErrors() {
		t.Fatalf("Format: %s", diagText(diags))
	}
	golden := filepath.Join("testdata", "format", "messy.golden.hcl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Format (-want +got):\n%s", diff)
	}
	again, diags := Format(got, "messy.hcl")
	if diags.HasErrors() || string(again) != string(got) {
		t.Errorf("Format is not idempotent:\n%s", cmp.Diff(string(got), string(again)))
	}
}

func TestFormatRefusesBrokenInput(t *testing.T) {
	out, diags := Format([]byte("printer \"a\" {\n  address = \n"), "broken.hcl")
	if !diags.HasErrors() {
		t.Fatal("no error for broken input")
	}
	if out != nil {
		t.Errorf("Format returned output for broken input: %q", out)
	}
	if diags[0].Subject == nil || diags[0].Subject.Filename != "broken.hcl" {
		t.Errorf("diagnostic does not name the file: %+v", diags[0].Subject)
	}
}
