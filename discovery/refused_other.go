//go:build !linux

package discovery

import (
	"net"
	"net/netip"
)

// Elsewhere ICMP errors of an unconnected socket are not read: a closed
// port costs its retries like a silent address.
func watchRefusals(*net.UDPConn, bool) bool { return false }

func drainRefusals(*net.UDPConn, func(netip.AddrPort)) {}
