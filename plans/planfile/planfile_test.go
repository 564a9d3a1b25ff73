package planfile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/inkform/inkform/plans"
)

func TestPlanFileRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":        "plan",
		"other kind":      `{"kind":"terraform-plan","format_version":"1.0"}`,
		"unknown version": `{"kind":"inkform-plan","format_version":"2.0"}`,
		"bad action":      `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"destroy","status":"ready"}]}`,
		"bad status":      `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"no-op","status":"fine"}]}`,
		"duplicate":       `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"no-op","status":"ready"},{"name":"a","action":"no-op","status":"ready"}]}`,
		"clear secret":    `{"kind":"inkform-plan","format_version":"1.0","printers":[{"name":"a","action":"update","status":"ready","changes":[{"setting":"s","action":"update","after":"x","sensitive":true}]}]}`,
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
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
