// Package xmlnt reads and writes printer settings over XMLNT, the XML
// request and reply datagrams Lexmark printers answer on UDP port 6000.
// The schema is inkform's own (protocol/xmlnt, docs/protocols/xmlnt.md):
// compatibility with Lexmark firmware is unverified, and inkform's
// simulator is the only peer it has been tested against.
//
// XMLNT carries NPAP's operations and setting numbers, so the client is
// providers/npap's with the XML codec: the same request IDs,
// retransmission, source checks and counters.
package xmlnt

import (
	"time"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/protocol/xmlnt"
	"github.com/inkform/inkform/providers/npap"
)

// Name is the transport's name in the catalog's transport table.
const Name = "xmlnt"

// Options tune the transport: npap.Options without the codec and name,
// which are XMLNT's.
type Options struct {
	Timeout time.Duration
	Retries int
}

// New returns the "xmlnt" settings transport and connector.
func New(cat *catalog.Catalog, o Options) *npap.Transport {
	return npap.New(cat, npap.Options{Timeout: o.Timeout, Retries: o.Retries, Codec: xmlnt.XML{}, Name: Name})
}
