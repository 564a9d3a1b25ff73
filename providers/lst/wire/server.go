package wire

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
)

// Server defaults for Config's zero values.
const (
	DefaultIdleTimeout      = 60 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxSessions      = 16
)

// Device is what a server answers from: the device's settings store and
// its identity. Implementations are safe for concurrent use.
type Device interface {
	Identity() IdentityReply
	Status() StatusReply
	// ReadSettings returns the values of the names the device knows and
	// lists the others.
	ReadSettings(names []string) (values map[string]string, unsupported []string)
	// WriteSettings applies what it accepts and says, per setting, why it
	// refused the rest (without the value). Writing a setting's current
	// value changes nothing.
	WriteSettings(values map[string]string) (refused map[string]string)
}

// Config is a device's LST endpoint.
type Config struct {
	// Certificate is the device's TLS identity on the control channel.
	Certificate tls.Certificate
	// User and Password are the admin login the control channel checks.
	User, Password string
	Device         Device
	// AnnouncedPort is the data port the login reply names; 0 means the
	// data socket's own port. (A device behind a port mapping announces
	// the mapped one.)
	AnnouncedPort int
	// IdleTimeout ends a session whose client sends nothing for so long;
	// HandshakeTimeout bounds each TLS and DTLS handshake and the login.
	IdleTimeout      time.Duration
	HandshakeTimeout time.Duration
	// MaxSessions bounds concurrent logins; more are refused as busy.
	MaxSessions int
	// Logf, when set, receives failures worth a human's attention. No
	// secret reaches it.
	Logf func(format string, args ...any)
}

// Server is a running LST endpoint: a TLS 1.3 control listener and a
// DTLS 1.2 data listener.
type Server struct {
	cfg  Config
	ctl  net.Listener
	data net.Listener
	addr *net.UDPAddr

	mu       sync.Mutex
	sessions map[string]*session // by PSK identity
	conns    map[net.Conn]bool   // every open connection, so Close ends them at once
	closed   bool
	wg       sync.WaitGroup
	stop     chan struct{}
	once     sync.Once
	frames   atomic.Uint64
}

// session is one login: its key and, once bound, its data connection.
type session struct {
	psk      []byte
	ctl      net.Conn
	data     net.Conn // set once a DTLS handshake with the identity succeeds
	lastSeen atomic.Int64
}

// NewServer starts listening for DTLS on data (port 0 picks one) beside
// the control listener ctl, which the server then owns.
func NewServer(ctl net.Listener, data *net.UDPAddr, cfg Config) (*Server, error) {
	if cfg.Device == nil {
		return nil, errors.New("lst: server needs a device")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	s := &Server{cfg: cfg, ctl: ctl, sessions: map[string]*session{}, conns: map[net.Conn]bool{}, stop: make(chan struct{})}
	ln, err := dtls.ListenWithOptions("udp", data,
		dtls.WithPSK(s.lookupPSK),
		dtls.WithCipherSuites(CipherSuites...),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(QuietLogs),
	)
	if err != nil {
		return nil, fmt.Errorf("lst: listen udp %s: %w", data, err)
	}
	s.data = ln
	s.addr = ln.Addr().(*net.UDPAddr)
	return s, nil
}

// Serve runs an LST endpoint until ctx is done; see NewServer.
func Serve(ctx context.Context, ctl net.Listener, data *net.UDPAddr, cfg Config) error {
	s, err := NewServer(ctl, data, cfg)
	if err != nil {
		ctl.Close()
		return err
	}
	return s.Serve(ctx)
}

// Sessions is the number of live logins.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Frames counts the datagrams DTLS delivered to the frame layer: those
// that passed its authentication and replay checks.
func (s *Server) Frames() uint64 { return s.frames.Load() }

// DataAddr is the UDP address the data listener is bound to.
func (s *Server) DataAddr() *net.UDPAddr { return s.addr }

// Serve answers until ctx is done or Close is called, then closes every
// session and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	s.wg.Go(func() { s.acceptData() })
	for {
		nc, err := s.ctl.Accept()
		if err != nil {
			s.Close()
			s.wg.Wait()
			select {
			case <-s.stop:
				return nil
			default:
				return fmt.Errorf("lst: accept: %w", err)
			}
		}
		s.wg.Go(func() { s.control(nc) })
	}
}

// Close stops both listeners and ends every session.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.stop)
		s.ctl.Close()
		s.data.Close()
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	return nil
}

// track registers an open connection; false when the server is closing
// (and the connection was closed).
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = true
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf("lst: "+format, args...)
	}
}

// control runs one control connection: TLS 1.3 handshake, login, then
// holds the session open until the client closes it or goes idle.
func (s *Server) control(nc net.Conn) {
	if !s.track(nc) {
		return
	}
	defer s.untrack(nc)
	defer nc.Close()
	tc := tls.Server(nc, &tls.Config{
		Certificates: []tls.Certificate{s.cfg.Certificate},
		MinVersion:   tls.VersionTLS13,
	})
	defer tc.Close()
	hctx, cancel := context.WithTimeout(context.Background(), s.cfg.HandshakeTimeout)
	defer cancel()
	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	if err := tc.HandshakeContext(hctx); err != nil {
		s.logf("control %s: tls handshake: %v", nc.RemoteAddr(), err)
		return
	}
	f, err := ReadFrame(tc)
	if err != nil {
		s.logf("control %s: read login: %v", nc.RemoteAddr(), err)
		return
	}
	if f.Type != TypeLogin {
		s.replyError(tc, f.ID, CodeBadRequest, "the first frame must be a login")
		return
	}
	var login Login
	if err := f.Unmarshal(&login); err != nil {
		s.replyError(tc, f.ID, CodeBadRequest, "malformed login")
		return
	}
	if !s.credentialsMatch(login) {
		s.logf("control %s: login refused for user %q", nc.RemoteAddr(), login.User)
		s.replyError(tc, f.ID, CodeAuth, "login refused")
		return
	}
	nonce := randomHex(NonceLen)
	psk, err := DerivePSK(tc.ConnectionState(), nonce)
	if err != nil {
		s.replyError(tc, f.ID, CodeInternal, "key export failed")
		return
	}
	identity := "lst-" + randomHex(16)
	ss := &session{psk: psk, ctl: tc}
	ss.lastSeen.Store(time.Now().UnixNano())
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return
	case len(s.sessions) >= s.cfg.MaxSessions:
		s.mu.Unlock()
		s.replyError(tc, f.ID, CodeBusy, "too many sessions")
		return
	}
	s.sessions[identity] = ss
	s.mu.Unlock()
	defer s.endSession(identity)

	port := s.cfg.AnnouncedPort
	if port == 0 {
		port = s.addr.Port
	}
	reply, err := NewFrame(TypeLogin.Reply(), f.ID, LoginReply{Identity: identity, Nonce: nonce, DataPort: port})
	if err == nil {
		err = WriteFrame(tc, reply)
	}
	if err != nil {
		s.logf("control %s: send login reply: %v", nc.RemoteAddr(), err)
		return
	}
	// Hold the session: it ends when the client closes the control
	// channel, or nothing has moved on either channel for IdleTimeout.
	var one [1]byte
	for {
		nc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		_, err := tc.Read(one[:])
		if err == nil {
			continue // nothing is expected here; bytes only keep it alive
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			idle := time.Since(time.Unix(0, ss.lastSeen.Load()))
			if idle < s.cfg.IdleTimeout {
				continue
			}
		}
		return
	}
}

// credentialsMatch compares in constant time; hashing first hides the
// lengths too.
func (s *Server) credentialsMatch(l Login) bool {
	hu, wu := sha256.Sum256([]byte(l.User)), sha256.Sum256([]byte(s.cfg.User))
	hp, wp := sha256.Sum256([]byte(l.Password)), sha256.Sum256([]byte(s.cfg.Password))
	return subtle.ConstantTimeCompare(hu[:], wu[:])&subtle.ConstantTimeCompare(hp[:], wp[:]) == 1
}

func (s *Server) replyError(tc *tls.Conn, id uint32, code, msg string) {
	f, err := NewFrame(TypeError, id, ErrorReply{Code: code, Message: msg})
	if err == nil {
		_ = WriteFrame(tc, f)
	}
}

func (s *Server) endSession(identity string) {
	s.mu.Lock()
	ss := s.sessions[identity]
	delete(s.sessions, identity)
	s.mu.Unlock()
	if ss != nil && ss.data != nil {
		ss.data.Close()
	}
}

// lookupPSK is the DTLS PSK callback: the key of a live, unbound login.
func (s *Server) lookupPSK(identity []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[string(identity)]
	if !ok || ss.data != nil {
		return nil, errors.New("lst: unknown or used PSK identity")
	}
	return ss.psk, nil
}

func (s *Server) acceptData() {
	for {
		c, err := s.data.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.serveData(c.(*dtls.Conn)) })
	}
}

// serveData binds a DTLS connection to its login and answers requests.
func (s *Server) serveData(c *dtls.Conn) {
	if !s.track(c) {
		return
	}
	defer s.untrack(c)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HandshakeTimeout)
	err := c.HandshakeContext(ctx)
	cancel()
	if err != nil {
		s.logf("data %s: dtls handshake: %v", c.RemoteAddr(), err)
		return
	}
	state, ok := c.ConnectionState()
	if !ok {
		return
	}
	s.mu.Lock()
	ss, ok := s.sessions[string(state.IdentityHint)]
	if !ok || ss.data != nil || s.closed {
		s.mu.Unlock()
		return
	}
	ss.data = c
	s.mu.Unlock()

	buf := make([]byte, HeaderLen+MaxBody+1)
	for {
		c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		n, err := c.Read(buf)
		if err != nil {
			// A record that fails authentication or replays an old
			// sequence number is dropped inside DTLS and never arrives
			// here; an error is the end of the session.
			ss.ctl.Close()
			return
		}
		ss.lastSeen.Store(time.Now().UnixNano())
		s.frames.Add(1)
		reply, ok := s.answer(buf[:n])
		if !ok {
			continue
		}
		out, err := reply.Append(nil)
		if err != nil {
			continue
		}
		c.SetWriteDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
		if _, err := c.Write(out); err != nil {
			ss.ctl.Close()
			return
		}
	}
}

// answer handles one request datagram; ok is false when nothing can be
// answered (no readable header).
func (s *Server) answer(b []byte) (Frame, bool) {
	if _, _, err := decodeHeader(b); err != nil {
		return Frame{}, false // not ours to answer: no id to answer to
	}
	f, msg, err := DecodeRequest(b)
	if err != nil {
		e, _ := NewFrame(TypeError, f.ID, ErrorReply{Code: CodeBadRequest, Message: err.Error()})
		return e, true
	}
	d := s.cfg.Device
	var reply any
	switch m := msg.(type) {
	case *ReadRequest:
		v, u := d.ReadSettings(m.Names)
		if v == nil {
			v = map[string]string{}
		}
		reply = ReadReply{Values: v, Unsupported: u}
	case *WriteRequest:
		reply = WriteReply{Refused: d.WriteSettings(m.Values)}
	case *Login:
		e, _ := NewFrame(TypeError, f.ID, ErrorReply{Code: CodeBadRequest, Message: "login belongs on the control channel"})
		return e, true
	default:
		switch f.Type {
		case TypeIdentity:
			reply = d.Identity()
		case TypeStatus:
			reply = d.Status()
		}
	}
	out, err := NewFrame(f.Type.Reply(), f.ID, reply)
	if err != nil {
		out, _ = NewFrame(TypeError, f.ID, ErrorReply{Code: CodeInternal, Message: "reply too large; ask for fewer settings"})
	}
	return out, true
}
