# inkform watch: printer alerts in, the right email out.
#
#   inkform watch -config examples/watch
#
# The SMTP password and the SNMP community come from the environment
# (INKFORM_VAR_smtp_password, INKFORM_VAR_snmp_community), never from this
# file. State (alerts, deliveries, silences) is kept in inkform.db beside it.

variable "snmp_community" {
  type      = string
  sensitive = true
}

variable "smtp_password" {
  type      = string
  sensitive = true
}

credentials "fleet" {
  snmp {
    version   = "2c"
    community = var.snmp_community
  }
}

printer "lab-1" {
  address     = "10.20.1.21"
  credentials = credentials.fleet
  keywords    = ["lab", "color"]
}

printer "lab-2" {
  address     = "10.20.1.22"
  credentials = credentials.fleet
  keywords    = ["lab"]
}

smtp {
  host       = "mail.example.com"
  port       = 587
  encryption = "starttls"
  username   = "inkform"
  password   = var.smtp_password
  from       = "inkform@example.com"
}

# Jams and open doors in the lab go to the help desk at once, and again
# when they clear.
alert_route "jams" {
  match {
    events   = ["jam", "door_open", "cover_open"]
    printers = ["lab-*"]
  }
  email {
    to = ["helpdesk@example.com"]
  }
  grace         = "0s"
  group_wait    = "0s"
  also_on_clear = true
}

# Supplies: a digest, at most every hour, re-sent daily while low.
alert_route "supplies" {
  match {
    events = ["toner_low", "toner_empty", "supply_low", "supply_empty", "waste_toner_full"]
  }
  email {
    to = ["purchasing@example.com"]
  }
  grace          = "10m"
  group_wait     = "5m"
  group_interval = "1h"
  repeat         = "24h"
}

watch {
  traps {
    listen = ":162"
    allow  = ["10.20.0.0/16"]
  }
  poll = "5m"
  drift {
    every   = "15m"
    enforce = false
  }
}

# Every Monday at 07:00, the supply levels as CSV.
report "weekly-supplies" {
  schedule = "0 7 * * MON"
  view     = "supplies"
  email {
    to = ["purchasing@example.com"]
  }
}
