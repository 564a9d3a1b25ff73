package web

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Plan now: a service desk member starts a plan from the runs page or
// the API, audited; a viewer cannot; without the hook there is no route.
func TestPlanNow(t *testing.T) {
	var mu sync.Mutex
	var by []string
	e := newEnv(t, 3, func(c *Config) {
		c.PlanNow = func(ctx context.Context, who string) error {
			mu.Lock()
			defer mu.Unlock()
			by = append(by, who)
			return nil
		}
	})
	basic := func(user, pw string) http.Header {
		r, _ := http.NewRequest("POST", "/", nil)
		r.SetBasicAuth(user, pw)
		return http.Header{"Authorization": r.Header["Authorization"], "Content-Type": {"application/json"}}
	}
	if w := e.do("POST", "/api/v1/plan", strings.NewReader("{}"), basic("vera", "viewer-pw")); w.Code != http.StatusForbidden {
		t.Errorf("a viewer's plan: %d, want 403", w.Code)
	}
	if w := e.do("POST", "/api/v1/plan", strings.NewReader("{}"), basic("sam", "desk-pw")); w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), `"started": true`) {
		t.Errorf("the service desk's plan: %d %s, want 202", w.Code, w.Body)
	}
	c := e.login("sam", "desk-pw")
	if w := e.do("GET", "/runs", nil, nil, c); !strings.Contains(w.Body.String(), `id="plan-now"`) {
		t.Errorf("the runs page offers no plan to the service desk:\n%s", w.Body)
	}
	if w := e.do("POST", "/runs/plan", nil, nil, c); w.Code != http.StatusForbidden {
		t.Errorf("a plan without its CSRF token: %d, want 403", w.Code)
	}
	body, hdr := form("csrf", e.csrfOf(c))
	if w := e.do("POST", "/runs/plan", body, hdr, c); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/runs?planned=1" {
		t.Errorf("the form's plan: %d to %q", w.Code, w.Header().Get("Location"))
	}
	mu.Lock()
	if strings.Join(by, ",") != "sam,sam" {
		t.Errorf("plans started by %q, want sam twice", by)
	}
	mu.Unlock()
	log, _ := e.store.AuditLog(context.Background(), 0)
	n := 0
	for _, a := range log {
		if a.Action == actionPlanNow && a.User == "sam" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d plan entries in the audit log, want 2", n)
	}

	plain := newEnv(t, 3)
	pc := plain.login("sam", "desk-pw")
	if w := plain.do("GET", "/runs", nil, nil, pc); strings.Contains(w.Body.String(), `id="plan-now"`) {
		t.Error("a plan offered where the process has none")
	}
	if w := plain.do("POST", "/api/v1/plan", strings.NewReader("{}"), basic("sam", "desk-pw")); w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
		t.Errorf("plan without the hook: %d, want 404", w.Code)
	}
}
