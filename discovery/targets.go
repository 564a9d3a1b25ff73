// Package discovery finds printers on a network: an SNMP sweep of address
// ranges (one socket, many requests in flight, a rate limit shared by the
// whole sweep), each responder identified through the catalog's identity
// rules, and the merge of what other means (mDNS) found by address.
package discovery

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// DefaultMaxAddresses is the largest sweep made without asking: a /16.
// A typo in a prefix length (/8 for /28) must not sweep millions of
// addresses.
const DefaultMaxAddresses = 1 << 16

// Span is one entry of a target list: an inclusive range of addresses (a
// single address has From == To), or a host name resolved when the list
// is expanded. Port is 0 when the entry names none (the sweep's port).
type Span struct {
	From, To netip.Addr
	Host     string
	Port     int
	// Text is the entry as written, for messages.
	Text string
}

// Size is how many addresses the span holds (1 for a host name).
func (s Span) Size() *big.Int {
	if s.Host != "" {
		return big.NewInt(1)
	}
	a := new(big.Int).SetBytes(s.From.AsSlice())
	b := new(big.Int).SetBytes(s.To.AsSlice())
	return b.Sub(b, a).Add(b, big.NewInt(1))
}

// ParseTarget reads one target: a CIDR prefix (10.20.0.0/22), a range
// (10.0.0.5-10.0.0.40, or 10.0.0.5-40 within the last octet), an address
// (IPv4 or IPv6, with a port as 10.0.0.5:1161 or [fe80::1]:1161), or a
// host name (with an optional :port). Prefixes and ranges are IPv4 only.
// The network and broadcast addresses of a prefix shorter than /31 are
// left out.
func ParseTarget(s string) (Span, error) {
	text := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Span{}, errors.New("empty target")
	}
	fail := func(format string, args ...any) (Span, error) {
		return Span{}, fmt.Errorf("target %q: %s", text, fmt.Sprintf(format, args...))
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fail("not a CIDR prefix such as 10.20.0.0/22")
		}
		if !p.Addr().Is4() {
			return fail("IPv6 prefixes are not swept; give IPv6 addresses one by one")
		}
		p = p.Masked()
		from := p.Addr()
		to := lastAddr(p)
		if p.Bits() < 31 {
			from, to = from.Next(), to.Prev()
		}
		return Span{From: from, To: to, Text: text}, nil
	}
	if a, b, ok := strings.Cut(s, "-"); ok && !strings.ContainsAny(s, "[]") {
		from, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil || !from.Is4() {
			if looksLikeHost(s) {
				return hostSpan(s, text)
			}
			return fail("a range starts with an IPv4 address")
		}
		b = strings.TrimSpace(b)
		var to netip.Addr
		if n, err := strconv.Atoi(b); err == nil && !strings.Contains(b, ".") {
			if n < 0 || n > 255 {
				return fail("%d is not an octet", n)
			}
			o := from.As4()
			o[3] = byte(n)
			to = netip.AddrFrom4(o)
		} else if to, err = netip.ParseAddr(b); err != nil || !to.Is4() {
			return fail("a range ends with an IPv4 address or the last octet")
		}
		if to.Less(from) {
			return fail("the range ends before it starts")
		}
		return Span{From: from, To: to, Text: text}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return addrSpan(a, 0, text)
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return fail("port 0")
		}
		return addrSpan(ap.Addr(), int(ap.Port()), text)
	}
	if looksLikeHost(s) {
		return hostSpan(s, text)
	}
	return fail("expected an address, a range (a-b), a CIDR prefix or a host name")
}

func addrSpan(a netip.Addr, port int, text string) (Span, error) {
	if a.Zone() != "" {
		return Span{}, fmt.Errorf("target %q: IPv6 zones are not supported", text)
	}
	a = a.Unmap()
	return Span{From: a, To: a, Port: port, Text: text}, nil
}

func hostSpan(s, text string) (Span, error) {
	host, port := s, 0
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Span{}, fmt.Errorf("target %q: port %q out of range", text, p)
		}
		host, port = h, n
	}
	if !looksLikeHost(host) {
		return Span{}, fmt.Errorf("target %q: not a host name", text)
	}
	return Span{Host: strings.ToLower(host), Port: port, Text: text}, nil
}

// looksLikeHost accepts DNS names: letters, digits, hyphens and dots,
// labels of at most 63 characters, at least one letter.
func looksLikeHost(s string) bool {
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	if s == "" || len(s) > 253 {
		return false
	}
	letter := false
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
				letter = true
			case c >= '0' && c <= '9', c == '-':
			default:
				return false
			}
		}
	}
	return letter
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	host := 32 - p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if host > 0 {
		v |= 1<<host - 1
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// maxCSVSize bounds a CSV file of targets.
const maxCSVSize = 16 << 20

// ReadCSV reads targets from the first column of a CSV file: one a row,
// a header row (a first cell that is no target, or a word such as
// "address") skipped, a UTF-8 byte
// order mark ignored, blank rows and rows starting with # skipped. name
// is used in errors, with the line.
func ReadCSV(r io.Reader, name string) ([]string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCSVSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxCSVSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxCSVSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	cr := csv.NewReader(bufio.NewReader(bytes.NewReader(data)))
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	var out []string
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		cell := strings.TrimSpace(rec[0])
		if cell == "" {
			first = false
			continue
		}
		if first && headerWords[strings.ToLower(cell)] {
			first = false
			continue
		}
		if _, err := ParseTarget(cell); err != nil {
			if first {
				first = false
				continue // a header
			}
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		first = false
		out = append(out, cell)
	}
}

// headerWords are first cells of a header row that would read as host
// names.
var headerWords = map[string]bool{
	"address": true, "addresses": true, "ip": true, "ip address": true, "ip_address": true, "ipaddress": true,
	"host": true, "hostname": true, "host name": true, "target": true, "targets": true, "printer": true, "name": true,
}

// Targets are what a sweep covers: every address of Include not in
// Exclude.
type Targets struct {
	Include, Exclude []Span
	// Port is the SNMP port of entries that name none; 0 means 161.
	Port int
	// MaxAddresses bounds the addresses Include may hold;
	// 0 means DefaultMaxAddresses.
	MaxAddresses int
}

// ParseTargets reads include and exclude lists.
func ParseTargets(include, exclude []string) (Targets, error) {
	var t Targets
	for _, list := range []struct {
		specs []string
		into  *[]Span
	}{{include, &t.Include}, {exclude, &t.Exclude}} {
		for _, s := range list.specs {
			sp, err := ParseTarget(s)
			if err != nil {
				return Targets{}, err
			}
			*list.into = append(*list.into, sp)
		}
	}
	return t, nil
}

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Expand lists the addresses to sweep, sorted and each once. It refuses
// more than MaxAddresses before listing any, and resolves host names
// with r (net.DefaultResolver when nil): a name that does not resolve is
// an error naming it.
func (t Targets) Expand(ctx context.Context, r Resolver) ([]netip.AddrPort, error) {
	if len(t.Include) == 0 {
		return nil, errors.New("no targets")
	}
	limit := t.MaxAddresses
	if limit <= 0 {
		limit = DefaultMaxAddresses
	}
	total := new(big.Int)
	for _, s := range t.Include {
		total.Add(total, s.Size())
	}
	if total.Cmp(big.NewInt(int64(limit))) > 0 {
		return nil, fmt.Errorf("the targets hold %s addresses, more than the limit of %d (a /16); sweep in parts, or raise the limit explicitly", total, limit)
	}
	if r == nil {
		r = net.DefaultResolver
	}
	port := t.Port
	if port == 0 {
		port = 161
	}
	resolve := func(spans []Span) ([]Span, error) {
		out := make([]Span, 0, len(spans))
		for _, s := range spans {
			if s.Host == "" {
				out = append(out, s)
				continue
			}
			addrs, err := r.LookupNetIP(ctx, "ip", s.Host)
			if err != nil {
				return nil, fmt.Errorf("target %q: %w", s.Text, err)
			}
			if len(addrs) == 0 {
				return nil, fmt.Errorf("target %q: the name has no address", s.Text)
			}
			a := addrs[0].Unmap()
			for _, b := range addrs {
				if b.Unmap().Is4() {
					a = b.Unmap() // prefer IPv4, as printers mostly are
					break
				}
			}
			out = append(out, Span{From: a, To: a, Port: s.Port, Text: s.Text})
		}
		return out, nil
	}
	include, err := resolve(t.Include)
	if err != nil {
		return nil, err
	}
	exclude, err := resolve(t.Exclude)
	if err != nil {
		return nil, err
	}
	excluded := func(a netip.Addr, p int) bool {
		for _, e := range exclude {
			if !a.Less(e.From) && !e.To.Less(a) && (e.Port == 0 || e.Port == p) {
				return true
			}
		}
		return false
	}
	var out []netip.AddrPort
	for _, s := range include {
		p := s.Port
		if p == 0 {
			p = port
		}
		for a := s.From; a.IsValid() && !s.To.Less(a); a = a.Next() {
			if !excluded(a, p) {
				out = append(out, netip.AddrPortFrom(a, uint16(p)))
			}
			if a == s.To {
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out), nil
}
