package hcl

import (
	"fmt"
	"strings"
	"testing"
)

// largeFleet returns a configuration of n printers: half declared as
// blocks, half as rows of a CSV file expanded by for_each.
func largeFleet(n int) map[string]string {
	var blocks, csv strings.Builder
	blocks.WriteString(`
credentials "fleet" {
  snmp {
    community = "private"
  }
}
configuration "office" {
  contact  = "IT Service Desk x4000"
  settings = { "system.name" = "office" }
}
configuration "warehouse" {
  contact = "Warehouse"
}
printer "csv" {
  for_each      = { for r in csvdecode(file("printers.csv")) : r.name => r }
  address       = each.value.address
  serial        = each.value.serial
  location      = each.value.location
  configuration = each.value.site == "hq" ? configuration.office : configuration.warehouse
  credentials   = credentials.fleet
}
`)
	csv.WriteString("name,address,serial,location,site\n")
	for i := 0; i < n/2; i++ {
		fmt.Fprintf(&blocks, "printer \"p%d\" {\n  address       = \"10.%d.%d.%d\"\n  serial        = \"S%d\"\n  location      = \"Floor %d\"\n  configuration = configuration.office\n  credentials   = credentials.fleet\n  keywords      = [\"hq\", \"color\"]\n}\n",
			i, 1, i/250, i%250+1, i, i%10)
		site := "hq"
		if i%2 == 1 {
			site = "wh"
		}
		fmt.Fprintf(&csv, "c%d,10.2.%d.%d,C%d,Bay %d,%s\n", i, i/250, i%250+1, i, i%7, site)
	}
	return map[string]string{"main.hcl": blocks.String(), "printers.csv": csv.String()}
}

// TestLoadLargeFleet checks that a 10,000-printer configuration (half
// for_each over a CSV) loads completely; its speed is BenchmarkLoad10k's job.
func TestLoadLargeFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("large fleet in -short mode")
	}
	dir := writeConfig(t, largeFleet(10000))
	cfg := mustLoad(t, dir, LoadOptions{})
	if len(cfg.Printers) != 10000 {
		t.Fatalf("got %d printers, want 10000", len(cfg.Printers))
	}
}

func BenchmarkLoad10k(b *testing.B) {
	dir := writeConfig(b, largeFleet(10000))
	b.ResetTimer()
	for b.Loop() {
		if _, diags := Load(dir, LoadOptions{}); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
