package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/fleet"
)

func lowest(r printerRow) int {
	low := 101
	for _, sp := range r.Supplies {
		if p := sp.Percent(); p >= 0 && p < low {
			low = p
		}
	}
	return low
}

// Filtering, sorting and paging over 10,000 printers, checked against the
// filters themselves: every page full but the last, every row matching,
// nothing twice, nothing missing, and the order as asked.
func TestFleetQueries10k(t *testing.T) {
	e := newEnv(t, 10000)
	for _, name := range []string{"p00014", "p00028", "p00042"} {
		raise(t, e.store, name, alerts.Jam, t0)
	}
	raise(t, e.store, "p00028", alerts.TonerLow, t0)
	c := e.login("vera", "viewer-pw")

	views := e.views
	byName := map[string]*PrinterView{}
	for i := range views {
		byName[views[i].Printer.Name] = &views[i]
	}
	matches := func(q url.Values, v *PrinterView) bool {
		if s := q.Get("status"); s != "" && viewStatus(v) != s {
			return false
		}
		if n := q.Get("name"); n != "" && !strings.Contains(v.Printer.Name, n) {
			return false
		}
		if m := q.Get("model"); m != "" && !strings.Contains(strings.ToLower(model(v)), strings.ToLower(m)) {
			return false
		}
		if k := q.Get("keyword"); k != "" && !slices.Contains(v.Printer.Keywords, strings.ToLower(k)) {
			return false
		}
		if q.Get("drift") == "yes" && len(v.Drift) == 0 {
			return false
		}
		if q.Get("alerts") == "yes" && !slices.Contains([]string{"p00014", "p00028", "p00042"}, v.Printer.Name) {
			return false
		}
		return true
	}
	order := map[string]func(a, b printerRow) (int, bool, bool){
		"name":   func(a, b printerRow) (int, bool, bool) { return strings.Compare(a.Name, b.Name), false, false },
		"status": func(a, b printerRow) (int, bool, bool) { return rank(a.Status) - rank(b.Status), false, false },
		"model": func(a, b printerRow) (int, bool, bool) {
			return strings.Compare(a.Model, b.Model), a.Model == "", b.Model == ""
		},
		"pages": func(a, b printerRow) (int, bool, bool) {
			pa, pb := int64(-1), int64(-1)
			if a.PageCount != nil {
				pa = *a.PageCount
			}
			if b.PageCount != nil {
				pb = *b.PageCount
			}
			return int(pa - pb), pa < 0, pb < 0
		},
		"supply": func(a, b printerRow) (int, bool, bool) {
			return lowest(a) - lowest(b), lowest(a) > 100, lowest(b) > 100
		},
		"alerts": func(a, b printerRow) (int, bool, bool) { return a.Alerts - b.Alerts, false, false },
		"seen": func(a, b printerRow) (int, bool, bool) {
			ta, tb := time.Time{}, time.Time{}
			if a.LastSeen != nil {
				ta = *a.LastSeen
			}
			if b.LastSeen != nil {
				tb = *b.LastSeen
			}
			return ta.Compare(tb), ta.IsZero(), tb.IsZero()
		},
	}
	for _, tc := range []string{
		"per_page=500",
		"sort=-name&per_page=333",
		"status=down&sort=-pages&per_page=97",
		"status=offline&per_page=50",
		"name=p001&sort=supply&per_page=41",
		"model=lexmark&keyword=LAB&sort=-supply&per_page=200",
		"drift=yes&sort=seen&per_page=500",
		"sort=-seen&per_page=500",
		"sort=status&per_page=500",
		"alerts=yes&sort=-alerts",
		"sort=model&per_page=500",
		"name=nothing-matches",
	} {
		t.Run(tc, func(t *testing.T) {
			q, _ := url.ParseQuery(tc)
			fq, err := parseFleetQuery(q)
			if err != nil {
				t.Fatal(err)
			}
			// The whole ordered result at once, then pages of it through
			// the API: the first, one in the middle, the last.
			whole := fq
			whole.Page, whole.PerPage = 1, len(views)
			rows := queryFleet(views, e.s.activeCounts(t.Context()), whole).Rows
			want := 0
			for i := range views {
				if matches(q, &views[i]) {
					want++
				}
			}
			if len(rows) != want {
				t.Fatalf("%d rows; want %d", len(rows), want)
			}
			pages := max(1, (want+fq.PerPage-1)/fq.PerPage)
			for _, page := range []int{1, (pages + 1) / 2, pages} {
				q.Set("page", fmt.Sprint(page))
				w := e.do("GET", "/api/v1/printers?"+q.Encode(), nil, nil, c)
				got := decode[printersJSON](t, w.Body.Bytes())
				lo := min((page-1)*fq.PerPage, want)
				wantRows := rows[lo:min(lo+fq.PerPage, want)]
				if w.Code != 200 || got.Total != want || got.Pages != pages || got.Page != page || got.All != len(views) || len(got.Printers) != len(wantRows) {
					t.Fatalf("page %d: %d, total %d pages %d rows %d; want total %d pages %d rows %d", page, w.Code, got.Total, got.Pages, len(got.Printers), want, pages, len(wantRows))
				}
				for i := range wantRows {
					if got.Printers[i].Name != wantRows[i].Name {
						t.Fatalf("page %d row %d: %s, want %s", page, i, got.Printers[i].Name, wantRows[i].Name)
					}
				}
			}
			seen := map[string]bool{}
			for _, r := range rows {
				v := byName[r.Name]
				if v == nil || seen[r.Name] || !matches(q, v) {
					t.Fatalf("row %s is twice or does not match", r.Name)
				}
				seen[r.Name] = true
			}
			sortBy, desc := strings.CutPrefix(q.Get("sort"), "-")
			if sortBy == "" {
				sortBy = "name"
			}
			for i := 1; i < len(rows); i++ {
				c, ma, mb := order[sortBy](rows[i-1], rows[i])
				if ma && !mb {
					t.Fatalf("%s without %s comes before %s with it", rows[i-1].Name, sortBy, rows[i].Name)
				}
				if ma != mb {
					continue
				}
				if desc {
					c = -c
				}
				if c > 0 || (c == 0 && sortBy != "name" && rows[i-1].Name > rows[i].Name) {
					t.Fatalf("rows %d and %d out of order by %s: %s, %s", i-1, i, q.Get("sort"), rows[i-1].Name, rows[i].Name)
				}
			}
			if q.Get("alerts") == "yes" && (len(rows) != 3 || rows[0].Name != "p00028" || rows[0].Alerts != 2) {
				t.Errorf("printers with alerts, most first: %+v", rows)
			}
		})
	}
	// The counts by status cover the whole fleet, filtered or not.
	head := decode[printersJSON](t, e.do("GET", "/api/v1/printers?status=down", nil, nil, c).Body.Bytes())
	sum := 0
	for _, n := range head.ByStatus {
		sum += n
	}
	if sum != 10000 || head.ByStatus[fleet.StatusDown] != head.Total {
		t.Errorf("by_status %v (sum %d), total down %d", head.ByStatus, sum, head.Total)
	}
	// A page past the end is empty, not an error.
	w := e.do("GET", "/api/v1/printers?page=9999", nil, nil, c)
	var past printersJSON
	if json.Unmarshal(w.Body.Bytes(), &past); w.Code != 200 || len(past.Printers) != 0 || past.Printers == nil {
		t.Errorf("past the end: %d %s", w.Code, w.Body.String()[:min(200, w.Body.Len())])
	}
	// The HTML page shows the same page.
	w = e.do("GET", "/?status=down&sort=-pages&per_page=10&page=2", nil, nil, c)
	api, _ := url.ParseQuery("status=down&sort=-pages&per_page=10&page=2")
	rows, _ := func() ([]printerRow, int) {
		aw := e.do("GET", "/api/v1/printers?"+api.Encode(), nil, nil, c)
		var got printersJSON
		json.Unmarshal(aw.Body.Bytes(), &got)
		return got.Printers, got.Total
	}()
	body := w.Body.String()
	last := -1
	for _, r := range rows {
		i := strings.Index(body, `href="/printers/`+r.Name+`"`)
		if i < 0 || i < last {
			t.Fatalf("the HTML page lacks %s or shows it out of order", r.Name)
		}
		last = i
	}
	if n := strings.Count(body, `<tr class="printer">`); n != 10 {
		t.Errorf("HTML page has %d printer rows, want 10", n)
	}
}

func TestFleetBadParams(t *testing.T) {
	e := newEnv(t, 10)
	c := e.login("vera", "viewer-pw")
	for _, q := range []string{"page=0", "page=x", "per_page=501", "sort=colour", "status=sleeping", "drift=maybe", "name=" + strings.Repeat("a", 300)} {
		w := e.do("GET", "/api/v1/printers?"+q, nil, nil, c)
		var body apiErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); w.Code != 400 || err != nil || !strings.Contains(body.Error.Message, strings.SplitN(q, "=", 2)[0]) {
			t.Errorf("%s: %d %s", q, w.Code, w.Body)
		}
		if w := e.do("GET", "/?"+q, nil, nil, c); w.Code != 400 {
			t.Errorf("page %s: %d", q, w.Code)
		}
	}
}

func benchEnv(b *testing.B) (*testEnv, *http.Cookie) {
	e := newEnv(b, 10000)
	return e, e.login("vera", "viewer-pw")
}

func BenchmarkFleetPage10k(b *testing.B) {
	e, c := benchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		if w := e.do("GET", "/?sort=-supply&status=idle&per_page=100&page=3", nil, nil, c); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

func BenchmarkAPIPrinters10k(b *testing.B) {
	e, c := benchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		if w := e.do("GET", "/api/v1/printers?sort=status&model=hp&per_page=100", nil, nil, c); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// Fleet results are reused only for the same snapshot of the fleet and
// the same alert counts: a new snapshot, or counts read again after
// their TTL, give a new result.
func TestFleetResultFollowsSnapshots(t *testing.T) {
	e := newEnv(t, 3)
	c := e.login("vera", "viewer-pw")
	total := func(q string) int {
		t.Helper()
		w := e.do("GET", "/api/v1/printers"+q, nil, nil, c)
		var r struct {
			Total int `json:"total"`
		}
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &r) != nil {
			t.Fatalf("GET: %d %s", w.Code, w.Body)
		}
		return r.Total
	}
	if n := total(""); n != 3 {
		t.Fatalf("total %d, want 3", n)
	}
	e.views = testFleet(5)
	if n := total(""); n != 5 {
		t.Errorf("after a new snapshot: total %d, want 5", n)
	}
	if n := total("?alerts=yes"); n != 0 {
		t.Fatalf("printers with alerts: %d, want 0", n)
	}
	raise(t, e.store, e.views[0].Printer.Name, "jam", t0)
	e.clock.Add(alertCountTTL)
	total("?alerts=yes") // starts reading the counts again; may answer with the old ones
	waitCounts := time.Now().Add(5 * time.Second)
	for total("?alerts=yes") != 1 {
		if time.Now().After(waitCounts) {
			t.Fatal("a raised alert never shows in the fleet's counts")
		}
	}
}
