package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inkform/inkform/simulator"
)

func runArgs(t *testing.T, env []string, args ...string) (ExitCode, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runContext(context.Background(), args, streams{In: strings.NewReader(""), Out: &out, Err: &errb, Env: env})
	return code, out.String(), errb.String()
}

func TestTyposFailWithSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"state", "lst"}, "Did you mean this?\n\tlist"},
		{[]string{"state", "histroy"}, "Did you mean this?\n\thistory"},
		{[]string{"plna"}, "Did you mean this?\n\tplan"},
		{[]string{"plan", "-detailed-exit-code"}, "unknown flag -detailed-exit-code for \"inkform plan\"; did you mean -detailed-exitcode?"},
		{[]string{"plan", "--detailed-exit-code"}, "did you mean -detailed-exitcode?"},
		{[]string{"apply", "-auto-aprove"}, "did you mean -auto-approve?"},
	} {
		code, _, errOut := runArgs(t, nil, tc.args...)
		if code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("inkform %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	// A group without arguments still shows its help.
	if code, out, _ := runArgs(t, nil, "state"); code != ExitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("inkform state: exit %d\n%s", code, out)
	}
}

func TestVersionFlags(t *testing.T) {
	for _, arg := range []string{"-version", "--version"} {
		code, out, errOut := runArgs(t, nil, arg)
		if code != ExitOK || !strings.HasPrefix(out, "inkform ") {
			t.Errorf("inkform %s: exit %d %q %q", arg, code, out, errOut)
		}
	}
}

func TestColourFollowsTerminalAndFlags(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	for _, tc := range []struct {
		env    []string
		args   []string
		colour bool
	}{
		{nil, nil, true},
		{[]string{"NO_COLOR=1"}, nil, false},
		{[]string{"TERM=dumb"}, nil, false},
		{nil, []string{"-no-color"}, false},
	} {
		var out, errb bytes.Buffer
		env := append([]string{"INKFORM_VAR_community=private"}, tc.env...)
		io := streams{In: strings.NewReader(""), Out: &out, Err: &errb, Terminal: true, Env: env}
		args := append([]string{"plan", "-config", f.dir}, tc.args...)
		code := runContext(context.Background(), args, io)
		if code != ExitOK {
			t.Fatalf("%v %v: exit %d\n%s%s", tc.env, tc.args, code, out.String(), errb.String())
		}
		if got := strings.Contains(out.String(), "\033["); got != tc.colour {
			t.Errorf("env %v args %v: colour codes = %v, want %v\n%s", tc.env, tc.args, got, tc.colour, out.String())
		}
	}
}

func TestValidateCountsPrinters(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	if r := f.mustRun(ExitOK, "validate"); !strings.Contains(r.out, "valid: 1 printer.") {
		t.Errorf("validate: %q", r.out)
	}
}

// Commands that only read create no state; those that talk to no printer
// need no credentials.
func TestReadOnlyCommandsCreateNoState(t *testing.T) {
	f := newFixture(t, 1, simulator.Options{})
	db := filepath.Join(f.dir, "inkform.db")
	noCreds := []string{"NO_COLOR=1"} // no INKFORM_VAR_community
	for _, args := range [][]string{{"show"}, {"state", "list"}, {"state", "history"}} {
		r := f.runEnv(noCreds, args...)
		if r.code != ExitOK || !strings.Contains(r.out, "No state yet: ") {
			t.Errorf("inkform %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.err)
		}
	}
	if r := f.runEnv(noCreds, "state", "list", "-json"); r.code != ExitOK || !strings.Contains(r.out, `"printers": []`) {
		t.Errorf("state list -json: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r := f.runEnv(noCreds, "state", "rm", "printer.p00"); r.code != ExitError || !strings.Contains(r.err, "No state yet") {
		t.Errorf("state rm: exit %d\n%s%s", r.code, r.out, r.err)
	}
	f.mustRun(ExitOK, "plan")
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read-only commands created the state: %v", err)
	}
	f.mustRun(ExitOK, "apply", "-auto-approve")
	if r := f.runEnv(noCreds, "state", "list"); r.code != ExitOK || !strings.Contains(r.out, "p00") {
		t.Errorf("state list after apply, without credentials: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

// sim on a taken port says so and how to get free ports.
func TestSimSaysWhenAPortIsTaken(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	code, _, errOut := runArgs(t, nil, "sim", "--printers", "1", "--services", "none", "--base-port", strconv.Itoa(port))
	if code != ExitError || !strings.Contains(errOut, "is taken") || !strings.Contains(errOut, "--base-port 0") {
		t.Errorf("sim on a taken port: exit %d\n%s", code, errOut)
	}
}
