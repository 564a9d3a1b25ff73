package fleet

import (
	"net"
	"strconv"
)

func joinHostPort(host string, port int) string {
	if port == 0 {
		port = DefaultSNMPPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
