# A deliberately broken configuration: every block has a mistake.
state "postgres" {
  dsn = "postgres://db/inkform"
}

variable "community" {
  type      = string
  sensitive = true
}

variable "site" {
  type    = string
  default = "x"

  validation {
    condition     = length(var.site) > 2
    error_message = "The site code must be at least three characters."
  }
}

locals {
  a = local.b
  b = local.a
}

credentials "fleet" {
  snmp {
    version       = "4"
    community     = "public"
    priv_protocol = "AES"
  }
}

configuration "office" {
  contact  = "IT"
  settings = { "system.contactt" = "x" }
}

printr "typo" {
}

printer "one" {
  adress        = "10.0.0.1"
  configuration = configuration.ofice
}

printer "bad-address" {
  address = "10.0.0.300"
}

printer "two" {
  address     = "10.0.0.2"
  credentials = credentials.flet
}

printer "three" {
  address = "10.0.0.2:161"
}

printer "two" {
  address = "10.0.0.9"
}

printer "many" {
  for_each = ["a", "b"]
  address  = each.value
}

printer "lonely" {
  address  = "10.0.0.10"
  location = each.key
}
