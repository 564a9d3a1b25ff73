package snmp

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// retarget points a connected UDP socket at another agent, so that a new
// session skips creating, registering and closing a socket. Linux lets
// connect(2) re-associate a UDP socket; datagrams the previous agent sent
// that are still queued are dropped, and later ones the kernel filters.
// Only IP literals of the socket's own family are handled; the caller
// dials a fresh socket otherwise.
func retarget(conn net.Conn, host string, port uint16) error {
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return errors.New("not a UDP socket")
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err // a name: resolving is Dial's job
	}
	ip = ip.Unmap()
	local, ok := uc.LocalAddr().(*net.UDPAddr)
	if !ok || (local.IP.To4() != nil) != ip.Is4() || ip.Zone() != "" {
		return errors.New("address family differs")
	}
	var sa syscall.Sockaddr
	if ip.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(port), Addr: ip.As4()}
	} else {
		sa = &syscall.SockaddrInet6{Port: int(port), Addr: ip.As16()}
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var connErr error
	if err := rc.Control(func(fd uintptr) { connErr = syscall.Connect(int(fd), sa) }); err != nil {
		return err
	}
	if connErr != nil {
		return connErr
	}
	// Drop what the previous agent's late answers left queued. A
	// one-byte read discards the rest of each datagram.
	var b [1]byte
	return rc.Read(func(fd uintptr) bool {
		for {
			if _, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_DONTWAIT); err != nil {
				return true // EAGAIN: the queue is empty
			}
		}
	})
}
