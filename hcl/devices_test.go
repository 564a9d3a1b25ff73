package hcl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/inkform/inkform/catalog"
)

func TestDeviceBlocks(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
variable "acme_pen" {
  default = 99999
}
device "acme" {
  vendor = "Acme Printing"
  match { enterprise = var.acme_pen }
  match { sys_descr = "^ACME " }
  model {
    from    = "sys_descr"
    pattern = "^ACME (\\S+)"
    prefix  = "Acme "
  }
  firmware {
    from = "oid"
    oid  = "1.3.6.1.4.1.99999.1.2.0"
  }
  firmware {
    from    = "sys_descr"
    pattern = "FW ([\\d.]+)"
  }
  serial {
    from  = "device_id"
    oid   = "1.3.6.1.4.1.99999.1.3.0"
    field = "SN"
  }
}
# A user's rule for a vendor the built-in rules know comes first.
device "lexmark_lab" {
  vendor = "Lexmark"
  match {
    enterprise = 641
    sys_descr  = "LAB"
  }
  model {
    from   = "hr_device_descr"
    prefix = "Lexmark "
  }
}
`})
	cfg := mustLoad(t, dir, LoadOptions{})
	if cfg.Devices == nil {
		t.Fatal("no device rules")
	}
	rule := cfg.Devices.Match(".1.3.6.1.4.1.99999.7", "anything")
	if rule.Vendor != "Acme Printing" {
		t.Fatalf("matched %q", rule.Vendor)
	}
	id, missing := rule.Identify(catalog.DeviceFacts{SysDescr: "ACME X200 FW 2.1.0", Objects: map[string]string{
		"1.3.6.1.4.1.99999.1.2.0": "", "1.3.6.1.4.1.99999.1.3.0": "MFG:Acme;SN:AC12345;",
		"1.3.6.1.2.1.43.5.1.1.17.1": "",
	}})
	if len(missing) != 0 || id.Model != "Acme X200" || id.Firmware != "2.1.0" || id.Serial != "AC12345" {
		t.Errorf("identity %+v, missing %v", id, missing)
	}
	if r := cfg.Devices.Match(".1.3.6.1.4.1.641.1", "Lexmark LAB unit"); len(r.Model) != 1 || r.Model[0].Prefix != "Lexmark " {
		t.Errorf("the user's Lexmark rule is not tried first: %+v", r.Model)
	}
	if r := cfg.Devices.Match(".1.3.6.1.4.1.641.1", "Lexmark MS821 version MSNGM.230.037"); r.Vendor != "Lexmark" || len(r.Model) < 2 {
		t.Errorf("the built-in Lexmark rule is lost: %+v", r.Model)
	}
	if catalog.DefaultDevices().Match(".1.3.6.1.4.1.99999.7", "").Vendor != "" {
		t.Error("a configuration's rules leaked into the built-in ones")
	}

	plain := mustLoad(t, writeConfig(t, map[string]string{"main.hcl": "\n"}), LoadOptions{})
	if plain.Devices != nil {
		t.Error("device rules without device blocks")
	}
}

// A wrong device rule is reported where it is written.
func TestDeviceBlockErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, where, detail string
	}{
		{"no match", "device \"a\" {\n  model { from = \"sys_descr\" }\n}\n", "main.hcl:1:1: error: Invalid device rule", "needs a match block"},
		{"empty match", "device \"a\" {\n  match {\n  }\n}\n", "main.hcl:2:3: error: Invalid device rule", "needs an enterprise or a sys_descr"},
		{"bad enterprise", "device \"a\" {\n  match { enterprise = -4 }\n}\n", "main.hcl:2:24: error: Invalid device rule", "private enterprise number"},
		{"bad pattern", "device \"a\" {\n  match { enterprise = 5 }\n  model {\n    from    = \"sys_descr\"\n    pattern = \"(\"\n  }\n}\n", "main.hcl:5:15: error: Invalid device rule", "pattern: error parsing regexp"},
		{"bad from", "device \"a\" {\n  match { enterprise = 5 }\n  serial { from = \"web\" }\n}\n", "main.hcl:3:19: error: Invalid device rule", `from "web"`},
		{"bad oid", "device \"a\" {\n  match { enterprise = 5 }\n  firmware {\n    from = \"oid\"\n    oid  = \".1.3.6\"\n  }\n}\n", "main.hcl:5:12: error: Invalid device rule", "not a dotted numeric OID"},
		{"field without device_id", "device \"a\" {\n  match { sys_descr = \"x\" }\n  model {\n    from  = \"oid\"\n    oid   = \"1.3.6\"\n    field = \"MDL\"\n  }\n}\n", "main.hcl:6:13: error: Invalid device rule", "a field goes with device_id"},
		{"bad sys_descr", "device \"a\" {\n  match { sys_descr = \"[\" }\n}\n", "main.hcl:2:23: error: Invalid device rule", "sys_descr: error parsing regexp"},
		{"duplicate", "device \"a\" {\n  match { enterprise = 5 }\n}\ndevice \"a\" {\n  match { enterprise = 6 }\n}\n", "main.hcl:4:1: error: Duplicate device", "main.hcl:1,1-11"},
		{"unknown source attribute", "device \"a\" {\n  match { enterprise = 5 }\n  model { frm = \"oid\" }\n}\n", "main.hcl:3:11: error: Unsupported argument", `Did you mean "from"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": tc.src})
			cfg, diags := Load(dir, LoadOptions{})
			if cfg != nil || !diags.HasErrors() {
				t.Fatal("loaded")
			}
			var buf bytes.Buffer
			_ = WriteDiagnostics(&buf, nil, diags, false)
			out := buf.String()
			if !strings.Contains(out, tc.where) || !strings.Contains(out, tc.detail) {
				t.Errorf("want %q and %q in:\n%s", tc.where, tc.detail, out)
			}
		})
	}
}
