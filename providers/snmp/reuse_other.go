//go:build !linux

package snmp

import (
	"errors"
	"net"
)

// retarget is only implemented on Linux; elsewhere every session dials
// its own socket.
func retarget(net.Conn, string, uint16) error {
	return errors.New("socket reuse is not supported on this system")
}
