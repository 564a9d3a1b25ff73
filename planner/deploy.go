package planner

import (
	"fmt"
	"path"
	"strings"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/plans"
	"github.com/inkform/inkform/plans/values"
	"github.com/inkform/inkform/state"
)

// How firmware, files and per-setting transports are planned.

// planDeploys adds the firmware upgrade, the files and the observation's
// notes to a printer's plan.
func (pl *Planner) planDeploys(pp *plans.PrinterPlan, p fleet.Printer, prior state.Printer, obs fleet.Observation) {
	pp.Notes = append(pp.Notes, obs.Notes...)
	fc, note := pl.planFirmware(p, obs)
	pp.Firmware = fc
	if note != "" {
		pp.Notes = append(pp.Notes, note)
	}
	pp.Files = planFiles(p, prior)
}

// planFirmware decides whether the printer's declared firmware applies to
// the observed model and is newer than what it runs. note explains an
// upgrade not made, or one made without knowing it is newer.
func (pl *Planner) planFirmware(p fleet.Printer, obs fleet.Observation) (fc *plans.FirmwareChange, note string) {
	fw := p.Firmware
	if fw == nil || !modelMatches(fw.Models, obs.Model) {
		return nil, ""
	}
	if strings.TrimSpace(obs.Firmware) == "" {
		return nil, fmt.Sprintf("firmware %s: the printer does not report its firmware version; not upgraded", fw.Name)
	}
	c, ordered := catalog.OrderVersions(pl.Catalog.FamilyOf(obs.Model), obs.Firmware, fw.Version)
	switch {
	case ordered && c == 0:
		return nil, ""
	case ordered && c > 0:
		return nil, fmt.Sprintf("firmware %s: the printer runs %s, newer than %s; not downgraded", fw.Name, obs.Firmware, fw.Version)
	case !ordered:
		// The block's models say the printer should run its version; what
		// cannot be said is whether that is an upgrade.
		note = fmt.Sprintf("firmware %s: %s and %s are of different firmware lines and cannot be ordered; installing the declared version", fw.Name, obs.Firmware, fw.Version)
	}
	return &plans.FirmwareChange{
		Name: fw.Name, From: obs.Firmware, To: fw.Version,
		Size: fw.File.Size, SHA256: strings.ToLower(fw.File.SHA256), Via: plannedVia(p, fw.File),
		Batch: fw.Rollout.Batch, MaxFailures: fw.Rollout.MaxFailures,
	}, note
}

func modelMatches(patterns []string, model string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, model); ok {
			return true
		}
	}
	return false
}

// plannedVia is the transport a file is planned over: its own, or the
// first file-capable one of the printer's preference ("" when none); on a
// secured printer, the first authenticated one.
func plannedVia(p fleet.Printer, f fleet.File) string {
	if f.Via != "" {
		return f.Via
	}
	c := p.Credentials
	for _, t := range p.Transports {
		if tr, ok := catalog.Transport(t); ok && tr.Files {
			if p.Secured && !catalog.Authenticated(t, c.SNMP.Version == fleet.SNMPv3 && c.SNMP.AuthProtocol != "", c.Admin.Username != "") {
				continue
			}
			return t
		}
	}
	return ""
}

// planFiles lists the declared files whose recorded hash differs from the
// configuration's.
func planFiles(p fleet.Printer, prior state.Printer) []plans.FileChange {
	var out []plans.FileChange
	for _, f := range p.Files {
		dest := f.RemoteName()
		recorded, ok := prior.Files[dest]
		if ok && recorded == values.FileHash(f) {
			continue
		}
		fc := plans.FileChange{Dest: dest, Action: plans.Adopt, Size: f.Size, SHA256: strings.ToLower(f.SHA256), Via: plannedVia(p, f)}
		if ok {
			fc.Action = plans.Update
		}
		out = append(out, fc)
	}
	return out
}

// settingTransport is the transport that read a setting (and will write
// it), or the session's when the observation does not say.
func settingTransport(obs fleet.Observation, name, session string) string {
	if t := obs.SettingTransports[name]; t != "" {
		return t
	}
	return session
}
