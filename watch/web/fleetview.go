package web

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/inkform/inkform/fleet"
)

// printerRow is one printer as the fleet page and the API show it.
type printerRow struct {
	Name     string         `json:"name"`
	Host     string         `json:"host"`
	Status   string         `json:"status"`
	Vendor   string         `json:"vendor"`
	Model    string         `json:"model"`
	Firmware string         `json:"firmware"`
	Serial   string         `json:"serial"`
	Keywords []string       `json:"keywords"`
	Supplies []fleet.Supply `json:"supplies"`
	// PageCount is nil when not known.
	PageCount *int64 `json:"page_count"`
	// Conditions are the printer's detected error states (RFC 3805
	// names, e.g. lowToner).
	Conditions []string `json:"conditions"`
	Drift      []string `json:"drift"`
	Alerts     int      `json:"active_alerts"`
	// LastSeen is nil when the printer was never observed.
	LastSeen *time.Time `json:"last_seen"`
	Error    string     `json:"error,omitempty"`
}

// viewStatus is the status a printer is shown with: offline when its
// last observation failed, unknown when it was never observed.
func viewStatus(v *PrinterView) string {
	if v.Err != "" {
		return fleet.StatusOffline
	}
	if v.Observation == nil {
		return fleet.StatusUnknown
	}
	if rank(v.Observation.Status) < 0 {
		return fleet.StatusUnknown
	}
	return v.Observation.Status
}

// rank orders statuses worst first; -1 for a status not known.
func rank(status string) int { return slices.Index(statuses, status) }

func model(v *PrinterView) string {
	if v.Observation != nil && v.Observation.Model != "" {
		return v.Observation.Model
	}
	if v.Recorded != nil {
		return v.Recorded.Model
	}
	return ""
}

func firmware(v *PrinterView) string {
	if v.Observation != nil && v.Observation.Firmware != "" {
		return v.Observation.Firmware
	}
	if v.Recorded != nil {
		return v.Recorded.Firmware
	}
	return ""
}

func lastSeen(v *PrinterView) time.Time {
	if v.Observation != nil && !v.Observation.ObservedAt.IsZero() {
		return v.Observation.ObservedAt
	}
	if v.Recorded != nil {
		return v.Recorded.ObservedAt
	}
	return time.Time{}
}

func pageCount(v *PrinterView) int64 {
	if v.Observation == nil {
		return -1
	}
	return v.Observation.PageCount
}

// lowestSupply is the lowest known supply percent, 101 when none is
// known.
func lowestSupply(v *PrinterView) int {
	low := 101
	if v.Observation != nil {
		for _, sp := range v.Observation.Supplies {
			if p := sp.Percent(); p >= 0 && p < low {
				low = p
			}
		}
	}
	return low
}

func rowOf(v *PrinterView, alerts int) printerRow {
	r := printerRow{Name: v.Printer.Name, Host: v.Printer.Host, Status: viewStatus(v), Model: model(v), Firmware: firmware(v),
		Keywords: v.Printer.Keywords, Drift: v.Drift, Alerts: alerts, Error: v.Err}
	if o := v.Observation; o != nil {
		r.Vendor, r.Serial, r.Supplies, r.Conditions = o.Vendor, o.Serial, o.Supplies, o.Errors
		if o.PageCount >= 0 {
			pc := o.PageCount
			r.PageCount = &pc
		}
	} else if v.Recorded != nil {
		r.Serial = v.Recorded.Serial
	}
	if t := lastSeen(v); !t.IsZero() {
		r.LastSeen = &t
	}
	for _, sl := range []*[]string{&r.Keywords, &r.Drift, &r.Conditions} {
		if *sl == nil {
			*sl = []string{}
		}
	}
	if r.Supplies == nil {
		r.Supplies = []fleet.Supply{}
	}
	return r
}

// fleetResult is one page of the filtered, sorted fleet.
type fleetResult struct {
	Rows    []printerRow
	Total   int // printers matching the filters
	All     int // printers declared
	Page    int
	PerPage int
	Pages   int
	// ByStatus counts every declared printer by status.
	ByStatus map[string]int
}

type entry struct {
	v      *PrinterView
	status string
	alerts int
	key    sortKey
}

// sortKey is a printer's value in the column sorted by, computed once.
type sortKey struct {
	missing bool // sorts last either way
	n       int64
	s       string
	t       time.Time
}

func (a sortKey) compare(b sortKey) int {
	if c := cmp.Compare(a.n, b.n); c != 0 {
		return c
	}
	if c := strings.Compare(a.s, b.s); c != 0 {
		return c
	}
	return a.t.Compare(b.t)
}

// queryFleet filters, sorts and pages views in memory.
func queryFleet(views []PrinterView, counts map[string]int, q fleetQuery) fleetResult {
	res := fleetResult{All: len(views), Page: q.Page, PerPage: q.PerPage, ByStatus: map[string]int{}}
	name, kw, mdl := strings.ToLower(q.Name), strings.ToLower(q.Keyword), strings.ToLower(q.Model)
	es := make([]entry, 0, len(views))
	for i := range views {
		v := &views[i]
		e := entry{v: v, status: viewStatus(v), alerts: counts[v.Printer.Name]}
		res.ByStatus[e.status]++
		switch {
		case q.Status != "" && e.status != q.Status,
			name != "" && !containsFold(v.Printer.Name, name),
			mdl != "" && !containsFold(model(v), mdl),
			kw != "" && !slices.ContainsFunc(v.Printer.Keywords, func(k string) bool { return strings.EqualFold(k, kw) }),
			q.Drift == "yes" && len(v.Drift) == 0, q.Drift == "no" && len(v.Drift) > 0,
			q.Alerts == "yes" && e.alerts == 0, q.Alerts == "no" && e.alerts > 0:
			continue
		}
		es = append(es, e)
	}
	keyOf := sortKeyOf(q.Sort)
	for i := range es {
		es[i].key = keyOf(es[i])
	}
	// Sorting indices moves 4 bytes a swap rather than whole entries.
	order := make([]int32, len(es))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &es[i], &es[j]
		if a.key.missing != b.key.missing {
			if a.key.missing {
				return 1
			}
			return -1
		}
		c := a.key.compare(b.key)
		if q.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.v.Printer.Name, b.v.Printer.Name)
	})
	res.Total = len(es)
	res.Pages = max(1, (res.Total+q.PerPage-1)/q.PerPage)
	lo := min((q.Page-1)*q.PerPage, res.Total)
	hi := min(lo+q.PerPage, res.Total)
	res.Rows = make([]printerRow, 0, hi-lo)
	for _, i := range order[lo:hi] {
		res.Rows = append(res.Rows, rowOf(es[i].v, es[i].alerts))
	}
	return res
}

// containsFold reports whether s contains lower (lower case) in any case.
func containsFold(s, lower string) bool {
	if len(lower) > len(s) {
		return false
	}
	return strings.Contains(strings.ToLower(s), lower)
}

// sortKeyOf returns how to find a printer's value in the column key.
func sortKeyOf(key string) func(e entry) sortKey {
	switch key {
	case "status":
		return func(e entry) sortKey { return sortKey{n: int64(rank(e.status))} }
	case "model":
		return func(e entry) sortKey { m := model(e.v); return sortKey{s: m, missing: m == ""} }
	case "firmware":
		return func(e entry) sortKey { f := firmware(e.v); return sortKey{s: f, missing: f == ""} }
	case "pages":
		return func(e entry) sortKey { n := pageCount(e.v); return sortKey{n: n, missing: n < 0} }
	case "seen":
		return func(e entry) sortKey { t := lastSeen(e.v); return sortKey{t: t, missing: t.IsZero()} }
	case "alerts":
		return func(e entry) sortKey { return sortKey{n: int64(e.alerts)} }
	case "supply":
		return func(e entry) sortKey { n := lowestSupply(e.v); return sortKey{n: int64(n), missing: n > 100} }
	}
	return func(e entry) sortKey { return sortKey{s: e.v.Printer.Name} }
}

// findView returns the view of the printer named name.
func findView(views []PrinterView, name string) (*PrinterView, bool) {
	for i := range views {
		if views[i].Printer.Name == name {
			return &views[i], true
		}
	}
	return nil, false
}

// alertCountTTL is how long the active alerts per printer are reused: the
// fleet page is read often and the count need not be exact to the second.
const alertCountTTL = 3 * time.Second

// alertCounts caches the number of active alerts per printer. Past its
// TTL one request reads them again while the others go on with the
// previous counts: after a storm tens of thousands of alerts are active,
// and no page should wait for that read.
type alertCounts struct {
	mu         sync.Mutex
	at         time.Time
	counts     map[string]int
	gen        uint64 // counts' generation: fleet results computed with them are cached under it
	refreshing bool
	fresh      chan struct{} // closed when the first read is done
}

func (s *Server) activeCounts(ctx context.Context) map[string]int {
	counts, _ := s.activeCountsGen(ctx)
	return counts
}

func (s *Server) activeCountsGen(ctx context.Context) (map[string]int, uint64) {
	c := &s.alertC
	c.mu.Lock()
	now := s.now()
	if c.counts != nil && (now.Sub(c.at) < alertCountTTL && !now.Before(c.at) || c.refreshing) {
		defer c.mu.Unlock()
		return c.counts, c.gen
	}
	if c.refreshing { // the first read is under way: wait for it
		fresh := c.fresh
		c.mu.Unlock()
		select {
		case <-fresh:
		case <-ctx.Done():
			return map[string]int{}, 0
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.counts, c.gen
	}
	c.refreshing, c.fresh = true, make(chan struct{})
	c.mu.Unlock()

	counts := map[string]int{}
	if s.outbox != nil {
		as, err := s.outbox.ActiveAlerts(ctx)
		if err != nil {
			s.log.Error("status page: active alerts", "err", err)
		}
		for _, a := range as {
			counts[a.Event.Printer]++
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts, c.at, c.refreshing = counts, now, false
	c.gen++
	close(c.fresh)
	return c.counts, c.gen
}

// forget drops the cached counts, after an acknowledgement.
func (s *Server) forgetCounts() {
	s.alertC.mu.Lock()
	if !s.alertC.refreshing {
		s.alertC.counts = nil
	}
	s.alertC.mu.Unlock()
}

// fleetCache keeps the results of recent fleet queries for one snapshot
// of the fleet and one generation of alert counts: fifty people on the
// default page sort 10,000 printers once, not fifty times. Fleet must
// return a new slice when a view changes (the watch process builds one
// per poll).
type fleetCache struct {
	mu      sync.Mutex
	first   *PrinterView
	n       int
	gen     uint64
	results map[fleetQuery]fleetResult
}

// maxCachedQueries bounds the cache: queries beyond it are computed each
// time.
const maxCachedQueries = 64

// fleetResult is queryFleet over the current fleet, cached.
func (s *Server) fleetResult(ctx context.Context, q fleetQuery) fleetResult {
	views := s.cfg.Fleet()
	counts, gen := s.activeCountsGen(ctx)
	var first *PrinterView
	if len(views) > 0 {
		first = &views[0]
	}
	c := &s.fleetC
	c.mu.Lock()
	if c.first != first || c.n != len(views) || c.gen != gen || c.results == nil {
		c.first, c.n, c.gen, c.results = first, len(views), gen, map[fleetQuery]fleetResult{}
	}
	if r, ok := c.results[q]; ok {
		c.mu.Unlock()
		return r
	}
	c.mu.Unlock()
	r := queryFleet(views, counts, q)
	c.mu.Lock()
	if c.first == first && c.n == len(views) && c.gen == gen && len(c.results) < maxCachedQueries {
		c.results[q] = r
	}
	c.mu.Unlock()
	return r
}

// settingRow is one setting of a printer: desired, observed and applied.
type settingRow struct {
	Name      string `json:"name"`
	Desired   string `json:"desired"`
	Observed  string `json:"observed"`
	Applied   string `json:"applied"`
	Sensitive bool   `json:"sensitive"`
	Drift     bool   `json:"drift"`
	// Unsupported says why the printer cannot carry it ("" when it can).
	Unsupported string `json:"unsupported,omitempty"`
}

// sensitiveShown is what stands for a sensitive value, everywhere.
const sensitiveShown = "(sensitive)"

// settingRows lists the declared settings of v. Sensitive values are
// never shown: neither the desired one nor what the printer reports.
func settingRows(v *PrinterView) []settingRow {
	out := make([]settingRow, 0, len(v.Printer.Settings))
	for _, d := range v.Printer.Settings {
		r := settingRow{Name: d.Name, Desired: d.Value, Sensitive: d.Sensitive, Drift: slices.Contains(v.Drift, d.Name)}
		if o := v.Observation; o != nil {
			if val, ok := o.Settings[d.Name]; ok {
				r.Observed = val
			}
			if slices.Contains(o.Unsupported, d.Name) {
				r.Unsupported = o.UnsupportedWhy[d.Name]
				if r.Unsupported == "" {
					r.Unsupported = "not supported"
				}
			}
		}
		if v.Recorded != nil {
			r.Applied = v.Recorded.Values[d.Name]
		}
		if d.Sensitive {
			r.Desired = sensitiveShown
			if r.Observed != "" {
				r.Observed = sensitiveShown
			}
			r.Applied = ""
			if v.Recorded != nil {
				if _, ok := v.Recorded.Settings[d.Name]; ok {
					r.Applied = sensitiveShown
				}
			}
		}
		out = append(out, r)
	}
	return out
}
