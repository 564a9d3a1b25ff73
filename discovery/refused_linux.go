package discovery

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
)

// An address whose port is closed answers with ICMP port unreachable
// (and a router for a host it cannot reach, host unreachable): such an
// address needs no retry, and no other profile. Linux hands ICMP errors
// of an unconnected UDP socket over only with IP_RECVERR, on the socket's
// error queue, each with the destination of the datagram that caused it.

// watchRefusals asks the kernel to queue ICMP errors on conn; false when
// it cannot.
func watchRefusals(conn *net.UDPConn, v6 bool) bool {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if v6 {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVERR, 1)
		} else {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVERR, 1)
		}
	})
	return err == nil && serr == nil
}

// maxDrain bounds one draining of the error queue.
const maxDrain = 4096

// drainRefusals reads conn's error queue and calls refused with the
// destination of each datagram refused (port, host or network
// unreachable).
func drainRefusals(conn *net.UDPConn, refused func(netip.AddrPort)) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, 256)
	oob := make([]byte, 512)
	// Control, not Read: the socket's reader may be blocked in a read,
	// holding its read lock, and MSG_DONTWAIT never waits anyway.
	_ = rc.Control(func(fd uintptr) {
		for range maxDrain {
			_, oobn, _, from, err := syscall.Recvmsg(int(fd), buf, oob, syscall.MSG_ERRQUEUE|syscall.MSG_DONTWAIT)
			if err != nil {
				return // EAGAIN: drained
			}
			if !isRefusal(oob[:oobn]) {
				continue
			}
			switch sa := from.(type) {
			case *syscall.SockaddrInet4:
				refused(netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)))
			case *syscall.SockaddrInet6:
				refused(netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port)))
			}
		}
	})
}

// isRefusal reads a struct sock_extended_err from the control messages:
// its first field is the errno.
func isRefusal(oob []byte) bool {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return false
	}
	for _, m := range msgs {
		if !(m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_RECVERR ||
			m.Header.Level == syscall.IPPROTO_IPV6 && m.Header.Type == syscall.IPV6_RECVERR) || len(m.Data) < 4 {
			continue
		}
		switch syscall.Errno(binary.NativeEndian.Uint32(m.Data[:4])) {
		case syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH:
			return true
		}
	}
	return false
}
