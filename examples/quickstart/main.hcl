# Quickstart: two kinds of site, one CSV of printers.
# printers.csv here points at `inkform sim --base-port 16101`; `make demo` runs
# this file against a simulated fleet on free ports with a printers.csv of its
# own. Replace printers.csv with your own fleet.

state "sqlite" {
  path = "inkform.db"
}

variable "snmp_community" {
  type        = string
  sensitive   = true
  description = "SNMP write community; set INKFORM_VAR_snmp_community or -var, never commit it"

  validation {
    condition     = length(var.snmp_community) >= 4
    error_message = "The SNMP community must be at least 4 characters."
  }
}

variable "helpdesk" {
  type    = string
  default = "IT Service Desk x4000"
}

locals {
  sites = {
    hq = "Headquarters"
    wh = "Warehouse"
  }
}

credentials "fleet" {
  snmp {
    version   = "2c"
    community = var.snmp_community
    timeout   = "1s"
    retries   = 1
  }
}

configuration "office" {
  contact = var.helpdesk
}

configuration "warehouse" {
  contact = "Warehouse Operations x5100"
}

printer "fleet" {
  for_each = { for r in csvdecode(file("printers.csv")) : r.name => r }

  address       = each.value.address
  serial        = each.value.serial
  name          = each.value.name
  location      = "${local.sites[each.value.site]}, ${each.value.room}"
  configuration = each.value.site == "hq" ? configuration.office : configuration.warehouse
  credentials   = credentials.fleet
  keywords      = [each.value.site]
}
