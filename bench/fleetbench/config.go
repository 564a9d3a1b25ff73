package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/inkform/inkform/catalog"
)

// factoryContact is the simulator's system.contact before anything writes
// it (the catalog's default): the first configuration declares it, so that
// adopting the fleet writes nothing, and the second changes it.
func factoryContact() string {
	st, _ := catalog.Default().Lookup("system.contact")
	return st.Default
}

// fleetSettings is a realistic configuration: 21 catalog settings, all at
// the simulator's factory values except system.contact, which the caller
// chooses (so a second run changes exactly one setting on every printer).
var fleetSettings = map[string]string{
	"system.location":            "",
	"printer.localization":       "1",
	"printer.current_operator":   "",
	"printer.service_person":     "",
	"printer.default_input":      "1",
	"printer.default_output":     "1",
	"printer.default_marker":     "1",
	"printer.default_media_path": "1",
	"console.localization":       "1",
	"console.disable":            "3",
	"printer.startup_page":       "3",
	"printer.banner_page":        "4",
	"tray1.feed_dimension":       "297000",
	"tray1.xfeed_dimension":      "210000",
	"tray1.media_name":           "Plain Paper",
	"tray1.name":                 "Tray 1",
	"tray2.feed_dimension":       "297000",
	"tray2.xfeed_dimension":      "210000",
	"tray2.media_name":           "Plain Paper",
	"tray2.name":                 "MP Feeder",
}

// settingOIDs are the OIDs of the configured settings, as the floor reads
// them: sorted like the SNMP provider sorts them.
func settingOIDs() []string {
	cat := catalog.Default()
	var oids []string
	for _, name := range append(sortedNames(), "system.contact") {
		s, ok := cat.Lookup(name)
		if !ok || s.SNMP == nil {
			panic("fleetbench: setting " + name + " is not in the catalog") // a mismatch between this file and the catalog
		}
		oids = append(oids, "."+strings.TrimPrefix(s.SNMP.OID, "."))
	}
	sort.Strings(oids)
	return oids
}

func sortedNames() []string {
	var names []string
	for k := range fleetSettings {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// writeConfig writes a configuration declaring the printers: the first
// half as printer blocks, the second half as rows of a CSV file expanded
// with for_each.
func writeConfig(dir string, printers []simPrinter, timeout time.Duration, contact string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var hcl, csv strings.Builder
	fmt.Fprintf(&hcl, `variable "community" {
  type      = string
  sensitive = true
}

credentials "fleet" {
  snmp {
    version   = "2c"
    community = var.community
    timeout   = %q
    retries   = %d
  }
}

configuration "office" {
  settings = {
    "system.contact" = %q
`, timeout.String(), retries, contact)
	for _, k := range sortedNames() {
		fmt.Fprintf(&hcl, "    %q = %q\n", k, fleetSettings[k])
	}
	hcl.WriteString(`  }
}

printer "row" {
  for_each      = { for r in csvdecode(file("printers.csv")) : r.name => r }
  address       = each.value.address
  serial        = each.value.serial
  configuration = configuration.office
  credentials   = credentials.fleet
  keywords      = ["csv", each.value.site]
}
`)
	csv.WriteString("name,address,serial,site\n")
	half := len(printers) / 2
	for i, p := range printers {
		if i < half {
			fmt.Fprintf(&hcl, "\nprinter %q {\n  address       = %q\n  serial        = %q\n  configuration = configuration.office\n  credentials   = credentials.fleet\n  keywords      = [\"block\"]\n}\n",
				p.name, p.address, p.serial)
			continue
		}
		site := "hq"
		if i%2 == 1 {
			site = "wh"
		}
		fmt.Fprintf(&csv, "%s,%s,%s,%s\n", p.name, p.address, p.serial, site)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "printers.csv"), []byte(csv.String()), 0o644)
}

// raiseFileLimit lifts the soft open-files limit to the hard one; children
// (the simulator, inkform) inherit it. It returns the limit in effect.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			lim = want
		}
	}
	return lim.Cur, nil
}

func numCPU() int { return runtime.NumCPU() }
