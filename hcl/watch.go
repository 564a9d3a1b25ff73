package hcl

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	hhcl "github.com/hashicorp/hcl/v2"

	"github.com/inkform/inkform/alerts"
)

// Bounds of the watch block. Polling reads every printer's alert table
// and supplies, and a drift check plans the whole fleet under the state
// lock: more often than this would load printers and block apply runs for
// no gain.
const (
	minPoll         = 10 * time.Second
	minDriftEvery   = time.Minute
	maxOfflineAfter = 1000
	// minRetention keeps at least a day of history: alerts, their
	// emails and silences are what people look back at.
	minRetention = 24 * time.Hour
)

// decodeWatch reads the watch block: how alerts come in and how often
// printers are polled and checked for drift.
func (l *loader) decodeWatch(ctx *hhcl.EvalContext) hhcl.Diagnostics {
	b := l.watchBlock
	const where = "the watch block"
	w := alerts.DefaultWatch()
	out := &w
	content, diags := b.Body.Content(watchSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)

	for _, f := range []struct {
		name string
		dst  *time.Duration
		min  time.Duration
	}{{"poll", &out.Poll, minPoll}, {"trap_ttl", &out.TrapTTL, time.Second}, {"retention", &out.Retention, minRetention}} {
		if attr, ok := attrs[f.name]; ok {
			v, set, d := evalDuration(ctx, attr, where, f.min)
			diags = append(diags, d...)
			if set {
				*f.dst = v
			}
		}
	}
	for _, f := range []struct {
		name   string
		dst    *int
		lo, hi int
	}{{"offline_after", &out.OfflineAfter, 1, maxOfflineAfter}, {"low_percent", &out.LowPercent, 0, 100}} {
		if attr, ok := attrs[f.name]; ok {
			v, set, d := evalWhole(ctx, attr, where, f.lo, f.hi)
			diags = append(diags, d...)
			if set {
				*f.dst = v
			}
		}
	}

	blocks, d := singleBlocks(content.Blocks)
	diags = append(diags, d...)
	for _, typ := range sortedKeys(blocks) {
		sub := blocks[typ]
		switch typ {
		case watchTraps:
			out.Traps, d = l.decodeTraps(ctx, sub)
		case watchNPAP:
			var listen string
			var allow []string
			listen, allow, d = l.decodeIntake(ctx, sub, "the npap block", alerts.DefaultNPAPListen)
			out.NPAP = &alerts.NPAP{Listen: listen, Allow: allow}
		case watchDrift:
			out.Drift, d = l.decodeDrift(ctx, sub)
		case watchStatusPage:
			out.StatusPage, d = l.decodeStatusPage(ctx, sub)
		}
		diags = append(diags, d...)
	}
	if !diags.HasErrors() {
		l.watch = out
	}
	return diags
}

func (l *loader) decodeTraps(ctx *hhcl.EvalContext, b *hhcl.Block) (*alerts.Traps, hhcl.Diagnostics) {
	listen, allow, diags := l.decodeIntake(ctx, b, "the traps block", alerts.DefaultTrapListen)
	return &alerts.Traps{Listen: listen, Allow: allow}, diags
}

// decodeIntake reads the listen address and allow list of an alert
// intake block (traps, npap).
func (l *loader) decodeIntake(ctx *hhcl.EvalContext, b *hhcl.Block, where, defaultListen string) (string, []string, hhcl.Diagnostics) {
	out := &alerts.Traps{Listen: defaultListen}
	content, diags := b.Body.Content(trapsSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	if attr, ok := attrs["listen"]; ok {
		s, ev, set, d := evalString(ctx, attr, "listen")
		diags = append(diags, d...)
		diags = append(diags, notSensitive(ev, "listen address", where)...)
		if set && !ev.sensitive {
			s = strings.TrimSpace(s)
			if msg := checkListen(s); msg != "" {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid listen address",
					fmt.Sprintf("In %s: listen %q %s", where, s, msg)))
			}
			out.Listen = s
		}
	}
	if attr, ok := attrs["allow"]; ok {
		elems, _, d := evalStringList(ctx, attr, where)
		diags = append(diags, d...)
		for _, e := range elems {
			p, msg := parseAllow(strings.TrimSpace(e.value))
			if msg != "" {
				diags = append(diags, errorAt(e.rng, "Invalid allow prefix", fmt.Sprintf("In %s: %q %s", where, e.value, msg)))
				continue
			}
			if p != p.Masked() {
				diags = append(diags, warningAt(e.rng, "Address bits after the prefix",
					fmt.Sprintf("In %s: %q has bits set after its /%d, which are ignored: it allows %s.", where, e.value, p.Bits(), p.Masked())))
			}
			out.Allow = appendNew(out.Allow, p.Masked().String())
		}
	}
	return out.Listen, out.Allow, diags
}

// checkListen returns why s is not a host:port to listen on, or "".
func checkListen(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return `is not host:port; write ":162" for every address, or "127.0.0.1:1162".`
	}
	if _, err := parsePort(port); err != nil {
		return "has a bad port: " + err.Error() + "."
	}
	if host == "" {
		return ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	if err := checkHostname(host); err != nil {
		return "has a host that is " + err.Error() + "."
	}
	return ""
}

// parseAllow reads a CIDR prefix; a bare address allows just itself.
func parseAllow(s string) (netip.Prefix, string) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, ""
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), ""
	}
	return netip.Prefix{}, "is not a CIDR prefix such as \"10.20.0.0/16\" or \"fd00::/8\", nor an IP address."
}

func (l *loader) decodeDrift(ctx *hhcl.EvalContext, b *hhcl.Block) (*alerts.DriftCheck, hhcl.Diagnostics) {
	const where = "the drift block"
	out := &alerts.DriftCheck{}
	content, diags := b.Body.Content(driftSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	if attr, ok := attrs["every"]; ok {
		v, set, d := evalDuration(ctx, attr, where, minDriftEvery)
		diags = append(diags, d...)
		if !set && !d.HasErrors() {
			diags = append(diags, errorAt(attr.Expr.Range(), "Invalid duration", fmt.Sprintf("In %s: every must be set, not null.", where)))
		}
		out.Every = v
	}
	if attr, ok := attrs["enforce"]; ok {
		v, _, d := evalBool(ctx, attr)
		diags = append(diags, d...)
		out.Enforce = v
	}
	return out, diags
}
