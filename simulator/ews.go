package simulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/icholy/digest"

	"github.com/inkform/inkform/catalog"
)

// The embedded web server (EWS): a JSON settings API and a multipart
// upload, behind basic or digest authentication, over plain HTTP ("http")
// or TLS with a self-signed certificate per printer ("https"). The wire
// contract is docs/protocols/ews.md.

func init() {
	registerService(service{name: "http", serve: func(ctx context.Context, p *Printer, ln net.Listener) error {
		return serveEWS(ctx, p, ln, "http")
	}})
	registerService(service{name: "https", serve: func(ctx context.Context, p *Printer, ln net.Listener) error {
		return serveEWS(ctx, p, ln, "https")
	}})
}

const (
	// ewsMaxUpload bounds one uploaded file; ewsMaxForm a settings request.
	ewsMaxUpload = 256 << 20
	ewsMaxForm   = 1 << 20
	// ewsNonceLife is how long a digest nonce is accepted; after it the
	// client is asked again with stale=true.
	ewsNonceLife = 10 * time.Minute
)

func serveEWS(ctx context.Context, p *Printer, ln net.Listener, scheme string) error {
	h, err := newEWSHandler(p, scheme)
	if err != nil {
		return err
	}
	// Runs before serve returns, while the simulator still counts it.
	defer h.gate.close()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Generous: a firmware image may take minutes on a slow link.
		ReadTimeout:    10 * time.Minute,
		WriteTimeout:   11 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		// Clients that refuse the self-signed certificate are expected;
		// their handshake errors are not worth printing.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if scheme == "https" {
		id, err := p.ewsIdentity()
		if err != nil {
			return err
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{id.cert}, MinVersion: tls.VersionTLS12}
		err = srv.ServeTLS(onlineListener{ln, p}, "", "")
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
	err = srv.Serve(onlineListener{ln, p})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// TLSFingerprint returns the SHA-256 fingerprint of the DER form of the
// printer's HTTPS certificate as "sha256:<hex>", the form a configuration's
// tls_fingerprint takes. The certificate is made on first use and kept for
// the printer's life.
func (p *Printer) TLSFingerprint() string {
	id, err := p.ewsIdentity()
	if err != nil {
		return ""
	}
	return id.fingerprint
}

// ewsID is a printer's self-signed TLS identity.
type ewsID struct {
	cert        tls.Certificate
	fingerprint string
}

// ewsIDs keeps each printer's identity without a field on Printer; weak
// keys let a dropped printer's entry go with it.
var ewsIDs = struct {
	sync.Mutex
	m map[weak.Pointer[Printer]]*ewsID
}{m: map[weak.Pointer[Printer]]*ewsID{}}

func (p *Printer) ewsIdentity() (*ewsID, error) {
	k := weak.Make(p)
	ewsIDs.Lock()
	defer ewsIDs.Unlock()
	if id, ok := ewsIDs.m[k]; ok {
		return id, nil
	}
	id, err := newEWSIdentity(p)
	if err != nil {
		return nil, fmt.Errorf("https: printer %s: certificate: %w", p.name, err)
	}
	ewsIDs.m[k] = id
	runtime.AddCleanup(p, func(k weak.Pointer[Printer]) {
		ewsIDs.Lock()
		delete(ewsIDs.m, k)
		ewsIDs.Unlock()
	}, k)
	return id, nil
}

// newEWSIdentity makes a self-signed ECDSA P-256 certificate named after
// the printer, valid for its name, localhost and the address it listens on,
// as printers ship them.
func newEWSIdentity(p *Printer) (*ewsID, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if p.sim != nil {
		if a, err := netip.ParseAddr(p.sim.opts.Listen); err == nil && !a.IsUnspecified() && !a.IsLoopback() {
			ips = append(ips, a.AsSlice())
		}
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: p.name, Organization: []string{"inkform simulator"}},
		DNSNames:              []string{p.name, "localhost"},
		IPAddresses:           ips,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &ewsID{
		cert:        tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		fingerprint: "sha256:" + hex.EncodeToString(sum[:]),
	}, nil
}

// ewsHandler serves one printer's embedded web server.
type ewsHandler struct {
	p        *Printer
	via      string // "http" or "https", as received files record it
	user     string
	password string
	digest   bool
	realm    string
	nonceKey []byte
	gate     *fileGate
}

func newEWSHandler(p *Printer, via string) (*ewsHandler, error) {
	user, password := p.adminLogin()
	h := &ewsHandler{p: p, via: via, user: user, password: password, digest: true, realm: "inkform-sim " + p.name, nonceKey: make([]byte, 32), gate: newFileGate()}
	if p.sim != nil && p.sim.opts.AuthScheme == "basic" {
		h.digest = false
	}
	if _, err := rand.Read(h.nonceKey); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *ewsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.p.Offline() {
		// A connection kept alive across the start of a reboot.
		w.Header().Set("Connection", "close")
		ewsError(w, http.StatusServiceUnavailable, "the printer is restarting")
		return
	}
	if ok, stale := h.authorized(r); !ok {
		h.challenge(w, stale)
		return
	}
	switch r.URL.Path {
	case "/api/settings":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			ewsJSON(w, http.StatusOK, h.settings())
		case http.MethodPost:
			h.postSettings(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			ewsError(w, http.StatusMethodNotAllowed, "method not allowed")
		}
	case "/upload":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			ewsError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		h.upload(w, r)
	default:
		ewsError(w, http.StatusNotFound, "not found")
	}
}

// authorized checks the request's credentials. stale is set when a digest
// answer was right but its nonce has expired.
func (h *ewsHandler) authorized(r *http.Request) (ok, stale bool) {
	auth := r.Header.Get("Authorization")
	if !h.digest {
		u, pw, ok := r.BasicAuth()
		return ok && ewsEqual(u, h.user) && ewsEqual(pw, h.password), false
	}
	if !digest.IsDigest(auth) {
		return false, false
	}
	cred, err := digest.ParseCredentials(auth)
	if err != nil || cred.QOP != "auth" || cred.Realm != h.realm || cred.Userhash || !ewsEqual(cred.Username, h.user) {
		return false, false
	}
	if cred.URI != r.URL.RequestURI() {
		return false, false
	}
	switch strings.ToUpper(cred.Algorithm) {
	case "SHA-256", "MD5", "":
	default:
		return false, false
	}
	fresh, valid := h.checkNonce(cred.Nonce)
	if !valid {
		return false, false
	}
	want, err := digest.Digest(&digest.Challenge{Realm: h.realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, QOP: []string{"auth"}}, digest.Options{
		Method: r.Method, URI: cred.URI, Username: h.user, Password: h.password, Cnonce: cred.Cnonce, Count: cred.Nc,
	})
	if err != nil || cred.Cnonce == "" || subtle.ConstantTimeCompare([]byte(want.Response), []byte(cred.Response)) != 1 {
		return false, false
	}
	if !fresh {
		return false, true
	}
	return true, false
}

// challenge answers 401 with the scheme's WWW-Authenticate headers: for
// digest one per algorithm, SHA-256 first as RFC 7616 asks.
func (h *ewsHandler) challenge(w http.ResponseWriter, stale bool) {
	if h.digest {
		nonce := h.newNonce(time.Now())
		for _, alg := range []string{"SHA-256", "MD5"} {
			c := digest.Challenge{Realm: h.realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
			w.Header().Add("WWW-Authenticate", c.String())
		}
	} else {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", h.realm))
	}
	ewsError(w, http.StatusUnauthorized, "authentication required")
}

// A nonce is its issue time and an HMAC of it under a key made at start,
// so the server keeps no table of nonces.
func (h *ewsHandler) newNonce(now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Unix()))
	m := hmac.New(sha256.New, h.nonceKey)
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (h *ewsHandler) checkNonce(nonce string) (fresh, valid bool) {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false, false
	}
	m := hmac.New(sha256.New, h.nonceKey)
	m.Write(b[:8])
	if !hmac.Equal(m.Sum(nil)[:16], b[8:]) {
		return false, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return time.Since(issued) < ewsNonceLife, true
}

func ewsEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// ewsFields maps the printer's EWS form fields to catalog settings.
func (h *ewsHandler) ewsFields() map[string]catalog.Setting {
	fam := h.p.Family()
	out := map[string]catalog.Setting{}
	for _, s := range catalog.Default().Settings {
		if b := s.Bindings(fam); b.EWS != nil && b.EWS.Field != "" {
			out[b.EWS.Field] = s
		}
	}
	return out
}

func (h *ewsHandler) settings() map[string]string {
	out := map[string]string{}
	for field, s := range h.ewsFields() {
		if v, ok := h.p.Setting(s.Name); ok {
			out[field] = v
		}
	}
	return out
}

// ewsFieldError is one rejected field of a settings request.
type ewsFieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"` // "unknown" or "invalid"
	Message string `json:"message"`
}

// postSettings applies a settings form all or nothing: every field is
// checked before any is written.
func (h *ewsHandler) postSettings(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, ewsMaxForm)
	values, err := ewsReadForm(r)
	if err != nil {
		ewsError(w, http.StatusBadRequest, err.Error())
		return
	}
	fields := h.ewsFields()
	type change struct{ name, value string }
	var changes []change
	var errs []ewsFieldError
	names := make([]string, 0, len(values))
	for f := range values {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		s, ok := fields[f]
		if !ok {
			errs = append(errs, ewsFieldError{Field: f, Code: "unknown", Message: "no such field on this printer"})
			continue
		}
		v, err := s.Validate(values[f])
		if err != nil {
			errs = append(errs, ewsFieldError{Field: f, Code: "invalid", Message: err.Error()})
			continue
		}
		changes = append(changes, change{s.Name, v})
	}
	if len(errs) > 0 {
		ewsJSON(w, http.StatusBadRequest, map[string]any{"errors": errs})
		return
	}
	for _, c := range changes {
		if err := h.p.SetSetting(c.name, c.value); err != nil {
			ewsError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	ewsJSON(w, http.StatusOK, h.settings())
}

// ewsReadForm reads a settings request: a JSON object of strings (numbers
// and booleans are taken as their text) or a URL-encoded form.
func ewsReadForm(r *http.Request) (map[string]string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	out := map[string]string{}
	switch ct {
	case "application/json":
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("body is not a JSON object: %v", err)
		}
		for k, v := range raw {
			switch v := v.(type) {
			case string:
				out[k] = v
			case json.Number:
				out[k] = v.String()
			case bool:
				out[k] = strconv.FormatBool(v)
			default:
				return nil, fmt.Errorf("field %q: value must be a string, number or boolean", k)
			}
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("form: %v", err)
		}
		for k, v := range r.PostForm {
			out[k] = v[0]
		}
	default:
		return nil, fmt.Errorf("content type %q: send application/json or application/x-www-form-urlencoded", ct)
	}
	return out, nil
}

// upload takes the multipart part named "file"; its filename is the name
// the file gets on the printer.
func (h *ewsHandler) upload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, ewsMaxUpload+ewsMaxForm)
	mr, err := r.MultipartReader()
	if err != nil {
		ewsError(w, http.StatusBadRequest, "expected a multipart/form-data body")
		return
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			ewsError(w, http.StatusBadRequest, `no part named "file"`)
			return
		}
		if err != nil {
			ewsError(w, http.StatusBadRequest, "multipart: "+err.Error())
			return
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		name, ok := ewsFileName(part.Header.Get("Content-Disposition"))
		if !ok {
			ewsError(w, http.StatusBadRequest, "the file part needs a relative filename without ..")
			return
		}
		data, err := io.ReadAll(io.LimitReader(part, ewsMaxUpload+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				ewsError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("file larger than %d bytes", ewsMaxUpload))
				return
			}
			ewsError(w, http.StatusBadRequest, "reading the file: "+err.Error())
			return
		}
		if len(data) > ewsMaxUpload {
			ewsError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("file larger than %d bytes", ewsMaxUpload))
			return
		}
		if !h.gate.enter() {
			ewsError(w, http.StatusServiceUnavailable, "shutting down")
			return
		}
		err = h.p.receiveFile(name, h.via, data)
		h.gate.leave()
		if err != nil {
			ewsError(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
		sum := sha256.Sum256(data)
		ewsJSON(w, http.StatusOK, map[string]any{"name": name, "size": len(data), "sha256": hex.EncodeToString(sum[:])})
		return
	}
}

// ewsFileName returns the filename of a Content-Disposition, keeping its
// folders (mime/multipart's FileName drops them) but refusing absolute
// paths and "..".
func ewsFileName(disposition string) (string, bool) {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return "", false
	}
	name := params["filename"]
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
		return "", false
	}
	clean := path.Clean(name)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return clean, true
}

func ewsJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ewsError(w http.ResponseWriter, status int, msg string) {
	ewsJSON(w, status, map[string]string{"error": msg})
}
