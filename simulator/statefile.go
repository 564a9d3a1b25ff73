package simulator

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// stateFormat is the version of the state file layout.
const stateFormat = 1

// stateDoc is the state file: per printer (by serial, which follows from the
// index), the objects whose values changed since the factory.
type stateDoc struct {
	FormatVersion int                          `json:"format_version"`
	Printers      map[string]map[string]stored `json:"printers"`
}

// stored is one value: a string (valid UTF-8), hex bytes, or a number.
type stored struct {
	String *string `json:"string,omitempty"`
	Hex    *string `json:"hex,omitempty"`
	Number *int64  `json:"number,omitempty"`
}

func storeValue(v any) stored {
	switch x := v.(type) {
	case string:
		if utf8.ValidString(x) {
			return stored{String: &x}
		}
		h := hex.EncodeToString([]byte(x))
		return stored{Hex: &h}
	}
	n, _ := toInt64(v)
	return stored{Number: &n}
}

func (s stored) value() (any, error) {
	switch {
	case s.String != nil:
		return *s.String, nil
	case s.Hex != nil:
		b, err := hex.DecodeString(*s.Hex)
		if err != nil {
			return nil, err
		}
		return b, nil
	case s.Number != nil:
		return *s.Number, nil
	}
	return nil, errors.New("no value")
}

// derived reports objects computed from others, never stored.
func (p *Printer) derived(i int) bool {
	return p.lay.objs[i].upTime || i == p.lay.errState || p.lay.objs[i].alert
}

// load applies a state file; a missing file is an empty state.
func (s *Sim) load(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("simulator: state file: %w", err)
	}
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("simulator: state file %s: %w", path, err)
	}
	if doc.FormatVersion != stateFormat {
		return fmt.Errorf("simulator: state file %s: format_version %d, want %d", path, doc.FormatVersion, stateFormat)
	}
	bySerial := make(map[string]*Printer, len(s.printers))
	for _, p := range s.printers {
		bySerial[p.id.serial] = p
	}
	for serial, values := range doc.Printers {
		p, ok := bySerial[serial]
		if !ok {
			continue // from a larger fleet than this run's
		}
		for oid, sv := range values {
			v, err := sv.value()
			if err != nil {
				return fmt.Errorf("simulator: state file %s: printer %s: %s: %w", path, serial, oid, err)
			}
			o, ok := parseOID(nil, oid)
			if !ok {
				return fmt.Errorf("simulator: state file %s: printer %s: %q is not an OID", path, serial, oid)
			}
			i, exact := p.lay.find(o)
			if !exact || p.derived(i) {
				continue // an object this version no longer keeps
			}
			cv, err := convertValue(p.lay.objs[i].typ, v)
			if err != nil {
				return fmt.Errorf("simulator: state file %s: printer %s: %s: %w", path, serial, oid, err)
			}
			p.vals[i] = cv
		}
		p.refreshLocked()
		p.touched.Store(true)
	}
	return nil
}

// save writes the state file atomically: a temporary file in the same
// directory, synced, then renamed over the old one.
func (s *Sim) save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.dirty.Store(false)
	doc := stateDoc{FormatVersion: stateFormat, Printers: map[string]map[string]stored{}}
	for _, p := range s.printers {
		if m := p.changedValues(); len(m) > 0 {
			doc.Printers[p.id.serial] = m
		}
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("simulator: state file: %w", err)
	}
	path := s.opts.StateFile
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("simulator: state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("simulator: state file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("simulator: state file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("simulator: state file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("simulator: state file %s: %w", path, err)
	}
	return nil
}

// changedValues returns the values that differ from the factory's.
func (p *Printer) changedValues() map[string]stored {
	if !p.touched.Load() {
		return nil
	}
	out := map[string]stored{}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, v := range p.vals {
		if p.derived(i) || v == p.factory[i] {
			continue
		}
		if p.lay.objs[i].typ == gosnmp.ObjectIdentifier {
			s := v.(string)
			out[p.lay.objs[i].name] = stored{String: &s}
			continue
		}
		out[p.lay.objs[i].name] = storeValue(v)
	}
	return out
}
