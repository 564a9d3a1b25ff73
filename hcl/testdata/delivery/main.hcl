variable "admin_pw" {
  type      = string
  default   = "s3cret-admin"
  sensitive = true
}

setting "acme.tray_lock" {
  description = "Lock tray 1 against opening while printing."
  snmp {
    oid  = "1.3.6.1.4.1.99999.1.2.0"
    type = "integer"
  }
  min     = 0
  max     = 1
  default = 0
}

setting "acme.welcome_text" {
  type        = "string"
  max_length  = 40
  description = "Greeting on the panel's home screen."
  families    = ["lexmark"]
  pjl {
    variable = "LWELCOME"
  }
  ews {
    field = "welcome_text"
  }
}

setting "acme.finisher" {
  type = "enum"
  enum = ["off", "staple", "punch"]
  pjl {
    variable = "FINISH"
    values   = { off = "NONE", staple = "STAPLE", punch = "PUNCH" }
  }
  npap {
    id = 4097
  }
}

credentials "fleet" {
  snmp {
    community = "private"
  }
  admin {
    username = "admin"
    password = var.admin_pw
  }
}

firmware "cx725" {
  models  = ["Lexmark CX725*"]
  version = "CXTPC.230.037"
  file    = "firmware/CXTPC.230.037.fls"
  sha256  = "da261de1f19b3c25622e0e8bb1b3acb6a30927579a250ab00cccb3848597cd1d"
  via     = "ftp"
  rollout {
    batch        = 10
    max_failures = 1
  }
}

configuration "office" {
  contact    = "IT Service Desk x4000"
  transports = ["pjl", "snmp", "https"]
  ports      = { pjl = 19100, https = 8443 }
  ca_cert    = "certs/ca.pem"
  files = [
    { source = "certs/ca.pem", via = "https" },
    { source = "bundles/office.ucf", via = "ftp", dest = "settings/office.ucf" },
  ]
  firmware = firmware.cx725
  settings = {
    "power.sleep_timeout_min" = 15
    "paper.default_size"      = "A4"
    "print.duplex"            = true
    "acme.tray_lock"          = 1
    "acme.finisher"           = "staple"
  }
}

printer "hq-2f-east" {
  address         = "10.20.1.21"
  configuration   = configuration.office
  credentials     = credentials.fleet
  tls_fingerprint = "sha256:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
  ports           = { pjl = 9100 }
  settings = {
    "acme.welcome_text" = "Welcome to HQ 2F"
  }
}

printer "hq-3f" {
  address       = "10.20.1.31"
  configuration = configuration.office
  credentials   = credentials.fleet
  transports    = ["snmp"]
  files         = []
}

printer "lobby" {
  address = "10.20.1.41"
}
