package snmp

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/fleet"
)

var wantFakePrinter = fleet.Observation{
	Vendor:   "Lexmark",
	SysDescr: "Lexmark CX725 version CXTPC.230.037 kernel 5.10",
	Model:    "Lexmark CX725",
	Serial:   "7531A2B",
	Firmware: "CXTPC.230.037",
	Status:   "printing",
	Errors:   []string{"lowToner", "jammed", "overduePreventMaint"},
	Supplies: []fleet.Supply{
		{Description: "Black Cartridge", Kind: "toner", Color: "black", Level: 2000, Max: 8000},
		{Description: "Cyan", Kind: "other", Color: "cyan", Level: -3, Max: 100},
	},
	PageCount:   12345,
	Uptime:      time.Hour,
	Settings:    map[string]string{"system.contact": "IT", "system.name": "hq-2f-east"},
	Unsupported: []string{"system.location"},
	Transport:   "snmp",
}

var ignoreTime = cmpopts.IgnoreFields(fleet.Observation{}, "ObservedAt")

func TestTooBigSplitsRequests(t *testing.T) {
	const limit = 4
	agent := startFakeAgent(t, gosnmp.Version2c, limit, printerData())
	s := connect(t, New(nil, Options{}), printerAt("127.0.0.1", agent.addr.Port, fleet.SNMP{Community: "public"}))
	got, err := s.Observe(context.Background(), []string{"system.contact", "system.location", "system.name"})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if diff := cmp.Diff(wantFakePrinter, got, ignoreTime); diff != "" {
		t.Errorf("observation (-want +got):\n%s", diff)
	}
	var tooBig, bulkTooBig, smallGets int
	for _, r := range agent.log() {
		switch {
		case r.reply == gosnmp.TooBig && r.pdu == gosnmp.GetRequest:
			tooBig++
		case r.reply == gosnmp.TooBig && r.pdu == gosnmp.GetBulkRequest:
			bulkTooBig++
		case r.pdu == gosnmp.GetRequest && len(r.oids) <= limit:
			smallGets++
		}
	}
	if tooBig == 0 || bulkTooBig == 0 || smallGets == 0 {
		t.Errorf("tooBig GETs %d, tooBig GETBULKs %d, GETs within the limit %d: want each > 0", tooBig, bulkTooBig, smallGets)
	}
}

func TestV1NoSuchNameDropsOneObjectAndRetries(t *testing.T) {
	agent := startFakeAgent(t, gosnmp.Version1, 0, printerData())
	s := connect(t, New(nil, Options{}), printerAt("127.0.0.1", agent.addr.Port, fleet.SNMP{Version: "1", Community: "public"}))
	got, err := s.Observe(context.Background(), []string{"system.contact", "system.location", "system.name"})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if diff := cmp.Diff(wantFakePrinter, got, ignoreTime); diff != "" {
		t.Errorf("observation (-want +got):\n%s", diff)
	}
	// Each noSuchName answer must be followed by a GET without exactly the
	// offending object.
	log := agent.log()
	retries := 0
	for i, r := range log {
		if r.pdu != gosnmp.GetRequest || r.reply != gosnmp.NoSuchName {
			continue
		}
		if i+1 >= len(log) || len(log[i+1].oids) != len(r.oids)-1 {
			t.Fatalf("request %d answered noSuchName but the next request is %+v", i, log[i+1:])
		}
		retries++
	}
	// Missing from the first GET: hrDeviceStatus.1, hrPrinterStatus.1,
	// hrPrinterDetectedErrorState.1 (the printer is device 2),
	// prtGeneralSerialNumber and sysLocation; from the second, which reads
	// device 2 and Lexmark's serial, hrDeviceStatus.2.
	if retries != 6 {
		t.Errorf("noSuchName retries = %d, want 6", retries)
	}
	for _, r := range log {
		if r.pdu == gosnmp.GetBulkRequest {
			t.Errorf("GETBULK sent to a v1 agent")
		}
	}
}

func TestMaxOIDsPerPDU(t *testing.T) {
	const max = 2
	agent := startFakeAgent(t, gosnmp.Version2c, 0, printerData())
	s := connect(t, New(nil, Options{MaxOIDsPerPDU: max}), printerAt("127.0.0.1", agent.addr.Port, fleet.SNMP{Community: "public"}))
	got, err := s.Observe(context.Background(), []string{"system.contact", "system.location", "system.name"})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if diff := cmp.Diff(wantFakePrinter, got, ignoreTime); diff != "" {
		t.Errorf("observation (-want +got):\n%s", diff)
	}
	for _, r := range agent.log() {
		if len(r.oids) > max {
			t.Errorf("%v of %d objects with MaxOIDsPerPDU %d", r.pdu, len(r.oids), max)
		}
	}
}

// Check reads what Observe reads but the supplies table, and does not walk
// it.
func TestCheckSkipsSupplies(t *testing.T) {
	agent := startFakeAgent(t, gosnmp.Version2c, 0, printerData())
	s := connect(t, New(nil, Options{}), printerAt("127.0.0.1", agent.addr.Port, fleet.SNMP{Community: "public"}))
	names := []string{"system.contact", "system.location", "system.name"}
	got, err := s.(*Session).Check(context.Background(), names)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := wantFakePrinter
	want.Supplies = nil
	if diff := cmp.Diff(want, got, ignoreTime); diff != "" {
		t.Errorf("checked (-want +got):\n%s", diff)
	}
	for _, r := range agent.log() {
		if r.pdu == gosnmp.GetBulkRequest && slices.Contains(r.oids, oidSupplyDescr) {
			t.Errorf("Check walked the supplies table: %v", r.oids)
		}
	}
	checkRequests := len(agent.log())
	if _, err := s.Observe(context.Background(), names); err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if observeRequests := len(agent.log()) - checkRequests; observeRequests != checkRequests+1 {
		t.Errorf("Observe sent %d requests and Check %d; want one more for the supplies", observeRequests, checkRequests)
	}
}
