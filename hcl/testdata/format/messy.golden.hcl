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
