package main

import (
	"fmt"
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/ftp"
	inkhttp "github.com/inkform/inkform/providers/http"
	"github.com/inkform/inkform/providers/pjl"
	"github.com/inkform/inkform/providers/router"
	"github.com/inkform/inkform/providers/snmp"
)

// newConnector routes every printer's facts over SNMP and each setting
// and file over the transport its `transports` list prefers.
// inFlight is how many printers may be in flight at once, which bounds the
// idle SNMP sockets worth keeping.
func newConnector(cat *catalog.Catalog, inFlight int) providers.Connector {
	rawPJL := pjl.New(cat, pjl.Options{})
	web := inkhttp.New(cat, inkhttp.Options{Scheme: "http"})
	secureWeb := inkhttp.New(cat, inkhttp.Options{Scheme: "https"})
	return router.New(cat, snmp.New(cat, snmp.Options{MaxIdleClients: min(inFlight, snmp.DefaultMaxIdleClients)}),
		[]providers.SettingsTransport{rawPJL, web, secureWeb},
		[]providers.FileTransport{ftp.New(ftp.Options{}), web, secureWeb, rawPJL},
	)
}

// upload is an apply upload-progress callback: one self-overwriting
// line per file on a terminal.
func (p *progress) upload(printer, file string, sent, total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if sent < total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	p.shown = true
	pct := ""
	if total > 0 {
		pct = fmt.Sprintf(" (%d%%)", sent*100/total)
	}
	fmt.Fprintf(p.io.Err, "\r\033[KUploading %s to %s: %s of %s%s", file, printer, mib(sent), mib(total), pct)
}

func uploadCallback(p *progress) func(printer, file string, sent, total int64) {
	if p == nil {
		return nil
	}
	return p.upload
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
