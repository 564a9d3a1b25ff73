package simulator

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestFirmwareInstallRebootAndPersist(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "sim.json")
	o := Options{Printers: 6, Offline: 0, FirmwareFail: 1, RebootDelay: 100 * time.Millisecond, StateFile: stateFile}
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ps := s.Printers()
	cx725, hp := ps[5], ps[2]
	if cx725.Model() != "Lexmark CX725" || hp.Model() != "HP LaserJet M507" {
		t.Fatalf("fleet layout changed: %s, %s", cx725.Model(), hp.Model())
	}

	lexImage := MakeFirmwareImage("Lexmark CX725*", "CXTPC.240.001", bytes.Repeat([]byte{0xAB}, 4096))
	// The first printer rejects every image.
	if err := ps[0].receiveFile("cx.fls", "ftp", lexImage); err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Errorf("FirmwareFail printer: err = %v, want a rejection", err)
	}
	// A model the image is not for.
	if err := ps[1].receiveFile("cx.fls", "ftp", lexImage); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("wrong model: err = %v", err)
	}
	// Not an image at all.
	if err := cx725.receiveFile("x.FLS", "http", []byte("hello")); err == nil {
		t.Error("garbage .fls accepted")
	}
	// Other files are only recorded.
	if err := cx725.receiveFile("ca.pem", "ftp", []byte("cert")); err != nil {
		t.Errorf("plain file: %v", err)
	}
	if ps[0].Offline() || ps[1].Offline() || cx725.Offline() {
		t.Fatal("a rejected image rebooted a printer")
	}

	uptime := func(p *Printer) uint32 {
		pdu, _ := p.Get(OIDSysUpTime)
		return pdu.Value.(uint32)
	}
	eventually(t, "uptime to count", func() bool { return uptime(cx725) > 0 })
	if err := cx725.receiveFile("CXTPC.240.001.fls", "ftp", lexImage); err != nil {
		t.Fatalf("install: %v", err)
	}
	if !cx725.Offline() {
		t.Fatal("printer still online right after accepting firmware")
	}
	g := client(t, cx725, "public", gosnmp.Version2c, 50*time.Millisecond)
	if _, err := g.Get([]string{OIDSysDescr}); err == nil {
		t.Error("SNMP answered during the reboot")
	}
	eventually(t, "printer back online", func() bool { return !cx725.Offline() })
	if got := cx725.Firmware(); got != "CXTPC.240.001" {
		t.Errorf("Firmware() = %q", got)
	}
	res, err := g.Get([]string{OIDSysDescr, OIDLexmarkFirmware, OIDSysUpTime})
	if err != nil {
		t.Fatal(err)
	}
	if d := str(t, res.Variables[0].Value); !strings.Contains(d, "version CXTPC.240.001 ") {
		t.Errorf("sysDescr = %q", d)
	}
	if v := str(t, res.Variables[1].Value); v != "CXTPC.240.001" {
		t.Errorf("Lexmark firmware object = %q", v)
	}

	// HP reports the version in sysDescr only.
	if err := hp.receiveFile("hp.fls", "pjl", MakeFirmwareImage("HP *", "2510001_000001", nil)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "HP back online", func() bool { return !hp.Offline() })
	if got := hp.Firmware(); got != "2510001_000001" {
		t.Errorf("HP Firmware() = %q", got)
	}
	// Fixed, the failing printer takes the image.
	ps[0].SetFirmwareFail(false)
	if err := ps[0].receiveFile("cx.fls", "ftp", lexImage); err != nil {
		t.Errorf("after SetFirmwareFail(false): %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The installed versions survive a restart.
	s2 := startSim(t, Options{Printers: 6, StateFile: stateFile})
	if got := s2.Printers()[5].Firmware(); got != "CXTPC.240.001" {
		t.Errorf("after restart: %q", got)
	}
	if got := s2.Printers()[2].Firmware(); got != "2510001_000001" {
		t.Errorf("HP after restart: %q", got)
	}
	if got := s2.Printers()[1].Firmware(); got != "MSNGM.230.037" {
		t.Errorf("untouched printer: %q", got)
	}
}

func TestFirmwareFailRange(t *testing.T) {
	s := startSim(t, Options{Printers: 5, Offline: 1, Slow: 1, FirmwareFail: 2})
	img := MakeFirmwareImage("*", "9.9", nil)
	var rejected []int
	for _, p := range s.Printers() {
		if err := p.receiveFile("f.fls", "ftp", img); err != nil {
			rejected = append(rejected, p.Index())
		}
	}
	if len(rejected) != 2 || rejected[0] != 2 || rejected[1] != 3 {
		t.Errorf("rejected by %v, want [2 3] (after 1 offline and 1 slow)", rejected)
	}
	if _, err := Start(context.Background(), Options{Printers: 2, FirmwareFail: 3}); err == nil {
		t.Error("more failing printers than the fleet accepted")
	}
}

func FuzzParseFirmwareImage(f *testing.F) {
	f.Add(MakeFirmwareImage("Lexmark CX725*", "CXTPC.240.001", []byte{0, 1, 2}))
	f.Add([]byte(FirmwareMagic + " [ 1\n"))
	f.Add([]byte(FirmwareMagic + "\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := ParseFirmwareImage(data)
		if err != nil {
			return
		}
		if img.Version == "" || strings.ContainsAny(img.Version, " \n") {
			t.Fatalf("bad version %q", img.Version)
		}
		again, err := ParseFirmwareImage(MakeFirmwareImage(img.Models, img.Version, nil))
		if err != nil || again != img {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, img)
		}
	})
}
