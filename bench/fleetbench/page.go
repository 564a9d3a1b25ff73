package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Budgets and load of the status page rows.
const (
	budgetPageP95MS = 200
	budgetAPIRSSMB  = 400
	pageClients     = 50
	pageRequests    = 2000
	pageTimeout     = 30 * time.Second
)

// pageCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir, for the status page to serve, and returns their paths and a
// pool trusting it, so that the load's clients verify the server as any
// client should.
func pageCert(dir string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, fmt.Errorf("status page certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "fleetbench status page"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, fmt.Errorf("status page certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, fmt.Errorf("status page key: %w", err)
	}
	certFile, keyFile = filepath.Join(dir, "status.pem"), filepath.Join(dir, "status-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool, nil
}

// statusPageConfig is the watch block's status_page: loopback, no
// logins (everyone is a viewer), the bench's certificate.
func statusPageConfig(addr, certFile, keyFile string) string {
	return fmt.Sprintf(`
  status_page {
    listen   = %q
    tls_cert = %q
    tls_key  = %q
  }
`, addr, certFile, keyFile)
}

// pageRequest is one kind of request of the load, and how to tell that
// its answer lists printers.
type pageRequest struct {
	path  string
	lists func(body []byte) error
}

// pageLoad sends pageRequests requests from pageClients concurrent
// clients (one http.Client, HTTP/1.1 keep-alive over TLS, one connection
// per client), a quarter each: the fleet page's first page, the fleet
// page filtered by name and sorted by page count (descending), the API's
// first page of printers, and the API sorted by status. Every answer must
// be 200 and list printers. It returns the 95th percentile of the time
// from sending a request to reading its whole body, in milliseconds.
func (o options) pageLoad(ctx context.Context, base string, pool *x509.CertPool, n int, nameFilter string) (float64, error) {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConns:        pageClients,
		MaxIdleConnsPerHost: pageClients,
		IdleConnTimeout:     time.Minute,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: pageTimeout}

	// The page must show the whole fleet as the first poll saw it.
	var first apiPrinters
	if err := getJSON(ctx, client, base+"/api/v1/printers?per_page=1", &first); err != nil {
		return 0, err
	}
	if first.All != n {
		return 0, fmt.Errorf("status page: the API lists %d printers, want %d", first.All, n)
	}
	o.logf("status page: %d printers, by status %v", first.All, first.ByStatus)

	fleetRows := func(body []byte) error {
		if c := strings.Count(string(body), `<tr class="printer">`); c == 0 {
			return fmt.Errorf("the fleet page lists no printer")
		}
		return nil
	}
	apiRows := func(body []byte) error {
		var p apiPrinters
		if err := json.Unmarshal(body, &p); err != nil {
			return fmt.Errorf("the API's printers: %w", err)
		}
		if len(p.Printers) == 0 || p.All != n {
			return fmt.Errorf("the API lists %d printers of %d, want some of %d", len(p.Printers), p.All, n)
		}
		return nil
	}
	kinds := []pageRequest{
		{"/", fleetRows},
		{"/?" + url.Values{"name": {nameFilter}, "sort": {"-pages"}}.Encode(), fleetRows},
		{"/api/v1/printers", apiRows},
		{"/api/v1/printers?sort=status", apiRows},
	}

	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := range pageRequests {
			select {
			case jobs <- i % len(kinds):
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		mu       sync.Mutex
		ms       []float64
		byKind   = make([][]float64, len(kinds))
		firstErr error
		wg       sync.WaitGroup
	)
	o.logf("status page: %d requests from %d clients", pageRequests, pageClients)
	start := time.Now()
	for range pageClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				d, err := timedGet(ctx, client, base+kinds[i].path, kinds[i].lists)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				ms = append(ms, float64(d.Microseconds())/1000)
				byKind[i] = append(byKind[i], float64(d.Microseconds())/1000)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	if len(ms) != pageRequests {
		return 0, fmt.Errorf("status page: %d of %d requests made: %w", len(ms), pageRequests, ctx.Err())
	}
	slices.Sort(ms)
	o.logf("  %d requests in %.2fs; latency min %.1f ms, median %.1f ms, max %.1f ms",
		len(ms), time.Since(start).Seconds(), ms[0], ms[len(ms)/2], ms[len(ms)-1])
	for i, k := range kinds {
		slices.Sort(byKind[i])
		o.logf("  %s: median %.1f ms, p95 %.1f ms", k.path, byKind[i][len(byKind[i])/2], p95(byKind[i]))
	}
	return p95(ms), nil
}

// p95 is the 95th percentile of sorted values (nearest rank).
func p95(sorted []float64) float64 {
	return sorted[(len(sorted)*95+99)/100-1]
}

// apiPrinters is the part of GET /api/v1/printers the load checks.
type apiPrinters struct {
	All      int               `json:"all"`
	ByStatus map[string]int    `json:"by_status"`
	Printers []json.RawMessage `json:"printers"`
}

// timedGet gets url, reads the whole body and checks it.
func timedGet(ctx context.Context, client *http.Client, u string, check func([]byte) error) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return time.Since(start), fmt.Errorf("status page: GET %s: %w", u, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("status page: GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("status page: GET %s: %s: %.200s", u, resp.Status, body)
	}
	if err := check(body); err != nil {
		return d, fmt.Errorf("status page: GET %s: %w", u, err)
	}
	return d, nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	_, err := timedGet(ctx, client, u, func(b []byte) error { return json.Unmarshal(b, v) })
	return err
}
