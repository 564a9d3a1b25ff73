# A deliberately broken watch configuration: every block has a mistake.
smtp {
  host       = "mail.example.com:587"
  encryption = "tls"
  username   = "inkform"
  password   = "written-in-clear"
  from       = "inkform"
}

printer "lab-1" {
  address = "10.0.0.1"
}

alert_route "jams" {
  match {
    events   = ["jam", "dor_open"]
    severity = ["critical"]
    printers = ["lab-*", "hq-*"]
  }
  email {
    to = ["helpdesk@example.com"]
  }
  grace   = "5 min"
  subject = "{{.Printer}} {{.Evnt}}"
  body    = <<EOT
Printer {{.Printer}} at {{.Location}}:
{{.Description | shout}}
EOT
}

watch {
  traps {
    listen = "0.0.0.0"
    allow  = ["10.20.0.0/16", "10.300.0.0/16"]
  }
  poll        = "1s"
  low_percent = 150
  drift {
    every = "15m"
  }
}

report "weekly" {
  schedule = "0 7 * * MONN"
  view     = "supply"
  email {
    to = ["ops@example.com"]
  }
}
