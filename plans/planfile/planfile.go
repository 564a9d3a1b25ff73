// Package planfile stores plans: a plans.Plan in a versioned JSON file
// (plan -out) that apply reads back.
package planfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"time"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/state"
)

// planFileKind marks a JSON document as an inkform plan file.
const planFileKind = "inkform-plan"

// magic is how every plan file Write makes begins: the kind is the stored
// form's first field.
const magic = `{"kind":"` + planFileKind + `"`

// MagicLen is how many bytes of a file IsPlanFile needs.
const MagicLen = len(magic)

// IsPlanFile reports whether a file beginning with head (its first
// MagicLen bytes, or all of a shorter file) is a plan file Write made, so
// that saving a plan never replaces a file of another kind.
func IsPlanFile(head []byte) bool { return bytes.HasPrefix(head, []byte(magic)) }

// maxPlanFile bounds how much of a plan file is read: a plan takes about
// 2.5 KB per printer, so this is room for some 400,000 printers. A var for
// tests.
var maxPlanFile int64 = 1 << 30

// The stored form of a plan. It is versioned on its own and kept apart from
// the live types so that either can change without breaking the other.
type planFile struct {
	Kind          string    `json:"kind"`
	FormatVersion string    `json:"format_version"`
	CreatedAt     time.Time `json:"created_at"`
	ConfigHash    string    `json:"config_hash"`
	RefreshOnly   bool      `json:"refresh_only,omitempty"`
	Targets       []string  `json:"targets,omitempty"`
	// Printers stays the last field: Write streams them, then the digest.
	Printers []filePrinter `json:"printers"`
}

// filePrinter stores observed_hashes even when empty ({}, hence omitzero):
// a printer the plan changes must carry them.
type filePrinter struct {
	Name           string            `json:"name"`
	Address        string            `json:"address"`
	Action         string            `json:"action"`
	Status         string            `json:"status"`
	Reason         string            `json:"reason,omitempty"`
	Transport      string            `json:"transport,omitempty"`
	Observed       *plans.Observed   `json:"observed,omitempty"`
	Changes        []fileChange      `json:"changes,omitempty"`
	Unchanged      int               `json:"unchanged,omitempty"`
	Unsupported    []string          `json:"unsupported,omitempty"`
	UnsupportedWhy map[string]string `json:"unsupported_reasons,omitempty"`
	ObservedHashes map[string]string `json:"observed_hashes,omitzero"`
	Firmware       *fileFirmware     `json:"firmware,omitempty"`
	Files          []fileFile        `json:"files,omitempty"`
	Notes          []string          `json:"notes,omitempty"`
}

type fileChange struct {
	Setting    string `json:"setting"`
	Action     string `json:"action"`
	Before     string `json:"before,omitempty"`
	After      string `json:"after,omitempty"`
	Sensitive  bool   `json:"sensitive,omitempty"`
	Transport  string `json:"transport,omitempty"`
	BeforeHash string `json:"before_hash,omitempty"`
	AfterHash  string `json:"after_hash,omitempty"`
	Drift      bool   `json:"drift,omitempty"`
}

// Write stores p. Sensitive values are never written; only their hashes
// are, keyed with the state's key (a plain hash of a short secret would
// be undone by trying every value), which lets apply tell a stale plan
// without the values. The file is compact JSON written printer by printer: at
// fleet scale it runs to tens of megabytes, and neither indenting it nor
// holding all of it in memory at once helps anyone. It ends with the
// SHA-256 digest of all that precedes it, which Read checks.
func Write(w io.Writer, p *plans.Plan) error {
	f := encodePlanHead(p)
	f.Printers = []filePrinter{}
	head, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	bw := bufio.NewWriter(w)
	h := sha256.New()
	hw := io.MultiWriter(bw, h)
	hw.Write(bytes.TrimSuffix(head, []byte("]}")))
	for i := range p.Printers {
		if i > 0 {
			hw.Write([]byte{','})
		}
		b, err := json.Marshal(encodePrinter(&p.Printers[i]))
		if err != nil {
			return fmt.Errorf("write plan file: printer %s: %w", p.Printers[i].Name, err)
		}
		hw.Write(b)
	}
	hw.Write([]byte{']'})
	bw.Write(digestTrailer(h.Sum(nil)))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	return nil
}

// A plan file ends with the digest of what precedes it, as its last field:
// `,"digest":"sha256:<hex>"}` and a newline. It is no secret and proves
// no author: it catches a file edited by hand or corrupted, so that show
// never shows, nor apply carries out, something other than the plan made.
const (
	digestPrefix = `,"digest":"sha256:`
	digestSuffix = "\"}\n"
	trailerLen   = len(digestPrefix) + 2*sha256.Size + len(digestSuffix)
)

// digestTrailer is the end of a plan file whose content hashes to sum.
func digestTrailer(sum []byte) []byte {
	b := make([]byte, 0, trailerLen)
	b = append(b, digestPrefix...)
	b = hex.AppendEncode(b, sum)
	return append(b, digestSuffix...)
}

// digestReader passes a plan file through while hashing all of it but the
// last trailerLen bytes read so far, which it keeps: once the file is read
// to its end, they must be the digest trailer of the rest.
type digestReader struct {
	r    io.Reader
	h    hash.Hash
	tail []byte
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.tail = append(d.tail, p[:n]...)
	if over := len(d.tail) - trailerLen; over > 0 {
		d.h.Write(d.tail[:over])
		d.tail = append(d.tail[:0], d.tail[over:]...)
	}
	return n, err
}

// check reads the rest of the file and compares its end with the digest
// of what came before.
func (d *digestReader) check() error {
	if _, err := io.Copy(io.Discard, d); err != nil {
		return err
	}
	if len(d.tail) < trailerLen || !bytes.HasPrefix(d.tail, []byte(digestPrefix)) || !bytes.HasSuffix(d.tail, []byte(digestSuffix)) {
		return errors.New("it does not end with the digest inkform writes: it was made by an older inkform, or edited or cut short since; make the plan again")
	}
	if !bytes.Equal(d.tail, digestTrailer(d.h.Sum(nil))) {
		return errors.New("its content does not match its digest: it was edited or corrupted since it was made; make the plan again")
	}
	return nil
}

// Read loads a plan written by Write. A file of another kind or format
// version is rejected, and so is a file whose content does not match its
// digest or whose values do not match their hashes.
func Read(r io.Reader) (*plans.Plan, error) {
	lr := &io.LimitedReader{R: r, N: maxPlanFile + 1}
	fail := func(err error) (*plans.Plan, error) {
		if lr.N <= 0 {
			return nil, fmt.Errorf("read plan file: larger than %d MiB; not a plan inkform wrote", maxPlanFile>>20)
		}
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	dr := &digestReader{r: lr, h: sha256.New()}
	var f planFile
	if err := json.NewDecoder(dr).Decode(&f); err != nil {
		return fail(err)
	}
	if f.Kind != planFileKind {
		return nil, fmt.Errorf("read plan file: not an inkform plan (kind %q, want %q)", f.Kind, planFileKind)
	}
	if f.FormatVersion != plans.FormatVersion {
		return nil, fmt.Errorf("read plan file: format version %q is not supported (this inkform reads %q); make the plan again with this version", f.FormatVersion, plans.FormatVersion)
	}
	if err := dr.check(); err != nil {
		return fail(err)
	}
	p, err := decodePlan(f)
	if err != nil {
		return fail(err)
	}
	return p, nil
}

// encodePlanHead is the stored form of p without its printers.
func encodePlanHead(p *plans.Plan) planFile {
	return planFile{
		Kind:          planFileKind,
		FormatVersion: plans.FormatVersion,
		CreatedAt:     p.CreatedAt,
		ConfigHash:    p.ConfigHash,
		RefreshOnly:   p.RefreshOnly,
		Targets:       p.Targets,
	}
}

func encodePrinter(pp *plans.PrinterPlan) filePrinter {
	fp := filePrinter{
		Name:           pp.Name,
		Address:        pp.Address,
		Action:         pp.Action.String(),
		Status:         string(pp.Status),
		Reason:         pp.Reason,
		Transport:      pp.Transport,
		Unchanged:      pp.Unchanged,
		Unsupported:    pp.Unsupported,
		UnsupportedWhy: pp.UnsupportedWhy,
		Observed:       pp.Observed,
		ObservedHashes: pp.ObservedHashes,
		Notes:          pp.Notes,
	}
	fp.Files, fp.Firmware = encodeDeploys(pp)
	for _, c := range pp.Changes {
		fc := fileChange{
			Setting: c.Setting, Action: c.Action.String(), Sensitive: c.Sensitive,
			Transport: c.Transport, BeforeHash: c.BeforeHash, AfterHash: c.AfterHash, Drift: c.Drift,
		}
		if !c.Sensitive {
			fc.Before, fc.After = c.Before, c.After
		}
		fp.Changes = append(fp.Changes, fc)
	}
	return fp
}

func decodePlan(f planFile) (*plans.Plan, error) {
	p := &plans.Plan{
		FormatVersion: f.FormatVersion,
		CreatedAt:     f.CreatedAt,
		ConfigHash:    f.ConfigHash,
		RefreshOnly:   f.RefreshOnly,
		Targets:       f.Targets,
		Printers:      make([]plans.PrinterPlan, 0, len(f.Printers)),
	}
	seen := make(map[string]bool, len(f.Printers))
	for _, fp := range f.Printers {
		if fp.Name == "" {
			return nil, errors.New("a printer has no name")
		}
		if seen[fp.Name] {
			return nil, fmt.Errorf("printer %s: listed twice", fp.Name)
		}
		seen[fp.Name] = true
		action, err := plans.ParseAction(fp.Action)
		if err != nil {
			return nil, fmt.Errorf("printer %s: %w", fp.Name, err)
		}
		status := plans.PrinterStatus(fp.Status)
		if !status.Valid() {
			return nil, fmt.Errorf("printer %s: unknown status %q", fp.Name, fp.Status)
		}
		if fp.Unchanged < 0 {
			return nil, fmt.Errorf("printer %s: negative unchanged count", fp.Name)
		}
		pp := plans.PrinterPlan{
			Name:           fp.Name,
			Address:        fp.Address,
			Action:         action,
			Status:         status,
			Reason:         fp.Reason,
			Transport:      fp.Transport,
			Unchanged:      fp.Unchanged,
			Unsupported:    fp.Unsupported,
			UnsupportedWhy: fp.UnsupportedWhy,
			ObservedHashes: fp.ObservedHashes,
			Notes:          fp.Notes,
		}
		if err := decodeDeploys(&pp, fp.Files, fp.Firmware); err != nil {
			return nil, err
		}
		if o := fp.Observed; o != nil {
			// Older plan files leave out empty lists.
			if o.Errors == nil {
				o.Errors = []string{}
			}
			if o.Supplies == nil {
				o.Supplies = []fleet.Supply{}
			}
			pp.Observed = o
		}
		for _, fc := range fp.Changes {
			a, err := plans.ParseAction(fc.Action)
			if err != nil || a == plans.NoOp {
				return nil, fmt.Errorf("printer %s: setting %q: invalid action %q", fp.Name, fc.Setting, fc.Action)
			}
			if fc.Setting == "" {
				return nil, fmt.Errorf("printer %s: a change names no setting", fp.Name)
			}
			if fc.Sensitive && (fc.Before != "" || fc.After != "") {
				return nil, fmt.Errorf("printer %s: setting %s: a sensitive value is stored in clear", fp.Name, fc.Setting)
			}
			if fc.Sensitive && (!keyedOrNone(fc.BeforeHash) || !keyedOrNone(fc.AfterHash)) {
				return nil, fmt.Errorf("printer %s: setting %s: a sensitive value's hash is not keyed, as an older inkform wrote it; make the plan again", fp.Name, fc.Setting)
			}
			pp.Changes = append(pp.Changes, plans.Change{
				Setting: fc.Setting, Action: a, Before: fc.Before, After: fc.After, Sensitive: fc.Sensitive,
				Transport: fc.Transport, BeforeHash: fc.BeforeHash, AfterHash: fc.AfterHash, Drift: fc.Drift,
			})
		}
		if err := checkHashes(&pp); err != nil {
			return nil, err
		}
		p.Printers = append(p.Printers, pp)
	}
	return p, nil
}

// checkHashes verifies what show displays and apply relies on: every
// value stored in clear matches the hash apply compares (whichever hashes
// the file carries), and a printer the plan writes or adopts carries what
// it observed, which apply compares with the device to refuse a printer
// that changed since the plan.
func checkHashes(pp *plans.PrinterPlan) error {
	for _, c := range pp.Changes {
		if c.Action == plans.Forget || c.Sensitive {
			continue
		}
		if c.BeforeHash != "" && state.HashValue(c.Before) != c.BeforeHash {
			return fmt.Errorf("printer %s: setting %s: the value before, %q, does not match its hash; the file was edited", pp.Name, c.Setting, c.Before)
		}
		if c.AfterHash != "" && state.HashValue(c.After) != c.AfterHash {
			return fmt.Errorf("printer %s: setting %s: the value after, %q, does not match its hash; the file was edited", pp.Name, c.Setting, c.After)
		}
	}
	if pp.Status != plans.StatusReady || (pp.Action != plans.Adopt && pp.Action != plans.Update) {
		return nil
	}
	if pp.Observed == nil || pp.ObservedHashes == nil {
		return fmt.Errorf("printer %s: the plan changes it but does not carry what it observed (observed, observed_hashes), so apply could not tell whether the printer changed since; make the plan again", pp.Name)
	}
	for _, c := range pp.Changes {
		if c.Action == plans.Forget {
			continue
		}
		h, ok := pp.ObservedHashes[c.Setting]
		if !ok {
			return fmt.Errorf("printer %s: setting %s: the plan changes it but carries no observed hash of it, so apply could not tell whether it changed since; make the plan again", pp.Name, c.Setting)
		}
		if c.BeforeHash != "" && h != c.BeforeHash {
			return fmt.Errorf("printer %s: setting %s: its observed hash differs from the change's; the file was edited", pp.Name, c.Setting)
		}
	}
	return nil
}

// How firmware and files are stored.

type fileFile struct {
	Dest   string `json:"dest"`
	Action string `json:"action"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Via    string `json:"via,omitempty"`
}

type fileFirmware struct {
	Name        string `json:"name"`
	From        string `json:"from"`
	To          string `json:"to"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Via         string `json:"via,omitempty"`
	Batch       int    `json:"batch,omitempty"`
	MaxFailures int    `json:"max_failures,omitempty"`
}

func encodeDeploys(pp *plans.PrinterPlan) ([]fileFile, *fileFirmware) {
	var files []fileFile
	for _, f := range pp.Files {
		files = append(files, fileFile{Dest: f.Dest, Action: f.Action.String(), Size: f.Size, SHA256: f.SHA256, Via: f.Via})
	}
	var fw *fileFirmware
	if fc := pp.Firmware; fc != nil {
		v := fileFirmware(*fc)
		fw = &v
	}
	return files, fw
}

func decodeDeploys(pp *plans.PrinterPlan, files []fileFile, fw *fileFirmware) error {
	for _, f := range files {
		a, err := plans.ParseAction(f.Action)
		if err != nil || (a != plans.Adopt && a != plans.Update) {
			return fmt.Errorf("printer %s: file %q: invalid action %q", pp.Name, f.Dest, f.Action)
		}
		if f.Dest == "" || f.Size < 0 || !isHex64(f.SHA256) {
			return fmt.Errorf("printer %s: file %q: incomplete (name, size and sha256 are required)", pp.Name, f.Dest)
		}
		pp.Files = append(pp.Files, plans.FileChange{Dest: f.Dest, Action: a, Size: f.Size, SHA256: f.SHA256, Via: f.Via})
	}
	if fw != nil {
		if fw.Name == "" || fw.To == "" || fw.Size < 0 || !isHex64(fw.SHA256) {
			return fmt.Errorf("printer %s: firmware %q: incomplete (name, version, size and sha256 are required)", pp.Name, fw.Name)
		}
		fc := plans.FirmwareChange(*fw)
		pp.Firmware = &fc
	}
	return nil
}

func keyedOrNone(h string) bool { return h == "" || state.IsKeyedHash(h) }

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	return !slices.ContainsFunc([]byte(s), func(c byte) bool { return (c < '0' || c > '9') && (c < 'a' || c > 'f') })
}
