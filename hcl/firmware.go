package hcl

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	hhcl "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
)

// The transports a file's and a firmware's `via` may name, sorted as
// messages list them.
var (
	fileTransports     = slices.Sorted(slices.Values(catalog.FileTransports()))
	firmwareTransports = slices.Sorted(slices.Values(catalog.FirmwareTransports()))
)

// maxRollout bounds batch and max_failures: far beyond any fleet, small
// enough that arithmetic on them cannot overflow.
const maxRollout = 1_000_000

type firmwareBlock struct {
	block *hhcl.Block
	fw    *fleet.Firmware // nil until decoded without errors
}

// decodeFirmware reads a firmware block. The image's SHA-256 is checked
// here, at load time, so a wrong or truncated file is caught before any
// printer is touched.
func (l *loader) decodeFirmware(ctx *hhcl.EvalContext, f *firmwareBlock) hhcl.Diagnostics {
	name := f.block.Labels[0]
	content, diags := f.block.Body.Content(firmwareSchema)
	attrs, d := l.usable(content.Attributes, scopeBody)
	diags = append(diags, d...)
	fw := &fleet.Firmware{Name: name}
	invalid := func(rng hhcl.Range, detail string) {
		diags = append(diags, errorAt(rng, "Invalid firmware", fmt.Sprintf("Firmware %q: %s", name, detail)))
	}

	if attr, ok := attrs["models"]; ok {
		ev, ok, d := eval(ctx, attr.Expr, cty.List(cty.String), "models")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "models", fmt.Sprintf("firmware %q", name))...)
		if ok && !ev.sensitive {
			if ev.val.IsNull() || ev.val.LengthInt() == 0 {
				invalid(attr.Expr.Range(), "models must list at least one model pattern, such as \"Lexmark CX725*\".")
			} else {
				for it := ev.val.ElementIterator(); it.Next(); {
					_, e := it.Element()
					if e.IsNull() || strings.TrimSpace(e.AsString()) == "" {
						invalid(attr.Expr.Range(), "model patterns must not be empty.")
						continue
					}
					if _, err := path.Match(e.AsString(), ""); err != nil {
						invalid(attr.Expr.Range(), fmt.Sprintf("model pattern %q is malformed: %s.", e.AsString(), err))
						continue
					}
					fw.Models = append(fw.Models, e.AsString())
				}
			}
		}
	}
	if attr, ok := attrs["version"]; ok {
		v, ev, set, d := evalString(ctx, attr, "version")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "version", fmt.Sprintf("firmware %q", name))...)
		if set && strings.TrimSpace(v) == "" || !set && !d.HasErrors() {
			invalid(attr.Expr.Range(), "version must name the version the printers report after the upgrade.")
		}
		fw.Version = strings.TrimSpace(v)
	}
	if attr, ok := attrs["via"]; ok {
		v, ev, set, d := evalString(ctx, attr, "via")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "via", fmt.Sprintf("firmware %q", name))...)
		if set && !ev.sensitive {
			if !slices.Contains(firmwareTransports, v) {
				invalid(attr.Expr.Range(), fmt.Sprintf("via %q is not a transport that carries files; use one of %q.", v, firmwareTransports))
			}
			fw.File.Via = v
		}
	}

	var declared string
	var declaredSet bool
	if attr, ok := attrs["sha256"]; ok {
		v, ev, set, d := evalString(ctx, attr, "sha256")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "sha256", fmt.Sprintf("firmware %q", name))...)
		if set && !ev.sensitive {
			declared, declaredSet = parseSHA256(v)
			if !declaredSet {
				invalid(attr.Expr.Range(), "sha256 must be the image's SHA-256 digest: 64 hex digits, as printed by sha256sum.")
			}
		}
	}
	if attr, ok := attrs["file"]; ok {
		p, ev, set, d := evalString(ctx, attr, "file")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "file", fmt.Sprintf("firmware %q", name))...)
		if set && !ev.sensitive {
			abs := l.resolvePath(p)
			dg := l.digest(abs)
			switch {
			case strings.TrimSpace(p) == "":
				invalid(attr.Expr.Range(), "file must name the firmware image.")
			case dg.err != nil:
				diags = append(diags, errorAt(attr.Expr.Range(), "Cannot read firmware file",
					fmt.Sprintf("Firmware %q: %s.", name, fileError(dg.err))))
			default:
				fw.File.Source, fw.File.SHA256, fw.File.Size = abs, dg.sha256, dg.size
				fw.File.Dest = filepath.Base(abs)
				if declaredSet && declared != dg.sha256 {
					diags = append(diags, errorAt(attrs["sha256"].Expr.Range(), "Firmware checksum mismatch",
						fmt.Sprintf("Firmware %q: %s has SHA-256 %s, but sha256 says %s. The file is not the image that was reviewed; nothing will be sent.",
							name, p, dg.sha256, declared)))
				}
			}
		}
	}
	if attr, ok := attrs["dest"]; ok {
		v, ev, set, d := evalString(ctx, attr, "dest")
		diags = append(diags, d...)
		diags = append(diags, refuseSensitive(ev, "dest", fmt.Sprintf("firmware %q", name))...)
		if set && !ev.sensitive {
			if msg := checkDest(v); msg != "" {
				invalid(attr.Expr.Range(), msg)
			} else {
				fw.File.Dest = v
			}
		}
	}

	var rollout *hhcl.Block
	for _, b := range content.Blocks {
		if rollout != nil {
			diags = append(diags, duplicate("rollout block", "", b.DefRange, rollout.DefRange))
			continue
		}
		rollout = b
	}
	if rollout != nil {
		c, d := rollout.Body.Content(rolloutSchema)
		diags = append(diags, d...)
		ra, d := l.usable(c.Attributes, scopeBody)
		diags = append(diags, d...)
		for _, field := range []struct {
			name string
			dst  *int
		}{{"batch", &fw.Rollout.Batch}, {"max_failures", &fw.Rollout.MaxFailures}} {
			attr, ok := ra[field.name]
			if !ok {
				continue
			}
			ev, ok, d := eval(ctx, attr.Expr, cty.Number, field.name)
			diags = append(diags, d...)
			if !ok || ev.val.IsNull() {
				continue
			}
			n, whole := wholeNumber(ev.val)
			if !whole || n < 0 || n > maxRollout {
				invalid(attr.Expr.Range(), fmt.Sprintf("rollout %s must be a whole number from 0 to %d.", field.name, maxRollout))
				continue
			}
			*field.dst = n
		}
	}
	if !diags.HasErrors() {
		f.fw = fw
	}
	return diags
}

// checkDest returns why a destination name is unusable, or "".
func checkDest(dest string) string {
	switch {
	case strings.TrimSpace(dest) == "":
		return "dest must not be empty."
	case strings.ContainsAny(dest, "\x00\r\n"):
		return "dest must not contain control characters."
	case slices.Contains(strings.Split(strings.ReplaceAll(dest, "\\", "/"), "/"), ".."):
		return fmt.Sprintf("dest %q must not climb out of the printer's directory with \"..\".", dest)
	}
	return ""
}

// fileError phrases a file error for a diagnostic without Go's "open"
// prefix noise.
func fileError(err error) string {
	return strings.TrimPrefix(err.Error(), "open ")
}
