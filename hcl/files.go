package hcl

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// fileDigest is what Load records about a file it will deploy.
type fileDigest struct {
	sha256 string // hex
	size   int64
	err    error
}

// digest hashes the file at abs once per Load, however many printers
// deploy it: a for_each fleet names the same certificate thousands of times.
func (l *loader) digest(abs string) fileDigest {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	if d, ok := l.digests[abs]; ok {
		return d
	}
	d := hashFile(abs)
	l.digests[abs] = d
	return d
}

func hashFile(abs string) fileDigest {
	f, _, err := openRegular(abs)
	if err != nil {
		return fileDigest{err: err}
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fileDigest{err: fmt.Errorf("read %s: %w", abs, err)}
	}
	return fileDigest{sha256: hex.EncodeToString(h.Sum(nil)), size: n}
}

// parseSHA256 accepts a SHA-256 digest as 64 hex digits, optionally after
// "sha256:" and with colons between bytes (as openssl prints them), and
// returns it as lowercase hex.
func parseSHA256(s string) (string, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "sha256:")
	s = strings.ToLower(strings.ReplaceAll(s, ":", ""))
	if len(s) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}
