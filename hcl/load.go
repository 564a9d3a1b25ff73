// Package hcl reads inkform configuration: it parses *.hcl files, evaluates
// variables, locals, references and for_each, validates everything against
// the settings catalog and returns the declared fleet (fleet.Printer values).
//
// Load collects every problem it finds as diagnostics with source ranges
// instead of stopping at the first one, so a single run shows a user all
// there is to fix.
package hcl

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

// LoadOptions supplies what a configuration does not hold itself: variable
// values and the settings catalog.
type LoadOptions struct {
	// Vars are "-var name=value" arguments in the order given. A value is
	// taken literally when the variable's type is string and parsed as an
	// HCL expression otherwise (numbers, bools, lists, maps, objects).
	Vars []string
	// VarFiles are -var-file paths, applied in order: HCL files of
	// `name = value` attributes.
	VarFiles []string
	// Env is the process environment (os.Environ()); INKFORM_VAR_name=value
	// supplies the variable name.
	Env []string
	// Catalog validates setting names and values; nil means catalog.Default().
	Catalog *catalog.Catalog
	// Files, when non-nil, receives every configuration file Load parses,
	// keyed by the file name diagnostics use. It lets a caller print
	// diagnostics with source lines when Load fails and returns no Config.
	// Variable files are deliberately left out: they often hold secrets.
	Files map[string]*hhcl.File
	// MaxFileSize bounds every file Load reads, in bytes; 0 means
	// DefaultMaxFileSize. Only regular files are read, whatever the size.
	MaxFileSize int64
	// StateOnly decodes the state block and what it needs (variables,
	// locals), nothing else: commands that read the state without talking
	// to printers need no credentials. A variable without a value is an
	// error only when the state block uses it. The Config holds State, Dir
	// and Files only.
	StateOnly bool
}

// Config is a loaded, fully evaluated and valid configuration.
type Config struct {
	Printers []fleet.Printer // sorted by Name
	State    StateConfig
	// Hash identifies the configuration source: "sha256:" and the hex digest
	// over every file's name and contents, and the SHA-256 of every file
	// it deploys (files, firmware). Plan files record it.
	Hash string
	// Files holds the parsed configuration files by the name diagnostics use.
	Files map[string]*hhcl.File
	// Dir is the absolute directory the configuration was read from.
	Dir string
	// Catalog is the settings catalog the configuration was checked
	// against: LoadOptions.Catalog (or the built-in one) plus the settings
	// the configuration declares in setting blocks. Use it, not the
	// built-in catalog, to read and write this configuration's settings.
	Catalog *catalog.Catalog
	// Devices are the identity rules to read printers with: the
	// configuration's device blocks before the built-in rules; nil when
	// it has none (the built-in rules alone).
	Devices *catalog.Devices
	// Credentials are the credentials blocks by name, evaluated. They
	// are secret: never print them.
	Credentials map[string]fleet.Credentials

	// The watch service's configuration. SMTP and Watch are nil when the
	// configuration has no smtp or watch block (watch then runs with
	// alerts.DefaultWatch()); Routes and Reports are sorted by name.
	// SMTP.Password is secret: never print it.
	SMTP    *alerts.SMTP
	Routes  []alerts.Route
	Watch   *alerts.Watch
	Reports []alerts.Report

	ranges map[string]hhcl.Range // printer name → where it is declared
}

// PrinterRange returns where the named printer (or the for_each block
// that makes it) is declared. Source ranges stay in this package: the
// fleet model says what a printer is, not where it was written.
func (c *Config) PrinterRange(name string) (hhcl.Range, bool) {
	r, ok := c.ranges[name]
	return r, ok
}

// Printer returns the named printer.
func (c *Config) Printer(name string) (fleet.Printer, bool) {
	i := sort.Search(len(c.Printers), func(i int) bool { return c.Printers[i].Name >= name })
	if i < len(c.Printers) && c.Printers[i].Name == name {
		return c.Printers[i], true
	}
	return fleet.Printer{}, false
}

// StateConfig says where state is kept.
type StateConfig struct {
	Backend string // "sqlite" (the default), "firebird" or "sqlserver"
	// Path is the SQLite file; a relative path in the configuration is
	// resolved against the configuration directory, so Path is absolute.
	Path string
	// DSN locates a server backend's database, as firebird://... or
	// sqlserver://... It holds credentials: never print it.
	DSN string
	// DeclRange is the state block; empty when the default applies.
	DeclRange hhcl.Range
}

// Backend and file name used when no state block is declared.
const (
	DefaultStateBackend = "sqlite"
	DefaultStatePath    = "inkform.db"
)

// Load reads the configuration at path: a directory (every *.hcl file in it,
// sorted by name, not recursive) or a single file. It returns a nil Config
// and every diagnostic when anything is wrong; warnings alone do not fail.
// Diagnostics never contain the values of sensitive variables or
// credentials.
func Load(path string, opts LoadOptions) (*Config, hhcl.Diagnostics) {
	cat := opts.Catalog
	if cat == nil {
		cat = catalog.Default()
	}
	names, dir, diags := configFiles(path)
	if diags.HasErrors() {
		return nil, diags
	}
	maxSize := opts.MaxFileSize
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	l := newLoader(dir, cat, maxSize)
	l.sources = opts.Files
	hash := sha256.New()
	// Files are read and hashed in order, then parsed concurrently.
	type parsed struct {
		name  string
		src   []byte
		file  *hhcl.File
		diags hhcl.Diagnostics
	}
	var files []parsed
	for _, name := range names {
		src, err := readRegular(name, maxSize)
		if err != nil {
			diags = append(diags, &hhcl.Diagnostic{
				Severity: hhcl.DiagError,
				Summary:  "Cannot read configuration file",
				Detail:   fmt.Sprintf("%s.", err),
				Subject:  &hhcl.Range{Filename: name, Start: hhcl.InitialPos, End: hhcl.InitialPos},
			})
			continue
		}
		writeHashPart(hash, filepath.Base(name), src)
		files = append(files, parsed{name: name, src: src})
	}
	parallelFor(len(files), 1, func(i int) {
		files[i].file, files[i].diags = parseConfig(files[i].src, files[i].name)
	})
	for _, p := range files {
		diags = append(diags, p.diags...)
		if p.file == nil {
			continue
		}
		l.files[p.name] = p.file
		if opts.Files != nil {
			opts.Files[p.name] = p.file
		}
		if !p.diags.HasErrors() {
			l.order = append(l.order, p.name)
		}
	}
	diags = append(diags, l.load(opts)...)
	// Files to deploy count as configuration: a plan made before a
	// certificate changed must not be applied with the new one.
	for _, abs := range sortedKeys(l.digests) {
		if d := l.digests[abs]; d.err == nil {
			// Relative, so the hash does not change with the checkout's place.
			name, err := filepath.Rel(dir, abs)
			if err != nil {
				name = abs
			}
			writeHashPart(hash, filepath.ToSlash(name), []byte(d.sha256))
		}
	}
	diags = scrub(diags)
	sortDiagnostics(diags)
	if diags.HasErrors() {
		return nil, diags
	}
	creds := make(map[string]fleet.Credentials, len(l.credentials))
	for name, c := range l.credentials {
		creds[name] = c.creds
	}
	return &Config{
		Credentials: creds,
		Printers:    l.printers,
		State:       l.state,
		Hash:        "sha256:" + hex.EncodeToString(hash.Sum(nil)),
		Files:       l.files,
		Dir:         dir,
		Catalog:     l.cat,
		Devices:     l.devices,
		SMTP:        l.smtp,
		Routes:      l.routes,
		Watch:       l.watch,
		Reports:     l.reports,
		ranges:      l.printerRanges,
	}, diags
}

// configFiles lists the files to read and the absolute configuration
// directory. Editor droppings (dot files, #autosave#, backup~) are skipped.
func configFiles(path string) ([]string, string, hhcl.Diagnostics) {
	// These are about the path itself: no source location to point into.
	fail := func(summary, detail string) ([]string, string, hhcl.Diagnostics) {
		return nil, "", hhcl.Diagnostics{{Severity: hhcl.DiagError, Summary: summary, Detail: detail}}
	}
	info, err := os.Stat(path)
	if err != nil {
		return fail("Cannot read configuration", fmt.Sprintf("%s.", err))
	}
	var names []string
	dirPath := path
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return fail("Cannot read configuration directory", fmt.Sprintf("%s.", err))
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".hcl") || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "#") {
				continue
			}
			names = append(names, filepath.Join(path, n))
		}
		if len(names) == 0 {
			return fail("No configuration files", fmt.Sprintf("The directory %s holds no *.hcl files. Run inkform in the directory of the configuration, or name it with -config DIR (or -config FILE.hcl).", path))
		}
		sort.Strings(names)
	} else {
		names = []string{path}
		dirPath = filepath.Dir(path)
	}
	dir, err := filepath.Abs(dirPath)
	if err != nil {
		return fail("Cannot resolve configuration directory", fmt.Sprintf("%s.", err))
	}
	return names, dir, nil
}

// writeHashPart adds one file to the configuration hash. Lengths prefix each
// part so that moving bytes between a name and a body changes the hash.
func writeHashPart(h interface{ Write([]byte) (int, error) }, name string, src []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	binary.BigEndian.PutUint64(n[:], uint64(len(src)))
	h.Write(n[:])
	h.Write(src)
}

// scrub drops the expression context HCL attaches to evaluation errors when
// any value it would display holds a sensitive value, since the diagnostic
// writers print those values.
func scrub(diags hhcl.Diagnostics) hhcl.Diagnostics {
	for _, d := range diags {
		if d.Expression == nil || d.EvalContext == nil {
			continue
		}
		for _, t := range d.Expression.Variables() {
			v, vd := t.TraverseAbs(d.EvalContext)
			if vd.HasErrors() || v.ContainsMarked() {
				d.Expression, d.EvalContext = nil, nil
				break
			}
		}
	}
	return diags
}

// sensitiveMark marks values derived from sensitive variables.
type sensitiveMarkType struct{}

var sensitiveMark = sensitiveMarkType{}

// isSensitive reports whether v or anything inside it is sensitive.
func isSensitive(v cty.Value) bool { return v.HasMarkDeep(sensitiveMark) }

// sortDiagnostics orders diagnostics by file and position, so output is
// stable and reads top to bottom.
func sortDiagnostics(diags hhcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}
