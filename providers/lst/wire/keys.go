package wire

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/pion/dtls/v3"
	"github.com/pion/logging"
)

// Standard ports: the TLS 1.3 control channel on TCP, the DTLS 1.2 data
// channel on UDP.
const (
	ControlPort = 6110
	DataPort    = 6100
)

// ExporterLabel is the RFC 5705 / RFC 8446 §7.5 exporter label both ends
// give tls.ConnectionState.ExportKeyingMaterial; the context is the
// LoginReply's nonce (32 random bytes) and the output PSKLen bytes.
const ExporterLabel = "EXPORTER-inkform-lst-psk-v1"

// PSKLen is the length of the derived DTLS pre-shared key.
const PSKLen = 32

// NonceLen is the length of the login nonce.
const NonceLen = 32

// CipherSuites are the DTLS 1.2 suites both ends offer, AEAD only: the
// PSK is fresh per TLS session (itself forward secret), so plain PSK key
// exchange suffices.
var CipherSuites = []dtls.CipherSuiteID{
	dtls.TLS_PSK_WITH_AES_128_GCM_SHA256,
	dtls.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
}

// DerivePSK exports the data session's pre-shared key from a TLS 1.3
// session and the login nonce (hex, as sent).
func DerivePSK(cs tls.ConnectionState, nonceHex string) ([]byte, error) {
	if cs.Version != tls.VersionTLS13 {
		return nil, fmt.Errorf("lst: the control channel is not TLS 1.3")
	}
	nonce, err := hex.DecodeString(nonceHex)
	if err != nil || len(nonce) != NonceLen {
		return nil, fmt.Errorf("lst: login nonce is not %d bytes of hex", NonceLen)
	}
	psk, err := cs.ExportKeyingMaterial(ExporterLabel, nonce, PSKLen)
	if err != nil {
		return nil, fmt.Errorf("lst: export keying material: %w", err)
	}
	return psk, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}

// QuietLogs is the DTLS logger factory of both ends: pion's own logging
// (by default to stderr) is dropped, since failures reach callers as
// errors and nothing may write to a command's output behind its back.
var QuietLogs logging.LoggerFactory = &logging.DefaultLoggerFactory{
	Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled, ScopeLevels: map[string]logging.LogLevel{},
}
