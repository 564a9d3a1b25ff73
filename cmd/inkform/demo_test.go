package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs scripts/demo.sh (make demo) with this test binary as
// inkform: on a healthy fleet it converges, and with printers offline it
// fails loudly instead of saying "Converged".
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo in -short mode")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	demo := func(simArgs string) (string, error) {
		cmd := exec.Command("bash", filepath.Join("scripts", "demo.sh"), os.Args[0])
		cmd.Dir = root
		cmd.Env = append(os.Environ(), asCLIEnv+"=1", "INKFORM_DEMO_SIM_ARGS="+simArgs, "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := demo("")
	if err != nil || !strings.Contains(out, "Converged: all 25 printers checked") {
		t.Fatalf("demo on a healthy fleet: %v\n%s", err, lastLines(out, 30))
	}
	out, err = demo("--offline 2")
	if err == nil || strings.Contains(out, "Converged") || !strings.Contains(out, "Demo failed") || !strings.Contains(out, "2 printers not checked") {
		t.Fatalf("demo with 2 printers offline: %v\n%s", err, lastLines(out, 30))
	}
}
