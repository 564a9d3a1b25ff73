package hcl

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/inkform/inkform/fleet"
)

// parseAddress splits a printer address — host, host:port, [v6]:port or
// a bare IPv6 address — into host and port; the port defaults to SNMP's.
func parseAddress(addr string) (string, int, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", 0, errors.New("the address is empty")
	}
	host, port := addr, fleet.DefaultSNMPPort
	switch {
	case strings.HasPrefix(addr, "["):
		if strings.HasSuffix(addr, "]") {
			host = addr[1 : len(addr)-1]
			break
		}
		h, p, err := net.SplitHostPort(addr)
		if err != nil {
			return "", 0, errors.New("write an IPv6 address with a port as [address]:port")
		}
		n, err := parsePort(p)
		if err != nil {
			return "", 0, err
		}
		host, port = h, n
		if _, err := netip.ParseAddr(host); err != nil {
			return "", 0, errors.New("the part in brackets is not an IPv6 address")
		}
	case strings.Count(addr, ":") == 1:
		h, p, err := net.SplitHostPort(addr)
		if err != nil {
			return "", 0, errors.New("expected host or host:port")
		}
		n, err := parsePort(p)
		if err != nil {
			return "", 0, err
		}
		host, port = h, n
	case strings.Count(addr, ":") > 1:
		// A bare IPv6 address; a port needs brackets.
		if _, err := netip.ParseAddr(addr); err != nil {
			return "", 0, errors.New("not an IPv6 address; write an IPv6 address with a port as [address]:port")
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", 0, errors.New("IPv6 zones are not supported")
		}
		return ip.Unmap().String(), port, nil
	}
	if err := checkHostname(host); err != nil {
		return "", 0, err
	}
	return strings.ToLower(strings.TrimSuffix(host, ".")), port, nil
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return 0, errors.New("the port must be a number from 1 to 65535")
	}
	return n, nil
}

// checkHostname applies RFC 1123 host name syntax; names with anything
// else could never resolve, and catching them here names the printer.
func checkHostname(h string) error {
	name := strings.TrimSuffix(h, ".")
	if name == "" || len(name) > 253 {
		return errors.New("not a valid host name")
	}
	labels := strings.Split(name, ".")
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		// No top-level domain is numeric: this was meant as an IPv4 address.
		return errors.New("not a valid IPv4 address")
	}
	for _, label := range labels {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("not a valid host name")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return errors.New("not a valid host name")
			}
		}
	}
	return nil
}

// addressKey identifies where a printer answers, for duplicate checks.
func addressKey(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
