package web

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/alerts"
)

func FuzzFleetQuery(f *testing.F) {
	for _, s := range []string{"", "name=p1&sort=-supply&page=2&per_page=100", "status=down&drift=yes&alerts=no",
		"sort=--name", "page=-1", "per_page=99999999999999999999", "name=%ff%fe", "keyword=LAB&model=hp&sort=seen"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseFleetQuery(v)
		if err != nil {
			if !strings.Contains(err.Error(), "bad parameter") {
				t.Fatalf("error %q does not say which parameter", err)
			}
			return
		}
		if q.Page < 1 || q.PerPage < 1 || q.PerPage > maxPerPage || rank(q.Status) < 0 && q.Status != "" {
			t.Fatalf("accepted %+v", q)
		}
		again, err := parseFleetQuery(q.values())
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("round trip of %+v: %+v, %v", q, again, err)
		}
		queryFleet(testFleet(3), nil, q)
	})
}

func FuzzAlertQuery(f *testing.F) {
	for _, s := range []string{"", "state=cleared&printer=lab-*&severity=critical", "printer=[", "acked=yes&page=3&per_page=2", "event=jam"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseAlertQuery(v)
		if err != nil {
			return
		}
		again, err := parseAlertQuery(q.values())
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("round trip of %+v: %+v, %v", q, again, err)
		}
		matchPrinter(q.Printer, "lab-1")
	})
}

func FuzzSilenceForm(f *testing.F) {
	f.Add("lab-*", "toner_low", "4h", "toner on order")
	f.Add("", "", "1h", "x")
	f.Add("[", "jam", "-1h", "")
	f.Add("a", "jam", "9999999h", "why")
	f.Fuzz(func(t *testing.T, printer, event, duration, comment string) {
		s, err := parseSilence(url.Values{"printer": {printer}, "event": {event}, "duration": {duration}, "comment": {comment}})
		if err != nil {
			return
		}
		if s.Duration <= 0 || s.Duration > maxSilence || s.Comment == "" || (s.Printer == "" && s.Event == "") {
			t.Fatalf("accepted %+v", s)
		}
		if s.Event != "" && !knownEvent(s.Event) {
			t.Fatalf("accepted event %q", s.Event)
		}
	})
}

// The session cookie: nothing but a token signed with the key passes,
// whatever the bytes.
func FuzzSessionCookie(f *testing.F) {
	keys := &sessionKeys{sign: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	good, _ := keys.encode(session{ID: "ab", User: "vera", Role: alerts.RoleViewer, Method: "ldap", Expires: now.Add(time.Hour).Unix()})
	f.Add(good)
	f.Add("v1.e30.")
	f.Add("v1..")
	f.Add(strings.Repeat("v1.", 100))
	f.Add("inkform_session=" + good + "; other=1")
	f.Fuzz(func(t *testing.T, tok string) {
		s, err := parseToken(keys.sign, tok, now)
		if err == nil && tok != good {
			t.Fatalf("accepted %q as %+v", tok, s)
		}
		// The same bytes as a Cookie header.
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", tok)
		for _, c := range r.Cookies() {
			if _, err := parseToken(keys.sign, c.Value, now); err == nil && c.Value != good {
				t.Fatalf("accepted cookie %q", c.Value)
			}
		}
	})
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/alerts", "//evil", "/\\evil", "https://x", "/a?b=c#d", "/%2F%2Fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q leaves the page", next, got)
		}
	})
}
