package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// contentSecurityPolicy allows the page's own scripts, styles and images
// only: no inline script, no framing, forms posting to the page only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// tlsConfig loads the configured certificate, or makes a self-signed one
// and says so loudly.
func (s *Server) tlsConfig() (*tls.Config, error) {
	p := s.cfg.Page
	var cert tls.Certificate
	switch {
	case p.CertFile != "" || p.KeyFile != "":
		if p.CertFile == "" || p.KeyFile == "" {
			return nil, fmt.Errorf("status page: tls: both a certificate and a key are needed (cert %q, key %q)", p.CertFile, p.KeyFile)
		}
		c, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("status page: tls: load %s and %s: %w", p.CertFile, p.KeyFile, err)
		}
		cert = c
	default:
		host, _, _ := net.SplitHostPort(p.Listen)
		c, fp, err := selfSigned(host, s.now())
		if err != nil {
			return nil, fmt.Errorf("status page: tls: %w", err)
		}
		cert = c
		s.log.Warn("STATUS PAGE USES A SELF-SIGNED CERTIFICATE: browsers will warn, and clients must pin it; configure tls { cert, key } for production",
			"fingerprint", fp, "names", strings.Join(c.Leaf.DNSNames, ","))
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// selfSigned makes an ECDSA P-256 certificate valid for a year for host
// (when it is a name or an address one binds to), localhost, 127.0.0.1
// and ::1; it returns the SHA-256 fingerprint of its DER as
// "sha256:<hex>", the form printers' pins take.
func selfSigned(host string, now time.Time) (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("generate a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("serial: %w", err)
	}
	dns := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	switch ip := net.ParseIP(host); {
	case host == "" || (ip != nil && ip.IsUnspecified()):
		// Every address: the machine's name is the best guess.
		if name, err := os.Hostname(); err == nil && name != "" && name != "localhost" {
			dns = append(dns, name)
		}
	case ip != nil:
		if !ip.IsLoopback() {
			ips = append(ips, ip)
		}
	case host != "localhost":
		dns = append(dns, host)
	}
	cn := dns[len(dns)-1]
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"inkform (self-signed)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("make a certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	sum := sha256.Sum256(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, "sha256:" + hex.EncodeToString(sum[:]), nil
}

// LoginLimits bound failed logins: after MaxPerUser failures of one user
// name, or MaxPerAddress from one client address, within Window, logins
// of that name (or from that address) are refused for Lockout. At most
// Tracked names and addresses are remembered (the oldest are forgotten
// first), so that a flood of made-up names cannot exhaust memory.
type LoginLimits struct {
	MaxPerUser    int
	MaxPerAddress int
	Window        time.Duration
	Lockout       time.Duration
	Tracked       int
}

func (l LoginLimits) withDefaults() LoginLimits {
	if l.MaxPerUser <= 0 {
		l.MaxPerUser = 5
	}
	if l.MaxPerAddress <= 0 {
		l.MaxPerAddress = 20
	}
	if l.Window <= 0 {
		l.Window = 15 * time.Minute
	}
	if l.Lockout <= 0 {
		l.Lockout = 15 * time.Minute
	}
	if l.Tracked <= 0 {
		l.Tracked = 10000
	}
	return l
}

// limiter counts failed logins per user name and per address.
type limiter struct {
	lim LoginLimits
	mu  sync.Mutex
	m   map[string]*failures
}

type failures struct {
	n     int
	first time.Time // of the current window
	until time.Time // locked until
}

func newLimiter(l LoginLimits) *limiter {
	return &limiter{lim: l.withDefaults(), m: map[string]*failures{}}
}

func userKey(name string) string { return "u:" + strings.ToLower(strings.TrimSpace(name)) }
func addrKey(addr string) string { return "a:" + addr }

// locked returns how long logins of user from addr stay refused; 0 when
// they are not.
func (l *limiter) locked(user, addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range []string{userKey(user), addrKey(addr)} {
		if f := l.m[k]; f != nil && now.Before(f.until) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	return wait
}

// fail counts a failed login of user from addr.
func (l *limiter) fail(user, addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count(userKey(user), l.lim.MaxPerUser, now)
	l.count(addrKey(addr), l.lim.MaxPerAddress, now)
}

func (l *limiter) count(k string, limit int, now time.Time) {
	f := l.m[k]
	if f == nil {
		if len(l.m) >= l.lim.Tracked {
			l.evict(now)
		}
		f = &failures{first: now}
		l.m[k] = f
	}
	if now.Sub(f.first) > l.lim.Window {
		f.n, f.first = 0, now
	}
	f.n++
	if f.n >= limit {
		f.until = now.Add(l.lim.Lockout)
		f.n, f.first = 0, now
	}
}

// evict forgets what no longer counts, and when that is not enough, the
// entry whose window began first. l.mu must be held.
func (l *limiter) evict(now time.Time) {
	var oldest string
	var at time.Time
	for k, f := range l.m {
		if now.Sub(f.first) > l.lim.Window && !now.Before(f.until) {
			delete(l.m, k)
			continue
		}
		if oldest == "" || f.first.Before(at) {
			oldest, at = k, f.first
		}
	}
	if len(l.m) >= l.lim.Tracked && oldest != "" {
		delete(l.m, oldest)
	}
}

// succeed forgets the failures of user (not of the address: one right
// password must not reset a guesser's count).
func (l *limiter) succeed(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, userKey(user))
}

// size is how many names and addresses are remembered.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
