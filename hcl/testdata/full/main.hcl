state "sqlite" {
  path = "state/inkform.db"
}

variable "snmp_community" {
  type        = string
  default     = "private"
  sensitive   = true
  description = "SNMP v2c write community."

  validation {
    condition     = length(var.snmp_community) > 3
    error_message = "The community must be longer than 3 characters."
  }
}

variable "site_contact" {
  type    = string
  default = "IT Service Desk"
}

locals {
  site    = "hq"
  contact = "${var.site_contact} x${4000 + 1}"
  csv     = csvdecode(file("printers.csv"))
}

credentials "fleet" {
  snmp {
    version   = "2c"
    community = var.snmp_community
    timeout   = "2s"
    retries   = 2
  }
}

credentials "secure" {
  snmp {
    version         = "3"
    user            = "inkform"
    auth_protocol   = "SHA-256"
    auth_passphrase = "authpass123"
    priv_protocol   = "AES"
    priv_passphrase = "privpass123"
  }
}

configuration "office" {
  contact = local.contact
  settings = {
    "system.name" = "office-printer"
  }
}

configuration "warehouse" {
  contact  = "Warehouse desk"
  location = "Warehouse"
}

printer "hq-2f-east" {
  address       = "10.20.1.21"
  serial        = "7531A2B"
  location      = "HQ 2F East"
  configuration = configuration.office
  credentials   = credentials.fleet
  keywords      = ["hq", "color", "hq"]
  settings = {
    "system.name" = "hq-2f-east"
  }
}

printer "fleet" {
  for_each      = { for r in local.csv : r.name => r }
  address       = each.value.address
  serial        = each.value.serial
  location      = each.value.location
  configuration = each.value.site == local.site ? configuration.office : configuration.warehouse
  credentials   = credentials.secure
}
