package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/providers"
)

// wrap turns a gosnmp error into one that names the printer and wraps
// providers.ErrUnreachable or providers.ErrAuth where they apply. gosnmp's
// errors never carry the community or passphrases, and neither does this.
func (s *Session) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := s.g.Context.Err(); ctxErr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err)) {
		// The caller's deadline or cancellation, not the printer's silence.
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: ctxErr,
				Msg: fmt.Sprintf("printer %s (%s): snmp %s: no answer before the deadline", s.name, s.addr, op)}
		}
		return fmt.Errorf("printer %s (%s): snmp %s: %w", s.name, s.addr, op, ctxErr)
	}
	if s.version == gosnmp.Version3 {
		reason, ok := authFailure(err)
		if ok && reason == reasonNotAuthentic {
			reason = s.diagnoseUser()
		}
		if !ok && isTimeout(err) && !s.answered && s.g.MsgFlags&gosnmp.AuthPriv == gosnmp.AuthPriv && s.g.ContextEngineID != "" {
			// The agent answered engine discovery, then silently dropped
			// the encrypted request: that is what net-snmp does when it
			// cannot decrypt.
			reason, ok = "the agent answered discovery but not the encrypted request: wrong privacy passphrase or protocol", true
		}
		if ok {
			return &providers.ClassifiedError{Kind: providers.ErrAuth, Cause: err,
				Msg: fmt.Sprintf("printer %s (%s): SNMPv3 authentication failed for user %s: %s", s.name, s.addr, s.user, reason)}
		}
	}
	if isDNS(err) {
		return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
			Msg: fmt.Sprintf("printer %s (%s): %v", s.name, s.addr, err)}
	}
	if isTimeout(err) || isRefused(err) {
		hint := "unreachable"
		if s.version != gosnmp.Version3 {
			// A real agent silently drops requests with a wrong community.
			hint = "wrong community or unreachable"
		}
		if isRefused(err) {
			hint = "port closed: ICMP port unreachable"
		}
		return &providers.ClassifiedError{Kind: providers.ErrUnreachable, Cause: err,
			Msg: fmt.Sprintf("printer %s (%s): no SNMP answer after %s of %s (%s)", s.name, s.addr, attempts(s.g.Retries+1), s.g.Timeout, hint)}
	}
	return fmt.Errorf("printer %s (%s): snmp %s: %w", s.name, s.addr, op, err)
}

// authFailure recognises the Report PDUs an agent sends when it refuses a
// v3 user, as gosnmp surfaces them.
func authFailure(err error) (string, bool) {
	switch {
	case errors.Is(err, gosnmp.ErrUnknownUsername):
		return "unknown user", true
	case errors.Is(err, gosnmp.ErrWrongDigest):
		return "wrong auth passphrase or protocol", true
	case errors.Is(err, gosnmp.ErrDecryption):
		return "wrong privacy passphrase or protocol", true
	case errors.Is(err, gosnmp.ErrUnknownSecurityLevel):
		return "the agent does not allow this security level for the user", true
	}
	// gosnmp checks the digest of responses itself and discards the
	// agent's unauthenticated Report (unknown user or wrong digest).
	if msg := err.Error(); strings.Contains(msg, "not authentic") {
		return reasonNotAuthentic, true
	}
	return "", false
}

const reasonNotAuthentic = "wrong auth passphrase or protocol"

// diagnoseUser tells an unknown user from a wrong auth passphrase: asked
// without authentication, an agent reports usmStatsUnknownUserNames only
// for a user it does not know. One extra request, made only on failure.
func (s *Session) diagnoseUser() string {
	probe := &gosnmp.GoSNMP{
		Target: s.g.Target, Port: s.g.Port, Version: gosnmp.Version3,
		Timeout: s.g.Timeout, Retries: 0, Context: s.g.Context,
		SecurityModel:      gosnmp.UserSecurityModel,
		MsgFlags:           gosnmp.NoAuthNoPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: s.user},
	}
	if err := probe.Connect(); err != nil {
		return reasonNotAuthentic
	}
	defer probe.Close()
	if _, err := probe.Get([]string{".1.3.6.1.2.1.1.3.0"}); errors.Is(err, gosnmp.ErrUnknownUsername) {
		return "unknown user"
	}
	return reasonNotAuthentic
}

func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// gosnmp flattens some timeouts to text.
	return strings.Contains(err.Error(), "timeout")
}

func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}

func isDNS(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

// statusName spells an SNMP error status the way RFC 3416 does
// ("notWritable", "noAccess").
func statusName(e gosnmp.SNMPError) string {
	s := e.String()
	if strings.HasPrefix(s, "SNMPError(") || s == "" {
		return fmt.Sprintf("error status %d", int(e))
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}
