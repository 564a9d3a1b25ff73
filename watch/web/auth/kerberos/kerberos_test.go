package kerberos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/watch/web/auth"
	"github.com/inkform/inkform/watch/web/auth/ldap"
)

const otherService = "HTTP/other.localhost"

func newVerifier(t testing.TB, cfg alerts.Kerberos) *Verifier {
	t.Helper()
	v, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// serve runs a page on 127.0.0.1:0 whose handler answers with the name
// Negotiate returns, and returns its URL with the host name localhost
// (HTTP/localhost is the service a client asks a ticket for).
func serve(t *testing.T, v *Verifier) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok, err := v.Negotiate(r)
		switch {
		case !ok:
			w.Header().Set("WWW-Authenticate", "Negotiate")
			http.Error(w, "no ticket", http.StatusUnauthorized)
		case err != nil:
			// No new challenge: a client would only send the same again.
			http.Error(w, err.Error(), http.StatusForbidden)
		default:
			fmt.Fprint(w, name)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/"
}

// login logs user in from the KDC with gokrb5.
func login(t *testing.T, k *testservers.KDC, user string) *client.Client {
	t.Helper()
	cfg, err := config.Load(k.Krb5Conf)
	if err != nil {
		t.Fatalf("krb5.conf: %v", err)
	}
	cl := client.NewWithPassword(user, k.Realm, k.Passwords[user], cfg, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(cl.Destroy)
	return cl
}

// header is the Authorization header cl sends to spn.
func header(t *testing.T, cl *client.Client, spn string) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://localhost/", nil)
	if err := spnego.SetSPNEGOHeader(cl, r, spn); err != nil {
		t.Fatalf("SPNEGO header for %s: %v", spn, err)
	}
	return r.Header.Get("Authorization")
}

func negotiate(v *Verifier, authz ...string) (string, bool, error) {
	r := httptest.NewRequest(http.MethodGet, "http://localhost/", nil)
	for _, a := range authz {
		r.Header.Add("Authorization", a)
	}
	return v.Negotiate(r)
}

func refused(t *testing.T, what string, name string, ok bool, err error) {
	t.Helper()
	if !ok || !errors.Is(err, auth.ErrBadCredentials) || name != "" {
		t.Errorf("%s: got %q, %v, %v; want ErrBadCredentials", what, name, ok, err)
	}
}

func TestGokrb5Client(t *testing.T) {
	k := testservers.StartKDC(t, testservers.KDCOptions{})
	v := newVerifier(t, alerts.Kerberos{Keytab: k.Keytab, Service: testservers.KDCService, Realm: k.Realm})
	url := serve(t, v)
	for _, user := range []string{"alice", "dave"} {
		resp, err := spnego.NewClient(login(t, k, user), nil, testservers.KDCService).Get(url)
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != user {
			t.Errorf("%s: %s %q", user, resp.Status, body)
		}
	}
}

// TestTicketThenDirectory: a principal's name from a ticket finds its role
// in the directory, as the status page does it.
func TestTicketThenDirectory(t *testing.T) {
	k := testservers.StartKDC(t, testservers.KDCOptions{})
	s := testservers.StartSlapd(t, testservers.SlapdOptions{})
	v := newVerifier(t, alerts.Kerberos{Keytab: k.Keytab, Service: testservers.KDCService, Realm: k.Realm})
	dir, err := ldap.New(alerts.LDAP{URL: s.LDAPSURL, CAFile: s.CAFile,
		BindDN: testservers.SlapdServiceDN, BindPassword: s.ServicePassword, UserBase: testservers.SlapdPeopleBase,
		Roles: map[string]string{alerts.RoleAdmin: testservers.SlapdAdmins, alerts.RoleServiceDesk: testservers.SlapdServiceDesk}})
	if err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]error{"alice": nil, "bob": nil, "carol": auth.ErrNoRole} {
		name, ok, err := negotiate(v, header(t, login(t, k, user), testservers.KDCService))
		if name != user || !ok || err != nil {
			t.Fatalf("%s: %q, %v, %v", user, name, ok, err)
		}
		u, err := dir.Lookup(context.Background(), name)
		if !errors.Is(err, want) || (want == nil && u.Role == "") {
			t.Errorf("%s: %+v, %v; want %v", user, u, err, want)
		}
	}
}

func TestCurlNegotiate(t *testing.T) {
	k := testservers.StartKDC(t, testservers.KDCOptions{})
	curl, err := exec.LookPath("curl")
	if err != nil {
		testservers.Skip(t, "curl is not installed")
	}
	url := serve(t, newVerifier(t, alerts.Kerberos{Keytab: k.Keytab, Service: testservers.KDCService}))
	run := func(env []string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, curl, append([]string{"-sS", "-w", " %{http_code}"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	if got := run(k.Kinit(t, "bob"), "--negotiate", "-u", ":", url); got != "bob 200" {
		t.Errorf("curl --negotiate with bob's ticket: %q", got)
	}
	// Without a ticket curl has nothing to send: the page challenges.
	noTicket := append(k.Env(), "KRB5CCNAME=FILE:"+filepath.Join(t.TempDir(), "none"))
	if got := run(noTicket, "--negotiate", "-u", ":", url); !strings.HasSuffix(got, " 401") {
		t.Errorf("curl --negotiate without a ticket: %q", got)
	}
}

func TestRefusedTokens(t *testing.T) {
	k := testservers.StartKDC(t, testservers.KDCOptions{Users: []string{"alice"}, Services: []string{otherService}})
	v := newVerifier(t, alerts.Kerberos{Keytab: k.Keytab, Service: testservers.KDCService})
	cl := login(t, k, "alice")

	t.Run("no header", func(t *testing.T) {
		if name, ok, err := negotiate(v); ok || err != nil || name != "" {
			t.Errorf("got %q, %v, %v; want not ok", name, ok, err)
		}
		if name, ok, err := negotiate(v, "Basic YWxpY2U6cHc="); ok || err != nil || name != "" {
			t.Errorf("Basic: got %q, %v, %v; want not ok", name, ok, err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		random := make([]byte, 600)
		rand.Read(random)
		for _, h := range []string{
			"Negotiate", "Negotiate ", "Negotiate !!!", "negotiate " + base64.StdEncoding.EncodeToString(random),
			"Negotiate " + base64.StdEncoding.EncodeToString([]byte{0x60, 0x03, 0x06, 0x01, 0x00}),
			"Negotiate " + strings.Repeat("A", 2*maxToken),
		} {
			name, ok, err := negotiate(v, h)
			refused(t, fmt.Sprintf("%.40q", h), name, ok, err)
		}
	})
	t.Run("ticket for another service", func(t *testing.T) {
		name, ok, err := negotiate(v, header(t, cl, otherService))
		refused(t, otherService, name, ok, err)
		// The same ticket is good for its own service.
		other := newVerifier(t, alerts.Kerberos{Keytab: k.Keytabs[otherService], Service: otherService})
		if name, ok, err := negotiate(other, header(t, cl, otherService)); name != "alice" || !ok || err != nil {
			t.Errorf("at %s: %q, %v, %v", otherService, name, ok, err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		h := header(t, cl, testservers.KDCService)
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Negotiate "))
		if err != nil {
			t.Fatal(err)
		}
		// Flip one bit at a time in the ticket's and the authenticator's
		// ciphertext, each a fresh token so that no refusal is a replay.
		for _, part := range []string{"ticket", "authenticator"} {
			fresh, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(header(t, cl, testservers.KDCService), "Negotiate "))
			if err != nil {
				t.Fatal(err)
			}
			k5, err := decodeToken(fresh)
			if err != nil {
				t.Fatal(err)
			}
			cipher := k5.APReq.Ticket.EncPart.Cipher
			if part == "authenticator" {
				cipher = k5.APReq.EncryptedAuthenticator.Cipher
			}
			i := bytesIndex(fresh, cipher)
			if i < 0 {
				t.Fatalf("%s ciphertext not found in the token", part)
			}
			fresh[i+len(cipher)/2] ^= 0x01
			name, ok, err := negotiate(v, "Negotiate "+base64.StdEncoding.EncodeToString(fresh))
			refused(t, "tampered "+part, name, ok, err)
		}
		// The untampered token still gets in.
		if name, ok, err := negotiate(v, "Negotiate "+base64.StdEncoding.EncodeToString(b)); name != "alice" || !ok || err != nil {
			t.Errorf("untampered: %q, %v, %v", name, ok, err)
		}
	})
	t.Run("replayed", func(t *testing.T) {
		h := header(t, cl, testservers.KDCService)
		if name, ok, err := negotiate(v, h); name != "alice" || !ok || err != nil {
			t.Fatalf("first use: %q, %v, %v", name, ok, err)
		}
		name, ok, err := negotiate(v, h)
		refused(t, "replay", name, ok, err)
		if err != nil && !strings.Contains(err.Error(), "replay") {
			t.Errorf("replay refused for another reason: %v", err)
		}
	})
}

// craft makes a Negotiate header for user@crealm with a ticket to
// HTTP/localhost@realm encrypted with the service's key from kt, valid
// from start to end: the times a KDC would set, chosen by the test.
func craft(t testing.TB, kt *keytab.Keytab, realm, crealm, user string, start, end time.Time) string {
	t.Helper()
	var etype int32
	var kvno int
	for _, e := range kt.Entries {
		if slices.Equal(e.Principal.Components, []string{"HTTP", "localhost"}) && e.Principal.Realm == realm {
			etype, kvno = e.Key.KeyType, int(e.KVNO)
			break
		}
	}
	if etype == 0 {
		t.Fatalf("no key for HTTP/localhost@%s in the keytab", realm)
	}
	cl := client.NewWithPassword(user, crealm, "unused", config.New())
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_INST, testservers.KDCService)
	tkt, key, err := messages.NewTicket(cl.Credentials.CName(), crealm, sname, realm, types.NewKrbFlags(), kt, etype, kvno, start, start, end, end)
	if err != nil {
		t.Fatalf("ticket: %v", err)
	}
	init, err := spnego.NewNegTokenInitKRB5(cl, tkt, key)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	b, err := (&spnego.SPNEGOToken{Init: true, NegTokenInit: init}).Marshal()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(b)
}

func loadKeytab(t testing.TB, path string) *keytab.Keytab {
	t.Helper()
	kt, err := keytab.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return kt
}

// TestExpired crafts tickets with the KDC's own service key: one whose
// times are now is accepted, which shows the crafting is right; one that
// ended an hour ago (beyond the five minutes of allowed clock skew) and
// one that starts in an hour are refused.
func TestExpired(t *testing.T) {
	k := testservers.StartKDC(t, testservers.KDCOptions{Users: []string{"alice"}})
	v := newVerifier(t, alerts.Kerberos{Keytab: k.Keytab, Service: testservers.KDCService})
	kt := loadKeytab(t, k.Keytab)
	now := time.Now().UTC()
	if name, ok, err := negotiate(v, craft(t, kt, k.Realm, k.Realm, "alice", now.Add(-time.Minute), now.Add(time.Hour))); name != "alice" || !ok || err != nil {
		t.Fatalf("a current ticket: %q, %v, %v", name, ok, err)
	}
	name, ok, err := negotiate(v, craft(t, kt, k.Realm, k.Realm, "alice", now.Add(-10*time.Hour), now.Add(-time.Hour)))
	refused(t, "expired", name, ok, err)
	if err != nil && !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired ticket refused for another reason: %v", err)
	}
	name, ok, err = negotiate(v, craft(t, kt, k.Realm, k.Realm, "alice", now.Add(time.Hour), now.Add(2*time.Hour)))
	refused(t, "not yet valid", name, ok, err)
}

// TestExpiredFromKDC: a ticket the KDC issued for three seconds works at
// once and is refused once it has expired (with one second of clock skew
// allowed, instead of five minutes, so that the test waits seconds).
func TestExpiredFromKDC(t *testing.T) {
	k := testservers.StartKDC(t, testservers.KDCOptions{Users: []string{"alice"}})
	v := newVerifier(t, alerts.Kerberos{Keytab: k.Keytab, Service: testservers.KDCService})
	v.skew = time.Second
	cfg, err := config.Load(k.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	cfg.LibDefaults.TicketLifetime = 3 * time.Second
	cl := client.NewWithPassword("alice", k.Realm, k.Passwords["alice"], cfg, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Destroy)
	now, later := header(t, cl, testservers.KDCService), header(t, cl, testservers.KDCService)

	// The ticket's end, as the KDC set it, read with the service's key.
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(later, "Negotiate "))
	if err != nil {
		t.Fatal(err)
	}
	k5, err := decodeToken(b)
	if err != nil {
		t.Fatal(err)
	}
	tkt := k5.APReq.Ticket
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_INST, testservers.KDCService)
	if err := tkt.DecryptEncPart(loadKeytab(t, k.Keytab), &sname); err != nil {
		t.Fatal(err)
	}
	end := tkt.DecryptedEncPart.EndTime
	if life := time.Until(end); life > time.Minute {
		t.Fatalf("the KDC issued a ticket for %s, not 3s", life.Round(time.Second))
	}

	if name, ok, err := negotiate(v, now); name != "alice" || !ok || err != nil {
		t.Fatalf("while valid: %q, %v, %v", name, ok, err)
	}
	// Wait, bounded, until the ticket's end plus the allowed skew has
	// passed on this clock.
	deadline := end.Add(v.skew + 10*time.Second)
	for !time.Now().After(end.Add(v.skew + 100*time.Millisecond)) {
		if time.Now().After(deadline) {
			t.Fatal("the clock did not pass the ticket's end")
		}
		time.Sleep(100 * time.Millisecond) // poll interval, not synchronisation
	}
	name, ok, err := negotiate(v, later)
	refused(t, "expired", name, ok, err)
	if err != nil && !strings.Contains(err.Error(), "expired") {
		t.Errorf("refused for another reason: %v", err)
	}
}

// TestRealm: with a realm configured, a principal of another realm is
// refused even when its ticket is good; without, its name part counts.
func TestRealm(t *testing.T) {
	kt := keytab.New()
	now := time.Now().UTC()
	if err := kt.AddEntry(testservers.KDCService, "EXAMPLE.TEST", "service-password", now, 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	path := writeKeytab(t, kt)
	strict := newVerifier(t, alerts.Kerberos{Keytab: path, Service: testservers.KDCService, Realm: "EXAMPLE.TEST"})
	loose := newVerifier(t, alerts.Kerberos{Keytab: path, Service: testservers.KDCService})
	from := func(crealm string) string {
		return craft(t, kt, "EXAMPLE.TEST", crealm, "alice", now.Add(-time.Minute), now.Add(time.Hour))
	}
	if name, ok, err := negotiate(strict, from("EXAMPLE.TEST")); name != "alice" || !ok || err != nil {
		t.Errorf("own realm: %q, %v, %v", name, ok, err)
	}
	name, ok, err := negotiate(strict, from("OTHER.TEST"))
	refused(t, "other realm", name, ok, err)
	if name, ok, err := negotiate(loose, from("OTHER.TEST")); name != "alice" || !ok || err != nil {
		t.Errorf("other realm, none configured: %q, %v, %v", name, ok, err)
	}
}

func writeKeytab(t testing.TB, kt *keytab.Keytab) string {
	t.Helper()
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "http.keytab")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNewRefuses(t *testing.T) {
	kt := keytab.New()
	if err := kt.AddEntry("HTTP/status.example.test", "EXAMPLE.TEST", "pw", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	path := writeKeytab(t, kt)
	garbage := filepath.Join(t.TempDir(), "garbage.keytab")
	os.WriteFile(garbage, []byte("not a keytab"), 0o600)
	tests := []struct {
		name string
		cfg  alerts.Kerberos
		want string
	}{
		{"no keytab", alerts.Kerberos{Service: "HTTP/status.example.test"}, "keytab is required"},
		{"no service", alerts.Kerberos{Keytab: path}, "service is required"},
		{"service with realm", alerts.Kerberos{Keytab: path, Service: "HTTP/status.example.test@EXAMPLE.TEST"}, "without its realm"},
		{"missing file", alerts.Kerberos{Keytab: path + ".nope", Service: "HTTP/status.example.test"}, "keytab"},
		{"not a keytab", alerts.Kerberos{Keytab: garbage, Service: "HTTP/status.example.test"}, "garbage.keytab"},
		{"other principal", alerts.Kerberos{Keytab: path, Service: "HTTP/localhost"}, "holds HTTP/status.example.test@EXAMPLE.TEST"},
		{"other realm", alerts.Kerberos{Keytab: path, Service: "HTTP/status.example.test", Realm: "OTHER.TEST"}, "no key for HTTP/status.example.test@OTHER.TEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, %v; want an error with %q", v, err, tt.want)
			}
		})
	}
}

func bytesIndex(s, sub []byte) int {
	return strings.Index(string(s), string(sub))
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"", "Negotiate", "Negotiate ", "Negotiate YWJj", "negotiate   YWJj  ", "Basic YWJj",
		"Negotiate YW=j", "NegotiateYWJj", "Negotiate\tYWJj", "Bearer x"} {
		f.Add(s, "")
	}
	f.Add("Basic YWJj", "Negotiate YWJj")
	f.Fuzz(func(t *testing.T, a, b string) {
		token, ok, err := ParseHeader([]string{a, b})
		switch {
		case !ok && (err != nil || token != nil):
			t.Fatalf("not ok with %v, %v", token, err)
		case ok && err != nil && !errors.Is(err, auth.ErrBadCredentials):
			t.Fatalf("error %v does not wrap ErrBadCredentials", err)
		case ok && err == nil && (len(token) == 0 || len(token) > maxToken):
			t.Fatalf("token of %d bytes", len(token))
		}
		isNeg := func(s string) bool {
			scheme, _, _ := strings.Cut(strings.TrimSpace(s), " ")
			return strings.EqualFold(scheme, "Negotiate")
		}
		if ok != (isNeg(a) || isNeg(b)) {
			t.Fatalf("ok = %v for %q, %q", ok, a, b)
		}
	})
}

// FuzzNegotiate feeds token bytes to the whole verification with an
// in-process keytab: nothing may panic, and only a token made with the
// service's key may get a name.
func FuzzNegotiate(f *testing.F) {
	kt := keytab.New()
	now := time.Now().UTC()
	if err := kt.AddEntry(testservers.KDCService, "EXAMPLE.TEST", "service-password", now, 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		f.Fatal(err)
	}
	v := newVerifier(f, alerts.Kerberos{Keytab: writeKeytab(f, kt), Service: testservers.KDCService})
	valid, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(
		craft(f, kt, "EXAMPLE.TEST", "EXAMPLE.TEST", "alice", now.Add(-time.Minute), now.Add(24*time.Hour)), "Negotiate "))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{0x60, 0x03, 0x06, 0x01, 0x00})
	f.Add([]byte{0xa1, 0x00})
	f.Add([]byte{0x60, 0x80, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x02, 0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		name, ok, err := negotiate(v, "Negotiate "+base64.StdEncoding.EncodeToString(b))
		if !ok {
			t.Fatal("a Negotiate header was not seen")
		}
		if err == nil && name != "alice" {
			t.Fatalf("accepted as %q", name)
		}
		if err != nil && (!errors.Is(err, auth.ErrBadCredentials) || name != "") {
			t.Fatalf("got %q, %v", name, err)
		}
	})
}
