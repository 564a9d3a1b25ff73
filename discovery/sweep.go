package discovery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/providers/snmp"
)

// Defaults of Options' zero values.
const (
	DefaultTimeout = time.Second
	DefaultRetries = 1
	// MaxConcurrency bounds the addresses in flight whatever the rate.
	MaxConcurrency = 16384
)

// Profile is one way of asking a device: SNMP credentials, tried in the
// order given. Name says which in results and messages; it never holds
// the secret ("credentials.fleet", "community 1").
type Profile struct {
	Name string
	SNMP fleet.SNMP
}

// Options tune a sweep.
type Options struct {
	// Profiles are tried in order on every address: the first that
	// answers wins.
	Profiles []Profile
	// Timeout is how long each request waits for its answer; Retries how
	// many times it is sent again (negative: never). Zero means the
	// defaults.
	Timeout time.Duration
	Retries int
	// Rate is how many packets a second the whole sweep sends, retries
	// and follow-up requests included; 0 means DefaultRate.
	Rate float64
	// Concurrency bounds the addresses in flight; 0 means enough to keep
	// the rate up while addresses time out (Rate × Timeout, and some).
	Concurrency int
	// Devices are the identity rules; nil means the built-in ones.
	Devices *catalog.Devices
	// Progress, when set, is called after each address is done.
	// Calls are serialised.
	Progress func(done, total int)
}

// Result is one device that answered.
type Result struct {
	Address  netip.AddrPort
	Vendor   string
	Model    string
	Serial   string
	Firmware string
	MAC      string
	// SysDescr and SysObjectID are as the device reports them.
	SysDescr    string
	SysObjectID string
	// Printer says the device looks like a printer (see snmp.Identified).
	Printer bool
	// Profile is the name of the profile that answered, ProfileIndex its
	// place in Options.Profiles.
	Profile      string
	ProfileIndex int
}

// Stats say what a sweep did.
type Stats struct {
	Addresses int // addresses swept
	Answered  int // addresses that answered one of the profiles
	// Refused counts addresses that said, with ICMP, that nothing
	// listens there (no retries, no further profile).
	Refused int
	Packets uint64 // packets sent, retries and follow-ups included
	Elapsed time.Duration
}

// Sweep asks every address, with each profile in turn until one answers,
// for its identity, and calls found with each device that answered as
// soon as it is identified (calls are serialised). Addresses that do not
// answer cost Retries+1 requests per profile. It returns when every
// address is done or ctx ends (then with ctx's error).
func Sweep(ctx context.Context, addrs []netip.AddrPort, o Options, found func(Result)) (Stats, error) {
	start := time.Now()
	if len(o.Profiles) == 0 {
		return Stats{}, errors.New("sweep: no SNMP profile to try")
	}
	for _, p := range o.Profiles {
		if err := checkProfile(p); err != nil {
			return Stats{}, err
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.Rate > 1e6 || math.IsNaN(o.Rate) {
		return Stats{}, fmt.Errorf("sweep: rate %g packets/s is not sensible (at most 1,000,000)", o.Rate)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = int(o.Rate*o.Timeout.Seconds()*1.25) + 64
	}
	o.Concurrency = min(o.Concurrency, MaxConcurrency, max(1, len(addrs)))
	if o.Devices == nil {
		o.Devices = catalog.DefaultDevices()
	}
	s := &sweeper{o: o, bucket: newBucket(o.Rate, defaultBurst(o.Rate)), pending: map[uint32]*exchange{}, byAddr: map[netip.AddrPort]*exchange{}}
	s.nextID.Store(uint32(time.Now().UnixNano()) & 0x3fffffff)
	if err := s.open(addrs); err != nil {
		return Stats{}, err
	}
	defer s.close()

	work := make(chan netip.AddrPort)
	var mu sync.Mutex
	stats := Stats{Addresses: len(addrs)}
	done := 0
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for a := range work {
				r, ok := s.probe(ctx, a)
				mu.Lock()
				if ok {
					stats.Answered++
					if found != nil {
						found(r)
					}
				}
				done++
				if o.Progress != nil {
					o.Progress(done, len(addrs))
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, a := range addrs {
		select {
		case work <- a:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	stats.Packets = s.sent.Load()
	stats.Refused = int(s.refused.Load())
	stats.Elapsed = time.Since(start)
	return stats, ctx.Err()
}

func checkProfile(p Profile) error {
	switch p.SNMP.Version {
	case "", fleet.SNMPv1, fleet.SNMPv2c:
		if p.SNMP.Community == "" {
			return fmt.Errorf("profile %s: no community", p.Name)
		}
		if len(p.SNMP.Community) > 127 {
			return fmt.Errorf("profile %s: the community is longer than 127 bytes", p.Name)
		}
	case fleet.SNMPv3:
		if _, _, err := snmp.USM(p.SNMP); err != nil {
			return fmt.Errorf("profile %s: SNMPv3 credentials: %w", p.Name, err)
		}
	default:
		return fmt.Errorf("profile %s: unknown SNMP version %q (want 1, 2c or 3)", p.Name, p.SNMP.Version)
	}
	return nil
}

// sweeper sends v1/v2c requests from one socket per address family and
// matches the answers to their requests by request ID and source address.
// v3 needs per-agent engine discovery and keys: gosnmp does that, one
// client per address, its packets taken from the same bucket.
type sweeper struct {
	o      Options
	bucket *bucket
	sent   atomic.Uint64
	nextID atomic.Uint32

	conn4, conn6 *net.UDPConn
	readers      sync.WaitGroup

	mu      sync.Mutex
	pending map[uint32]*exchange
	// byAddr holds each address's exchange in flight (one at a time).
	byAddr  map[netip.AddrPort]*exchange
	refused atomic.Int64
}

// exchange is one request awaiting its answer, under every request ID its
// attempts were sent with (a late answer to the first still counts).
type exchange struct {
	addr      netip.AddrPort
	community string
	answer    chan *gosnmp.SnmpPacket
	refused   chan struct{}
}

func (s *sweeper) open(addrs []netip.AddrPort) error {
	needs4, needs6 := false, false
	community := false
	for _, p := range s.o.Profiles {
		community = community || p.SNMP.Version != fleet.SNMPv3
	}
	if !community {
		return nil
	}
	for _, a := range addrs {
		if a.Addr().Is4() {
			needs4 = true
		} else {
			needs6 = true
		}
	}
	var err error
	if needs4 {
		if s.conn4, err = net.ListenUDP("udp4", nil); err != nil {
			return fmt.Errorf("sweep: open a UDP socket: %w", err)
		}
		s.conn4.SetReadBuffer(4 << 20) //nolint:errcheck // a smaller buffer only drops more under a burst
		icmp := watchRefusals(s.conn4, false)
		s.readers.Go(func() { s.read(s.conn4, icmp) })
	}
	if needs6 {
		if s.conn6, err = net.ListenUDP("udp6", nil); err != nil {
			s.close()
			return fmt.Errorf("sweep: open an IPv6 UDP socket: %w", err)
		}
		icmp := watchRefusals(s.conn6, true)
		s.readers.Go(func() { s.read(s.conn6, icmp) })
	}
	return nil
}

func (s *sweeper) close() {
	for _, c := range []*net.UDPConn{s.conn4, s.conn6} {
		if c != nil {
			c.Close()
		}
	}
	s.readers.Wait()
}

// maxResponse is the largest datagram read.
const maxResponse = 65535

// read hands every answer on conn to the exchange waiting for it; others
// (late, unknown, malformed, from another address) are dropped.
func (s *sweeper) read(conn *net.UDPConn, icmp bool) {
	buf := make([]byte, maxResponse)
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if icmp {
				// A queued ICMP error is reported as a read error.
				drainRefusals(conn, s.refuse)
			}
			continue
		}
		pkt, err := DecodeResponse(dec, buf[:n])
		if err != nil {
			continue
		}
		s.mu.Lock()
		x := s.pending[pkt.RequestID]
		s.mu.Unlock()
		if x == nil || x.addr.Addr() != from.Addr().Unmap() || x.addr.Port() != from.Port() || pkt.Community != x.community {
			continue
		}
		select {
		case x.answer <- pkt:
		default: // answered already
		}
	}
}

// refuse tells the exchange in flight to a that nothing listens there.
func (s *sweeper) refuse(a netip.AddrPort) {
	s.mu.Lock()
	x := s.byAddr[a]
	s.mu.Unlock()
	if x == nil {
		return
	}
	select {
	case x.refused <- struct{}{}:
	default:
	}
}

// DecodeResponse decodes one v1/v2c datagram with gosnmp and accepts it
// only as a response: anything else is an error, never a panic.
func DecodeResponse(dec *gosnmp.GoSNMP, b []byte) (pkt *gosnmp.SnmpPacket, err error) {
	defer func() {
		if r := recover(); r != nil {
			// gosnmp has panicked on crafted packets before; one bad
			// datagram must not end a sweep.
			pkt, err = nil, fmt.Errorf("malformed SNMP message: %v", r)
		}
	}()
	// gosnmp keeps slices of what it decodes: give it its own copy.
	pkt, err = dec.SnmpDecodePacket(slices.Clone(b))
	if err != nil {
		return nil, err
	}
	if pkt.Version == gosnmp.Version3 {
		return nil, errors.New("an SNMPv3 message on the v1/v2c socket")
	}
	if pkt.PDUType != gosnmp.GetResponse {
		return nil, fmt.Errorf("a %v, not a response", pkt.PDUType)
	}
	return pkt, nil
}

// probe tries each profile on a until one answers.
func (s *sweeper) probe(ctx context.Context, a netip.AddrPort) (Result, bool) {
	for i, p := range s.o.Profiles {
		if ctx.Err() != nil {
			return Result{}, false
		}
		refused := false
		get := func(ctx context.Context, a netip.AddrPort, p Profile, oids []string) (map[string]gosnmp.SnmpPDU, bool) {
			vals, ok, closed := s.communityGet(ctx, a, p, oids)
			refused = refused || closed
			return vals, ok
		}
		var closeFn func()
		if p.SNMP.Version == fleet.SNMPv3 {
			g, err := s.v3Client(ctx, a, p)
			if err != nil {
				continue
			}
			closeFn = func() { g.Conn.Close() }
			get = func(ctx context.Context, _ netip.AddrPort, _ Profile, oids []string) (map[string]gosnmp.SnmpPDU, bool) {
				return v3Get(g, oids)
			}
		}
		r, ok := s.identify(ctx, a, p, get)
		if closeFn != nil {
			closeFn()
		}
		if ok {
			r.Profile, r.ProfileIndex = p.Name, i
			return r, true
		}
		if refused {
			// Closed to one community is closed to all.
			s.refused.Add(1)
			return Result{}, false
		}
	}
	return Result{}, false
}

type getFunc func(ctx context.Context, a netip.AddrPort, p Profile, oids []string) (map[string]gosnmp.SnmpPDU, bool)

// identify reads a's identity with get: the identity objects, then what
// the identity rules of its vendor want besides.
func (s *sweeper) identify(ctx context.Context, a netip.AddrPort, p Profile, get getFunc) (Result, bool) {
	asked := snmp.IdentityOIDs()
	vals, ok := get(ctx, a, p, asked)
	if !ok {
		return Result{}, false
	}
	id, missing := snmp.IdentifyValues(s.o.Devices, vals, asked)
	if len(missing) > 0 {
		if more, ok := get(ctx, a, p, missing); ok {
			for k, v := range more {
				vals[k] = v
			}
			asked = append(asked, missing...)
			id, _ = snmp.IdentifyValues(s.o.Devices, vals, asked)
		}
	}
	return Result{
		Address: a, Vendor: id.Vendor, Model: id.Model, Serial: id.Serial, Firmware: id.Firmware,
		MAC: id.MAC, SysDescr: id.SysDescr, SysObjectID: id.SysObjectID, Printer: id.Printer,
	}, true
}

// communityGet GETs oids over the shared socket with a v1/v2c profile. It
// reports false when a never answered, and whether a said with ICMP that
// nothing listens. Objects the agent lacks are left out; on v1 each
// noSuchName costs one more request without that object.
func (s *sweeper) communityGet(ctx context.Context, a netip.AddrPort, p Profile, oids []string) (map[string]gosnmp.SnmpPDU, bool, bool) {
	version := gosnmp.Version2c
	if p.SNMP.Version == fleet.SNMPv1 {
		version = gosnmp.Version1
	}
	oids = slices.Clone(oids)
	vals := make(map[string]gosnmp.SnmpPDU, len(oids))
	answered := false
	for len(oids) > 0 {
		pkt, refused := s.exchange(ctx, a, version, p.SNMP.Community, oids)
		if pkt == nil {
			return vals, answered, refused && !answered
		}
		answered = true
		switch pkt.Error {
		case gosnmp.NoError:
			for i, v := range pkt.Variables {
				switch v.Type {
				case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
					continue
				}
				name := v.Name
				if i < len(oids) && sameOID(oids[i], name) {
					name = oids[i]
				}
				vals[name] = v
			}
			return vals, true, false
		case gosnmp.NoSuchName:
			i := int(pkt.ErrorIndex) - 1
			if i < 0 || i >= len(oids) {
				return vals, true, false
			}
			oids = slices.Delete(oids, i, i+1)
		default:
			// The agent answers but will not say: it is there, with
			// nothing more to read.
			return vals, true, false
		}
	}
	return vals, answered, false
}

func sameOID(a, b string) bool {
	if len(a) > 0 && a[0] == '.' {
		a = a[1:]
	}
	if len(b) > 0 && b[0] == '.' {
		b = b[1:]
	}
	return a == b
}

// exchange sends a GET of oids to a, again after each timeout up to
// Retries times, and returns the first answer, or nil when none came;
// refused when a said with ICMP that nothing listens there.
func (s *sweeper) exchange(ctx context.Context, a netip.AddrPort, version gosnmp.SnmpVersion, community string, oids []string) (answer *gosnmp.SnmpPacket, refused bool) {
	conn := s.conn4
	if !a.Addr().Is4() {
		conn = s.conn6
	}
	if conn == nil {
		return nil, false
	}
	x := &exchange{addr: a, community: community, answer: make(chan *gosnmp.SnmpPacket, 1), refused: make(chan struct{}, 1)}
	s.mu.Lock()
	s.byAddr[a] = x
	s.mu.Unlock()
	vars := make([]gosnmp.SnmpPDU, len(oids))
	for i, oid := range oids {
		vars[i] = gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Null}
	}
	var ids []uint32
	defer func() {
		s.mu.Lock()
		for _, id := range ids {
			delete(s.pending, id)
		}
		if s.byAddr[a] == x {
			delete(s.byAddr, a)
		}
		s.mu.Unlock()
	}()
	timer := time.NewTimer(s.o.Timeout)
	defer timer.Stop()
	for attempt := 0; attempt <= s.o.Retries; attempt++ {
		id := s.nextID.Add(1) & 0x7fffffff
		pkt := &gosnmp.SnmpPacket{Version: version, Community: community, PDUType: gosnmp.GetRequest, RequestID: id, Variables: vars}
		b, err := pkt.MarshalMsg()
		if err != nil {
			return nil, false
		}
		s.mu.Lock()
		s.pending[id] = x
		s.mu.Unlock()
		ids = append(ids, id)
		if err := s.bucket.wait(ctx); err != nil {
			return nil, false
		}
		s.sent.Add(1)
		_, err = conn.WriteToUDPAddrPort(b, a)
		for i := 0; i < maxICMPErrors && isICMPError(err); i++ {
			// The error is an earlier datagram's (to any address),
			// reported to whichever call comes first; this one was not
			// sent. Hand the error queue over, then send.
			drainRefusals(conn, s.refuse)
			_, err = conn.WriteToUDPAddrPort(b, a)
		}
		if err != nil && !isTransient(err) {
			return nil, false
		}
		timer.Reset(s.o.Timeout)
		select {
		case p := <-x.answer:
			return p, false
		case <-x.refused:
			// An answer may still be on its way from an earlier attempt;
			// a closed port has none.
			select {
			case p := <-x.answer:
				return p, false
			default:
			}
			return nil, true
		case <-timer.C:
		case <-ctx.Done():
			return nil, false
		}
	}
	return nil, false
}

// maxICMPErrors bounds how many other datagrams' ICMP errors one send
// takes over before it gives up.
const maxICMPErrors = 64

// isICMPError says a socket call failed with an ICMP error the kernel
// queued for the socket.
func isICMPError(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// isTransient says a send failed for a reason a retry may not meet
// (a full socket buffer).
func isTransient(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.ENOBUFS)
}

// v3Client prepares a gosnmp client for a with a v3 profile; its packets
// come out of the sweep's bucket.
func (s *sweeper) v3Client(ctx context.Context, a netip.AddrPort, p Profile) (*gosnmp.GoSNMP, error) {
	usm, flags, err := snmp.USM(p.SNMP)
	if err != nil {
		return nil, err
	}
	g := &gosnmp.GoSNMP{
		Target: a.Addr().String(), Port: a.Port(), Version: gosnmp.Version3,
		Timeout: s.o.Timeout, Retries: s.o.Retries, Context: ctx,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: flags, SecurityParameters: usm,
		MaxOids: 60,
		PreSend: func(*gosnmp.GoSNMP) {
			// gosnmp sends whatever happens; a cancelled sweep ends at
			// the next context check, one packet later.
			_ = s.bucket.wait(ctx)
			s.sent.Add(1)
		},
	}
	if err := g.Connect(); err != nil {
		return nil, err
	}
	return g, nil
}

func v3Get(g *gosnmp.GoSNMP, oids []string) (map[string]gosnmp.SnmpPDU, bool) {
	pkt, err := g.Get(oids)
	if err != nil || pkt == nil {
		return nil, false
	}
	vals := make(map[string]gosnmp.SnmpPDU, len(oids))
	if pkt.Error != gosnmp.NoError {
		return vals, true
	}
	for i, v := range pkt.Variables {
		switch v.Type {
		case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
			continue
		}
		name := v.Name
		if i < len(oids) && sameOID(oids[i], name) {
			name = oids[i]
		}
		vals[name] = v
	}
	return vals, true
}
