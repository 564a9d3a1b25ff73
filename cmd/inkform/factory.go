package main

import (
	"context"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/state"
	"github.com/inkform/inkform/state/backend"
)

// factory holds what commands reach outside the process through: the IO
// streams, the state backends and the printers. Each command copies what
// it needs into its options, so that a test can call its run function
// with fakes instead.
type factory struct {
	IO        streams
	OpenStore storeOpener
	Connect   connectFunc
}

// storeOpener opens the state at a location.
type storeOpener func(ctx context.Context, loc backend.Location, opts backend.Options) (state.Store, error)

// connectFunc returns a connector to printers of catalog cat, read with
// the identity rules devices (nil: the built-in ones), of which at most
// inFlight are talked to at once.
type connectFunc func(cat *catalog.Catalog, devices *catalog.Devices, inFlight int) providers.Connector

// newFactory reaches real state backends and real printers.
func newFactory(io streams) *factory {
	if io.noColor == nil {
		io.noColor = new(bool)
	}
	return &factory{
		IO: io,
		OpenStore: func(ctx context.Context, loc backend.Location, opts backend.Options) (state.Store, error) {
			return loc.Open(ctx, opts)
		},
		Connect: newConnector,
	}
}
