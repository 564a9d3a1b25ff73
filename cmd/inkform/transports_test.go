package main

import (
	"testing"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/snmp"
)

// TestTransportProviders: every transport the table lists has a provider
// in this build for what the row says it carries, and every provider has
// a row.
func TestTransportProviders(t *testing.T) {
	built := builtTransports(nil)
	for _, tr := range catalog.Transports {
		if tr.Facts {
			// The router holds the SNMP connector itself.
			if tr.Name != snmp.Transport {
				t.Errorf("facts transport %q, but the SNMP provider answers to %q", tr.Name, snmp.Transport)
			}
			continue
		}
		p, ok := built[tr.Name]
		if !ok {
			t.Errorf("%s: no provider", tr.Name)
			continue
		}
		if _, ok := p.(providers.SettingsTransport); tr.Settings() && !ok {
			t.Errorf("%s: the table says it carries settings; its provider cannot", tr.Name)
		}
		if _, ok := p.(providers.FileTransport); tr.Files && !ok {
			t.Errorf("%s: the table says it carries files; its provider cannot", tr.Name)
		}
	}
	for name := range built {
		if tr, ok := catalog.Transport(name); !ok || tr.Facts {
			t.Errorf("provider %q: not a row of the transport table", name)
		}
	}

	// What the router is handed: every row but the facts one, by capability.
	wantSettings, wantFiles := 0, 0
	for _, tr := range catalog.Transports {
		if !tr.Facts && tr.Settings() {
			wantSettings++
		}
		if !tr.Facts && tr.Files {
			wantFiles++
		}
	}
	settings, files := transportProviders(nil)
	if len(settings) != wantSettings || len(files) != wantFiles {
		t.Errorf("%d settings and %d file transports wired, want %d and %d", len(settings), len(files), wantSettings, wantFiles)
	}
}
