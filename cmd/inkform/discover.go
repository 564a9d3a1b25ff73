package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/spf13/cobra"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/discovery"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/hcl"
	"github.com/inkform/inkform/observer"
	"github.com/inkform/inkform/plans/values"
	"github.com/inkform/inkform/state"
)

// discoverFormatVersion is the version of discover's JSON output.
const discoverFormatVersion = 1

// discoverOptions are the options of discover.
type discoverOptions struct {
	IO        streams
	OpenStore storeOpener
	Connect   connectFunc
	State     stateFlags
	Lock      lockFlags

	Targets      []string
	Exclude      []string
	CSV          string
	Communities  []string
	SNMPVersion  string
	Profiles     []string
	Port         int
	Timeout      time.Duration
	Retries      int
	Rate         float64
	MaxAddresses int
	MDNS         bool
	MDNSWait     time.Duration
	Out          string
	Force        bool
	JSON         bool
}

func newDiscoverCommand(f *factory) *cobra.Command {
	opts := &discoverOptions{IO: f.IO, OpenStore: f.OpenStore, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "discover TARGET...",
		Short: "Find printers on the network (SNMP sweep) and write configuration for them",
		Long: `Sweep address ranges for printers over SNMP and list them: address, vendor,
model, serial, firmware, whether secured, and how each was found. A TARGET is a
CIDR prefix (10.20.0.0/22; its network and broadcast addresses are left out), a
range (10.0.0.5-10.0.0.40 or 10.0.0.5-40), an address (IPv4 or IPv6, with
:port if not 161) or a host name; --csv adds the first column of a CSV file.
More than a /16 (65,536 addresses) needs --max-addresses.

Each address is asked with every SNMP profile in turn until one answers: the
configuration's credentials blocks named by --profile, then each --community.
Without either, every credentials block of the configuration, else community
"public". Every packet, retries included, counts against --rate.

With -o FILE, each printer found that the configuration does not already have
(same address or serial) gets a printer block: its address, its serial pinned,
its credentials as a reference (a community given with --community becomes a
sensitive variable, set with INKFORM_VAR_name; the file never holds a secret),
and the value it holds of every catalog setting it answers. When FILE is in the
configuration directory, the printers are also recorded in the state as they
are (as inkform import does), so that a plan right after shows no changes.
FILE is written whole or not at all, and never over an existing file unless
--force.

Exit codes:
  0  the sweep ran (whether or not it found printers)
  1  error: bad targets or profiles, a file not written, state problem`,
		Example: `  inkform discover 10.20.0.0/22 --exclude 10.20.3.0/24 --profile credentials.fleet
  inkform discover --csv printers.csv --community public -o discovered.hcl
  inkform discover 10.0.0.5-40 --rate 500 -json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			return runDiscover(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.State.register(fs)
	opts.Lock.register(fs)
	fs.StringArrayVar(&opts.Exclude, "exclude", nil, "leave out an address, range, prefix or host (repeatable)")
	fs.StringVar(&opts.CSV, "csv", "", "sweep the targets in the first column of this CSV file as well")
	fs.StringArrayVar(&opts.Communities, "community", nil, "try this SNMP community (repeatable; see --snmp-version)")
	fs.StringVar(&opts.SNMPVersion, "snmp-version", "2c", `SNMP version of the --community profiles: "1" or "2c"`)
	fs.StringArrayVar(&opts.Profiles, "profile", nil, "try the SNMP credentials of this credentials block, as credentials.NAME (repeatable; v1, v2c or v3)")
	fs.IntVar(&opts.Port, "port", fleet.DefaultSNMPPort, "SNMP port of targets that name none")
	fs.DurationVar(&opts.Timeout, "timeout", discovery.DefaultTimeout, "how long each request waits for an answer")
	fs.IntVar(&opts.Retries, "retries", discovery.DefaultRetries, "how many times a request is sent again after a timeout")
	fs.Float64Var(&opts.Rate, "rate", discovery.DefaultRate, "packets a second, at most, for the whole sweep (retries included)")
	fs.IntVar(&opts.MaxAddresses, "max-addresses", discovery.DefaultMaxAddresses, "refuse to sweep more addresses than this")
	fs.BoolVar(&opts.MDNS, "mdns", false, "also browse DNS-SD (mDNS) for printers")
	fs.DurationVar(&opts.MDNSWait, "mdns-wait", 3*time.Second, "how long --mdns listens for answers")
	fs.StringVarP(&opts.Out, "out", "o", "", "write printer blocks for the printers found that the configuration lacks to this file")
	fs.BoolVar(&opts.Force, "force", false, "let -o replace an existing file")
	fs.BoolVar(&opts.JSON, "json", false, "machine-readable output")
	return cmd
}

// discovered is one device as discover reports it.
type discovered struct {
	discovery.Found
	// InConfig names the printer of the configuration it already is.
	InConfig string
	// Written names the printer block written for it.
	Written string
	// Note says why it was not written, when it was not.
	Note string
	obs  *fleet.Observation
	cred string // the credentials block its block references
}

func runDiscover(ctx context.Context, opts *discoverOptions) error {
	io := opts.IO
	cfg, err := opts.loadOptional()
	if err != nil {
		return err
	}
	if opts.Out != "" && !opts.Force {
		if _, err := os.Lstat(opts.Out); err == nil {
			return &exitError{code: ExitError, msg: fmt.Sprintf("-o %s: the file exists; --force replaces it, or name a new file", opts.Out)}
		}
	}
	specs := slices.Clone(opts.Targets)
	if opts.CSV != "" {
		fh, err := os.Open(opts.CSV)
		if err != nil {
			return &exitError{code: ExitError, msg: fmt.Sprintf("--csv: %v", err)}
		}
		more, err := discovery.ReadCSV(fh, opts.CSV)
		fh.Close()
		if err != nil {
			return &exitError{code: ExitError, msg: err.Error()}
		}
		specs = append(specs, more...)
	}
	if len(specs) == 0 {
		return &exitError{code: ExitError, msg: "no targets: give addresses, ranges, prefixes or host names, or --csv FILE"}
	}
	targets, err := discovery.ParseTargets(specs, opts.Exclude)
	if err != nil {
		return &exitError{code: ExitError, msg: err.Error()}
	}
	targets.Port, targets.MaxAddresses = opts.Port, opts.MaxAddresses
	if opts.Port < 1 || opts.Port > 65535 {
		return &exitError{code: ExitError, msg: fmt.Sprintf("--port %d: out of range", opts.Port)}
	}
	profiles, gen, err := opts.profiles(cfg)
	if err != nil {
		return &exitError{code: ExitError, msg: err.Error()}
	}
	addrs, err := targets.Expand(ctx, nil)
	if err != nil {
		if opts.MaxAddresses == discovery.DefaultMaxAddresses && strings.Contains(err.Error(), "more than the limit") {
			err = fmt.Errorf("%w (--max-addresses)", err)
		}
		return &exitError{code: ExitError, msg: err.Error()}
	}
	if opts.MDNS && (opts.MDNSWait < 500*time.Millisecond || opts.MDNSWait > time.Minute) {
		return &exitError{code: ExitError, msg: fmt.Sprintf("--mdns-wait %v: want 500ms to 1m (answers come within a second or two; several queries go out within the wait)", opts.MDNSWait)}
	}

	prog := newProgress(io, "Sweeping", opts.JSON)
	if prog != nil {
		prog.noun = "addresses"
	}
	var results []discovery.Found
	var others int
	stats, err := discovery.Sweep(ctx, addrs, discovery.Options{
		Profiles: profiles, Timeout: opts.Timeout, Retries: retriesFlag(opts.Retries), Rate: opts.Rate,
		Devices: devicesOf(cfg), Progress: callback(prog),
	}, func(r discovery.Result) {
		if !r.Printer {
			others++
			return
		}
		results = append(results, discovery.FromResult(r))
	})
	prog.clear()
	if err != nil {
		return err
	}
	if opts.MDNS {
		found, err := discovery.BrowseMDNS(ctx, opts.MDNSWait)
		if err != nil {
			return fmt.Errorf("mdns: %w", err)
		}
		results = discovery.Merge(results, found)
	} else {
		results = discovery.Merge(results)
	}

	list := make([]*discovered, len(results))
	for i, f := range results {
		list[i] = &discovered{Found: f}
	}
	markInConfig(cfg, list)

	written := ""
	if opts.Out != "" {
		if written, err = opts.write(ctx, cfg, list, profiles, gen); err != nil {
			return err
		}
	}
	if opts.JSON {
		return writeDiscoverJSON(io, list, stats, others, written)
	}
	return writeDiscoverTable(io, list, stats, others, opts.Rate, written, gen)
}

// retriesFlag turns --retries into discovery's convention (0 = default,
// negative = none).
func retriesFlag(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

func devicesOf(cfg *hcl.Config) *catalog.Devices {
	if cfg == nil {
		return nil
	}
	return cfg.Devices
}

// loadOptional loads the configuration when there is one: discover also
// runs in an empty directory, to start a configuration.
func (o *discoverOptions) loadOptional() (*hcl.Config, error) {
	info, err := os.Stat(o.State.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &exitError{code: ExitError, msg: err.Error()}
	}
	if info.IsDir() {
		hclFiles, _ := filepath.Glob(filepath.Join(o.State.Dir, "*.hcl"))
		if len(hclFiles) == 0 {
			return nil, nil
		}
	}
	return o.State.load(o.IO)
}

// generated is a credentials block discover writes for a --community,
// with the variable that holds its community.
type generated struct {
	block    string
	variable string
	version  string
	value    string // secret: only ever a -var to load the written file with
	used     bool
}

// profiles are the sweep's profiles in order, and the credentials blocks
// to write for communities no credentials block of the configuration has.
func (o *discoverOptions) profiles(cfg *hcl.Config) ([]discovery.Profile, []*generated, error) {
	var out []discovery.Profile
	var gen []*generated
	creds := map[string]fleet.Credentials{}
	if cfg != nil {
		creds = cfg.Credentials
	}
	for _, p := range o.Profiles {
		name := strings.TrimPrefix(p, "credentials.")
		c, ok := creds[name]
		if !ok {
			return nil, nil, fmt.Errorf("--profile %s: the configuration has no credentials block %q", p, name)
		}
		if c.SNMP.Community == "" && c.SNMP.User == "" {
			return nil, nil, fmt.Errorf("--profile %s: the block has no SNMP credentials", p)
		}
		out = append(out, discovery.Profile{Name: "credentials." + name, SNMP: c.SNMP})
	}
	version := o.SNMPVersion
	if version != fleet.SNMPv1 && version != fleet.SNMPv2c {
		return nil, nil, fmt.Errorf("--snmp-version %q: want 1 or 2c (v3 users come from credentials blocks, with --profile)", version)
	}
	communities := o.Communities
	if len(o.Profiles) == 0 && len(communities) == 0 {
		for _, name := range sortedNames(creds) {
			if s := creds[name].SNMP; s.Community != "" || s.User != "" {
				out = append(out, discovery.Profile{Name: "credentials." + name, SNMP: s})
			}
		}
		if len(out) == 0 {
			communities = []string{"public"}
		}
	}
	for i, c := range communities {
		if c == "" {
			return nil, nil, errors.New("--community: empty")
		}
		// A block of the configuration with this community serves.
		ref := ""
		for _, name := range sortedNames(creds) {
			s := creds[name].SNMP
			if s.Community == c && (s.Version == version || s.Version == "" && version == fleet.SNMPv2c) {
				ref = name
				break
			}
		}
		if ref != "" {
			out = append(out, discovery.Profile{Name: "credentials." + ref, SNMP: creds[ref].SNMP})
			continue
		}
		gen = append(gen, &generated{version: version, value: c})
		out = append(out, discovery.Profile{Name: fmt.Sprintf("community %d", i+1), SNMP: fleet.SNMP{Version: version, Community: c}})
	}
	return out, gen, nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func uniqueName(base string, taken map[string]bool) string {
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	taken[name] = true
	return name
}

// configNames are the labels of the configuration's blocks, by block type.
func configNames(cfg *hcl.Config) map[string]map[string]bool {
	out := map[string]map[string]bool{"variable": {}, "credentials": {}, "printer": {}}
	if cfg == nil {
		return out
	}
	for _, f := range cfg.Files {
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if m, ok := out[b.Type]; ok && len(b.Labels) > 0 {
				m[b.Labels[0]] = true
			}
		}
	}
	for _, p := range cfg.Printers {
		out["printer"][p.Name] = true
	}
	return out
}

// markInConfig names, for each device the configuration already has (same
// address, or same serial), its printer.
func markInConfig(cfg *hcl.Config, list []*discovered) {
	if cfg == nil {
		return
	}
	byAddr := map[netip.AddrPort]string{}
	bySerial := map[string]string{}
	for _, p := range cfg.Printers {
		if a, err := netip.ParseAddr(p.Host); err == nil {
			port := p.Port
			if port == 0 {
				port = fleet.DefaultSNMPPort
			}
			byAddr[netip.AddrPortFrom(a.Unmap(), uint16(port))] = p.Name
		}
		if s := strings.ToLower(strings.TrimSpace(p.Serial)); s != "" {
			bySerial[s] = p.Name
		}
	}
	for _, d := range list {
		if name, ok := byAddr[d.Address]; ok {
			d.InConfig = name
		} else if name, ok := bySerial[strings.ToLower(strings.TrimSpace(d.Serial))]; ok && d.Serial != "" {
			d.InConfig = name
		}
	}
}

// write observes the printers the configuration lacks, writes a block for
// each and, when the file is part of the configuration, records them in
// the state. It returns the file written.
func (o *discoverOptions) write(ctx context.Context, cfg *hcl.Config, list []*discovered, profiles []discovery.Profile, gen []*generated) (string, error) {
	var todo []*discovered
	for _, d := range list {
		switch {
		case d.InConfig != "":
		case d.Profile == "":
			d.Note = "found by mDNS only: no SNMP profile answered"
		default:
			todo = append(todo, d)
		}
	}
	cat := catalog.Default()
	if cfg != nil && cfg.Catalog != nil {
		cat = cfg.Catalog
	}
	abs, err := filepath.Abs(o.Out)
	if err != nil {
		return "", err
	}
	configDir, err := filepath.Abs(o.State.Dir)
	if err != nil {
		return "", err
	}
	if info, err := os.Stat(configDir); err == nil && !info.IsDir() {
		configDir = filepath.Dir(configDir)
	}
	inConfig := filepath.Dir(abs) == configDir && strings.HasSuffix(abs, ".hcl")

	// Take the state lock before observing, so that the blocks written
	// and the records match what one run saw.
	var st state.Store
	var lock *state.Lock
	taken := configNames(cfg)
	if inConfig && len(todo) > 0 {
		loc, err := o.State.location(o.IO, cfgOrDefault(cfg, configDir))
		if err != nil {
			return "", err
		}
		if st, err = openState(ctx, o.IO, o.OpenStore, loc); err != nil {
			return "", err
		}
		defer st.Close()
		if lock, err = lockState(ctx, st, "inkform discover", o.Lock.Timeout); err != nil {
			return "", err
		}
		defer func() { _ = lock.Unlock(context.WithoutCancel(ctx)) }()
		recorded, err := st.Printers(ctx)
		if err != nil {
			return "", err
		}
		for _, r := range recorded {
			taken["printer"][r.Name] = true
		}
	}

	// Read every catalog setting each printer answers, the way plan will.
	names := cat.Names()
	printers := make([]fleet.Printer, len(todo))
	for i, d := range todo {
		p := fleet.Printer{Name: d.Address.String(), Host: d.Address.Addr().String(), Port: int(d.Address.Port()),
			Credentials: fleet.Credentials{SNMP: profiles[d.ProfileIndex].SNMP}}
		for _, n := range names {
			p.Settings = append(p.Settings, fleet.Desired{Name: n})
		}
		printers[i] = p
	}
	limits, _ := observer.NewLimits(0, len(printers))
	obsv := observer.Observer{Connector: o.Connect(cat, devicesOf(cfg), limits.MaxInFlight), Limits: limits}
	var mu sync.Mutex
	obsv.Observe(ctx, printers, func(i int, r observer.Result) {
		mu.Lock()
		defer mu.Unlock()
		if r.Err != nil {
			todo[i].Note = "not written: " + r.Err.Error()
			return
		}
		todo[i].obs = &r.Observation
	})
	if err := ctx.Err(); err != nil {
		return "", err
	}

	file := discovery.File{Header: []string{
		fmt.Sprintf("Printers found by inkform discover on %s.", time.Now().UTC().Format("2006-01-02 15:04 UTC")),
		"Settings hold the values the printers had then.",
	}}
	written := map[string]*discovered{}
	var blocks []*discovered
	for _, d := range todo {
		if d.obs == nil {
			continue
		}
		obs := d.obs
		d.Vendor, d.Model, d.Serial, d.Firmware = first(obs.Vendor, d.Vendor), first(obs.Model, d.Model), first(obs.Serial, d.Serial), first(obs.Firmware, d.Firmware)
		settings := map[string]string{}
		unsupported := map[string]bool{}
		for _, u := range obs.Unsupported {
			unsupported[u] = true
		}
		for name, v := range obs.Settings {
			s, ok := cat.Lookup(name)
			if !ok || unsupported[name] {
				continue
			}
			if c, err := s.Validate(v); err == nil {
				settings[name] = c
			}
		}
		d.cred = credentialsRef(profiles[d.ProfileIndex], gen, taken)
		d.Written = discovery.PrinterName(d.Model, d.Serial, d.Address, taken["printer"])
		file.Printers = append(file.Printers, discovery.PrinterBlock{
			Name: d.Written, Address: d.Address, Serial: d.Serial, Credentials: d.cred, Settings: settings,
			Comment: strings.TrimSpace(d.Vendor + " " + strings.TrimPrefix(d.Model, d.Vendor+" ") + ", found by " + strings.Join(d.FoundBy, " and ")),
		})
		written[d.Written] = d
		blocks = append(blocks, d)
	}
	var vars []string
	for _, g := range gen {
		if !g.used {
			continue
		}
		file.Variables = append(file.Variables, discovery.Variable{Name: g.variable,
			Description: "SNMP community of the printers discover found with it; set INKFORM_VAR_" + g.variable + " or -var, never commit it"})
		file.Credentials = append(file.Credentials, discovery.CredentialsBlock{Name: g.block, Version: g.version, Community: g.variable})
		vars = append(vars, g.variable+"="+g.value)
	}
	if len(blocks) == 0 {
		return "", nil
	}
	src, err := file.Render(cat)
	if err != nil {
		return "", fmt.Errorf("-o %s: %w", o.Out, err)
	}
	if err := writeAtomic(o.Out, src, o.Force); err != nil {
		return "", fmt.Errorf("-o %s: %w", o.Out, err)
	}
	if !inConfig {
		fmt.Fprintf(o.IO.Err, "Note: %s is not a *.hcl file of the configuration (%s): its printers were not recorded in the state. Move it there and run inkform import for each, or plan adopts them.\n", o.Out, configDir)
		return o.Out, nil
	}
	// The file is part of the configuration now: it must load with it,
	// or it goes.
	flags := o.State.configFlags
	flags.Dir = configDir
	flags.Vars = append(slices.Clone(flags.Vars), vars...)
	full, err := flags.load(o.IO)
	if err != nil {
		os.Remove(o.Out)
		return "", &exitError{code: ExitError, msg: fmt.Sprintf("-o %s: the configuration with the printers found does not load (see above); the file was not kept", o.Out)}
	}
	var declared []fleet.Printer
	for _, d := range blocks {
		p, ok := full.Printer(d.Written)
		if !ok {
			os.Remove(o.Out)
			return "", fmt.Errorf("-o %s: printer %s missing after loading", o.Out, d.Written)
		}
		declared = append(declared, p)
	}
	memo, err := values.MemoFor(st, cat, declared)
	if err != nil {
		return "", err
	}
	for i, p := range declared {
		if err := lock.Err(); err != nil {
			return "", err
		}
		if err := st.PutPrinter(ctx, importRecord(memo, p, *blocks[i].obs)); err != nil {
			return "", fmt.Errorf("printer.%s: record: %w", p.Name, err)
		}
	}
	return o.Out, nil
}

// cfgOrDefault is the configuration, or an empty one in dir (the default
// state beside the file written).
func cfgOrDefault(cfg *hcl.Config, dir string) *hcl.Config {
	if cfg != nil {
		return cfg
	}
	return &hcl.Config{Dir: dir, State: hcl.StateConfig{Backend: hcl.DefaultStateBackend}}
}

// credentialsRef is the credentials block a printer found with profile p
// references: the configuration's, or the one written for its community,
// named when first used.
func credentialsRef(p discovery.Profile, gen []*generated, taken map[string]map[string]bool) string {
	if name, ok := strings.CutPrefix(p.Name, "credentials."); ok {
		return name
	}
	for _, g := range gen {
		if p.SNMP.Community == g.value && p.SNMP.Version == g.version {
			if !g.used {
				g.used = true
				g.block = uniqueName("discovered", taken["credentials"])
				g.variable = uniqueName(g.block+"_community", taken["variable"])
			}
			return g.block
		}
	}
	return ""
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writeAtomic writes data to path through a temporary file beside it and
// a rename: the file is there whole or not at all. Without replace an
// existing file is an error, checked again at the last moment.
func writeAtomic(path string, data []byte, replace bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if !replace {
		// A hard link fails when path exists: no window to overwrite.
		if err := os.Link(tmp.Name(), path); err != nil {
			if errors.Is(err, os.ErrExist) {
				return errors.New("the file exists; --force replaces it")
			}
			return err
		}
		return nil
	}
	return os.Rename(tmp.Name(), path)
}

// discoverJSON is discover's -json output.
type discoverJSON struct {
	FormatVersion int                `json:"format_version"`
	Printers      []discoverJSONItem `json:"printers"`
	Stats         discoverJSONStats  `json:"stats"`
	Written       string             `json:"written,omitempty"`
}

type discoverJSONItem struct {
	Address  string   `json:"address"`
	Vendor   string   `json:"vendor"`
	Model    string   `json:"model"`
	Serial   string   `json:"serial"`
	Firmware string   `json:"firmware"`
	MAC      string   `json:"mac,omitempty"`
	Secured  bool     `json:"secured"`
	FoundBy  []string `json:"found_by"`
	Profile  string   `json:"profile,omitempty"`
	InConfig string   `json:"in_config,omitempty"`
	Written  string   `json:"written_as,omitempty"`
	Note     string   `json:"note,omitempty"`
	AdminURL string   `json:"admin_url,omitempty"`
}

type discoverJSONStats struct {
	Addresses   int     `json:"addresses"`
	Answered    int     `json:"answered"`
	Printers    int     `json:"printers"`
	OtherAgents int     `json:"other_agents"`
	PacketsSent uint64  `json:"packets_sent"`
	Seconds     float64 `json:"seconds"`
}

func writeDiscoverJSON(io streams, list []*discovered, st discovery.Stats, others int, written string) error {
	out := discoverJSON{FormatVersion: discoverFormatVersion, Printers: []discoverJSONItem{}, Written: written,
		Stats: discoverJSONStats{Addresses: st.Addresses, Answered: st.Answered, Printers: len(list), OtherAgents: others,
			PacketsSent: st.Packets, Seconds: st.Elapsed.Seconds()}}
	for _, d := range list {
		item := discoverJSONItem{Address: discovery.Address(d.Address), Vendor: d.Vendor, Model: d.Model, Serial: d.Serial,
			Firmware: d.Firmware, MAC: d.MAC, Secured: d.Secured, FoundBy: d.FoundBy, Profile: d.Profile,
			Note: d.Note}
		if d.InConfig != "" {
			item.InConfig = "printer." + d.InConfig
		}
		if d.Written != "" {
			item.Written = "printer." + d.Written
		}
		if d.MDNS != nil {
			item.AdminURL = d.MDNS.AdminURL
		}
		out.Printers = append(out.Printers, item)
	}
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeDiscoverTable(io streams, list []*discovered, st discovery.Stats, others int, rate float64, written string, gen []*generated) error {
	if len(list) > 0 {
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ADDRESS\tVENDOR\tMODEL\tSERIAL\tFIRMWARE\tSECURED\tFOUND BY\t")
		for _, d := range list {
			secured := "no"
			if d.Secured {
				secured = "yes"
			}
			note := ""
			switch {
			case d.InConfig != "":
				note = "in the configuration: printer." + d.InConfig
			case d.Written != "":
				note = "written: printer." + d.Written
			case d.Note != "":
				note = d.Note
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", discovery.Address(d.Address), orDash(d.Vendor), orDash(d.Model),
				orDash(d.Serial), orDash(d.Firmware), secured, strings.Join(d.FoundBy, ","), note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(io.Out)
	}
	what := fmt.Sprintf("%d printers", len(list))
	if len(list) == 1 {
		what = "1 printer"
	}
	if others > 0 {
		what += fmt.Sprintf(" (and %d other SNMP agents)", others)
	}
	_, err := fmt.Fprintf(io.Out, "Swept %d addresses in %s: %s; %d packets sent, at most %g a second.\n",
		st.Addresses, st.Elapsed.Round(time.Millisecond), what, st.Packets, rate)
	if err != nil {
		return err
	}
	if written != "" {
		fmt.Fprintf(io.Out, "Printer blocks written to %s.\n", written)
		for _, g := range gen {
			if g.used {
				fmt.Fprintf(io.Out, "Set INKFORM_VAR_%s (or -var %s=…) to the community the sweep used before the next plan.\n", g.variable, g.variable)
			}
		}
	}
	return nil
}
