package planner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/plans/values"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
)

// fileCapable are the transports that can carry files.
var fileCapable = map[string]bool{"ftp": true, "http": true, "https": true, "pjl": true}

// plannedVia is the transport a file is planned over: its own, or the
// first file-capable one of the printer's preference ("" when none).
func plannedVia(p fleet.Printer, f fleet.File) string {
	if f.Via != "" {
		return f.Via
	}
	for _, t := range p.Transports {
		if fileCapable[t] {
			return t
		}
	}
	return ""
}

// planFiles lists the declared files whose recorded hash differs from the
// configuration's.
func planFiles(p fleet.Printer, prior state.Printer) []plans.FileChange {
	var out []plans.FileChange
	for _, f := range p.Files {
		dest := f.RemoteName()
		recorded, ok := prior.Settings[values.FileKey(dest)]
		if ok && recorded == values.FileHash(f) {
			continue
		}
		fc := plans.FileChange{Dest: dest, Action: plans.Adopt, Size: f.Size, SHA256: strings.ToLower(f.SHA256), Via: plannedVia(p, f)}
		if ok {
			fc.Action = plans.Update
		}
		out = append(out, fc)
	}
	return out
}

// recordFiles adds every declared file to a printer's recorded settings.
// Apply calls it only once every planned file was sent.
func recordFiles(settings map[string]string, cfg fleet.Printer) {
	for _, f := range cfg.Files {
		settings[values.FileKey(f.RemoteName())] = values.FileHash(f)
	}
}

// checkFile re-hashes a file before it is sent and compares it with the
// declared SHA-256, so that a file changed or corrupted since the
// configuration was loaded never reaches a printer.
func checkFile(f fleet.File, wantHex string) error {
	fh, err := os.Open(f.Source)
	if err != nil {
		return fmt.Errorf("file %s: %w", f.RemoteName(), err)
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return fmt.Errorf("file %s: %w", f.RemoteName(), err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, wantHex) {
		return fmt.Errorf("file %s: sha256 is %s, the configuration declares %s; refusing to send it", f.RemoteName(), got, strings.ToLower(wantHex))
	}
	return nil
}

// findFile returns the declared file deployed as dest.
func findFile(cfg fleet.Printer, dest string) (fleet.File, bool) {
	for _, f := range cfg.Files {
		if f.RemoteName() == dest {
			return f, true
		}
	}
	return fleet.File{}, false
}

// checkFiles verifies that the planned files are still declared with the
// same content.
func checkFiles(pp *plans.PrinterPlan, cfg fleet.Printer) error {
	for _, fc := range pp.Files {
		f, ok := findFile(cfg, fc.Dest)
		if !ok {
			return fmt.Errorf("%w: file %s is no longer declared", errConfigChanged, fc.Dest)
		}
		if !strings.EqualFold(f.SHA256, fc.SHA256) {
			return fmt.Errorf("%w: file %s has different content", errConfigChanged, fc.Dest)
		}
	}
	return nil
}

// sendFiles deploys the planned files over the session, in declaration
// order, checking each file's content first.
func (pl *Planner) sendFiles(ctx context.Context, sess providers.Session, pp *plans.PrinterPlan, cfg fleet.Printer) error {
	if len(pp.Files) == 0 {
		return nil
	}
	fs, ok := sess.(providers.FileSender)
	if !ok {
		return fmt.Errorf("files: the %s transport cannot send files", sess.Transport())
	}
	for _, fc := range pp.Files {
		f, _ := findFile(cfg, fc.Dest)
		if err := checkFile(f, fc.SHA256); err != nil {
			return err
		}
		if _, err := fs.SendFile(ctx, f, pl.uploadProgress(pp.Name, fc.Dest, f.Size)); err != nil {
			return fmt.Errorf("file %s: %w", fc.Dest, err)
		}
	}
	return nil
}

// uploadProgress adapts Planner.UploadProgress to one file's upload.
func (pl *Planner) uploadProgress(printer, file string, size int64) func(int64) {
	if pl.UploadProgress == nil {
		return nil
	}
	return func(sent int64) { pl.UploadProgress(printer, file, sent, size) }
}

// planDeploys adds the firmware upgrade, the files and the observation's
// notes to a printer's plan.
func (pl *Planner) planDeploys(pp *plans.PrinterPlan, p fleet.Printer, prior state.Printer, obs fleet.Observation) {
	pp.Notes = append(pp.Notes, obs.Notes...)
	fc, note := pl.planFirmware(p, obs)
	pp.Firmware = fc
	if note != "" {
		pp.Notes = append(pp.Notes, note)
	}
	pp.Files = planFiles(p, prior)
}

// settingTransport is the transport that read a setting (and will write
// it), or the session's when the observation does not say.
func settingTransport(obs fleet.Observation, name, session string) string {
	if t := obs.SettingTransports[name]; t != "" {
		return t
	}
	return session
}

// checkDeploys verifies that the planned firmware and files are still the
// declared ones.
func checkDeploys(pp *plans.PrinterPlan, cfg fleet.Printer) error {
	if err := checkFirmware(pp, cfg); err != nil {
		return err
	}
	return checkFiles(pp, cfg)
}
