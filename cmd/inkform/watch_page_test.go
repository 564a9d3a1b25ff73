package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/internal/testservers"
)

// inkform watch with its status page, logins against a real OpenLDAP
// (StartTLS, roles from groups) and a real MIT KDC (SPNEGO): curl with a
// password and with a Kerberos ticket, then Chromium through the login
// form, the fleet of simulated printers with their supply bars, one
// printer's page and the acknowledgement of its alert.
func TestWatchStatusPage(t *testing.T) {
	if testing.Short() {
		t.Skip("real directory, KDC and browser in -short mode")
	}
	curl := testservers.LookPath(t, "curl")
	testservers.Chromium(t)
	dir := t.TempDir()
	slapd := testservers.StartSlapd(t, testservers.SlapdOptions{})
	kdc := testservers.StartKDC(t, testservers.KDCOptions{})
	ca := testservers.NewCA(t, dir, "page")
	cert, key := ca.Issue(t, dir, "page")
	port := testservers.FreeTCPPort(t)

	page := fmt.Sprintf(`
  status_page {
    listen   = "127.0.0.1:%d"
    url      = "https://localhost:%d"
    tls_cert = %q
    tls_key  = %q
    ldap {
      url           = %q
      start_tls     = true
      ca_file       = %q
      bind_dn       = %q
      bind_password = var.ldap_password
      user_base     = %q
      roles = {
        admin        = %q
        service_desk = %q
        viewer       = %q
      }
    }
    kerberos {
      keytab  = %q
      service = "HTTP/localhost"
    }
  }`, port, port, cert, key, slapd.URL, slapd.CAFile, testservers.SlapdServiceDN, testservers.SlapdPeopleBase,
		testservers.SlapdAdmins, testservers.SlapdServiceDesk, testservers.SlapdViewers, kdc.Keytab)
	f := startWatchFixtureWith(t, watchFixtureOptions{
		Printers: 1, WatchExtra: page, // traps are told apart by address: one printer on 127.0.0.1
		Extra: "variable \"ldap_password\" {\n  type      = string\n  sensitive = true\n}\n",
		Env:   []string{"INKFORM_VAR_ldap_password=" + slapd.ServicePassword},
	})
	base := fmt.Sprintf("https://127.0.0.1:%d", port)

	// A client that trusts the page's CA only.
	pem, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path, user, pw string) (int, []byte) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	waitUntil(t, "the page to answer", 30*time.Second, func() bool { code, _ := get("/healthz", "", ""); return code == 200 },
		func() string { return f.logs.String() })

	// The first poll fills the fleet.
	alice := slapd.Passwords["alice"]
	type fleetJSON struct {
		Printers []struct {
			Name     string `json:"name"`
			Model    string `json:"model"`
			Supplies []any  `json:"supplies"`
		} `json:"printers"`
	}
	var fl fleetJSON
	waitUntil(t, "the first poll on the page", 30*time.Second, func() bool {
		code, body := get("/api/v1/printers", "alice", alice)
		fl = fleetJSON{}
		return code == 200 && json.Unmarshal(body, &fl) == nil && len(fl.Printers) == 1 && fl.Printers[0].Model != "" && len(fl.Printers[0].Supplies) > 0
	}, func() string { return f.logs.String() })

	// curl -u against the directory: the right password, a wrong one, a
	// user in no group with a role.
	for _, c := range []struct {
		user, pw string
		want     string
	}{{"alice", alice, "200"}, {"alice", "wrong", "401"}, {"dave", slapd.Passwords["dave"], "403"}} {
		out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca.CertFile,
			"-u", c.user+":"+c.pw, base+"/api/v1/printers").CombinedOutput()
		if err != nil || string(out) != c.want {
			t.Errorf("curl -u %s: %s (%v), want %s", c.user, out, err, c.want)
		}
	}
	// curl --negotiate with bob's ticket: bob is in the service desk group.
	env := kdc.Kinit(t, "bob")
	cmd := exec.Command(curl, "-sS", "-w", "\n%{http_code}", "--negotiate", "-u", ":", "--cacert", ca.CertFile,
		fmt.Sprintf("https://localhost:%d/api/v1/printers", port))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasSuffix(string(out), "\n200") || !strings.Contains(string(out), `"lab-1"`) {
		t.Errorf("curl --negotiate: %v\n%s", err, out)
	}

	// An alert to acknowledge.
	f.sim.Printers()[0].RaiseAlert(frontDoor)
	f.waitActive(1)

	ctx := testservers.Browser(t, 1280, 800)
	shots := t.TempDir()
	if d := os.Getenv("INKFORM_SCREENSHOTS_DIR"); d != "" {
		shots = d
	}
	shot := func(name string) chromedp.Action[chromedp.Void] { return testservers.Screenshot(shots, name) }
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, f.logs.String())
		}
	}
	must("log in", chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "bob"),
		chromedp.SendKeys(chromedp.ID("password"), slapd.Passwords["bob"]),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("fleet")),
		shot("fleet.png")))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#fleet tr.printer').length`))
	must("count printers", err)
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#fleet .supply .fill').length`))
	must("count supply bars", err)
	if rows != 1 || bars < 4 {
		t.Errorf("the fleet page shows %d printers and %d supply bars; want 1 and at least 4", rows, bars)
	}
	must("open a printer", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/printers/lab-1"]`)),
		chromedp.WaitVisible(chromedp.CSS("form.ack")),
		shot("printer.png")))
	must("acknowledge", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`form.ack input[name="comment"]`), "closing it"),
		chromedp.Click(chromedp.CSS("form.ack button")),
		chromedp.WaitNotPresent(chromedp.CSS("form.ack")),
		chromedp.WaitVisible(chromedp.CSS("td.acked")),
		shot("acked.png")))
	must("plan now", chromedp.Do(ctx,
		chromedp.Navigate(base+"/runs"),
		chromedp.WaitVisible(chromedp.ID("plan-now")),
		chromedp.Click(chromedp.ID("plan-now")),
		chromedp.WaitVisible(chromedp.CSS("p.notice"))))
	waitUntil(t, "the plan asked for from the page", 30*time.Second, func() bool {
		return strings.Contains(f.logs.String(), `msg="drift check asked for" by=bob`)
	}, func() string { return f.logs.String() })
	_, rowsJSON := f.listJSON()
	if len(rowsJSON) != 1 || rowsJSON[0].AckedBy != "bob" || rowsJSON[0].Comment != "closing it" {
		t.Errorf("after the acknowledgement: %+v", rowsJSON)
	}
	for _, secret := range []string{slapd.ServicePassword, alice, slapd.Passwords["bob"]} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("watch logged a password")
		}
	}
}

func TestStatusURL(t *testing.T) {
	host, _ := os.Hostname()
	for _, c := range []struct {
		sp   *alerts.StatusPage
		want string
	}{
		{nil, ""},
		{&alerts.StatusPage{Listen: "127.0.0.1:8443"}, "https://127.0.0.1:8443"},
		{&alerts.StatusPage{Listen: ":8443"}, "https://" + host + ":8443"},
		{&alerts.StatusPage{Listen: "[::]:443"}, "https://" + host + ":443"},
		{&alerts.StatusPage{Listen: ":8443", URL: "https://print-status.example.com"}, "https://print-status.example.com"},
	} {
		if got := statusURL(c.sp); got != c.want {
			t.Errorf("statusURL(%+v) = %q, want %q", c.sp, got, c.want)
		}
	}
}
