package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync/atomic"
	"time"
)

// Firmware images. A file whose name ends in ".fls", over any transport,
// is a firmware image in the format of docs/protocols/sim-firmware.md: a
// header line "INKFORM-SIM-FIRMWARE <model-pattern> <version>\n" and any
// bytes after it. A printer accepts an image whose pattern matches its
// model, goes offline for Options.RebootDelay (no SNMP, no services) and
// comes back running the new version with its uptime reset. The version
// lives in the MIB (sysDescr as the family formats it, and the Lexmark
// firmware object), so the state file keeps it across restarts.

// FirmwareMagic starts every simulator firmware image.
const FirmwareMagic = "INKFORM-SIM-FIRMWARE"

// maxFirmwareHeader bounds the header line.
const maxFirmwareHeader = 512

// firmwareState is a printer's firmware handling.
type firmwareState struct {
	reject atomic.Bool // answer every image with an error
	delay  time.Duration
}

// FirmwareImage is a parsed image header.
type FirmwareImage struct {
	Models  string // path.Match pattern against the printer's model
	Version string
}

// MakeFirmwareImage returns an image for models (a path.Match pattern)
// and version, padded with payload.
func MakeFirmwareImage(models, version string, payload []byte) []byte {
	return append([]byte(FirmwareMagic+" "+models+" "+version+"\n"), payload...)
}

// ParseFirmwareImage reads an image's header line.
func ParseFirmwareImage(data []byte) (FirmwareImage, error) {
	head := data
	if len(head) > maxFirmwareHeader {
		head = head[:maxFirmwareHeader]
	}
	nl := bytes.IndexByte(head, '\n')
	if nl < 0 {
		return FirmwareImage{}, errors.New("not a firmware image: no header line")
	}
	fields := strings.Fields(string(head[:nl]))
	if len(fields) < 3 || fields[0] != FirmwareMagic {
		return FirmwareImage{}, fmt.Errorf("not a firmware image: the header must be %q", FirmwareMagic+" <model-pattern> <version>")
	}
	img := FirmwareImage{
		Models:  strings.Join(fields[1:len(fields)-1], " "),
		Version: fields[len(fields)-1],
	}
	if _, err := path.Match(img.Models, ""); err != nil {
		return FirmwareImage{}, fmt.Errorf("firmware image: model pattern %q: %w", img.Models, err)
	}
	return img, nil
}

// setupFirmware installs the firmware handler on every printer: the
// FirmwareFail printers after the offline and slow ones reject images.
func (s *Sim) setupFirmware() {
	first := s.opts.Offline + s.opts.Slow
	for i, p := range s.printers {
		p.fw.delay = s.opts.RebootDelay
		p.fw.reject.Store(i >= first && i < first+s.opts.FirmwareFail)
		p.svcMu.Lock()
		p.onFile = (*Printer).receiveFirmware
		p.svcMu.Unlock()
	}
}

// SetFirmwareFail makes the printer reject (true) or accept (false)
// firmware images from now on.
func (p *Printer) SetFirmwareFail(fail bool) { p.fw.reject.Store(fail) }

// receiveFirmware is the onFile hook: images install, other files are
// only recorded.
func (p *Printer) receiveFirmware(f ReceivedFile, data []byte) error {
	if !strings.HasSuffix(strings.ToLower(f.Name), ".fls") {
		return nil
	}
	img, err := ParseFirmwareImage(data)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	if ok, _ := path.Match(img.Models, p.Model()); !ok {
		return fmt.Errorf("%s: firmware for %q does not fit a %s", f.Name, img.Models, p.Model())
	}
	if p.fw.reject.Load() {
		return fmt.Errorf("%s: firmware rejected: image verification failed", f.Name)
	}
	if err := p.installFirmware(img.Version); err != nil {
		return err
	}
	p.reboot()
	p.logf("firmware %s installed via %s; rebooting", img.Version, f.Via)
	return nil
}

// installFirmware writes the new version into the MIB as the family
// reports it.
func (p *Printer) installFirmware(version string) error {
	f := *p.id.fam
	f.firmware = version
	if err := p.Set(OIDSysDescr, f.descr(&f, p.id.serial)); err != nil {
		return err
	}
	if f.lexmark {
		return p.Set(OIDLexmarkFirmware, version)
	}
	return nil
}

// reboot takes the printer offline for the reboot delay; it comes back
// with its uptime reset. Closing the simulator ends the wait.
func (p *Printer) reboot() {
	p.offline.Store(true)
	done := func() {
		p.mu.Lock()
		p.boot = time.Now()
		p.mu.Unlock()
		p.offline.Store(false)
	}
	if p.sim == nil || p.fw.delay <= 0 {
		done()
		return
	}
	// The caller is a service goroutine counted in p.sim.wg, so adding to
	// it here cannot race with Close's Wait.
	p.sim.wg.Go(func() {
		t := time.NewTimer(p.fw.delay)
		defer t.Stop()
		select {
		case <-t.C:
			done()
		case <-p.sim.done:
		}
	})
}

// firmwareVersion reads the running version back from sysDescr, which
// every family formats with it, so that an installed version survives a
// restart through the state file.
func (p *Printer) firmwareVersion() string {
	pdu, ok := p.Get(OIDSysDescr)
	if !ok {
		return p.id.fam.firmware
	}
	cur, _ := pdu.Value.([]byte)
	f := *p.id.fam
	f.firmware = "\x00"
	pre, suf, ok := strings.Cut(f.descr(&f, p.id.serial), "\x00")
	if !ok || len(cur) < len(pre)+len(suf) || !bytes.HasPrefix(cur, []byte(pre)) || !bytes.HasSuffix(cur, []byte(suf)) {
		return p.id.fam.firmware
	}
	return string(cur[len(pre) : len(cur)-len(suf)])
}
