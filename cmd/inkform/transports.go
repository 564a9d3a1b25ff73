package main

import (
	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/ftp"
	inkhttp "github.com/inkform/inkform/providers/http"
	"github.com/inkform/inkform/providers/lst"
	"github.com/inkform/inkform/providers/npap"
	"github.com/inkform/inkform/providers/pjl"
	"github.com/inkform/inkform/providers/router"
	"github.com/inkform/inkform/providers/snmp"
	"github.com/inkform/inkform/providers/xmlnt"
)

// newConnector routes every printer's facts over SNMP and each setting
// and file over the transport its `transports` list prefers.
// inFlight is how many printers may be in flight at once, which bounds the
// idle SNMP sockets worth keeping.
func newConnector(cat *catalog.Catalog, devices *catalog.Devices, inFlight int) providers.Connector {
	settings, files := transportProviders(cat)
	return router.New(cat, snmp.New(cat, snmp.Options{MaxIdleClients: min(inFlight, snmp.DefaultMaxIdleClients), Devices: devices}),
		settings, files)
}

// namedTransport is a provider of one transport besides SNMP: a
// providers.SettingsTransport, a providers.FileTransport or both.
type namedTransport interface{ Name() string }

// builtTransports returns every transport provider in this build, by the
// name it answers to.
func builtTransports(cat *catalog.Catalog) map[string]namedTransport {
	out := map[string]namedTransport{}
	for _, t := range []namedTransport{pjl.New(cat, pjl.Options{}), ftp.New(ftp.Options{}),
		npap.New(cat, npap.Options{}), xmlnt.New(cat, xmlnt.Options{}), lst.New(cat, lst.Options{})} {
		out[t.Name()] = t
	}
	// The embedded web server serves one transport per URL scheme, named
	// after it.
	for _, t := range catalog.Transports {
		if t.Binding == catalog.BindingEWS {
			out[t.Name] = inkhttp.New(cat, inkhttp.Options{Scheme: t.Name})
		}
	}
	return out
}

// transportProviders hands the router, for each row of the transport
// table, the provider of that name for what the row says it carries.
func transportProviders(cat *catalog.Catalog) ([]providers.SettingsTransport, []providers.FileTransport) {
	built := builtTransports(cat)
	var settings []providers.SettingsTransport
	var files []providers.FileTransport
	for _, t := range catalog.Transports {
		p := built[t.Name]
		if st, ok := p.(providers.SettingsTransport); ok && t.Settings() {
			settings = append(settings, st)
		}
		if ft, ok := p.(providers.FileTransport); ok && t.Files {
			files = append(files, ft)
		}
	}
	return settings, files
}
