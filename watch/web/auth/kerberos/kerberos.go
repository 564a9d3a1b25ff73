// Package kerberos verifies Kerberos tickets that browsers and curl send
// to the status page as "Authorization: Negotiate <base64 SPNEGO token>"
// (RFC 4559), with the service's keytab. It uses gokrb5's SPNEGO and
// AP-REQ verification, not its HTTP wrapper: the page decides what a
// request without a ticket gets and which role a principal has.
package kerberos

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/watch/web/auth"
)

// maxToken bounds the decoded token. A ticket carrying a large PAC (many
// Active Directory groups) stays well below; more is not a ticket.
const maxToken = 64 << 10

// Verifier checks SPNEGO tokens against a keytab. It implements
// auth.Negotiator and is safe for concurrent use.
type Verifier struct {
	kt      *keytab.Keytab
	service string // e.g. HTTP/localhost
	realm   string // "" accepts every realm the keytab's tickets come from
	// skew is the clock difference allowed with clients; 0 is gokrb5's
	// five minutes (RFC 4120's usual value). Tests shorten it to see a
	// real ticket expire.
	skew time.Duration
}

var _ auth.Negotiator = (*Verifier)(nil)

// New loads the keytab and checks that it holds a key for the service
// principal.
func New(cfg alerts.Kerberos) (*Verifier, error) {
	if cfg.Keytab == "" {
		return nil, errors.New("kerberos: keytab is required")
	}
	svc := cfg.Service
	if svc == "" {
		return nil, errors.New(`kerberos: service is required, e.g. "HTTP/status.example.com"`)
	}
	if strings.Contains(svc, "@") {
		return nil, fmt.Errorf("kerberos: service %q: give the principal without its realm (set realm for that)", svc)
	}
	kt, err := keytab.Load(cfg.Keytab)
	if err != nil {
		return nil, fmt.Errorf("kerberos: keytab %s: %w", cfg.Keytab, err)
	}
	want := strings.Split(svc, "/")
	var held []string
	found := false
	for _, e := range kt.Entries {
		name := e.Principal.String()
		if !slices.Contains(held, name) {
			held = append(held, name)
		}
		if slices.Equal(e.Principal.Components, want) && (cfg.Realm == "" || e.Principal.Realm == cfg.Realm) {
			found = true
		}
	}
	if !found {
		in := "it holds no keys"
		if len(held) > 0 {
			in = "it holds " + strings.Join(held, ", ")
		}
		svcName := svc
		if cfg.Realm != "" {
			svcName += "@" + cfg.Realm
		}
		return nil, fmt.Errorf("kerberos: keytab %s has no key for %s (%s)", cfg.Keytab, svcName, in)
	}
	return &Verifier{kt: kt, service: svc, realm: cfg.Realm}, nil
}

// String names the verifier without its keys.
func (v *Verifier) String() string { return "kerberos " + v.service }

// GoString is String, so that %#v shows no key either.
func (v *Verifier) GoString() string { return v.String() }

// Negotiate verifies r's Negotiate token and returns the client's name
// without its realm. A principal of another realm than the configured
// one is refused: alice@OTHER.REALM is not alice.
func (v *Verifier) Negotiate(r *http.Request) (string, bool, error) {
	token, ok, err := ParseHeader(r.Header.Values("Authorization"))
	if !ok || err != nil {
		return "", ok, err
	}
	apReq, err := decodeToken(token)
	if err != nil {
		return "", true, fmt.Errorf("kerberos: %w: %w", auth.ErrBadCredentials, err)
	}
	settings := []func(*service.Settings){
		service.KeytabPrincipal(v.service),
		// MIT KDCs put a PAC in tickets that lacks Active Directory's
		// logon info; roles come from the directory, not the PAC.
		service.DecodePAC(false),
	}
	if v.skew > 0 {
		settings = append(settings, service.MaxClockSkew(v.skew))
	}
	if h, err := types.GetHostAddress(r.RemoteAddr); err == nil {
		// A ticket that lists addresses must come from one of them.
		settings = append(settings, service.ClientAddress(h))
	}
	name, realm, err := verify(apReq, service.NewSettings(v.kt, settings...))
	if err != nil {
		return "", true, fmt.Errorf("kerberos: %w: %w", auth.ErrBadCredentials, err)
	}
	if v.realm != "" && realm != v.realm {
		return "", true, fmt.Errorf("kerberos: %w: principal of realm %s, not %s", auth.ErrBadCredentials, realm, v.realm)
	}
	return name, true, nil
}

// verify checks the AP-REQ (decryption with the service key, ticket
// times, client address, authenticator, replay) and returns the client's
// principal name and realm. gokrb5 checks replays in one cache per
// process, as RFC 4120 asks of a service.
func verify(apReq *spnego.KRB5Token, s *service.Settings) (name, realm string, err error) {
	// gokrb5 decodes the ticket's inner parts only now, from bytes the
	// client chose: a panic there is a refused token, not a dead page.
	defer func() {
		if p := recover(); p != nil {
			name, realm, err = "", "", fmt.Errorf("malformed ticket (%v)", p)
		}
	}()
	ok, creds, err := service.VerifyAPREQ(&apReq.APReq, s)
	if err != nil {
		return "", "", err
	}
	if !ok || creds == nil || !creds.Authenticated() {
		return "", "", errors.New("ticket not valid")
	}
	cname := creds.CName()
	if len(cname.NameString) == 0 || slices.Contains(cname.NameString, "") {
		return "", "", errors.New("ticket names no client")
	}
	return cname.PrincipalNameString(), creds.Domain(), nil
}

// ParseHeader finds the Negotiate credentials among Authorization header
// values and decodes them. ok is false when there are none, so that
// another scheme (Basic) or none at all is left to the caller; a
// Negotiate value that is empty or not base64 is an error wrapping
// auth.ErrBadCredentials.
func ParseHeader(values []string) (token []byte, ok bool, err error) {
	for _, v := range values {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Negotiate") {
			continue
		}
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return nil, true, fmt.Errorf("kerberos: %w: Negotiate without a token", auth.ErrBadCredentials)
		}
		if base64.StdEncoding.DecodedLen(len(rest)) > maxToken {
			return nil, true, fmt.Errorf("kerberos: %w: Negotiate token longer than %d bytes", auth.ErrBadCredentials, maxToken)
		}
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(b) == 0 {
			return nil, true, fmt.Errorf("kerberos: %w: Negotiate token is not base64", auth.ErrBadCredentials)
		}
		return b, true, nil
	}
	return nil, false, nil
}

// decodeToken reads an SPNEGO NegTokenInit whose mechanism token is a
// Kerberos AP-REQ, or a bare Kerberos AP-REQ token as some clients send.
func decodeToken(b []byte) (k5 *spnego.KRB5Token, err error) {
	defer func() {
		if p := recover(); p != nil {
			k5, err = nil, fmt.Errorf("malformed token (%v)", p)
		}
	}()
	k5 = new(spnego.KRB5Token)
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(b); err != nil {
		if k5.Unmarshal(b) != nil {
			return nil, fmt.Errorf("not an SPNEGO or Kerberos token: %w", err)
		}
	} else {
		if !st.Init {
			return nil, errors.New("not an initial SPNEGO token")
		}
		init := st.NegTokenInit
		if len(init.MechTypes) == 0 ||
			!(init.MechTypes[0].Equal(gssapi.OIDKRB5.OID()) || init.MechTypes[0].Equal(gssapi.OIDMSLegacyKRB5.OID())) {
			return nil, errors.New("the SPNEGO token does not offer Kerberos first")
		}
		if len(init.MechTokenBytes) == 0 {
			return nil, errors.New("the SPNEGO token carries no Kerberos ticket")
		}
		if err := k5.Unmarshal(init.MechTokenBytes); err != nil {
			return nil, fmt.Errorf("the SPNEGO token's Kerberos part: %w", err)
		}
	}
	if !k5.IsAPReq() {
		return nil, errors.New("the Kerberos token is not an AP-REQ")
	}
	return k5, nil
}
