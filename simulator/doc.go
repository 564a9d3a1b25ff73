// Package simulator runs virtual printers: each one is an SNMP v1/v2c agent
// on its own UDP socket that answers like a real network printer (system
// group, Host-Resources, Printer-MIB, and the Lexmark 641 tree for Lexmark
// models). It serves demos, CI runs of printer configurations and
// benchmarks.
//
// A printer's family, model, serial number and initial supply levels follow
// from its index alone, so a configuration written for a simulated fleet
// (WriteHCL) stays valid across restarts. Values written by SNMP SET can be
// kept across restarts in a JSON state file.
//
// Agent behaviour, in short:
//   - GET, GETNEXT, GETBULK (v2c only) and SET, with RFC 3416 error
//     semantics for v2c (noSuchObject/noSuchInstance/endOfMibView varbinds,
//     notWritable, wrongType, wrongLength, wrongValue, noAccess) and the
//     RFC 1157 / RFC 3584 mapping for v1 (noSuchName, badValue).
//   - The read community may GET; the write community may GET and SET; a SET
//     with the read community is refused (noAccess, v1 noSuchName); any other
//     community gets no answer at all, as with real agents.
//   - Responses are limited to MaxResponseSize bytes (a UDP datagram that
//     fits an Ethernet frame). GET and GETNEXT answers that would exceed it
//     become tooBig; GETBULK answers are cut to the repetitions that fit.
//   - Requests larger than MaxRequestSize, requests that fail to decode and
//     SNMPv3 requests are dropped and counted (Stats), never answered.
//
// Alerts (alerts.go): each printer keeps prtAlertTable (eight rows; the
// rows of no alert are absent) and hrPrinterDetectedErrorState in step
// with its alerts. Toner alerts follow the levels as pages print; jams and
// open doors are raised and cleared by RaiseAlert and ClearAlert, or at
// Options.AlertRate by a generator seeded with Options.Seed. With
// Options.AlertsTo, a critical alert raised (and a door or cover closed)
// sends a printerV2Alert trap (SNMPv2c) from the printer's own address.
//
// NPAP and XMLNT (npap.go): printers serving "npap" or "xmlnt" answer
// inkform's NPAP and XMLNT (docs/protocols/npap.md) on UDP ports of their
// own, over the same settings as every other protocol, keep the servers
// registered for alerts, and send an NPAP alert for every alert raised or
// cleared to them and to Options.NPAPAlertsTo.
package simulator
