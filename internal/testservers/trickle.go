package testservers

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TrickleOptions say how a Trickler treats each connection.
type TrickleOptions struct {
	// Greet is written once on connecting, before Send: "220 ready\r\n"
	// lets an FTP client log in, into a reply that never ends.
	Greet string
	// Answer makes the peer wait for the client's first bytes before it
	// writes anything, as an HTTP server waits for a request.
	Answer bool
	// Send is written every Every until the connection closes: "220-x\r\n"
	// is an FTP greeting that never ends. Empty sends nothing.
	Send string
	// Every is the pace of the peer (default 50ms).
	Every time.Duration
	// Read, when positive, is how many bytes the peer reads every Every,
	// through a small receive buffer: a printer that takes an upload at a
	// crawl. Zero reads whatever arrives at once.
	Read int
}

// Trickler is a hostile TCP peer on 127.0.0.1: it accepts every
// connection and answers slowly, never finishing a reply, to test that
// clients bound their waits by a total deadline rather than one that each
// byte renews. It stops when the test ends.
type Trickler struct {
	// Addr is host:port; Port the port alone.
	Addr string
	Port int

	o        TrickleOptions
	ln       net.Listener
	accepted chan struct{}
	once     sync.Once
	received atomic.Int64
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

// StartTrickler starts a Trickler on a free port.
func StartTrickler(t testing.TB, o TrickleOptions) *Trickler {
	t.Helper()
	if o.Every <= 0 {
		o.Every = 50 * time.Millisecond
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("trickler: listen: %v", err)
	}
	tr := &Trickler{
		Addr: ln.Addr().String(), Port: ln.Addr().(*net.TCPAddr).Port,
		o: o, ln: ln, accepted: make(chan struct{}), done: make(chan struct{}),
	}
	tr.wg.Add(1)
	go tr.serve()
	t.Cleanup(tr.stop)
	return tr
}

// Accepted is closed once a client has connected.
func (tr *Trickler) Accepted() <-chan struct{} { return tr.accepted }

// Received returns how many bytes the peer has read so far.
func (tr *Trickler) Received() int64 { return tr.received.Load() }

func (tr *Trickler) serve() {
	defer tr.wg.Done()
	for {
		c, err := tr.ln.Accept()
		if err != nil {
			return
		}
		tr.mu.Lock()
		select {
		case <-tr.done:
			tr.mu.Unlock()
			c.Close()
			return
		default:
		}
		tr.conns = append(tr.conns, c)
		tr.mu.Unlock()
		if tr.o.Read > 0 {
			// A small window makes the client's writes wait on the pace.
			_ = c.(*net.TCPConn).SetReadBuffer(tr.o.Read)
		}
		tr.once.Do(func() { close(tr.accepted) })
		spoke := make(chan struct{})
		tr.wg.Add(2)
		go tr.send(c, spoke)
		go tr.read(c, spoke)
	}
}

func (tr *Trickler) send(c net.Conn, spoke <-chan struct{}) {
	defer tr.wg.Done()
	if tr.o.Answer {
		select {
		case <-spoke:
		case <-tr.done:
			return
		}
	}
	if _, err := io.WriteString(c, tr.o.Greet); err != nil || tr.o.Send == "" {
		return
	}
	tick := time.NewTicker(tr.o.Every)
	defer tick.Stop()
	for {
		if _, err := io.WriteString(c, tr.o.Send); err != nil {
			return
		}
		select {
		case <-tick.C:
		case <-tr.done:
			return
		}
	}
}

// read takes what the client sends, at the peer's pace when Read is set,
// and closes spoke once the client has sent something.
func (tr *Trickler) read(c net.Conn, spoke chan<- struct{}) {
	defer tr.wg.Done()
	size := tr.o.Read
	if size <= 0 {
		size = 32 << 10
	}
	tick := time.NewTicker(tr.o.Every)
	defer tick.Stop()
	buf := make([]byte, size)
	for {
		n, err := c.Read(buf)
		tr.received.Add(int64(n))
		if n > 0 && spoke != nil {
			close(spoke)
			spoke = nil
		}
		if err != nil {
			return
		}
		if tr.o.Read <= 0 {
			continue // takes everything at once
		}
		select {
		case <-tick.C:
		case <-tr.done:
			return
		}
	}
}

func (tr *Trickler) stop() {
	tr.mu.Lock()
	close(tr.done)
	conns := tr.conns
	tr.conns = nil
	tr.mu.Unlock()
	tr.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	tr.wg.Wait()
}
