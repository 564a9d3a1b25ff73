package layout

import (
	"os/exec"
	"path"
	"strings"
	"testing"
)

const module = "github.com/inkform/inkform"

// rules say which packages a package (and its sub-packages) must not
// import, and why. Test files are not checked: tests may reach across.
var rules = []struct {
	from   string
	not    []string
	reason string
}{
	{"catalog", []string{"fleet", "hcl", "plans", "planner", "apply", "views", "observer", "providers", "state", "simulator", "watch", "cmd"},
		"the settings catalog is data at the bottom of the graph"},
	{"fleet", []string{"hcl", "plans", "planner", "apply", "views", "observer", "providers", "state", "simulator", "watch", "cmd"},
		"the shared model knows no language, protocol or store"},
	{"alerts", []string{"catalog", "fleet", "hcl", "plans", "planner", "apply", "views", "observer", "providers", "state", "simulator", "watch", "cmd"},
		"the alert model is data at the bottom of the graph, like fleet"},
	{"hcl", []string{"providers", "plans", "planner", "apply", "views", "observer", "state/sqlstate", "simulator", "watch", "cmd"},
		"the language knows no protocol and no engine"},
	{"simulator", []string{"providers", "hcl", "plans", "planner", "apply", "views", "observer", "state", "watch", "cmd"},
		"the simulator is a printer, not a client (it serves LST with the device side, providers/lst/wire)"},
	{"providers/lst/wire", []string{"catalog", "fleet", "alerts", "hcl", "plans", "planner", "apply", "views", "observer", "providers", "state", "simulator", "watch", "cmd"},
		"the LST wire is shared by client and device: it imports nothing of inkform"},
	{"plans", []string{"planner", "apply", "views", "observer", "providers", "state/sqlstate", "watch", "cmd"},
		"a plan is data: it imports nothing that makes, runs or shows it"},
	{"observer", []string{"planner", "apply", "views", "watch", "cmd"},
		"observation serves planner, watch and discovery alike"},
	{"providers", []string{"planner", "apply", "views", "observer", "state", "hcl", "watch", "cmd"},
		"a protocol knows printers, not plans or state"},
	{"providers/mdns", []string{"catalog", "fleet", "simulator", "discovery", "providers/router", "providers/snmp"},
		"DNS-SD browsing stands alone: its Service type is plain data that discovery merges with what the SNMP sweep found"},
	{"state", []string{"planner", "apply", "views", "observer", "providers", "hcl", "watch", "cmd"},
		"state records; it does not plan or talk to printers"},
	{"planner", []string{"apply", "views", "watch", "cmd"},
		"the diff knows neither how plans are carried out nor shown"},
	{"apply", []string{"views", "watch", "cmd"},
		"the executor reports through data, not renderings"},
	{"views", []string{"planner", "apply", "observer", "providers", "state/sqlstate", "watch", "cmd"},
		"views render plans and results; they do not make them"},
	{"watch", []string{"planner", "apply", "views", "state/sqlstate", "cmd"},
		"the service runs through interfaces: plans and state come in through them"},
	{"watch/web", []string{"planner", "apply", "views", "observer", "providers", "hcl", "plans", "simulator", "state/sqlstate",
		"state/sqlite", "state/firebird", "state/sqlserver", "state/backend", "state/memstate", "cmd"},
		"the status page shows state, alerts and the fleet through their interfaces; the watch process gives it what it observed"},
	{"watch/web/auth", []string{"planner", "apply", "views", "observer", "providers", "hcl", "simulator", "state/sqlstate", "reports", "watch", "cmd"},
		"logins check who a person is and their role: they know the configuration (alerts) and state, not the engine, the page or the fleet"},
	{"reports", []string{"hcl", "plans", "planner", "apply", "views", "observer", "providers", "state/sqlstate", "simulator", "watch", "cmd"},
		"a report renders the data it is given; it neither observes, plans nor stores"},
	{"protocol", []string{"catalog", "fleet", "alerts", "hcl", "plans", "planner", "apply", "views", "observer", "providers", "state", "simulator", "watch", "reports", "cmd"},
		"a wire format is bytes and messages: the clients, the intake and the simulator share it"},
	{"discovery", []string{"plans", "planner", "apply", "views", "state", "simulator", "watch", "cmd"},
		"discovery finds printers and describes them; it neither plans, applies nor records"},
	{"cmd", []string{"state/sqlstate"},
		"commands use state.Store and its capabilities, never the SQL core"},
}

// exceptions are packages a rule's from may import although they lie within
// its not: the device side of a protocol is part of a printer.
var exceptions = map[string][]string{
	"simulator": {"providers/lst/wire"},
}

// required are the packages the architecture names.
var required = []string{"catalog", "fleet", "hcl", "plans", "plans/planfile", "planner", "apply", "views", "observer",
	"providers", "state", "state/backend", "state/memstate", "simulator", "alerts", "watch", "reports", "providers/mdns", "discovery", "watch/web", "watch/web/auth"}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"/...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, ok := strings.CutPrefix(f[0], module+"/")
		if !ok {
			continue
		}
		for _, imp := range f[1:] {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				imports[pkg] = append(imports[pkg], rel)
			}
		}
		if _, ok := imports[pkg]; !ok {
			imports[pkg] = nil
		}
	}
	for _, want := range required {
		if _, ok := imports[want]; !ok {
			t.Errorf("package %s is missing", want)
		}
	}
	for pkg, deps := range imports {
		for _, r := range rules {
			if !within(pkg, r.from) {
				continue
			}
			for _, dep := range deps {
				for _, not := range r.not {
					if within(dep, not) && !within(dep, r.from) && !allowed(dep, exceptions[r.from]) {
						t.Errorf("%s imports %s: %s", pkg, dep, r.reason)
					}
				}
			}
		}
		if within(pkg, "cmd") {
			continue
		}
		for _, dep := range deps {
			if within(dep, "cmd") {
				t.Errorf("%s imports the command %s", pkg, dep)
			}
		}
	}
}

func allowed(dep string, allow []string) bool {
	for _, a := range allow {
		if within(dep, a) {
			return true
		}
	}
	return false
}

// within says whether pkg is dir or below it.
func within(pkg, dir string) bool {
	return pkg == dir || strings.HasPrefix(pkg, dir+"/") || path.Clean(pkg) == dir
}
