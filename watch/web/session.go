package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/watch/web/auth"
)

// Cookies. Both are Secure, HttpOnly and SameSite=Strict.
const (
	sessionCookie = "inkform_session"
	// loginCookie carries the login form's CSRF token (double submit):
	// there is no session yet to derive it from.
	loginCookie = "inkform_login"
)

// maxTokenLen bounds what is parsed of a cookie: a session token is a
// few hundred bytes.
const maxTokenLen = 2048

// tokenPrefix versions the token format.
const tokenPrefix = "v1."

// sessionKeys are the keys derived from the state's key: every watch
// process on one state derives the same ones, so a session signed by one
// is good on all, and nothing secret is stored in the state.
type sessionKeys struct {
	sign, csrf, revoke []byte
	store              state.Sessions
}

func newSessionKeys(k state.Key, st state.Sessions) *sessionKeys {
	return &sessionKeys{sign: k.Derive("web-session"), csrf: k.Derive("web-csrf"), revoke: k.Derive("web-session-revocation"), store: st}
}

// session is what a session token says. It holds no secret: the id is
// random and the token is only good with its signature.
type session struct {
	ID      string `json:"id"`
	User    string `json:"u"`
	Role    string `json:"r"`
	Method  string `json:"m"`
	Issued  int64  `json:"i"`
	Expires int64  `json:"e"`
}

func (s session) user() auth.User { return auth.User{Name: s.User, Role: s.Role, Method: s.Method} }

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// newSession makes a session for u, valid until now+ttl.
func newSession(u auth.User, now time.Time, ttl time.Duration) (session, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return session{}, fmt.Errorf("session id: %w", err)
	}
	return session{ID: hex.EncodeToString(id[:]), User: u.Name, Role: u.Role, Method: u.Method,
		Issued: now.Unix(), Expires: now.Add(ttl).Unix()}, nil
}

// encode signs s into a token.
func (k *sessionKeys) encode(s session) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return tokenPrefix + payload + "." + base64.RawURLEncoding.EncodeToString(mac(k.sign, tokenPrefix+payload)), nil
}

var errBadToken = errors.New("not a valid session")

// parseToken checks a token's form, signature and expiry (not whether it
// was revoked). Every failure is errBadToken, wrapped with why.
func parseToken(signKey []byte, tok string, now time.Time) (session, error) {
	bad := func(why string) (session, error) { return session{}, fmt.Errorf("%w: %s", errBadToken, why) }
	if len(tok) > maxTokenLen {
		return bad("too long")
	}
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return bad("unknown format")
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return bad("no signature")
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(signKey, tokenPrefix+payload)) {
		return bad("wrong signature")
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return bad("payload encoding")
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil {
		return bad("payload")
	}
	if s.ID == "" || s.User == "" || !auth.RoleAtLeast(s.Role, alerts.RoleViewer) {
		return bad("incomplete")
	}
	if now.Unix() >= s.Expires {
		return bad("expired")
	}
	return s, nil
}

// digest is how an ended session is recorded in state: a keyed hash of
// its id.
func (k *sessionKeys) digest(id string) string {
	return "hmac-sha256:" + hex.EncodeToString(mac(k.revoke, id))
}

// csrfToken is the token every form and every cookie-authenticated API
// POST of session s must carry.
func (k *sessionKeys) csrfToken(s session) string {
	return base64.RawURLEncoding.EncodeToString(mac(k.csrf, s.ID))
}

func (k *sessionKeys) csrfOK(s session, got string) bool {
	want := k.csrfToken(s)
	return len(got) == len(want) && hmac.Equal([]byte(got), []byte(want))
}

// fromRequest returns the session of r's cookie; ok is false when r has
// none, or one that is not valid, expired or ended.
func (k *sessionKeys) fromRequest(ctx context.Context, r *http.Request, now time.Time) (session, bool, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false, nil
	}
	s, err := parseToken(k.sign, c.Value, now)
	if err != nil {
		return session{}, false, nil
	}
	revoked, err := k.store.SessionRevoked(ctx, k.digest(s.ID))
	if err != nil {
		return session{}, false, err
	}
	return s, !revoked, nil
}

// revoke ends s on every process sharing the state.
func (k *sessionKeys) end(ctx context.Context, s session) error {
	return k.store.RevokeSession(ctx, k.digest(s.ID), time.Unix(s.Expires, 0))
}

func cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

// setSession issues a session cookie for u.
func (s *Server) setSession(w http.ResponseWriter, u auth.User) (session, error) {
	sess, err := newSession(u, s.now(), s.ttl)
	if err != nil {
		return session{}, err
	}
	tok, err := s.keys.encode(sess)
	if err != nil {
		return session{}, err
	}
	http.SetCookie(w, cookie(sessionCookie, tok, int(s.ttl/time.Second)))
	return sess, nil
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, cookie(name, "", -1))
}

// loginToken returns the login form's CSRF token, setting its cookie
// when r has none.
func loginToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(loginCookie); err == nil && validLoginToken(c.Value) {
		return c.Value, nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	t := hex.EncodeToString(b[:])
	http.SetCookie(w, cookie(loginCookie, t, 3600))
	return t, nil
}

func validLoginToken(t string) bool {
	if len(t) != 32 {
		return false
	}
	_, err := hex.DecodeString(t)
	return err == nil
}

// loginTokenOK checks the login form's token against its cookie.
func loginTokenOK(r *http.Request, form string) bool {
	c, err := r.Cookie(loginCookie)
	return err == nil && validLoginToken(c.Value) && hmac.Equal([]byte(c.Value), []byte(form))
}
