variable "snmp_community" {
  type      = string
  sensitive = true
}
printer "hq-2f-east" {
  address  = "10.20.1.21"
  serial   = "7531A2B"
  keywords = ["hq", "color"]
  settings = {
    "system.contact"  = "IT"
    "system.location" = "HQ"
  }
}
smtp {
  host       = "smtp.example.com"
  encryption = "starttls"
  from       = "inkform@example.com"
}
alert_route "jams" {
  match {
    events   = ["jam", "door_open"]
    printers = ["lab-*"]
  }
  email { to = ["helpdesk@example.com"] }
  grace         = "0s"
  also_on_clear = true
  body          = <<EOT
{{.Printer}}: {{.Description}}
EOT
}
watch {
  traps {
    listen = "127.0.0.1:1162"
    allow  = ["127.0.0.0/8"]
  }
  poll = "5m"
  drift {
    every = "15m"
  }
}
report "weekly" {
  schedule = "0 7 * * MON"
  view     = "supplies"
  email {
    to = ["ops@example.com"]
  }
}
