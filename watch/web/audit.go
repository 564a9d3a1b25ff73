package web

import (
	"context"
	"net/http"

	"github.com/inkform/inkform/state"
)

// Audit actions.
const (
	actionLogin        = "login"
	actionLoginFailed  = "login_failed"
	actionLogout       = "logout"
	actionAck          = "ack"
	actionSilence      = "silence"
	actionExpireSilent = "expire_silence"
	actionPlanNow      = "plan_now"
)

// auditLimit is how many entries the audit page and API show at most.
const auditLimit = 500

// record appends an audit entry when the state keeps an audit log. A
// failure to record is logged, not returned: the action itself happened.
func (s *Server) record(ctx context.Context, r *http.Request, user, action, target, detail string) {
	if s.audit == nil {
		return
	}
	e := state.AuditEntry{At: s.now(), User: user, Address: clientAddr(r), Action: action, Target: target, Detail: detail}
	if err := s.audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("status page: audit", "action", action, "user", user, "err", err)
	}
}

func (s *Server) auditLog(ctx context.Context) ([]state.AuditEntry, error) {
	if s.audit == nil {
		return nil, errNoAudit
	}
	return s.audit.AuditLog(ctx, auditLimit)
}
