package hcl

import (
	"fmt"
	"path/filepath"
	"sync"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

// loader holds the state of one Load call. Phases run in a fixed order:
// collect blocks → variables → locals → credentials and configurations →
// printers → state. Each phase only reads what earlier phases produced.
type loader struct {
	dir   string
	cat   *catalog.Catalog
	files map[string]*hhcl.File
	order []string // files that parsed cleanly, in load order

	variables map[string]*variable
	varNames  []string // declaration order
	varValues map[string]cty.Value

	locals      map[string]*localValue
	localNames  []string
	localValues map[string]cty.Value

	credentials    map[string]*credentialsBlock
	configurations map[string]*configurationBlock
	firmwares      map[string]*firmwareBlock
	settingBlocks  map[string]*hhcl.Block
	deviceBlocks   []*hhcl.Block // in the order the files declare them
	devices        *catalog.Devices
	printerBlocks  []*hhcl.Block
	printerRanges  map[string]hhcl.Range // printer name → its block

	maxFileSize int64 // bound on every file read
	// sources receives the variables files as they are parsed, so that
	// their diagnostics show the source (LoadOptions.Files; may be nil).
	sources map[string]*hhcl.File
	// stateOnly: missing variables are reported only where the state
	// block uses them (LoadOptions.StateOnly).
	stateOnly  bool
	stateBlock *hhcl.Block

	// The watch service's blocks; decoded after the printers, whose names
	// routes refer to.
	smtpBlock    *hhcl.Block
	watchBlock   *hhcl.Block
	routeBlocks  map[string]*hhcl.Block
	reportBlocks map[string]*hhcl.Block

	// brokenSettings are declared settings with errors: uses of them are
	// not reported again as unknown.
	brokenSettings map[string]bool
	// digests and caCerts cache file checks: many printers share a file.
	// Printers are decoded concurrently; cacheMu guards both and is held
	// while a file is checked, so each file is read once.
	cacheMu sync.Mutex
	digests map[string]fileDigest
	caCerts map[string]string

	// refs holds configuration.NAME and credentials.NAME objects; they
	// depend only on the declared names, so they are built once.
	configurationRefs cty.Value
	credentialsRefs   cty.Value
	firmwareRefs      cty.Value
	functions         map[string]function.Function

	printers []fleet.Printer
	state    StateConfig
	smtp     *alerts.SMTP
	watch    *alerts.Watch
	routes   []alerts.Route
	reports  []alerts.Report
}

func newLoader(dir string, cat *catalog.Catalog, maxFileSize int64) *loader {
	l := &loader{
		dir:            dir,
		cat:            cat,
		files:          map[string]*hhcl.File{},
		variables:      map[string]*variable{},
		varValues:      map[string]cty.Value{},
		locals:         map[string]*localValue{},
		localValues:    map[string]cty.Value{},
		credentials:    map[string]*credentialsBlock{},
		configurations: map[string]*configurationBlock{},
		firmwares:      map[string]*firmwareBlock{},
		settingBlocks:  map[string]*hhcl.Block{},
		brokenSettings: map[string]bool{},
		digests:        map[string]fileDigest{},
		caCerts:        map[string]string{},
		routeBlocks:    map[string]*hhcl.Block{},
		reportBlocks:   map[string]*hhcl.Block{},
	}
	l.maxFileSize = maxFileSize
	l.functions = functions(dir, maxFileSize)
	return l
}

func (l *loader) load(opts LoadOptions) hhcl.Diagnostics {
	diags := l.collect()
	l.configurationRefs = refObject(blockConfiguration, l.configurations)
	l.credentialsRefs = refObject(blockCredentials, l.credentials)
	l.firmwareRefs = refObject(blockFirmware, l.firmwares)
	diags = append(diags, l.loadVariables(opts)...)
	diags = append(diags, l.resolveLocals()...)
	ctx := l.evalContext(nil)
	if opts.StateOnly {
		l.stateOnly = true
		return append(diags, l.decodeState(ctx)...)
	}
	diags = append(diags, l.decodeUserSettings(ctx)...)
	diags = append(diags, l.decodeDevices(ctx)...)
	for _, name := range sortedKeys(l.credentials) {
		diags = append(diags, l.decodeCredentials(ctx, l.credentials[name])...)
	}
	for _, name := range sortedKeys(l.firmwares) {
		diags = append(diags, l.decodeFirmware(ctx, l.firmwares[name])...)
	}
	for _, name := range sortedKeys(l.configurations) {
		diags = append(diags, l.decodeConfiguration(ctx, l.configurations[name])...)
	}
	diags = append(diags, l.decodePrinters(ctx)...)
	diags = append(diags, l.decodeState(ctx)...)
	diags = append(diags, l.decodeAlerting(ctx)...)
	return diags
}

// decodeAlerting decodes the blocks of the watch service: smtp,
// alert_route, watch and report. Routes and reports come out sorted by
// name.
func (l *loader) decodeAlerting(ctx *hhcl.EvalContext) hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	if l.smtpBlock != nil {
		diags = append(diags, l.decodeSMTP(ctx)...)
	}
	for _, name := range sortedKeys(l.routeBlocks) {
		r, d := l.decodeRoute(ctx, l.routeBlocks[name])
		diags = append(diags, d...)
		l.routes = append(l.routes, r)
	}
	if l.watchBlock != nil {
		diags = append(diags, l.decodeWatch(ctx)...)
	}
	for _, name := range sortedKeys(l.reportBlocks) {
		r, d := l.decodeReport(ctx, l.reportBlocks[name])
		diags = append(diags, d...)
		l.reports = append(l.reports, r)
	}
	return diags
}

// collect sorts top-level blocks by type, checking labels and duplicates.
func (l *loader) collect() hhcl.Diagnostics {
	var diags hhcl.Diagnostics
	printerDecl := map[string]hhcl.Range{}
	for _, name := range l.order {
		content, d := l.files[name].Body.Content(fileSchema)
		diags = append(diags, d...)
		for _, b := range content.Blocks {
			if b.Type == blockSetting {
				diags = append(diags, l.declareSetting(b)...)
				continue
			}
			if len(b.Labels) == 1 && !hclsyntax.ValidIdentifier(b.Labels[0]) {
				diags = append(diags, &hhcl.Diagnostic{
					Severity: hhcl.DiagError,
					Summary:  fmt.Sprintf("Invalid %s name", b.Type),
					Detail: fmt.Sprintf("%q is not a valid name: a name starts with a letter or underscore and holds only letters, digits, underscores and dashes.",
						b.Labels[0]),
					Subject: b.LabelRanges[0].Ptr(),
				})
				continue
			}
			switch b.Type {
			case blockState:
				if l.stateBlock != nil {
					diags = append(diags, duplicate("state block", "", b.DefRange, l.stateBlock.DefRange))
					continue
				}
				l.stateBlock = b
			case blockSMTP, blockWatch:
				first := &l.smtpBlock
				if b.Type == blockWatch {
					first = &l.watchBlock
				}
				if *first != nil {
					diags = append(diags, duplicate(b.Type+" block", "", b.DefRange, (*first).DefRange))
					continue
				}
				*first = b
			case blockAlertRoute, blockReport:
				named := l.routeBlocks
				if b.Type == blockReport {
					named = l.reportBlocks
				}
				if prev, ok := named[b.Labels[0]]; ok {
					diags = append(diags, duplicate(b.Type, b.Labels[0], b.DefRange, prev.DefRange))
					continue
				}
				named[b.Labels[0]] = b
			case blockVariable:
				diags = append(diags, l.declareVariable(b)...)
			case blockLocals:
				diags = append(diags, l.declareLocals(b)...)
			case blockCredentials:
				if prev, ok := l.credentials[b.Labels[0]]; ok {
					diags = append(diags, duplicate("credentials", b.Labels[0], b.DefRange, prev.block.DefRange))
					continue
				}
				l.credentials[b.Labels[0]] = &credentialsBlock{block: b}
			case blockConfiguration:
				if prev, ok := l.configurations[b.Labels[0]]; ok {
					diags = append(diags, duplicate("configuration", b.Labels[0], b.DefRange, prev.block.DefRange))
					continue
				}
				l.configurations[b.Labels[0]] = &configurationBlock{block: b}
			case blockDevice:
				for _, prev := range l.deviceBlocks {
					if prev.Labels[0] == b.Labels[0] {
						diags = append(diags, duplicate("device", b.Labels[0], b.DefRange, prev.DefRange))
						b = nil
						break
					}
				}
				if b != nil {
					l.deviceBlocks = append(l.deviceBlocks, b)
				}
			case blockFirmware:
				if prev, ok := l.firmwares[b.Labels[0]]; ok {
					diags = append(diags, duplicate("firmware", b.Labels[0], b.DefRange, prev.block.DefRange))
					continue
				}
				l.firmwares[b.Labels[0]] = &firmwareBlock{block: b}
			case blockPrinter:
				if prev, ok := printerDecl[b.Labels[0]]; ok {
					diags = append(diags, duplicate("printer", b.Labels[0], b.DefRange, prev))
					continue
				}
				printerDecl[b.Labels[0]] = b.DefRange
				l.printerBlocks = append(l.printerBlocks, b)
			}
		}
	}
	return diags
}

// duplicate reports a second declaration, naming where the first one is.
func duplicate(kind, name string, at, first hhcl.Range) *hhcl.Diagnostic {
	what := kind
	if name != "" {
		what = fmt.Sprintf("%s %q", kind, name)
	}
	return &hhcl.Diagnostic{
		Severity: hhcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s", kind),
		Detail:   fmt.Sprintf("A %s was already declared at %s. Names must be unique.", what, first),
		Subject:  at.Ptr(),
	}
}

// declareSetting records a setting block. Its label is a setting name,
// which has dots, so it is checked as one rather than as an identifier.
func (l *loader) declareSetting(b *hhcl.Block) hhcl.Diagnostics {
	name := b.Labels[0]
	if !catalog.ValidName(name) {
		return hhcl.Diagnostics{errorAt(b.LabelRanges[0], "Invalid setting name",
			fmt.Sprintf("%q is not a setting name: lowercase words of letters, digits and underscores joined by dots, such as \"acme.tray_lock\".", name))}
	}
	if prev, ok := l.settingBlocks[name]; ok {
		return hhcl.Diagnostics{duplicate("setting", name, b.DefRange, prev.DefRange)}
	}
	l.settingBlocks[name] = b
	return nil
}

// refObject builds the value behind `configuration.NAME` or
// `credentials.NAME`. Each reference is an object carrying its kind and
// name, so all references of a kind share one type and a conditional
// between two of them type-checks; decoding reads the name back.
func refObject[T any](kind string, declared map[string]T) cty.Value {
	if len(declared) == 0 {
		return cty.EmptyObjectVal
	}
	attrs := make(map[string]cty.Value, len(declared))
	for name := range declared {
		attrs[name] = cty.ObjectVal(map[string]cty.Value{
			"kind": cty.StringVal(kind),
			"name": cty.StringVal(name),
		})
	}
	return cty.ObjectVal(attrs)
}

// eachValues are the each.key and each.value of one for_each instance.
type eachValues struct {
	key   cty.Value
	value cty.Value
}

// evalContext is the one place expressions get their scope: var, local,
// configuration and credentials references and the functions. With each
// non-nil it returns a child scope that adds each.key and each.value, so
// the shared parent is built once per Load, not once per instance.
func (l *loader) evalContext(each *eachValues) *hhcl.EvalContext {
	ctx := &hhcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":              objectOf(l.varValues),
			"local":            objectOf(l.localValues),
			blockConfiguration: l.configurationRefs,
			blockCredentials:   l.credentialsRefs,
			blockFirmware:      l.firmwareRefs,
		},
		Functions: l.functions,
	}
	if each == nil {
		return ctx
	}
	return childWithEach(ctx, each)
}

func childWithEach(parent *hhcl.EvalContext, each *eachValues) *hhcl.EvalContext {
	child := parent.NewChild()
	child.Variables = map[string]cty.Value{
		"each": cty.ObjectVal(map[string]cty.Value{"key": each.key, "value": each.value}),
	}
	return child
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// resolvePath makes a configuration-relative path absolute.
func (l *loader) resolvePath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.dir, p)
}
