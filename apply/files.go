package apply

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
)

// recordFiles returns every declared file as a printer's state records
// them (nil when none). Apply calls it only once every planned file was
// sent.
func recordFiles(cfg fleet.Printer) map[string]string {
	if len(cfg.Files) == 0 {
		return nil
	}
	files := make(map[string]string, len(cfg.Files))
	for _, f := range cfg.Files {
		files[f.RemoteName()] = values.FileHash(f)
	}
	return files
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
func (ap *Applier) sendFiles(ctx context.Context, sess providers.Session, pp *plans.PrinterPlan, cfg fleet.Printer) error {
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
		if _, err := fs.SendFile(ctx, f, ap.uploadProgress(pp.Name, fc.Dest, f.Size)); err != nil {
			return err // names the printer and the file
		}
	}
	return nil
}

// uploadProgress adapts Applier.UploadProgress to one file's upload.
func (ap *Applier) uploadProgress(printer, file string, size int64) func(int64) {
	if ap.UploadProgress == nil {
		return nil
	}
	return func(sent int64) { ap.UploadProgress(printer, file, sent, size) }
}

// checkDeploys verifies that the planned firmware and files are still the
// declared ones.
func checkDeploys(pp *plans.PrinterPlan, cfg fleet.Printer) error {
	if err := checkFirmware(pp, cfg); err != nil {
		return err
	}
	return checkFiles(pp, cfg)
}
