package lst_test

import (
	"net"
	"sync"
	"testing"

	"github.com/inkform/inkform/fleet"
)

// contentApplicationData is the DTLS record type of protected data.
const contentApplicationData = 23

// udpProxy relays one client's datagrams to a server and back, keeping
// every application-data record the client sent, and can tamper with the
// next one or send any datagram to the server as if from the client.
type udpProxy struct {
	conn *net.UDPConn // the client talks to this
	up   *net.UDPConn // connected to the server

	mu         sync.Mutex
	client     *net.UDPAddr
	records    [][]byte
	tamperNext bool
	tampered   int
}

func newUDPProxy(t *testing.T) *udpProxy {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &udpProxy{conn: conn}
}

func (p *udpProxy) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// start relays to the server at target.
func (p *udpProxy) start(t *testing.T, target *net.UDPAddr) {
	t.Helper()
	up, err := net.DialUDP("udp", nil, target)
	if err != nil {
		t.Fatal(err)
	}
	p.up = up
	var wg sync.WaitGroup
	t.Cleanup(func() { up.Close(); p.conn.Close(); wg.Wait() })
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := p.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			b := append([]byte(nil), buf[:n]...)
			p.mu.Lock()
			p.client = from
			var bad []byte
			if n > 13 && b[0] == contentApplicationData {
				p.records = append(p.records, b)
				if p.tamperNext {
					p.tamperNext = false
					p.tampered++
					bad = append([]byte(nil), b...)
					bad[len(bad)-20] ^= 0x01 // inside the ciphertext or its tag
				}
			}
			p.mu.Unlock()
			if bad != nil {
				up.Write(bad) // the forgery first, then the genuine record
			}
			up.Write(b)
		}
	})
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			p.mu.Lock()
			to := p.client
			p.mu.Unlock()
			if to != nil {
				p.conn.WriteToUDP(buf[:n], to)
			}
		}
	})
}

func (p *udpProxy) recordCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.records)
}

func (p *udpProxy) record(i int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.records[i]
}

func (p *udpProxy) tamperNextRecord() {
	p.mu.Lock()
	p.tamperNext = true
	p.mu.Unlock()
}

// inject sends b to the server from the client's flow.
func (p *udpProxy) inject(t *testing.T, b []byte) {
	t.Helper()
	if _, err := p.up.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestReplayedDatagramRejected captures the record of a write, lets a
// second write change the value again, then sends the first record once
// more: DTLS's replay window drops it, so the value stays.
func TestReplayedDatagramRejected(t *testing.T) {
	px := newUDPProxy(t)
	s := startServer(t, px.port())
	px.start(t, s.DataAddr())
	c := dial(t, s.printer(adminPassword))
	ctx := ctxT(t)

	before := px.recordCount()
	if err := c.WriteSettings(ctx, family, []fleet.Desired{{Name: "system.location", Value: "First"}}); err != nil {
		t.Fatal(err)
	}
	if px.recordCount() <= before {
		t.Fatal("the proxy saw no application data")
	}
	first := px.record(before)
	if err := c.WriteSettings(ctx, family, []fleet.Desired{{Name: "system.location", Value: "Second"}}); err != nil {
		t.Fatal(err)
	}
	frames := s.Frames()

	px.inject(t, first)
	// The datagrams of one flow are handled in order: once this request
	// is answered, the replayed one was handled before it.
	if _, err := c.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.dev.get("system.location"); got != "Second" {
		t.Errorf("after the replay, system.location = %q: the replayed write was applied", got)
	}
	if got := s.dev.writeCount(); got != 2 {
		t.Errorf("device saw %d writes, want 2", got)
	}
	if got := s.Frames() - frames; got != 1 {
		t.Errorf("%d frames reached the device after the replay, want 1 (the status request)", got)
	}
}

// TestTamperedDatagramRejected flips one bit of a write's record and sends
// the forgery just before the genuine record: DTLS's AEAD check drops the
// forgery without using up its sequence number, and the genuine record is
// applied once.
func TestTamperedDatagramRejected(t *testing.T) {
	px := newUDPProxy(t)
	s := startServer(t, px.port())
	px.start(t, s.DataAddr())
	c := dial(t, s.printer(adminPassword))
	ctx := ctxT(t)
	if _, err := c.Identity(ctx); err != nil {
		t.Fatal(err)
	}
	frames, writes := s.Frames(), s.dev.writeCount()

	px.tamperNextRecord()
	if err := c.WriteSettings(ctx, family, []fleet.Desired{{Name: "system.location", Value: "Genuine"}}); err != nil {
		t.Fatal(err)
	}
	px.mu.Lock()
	tampered := px.tampered
	px.mu.Unlock()
	if tampered != 1 {
		t.Fatal("the proxy tampered with nothing")
	}
	if got := s.dev.get("system.location"); got != "Genuine" {
		t.Errorf("system.location = %q", got)
	}
	if got := s.dev.writeCount() - writes; got != 1 {
		t.Errorf("%d writes reached the device, want 1", got)
	}
	if got := s.Frames() - frames; got != 1 {
		t.Errorf("%d frames reached the device, want 1: the forgery got through", got)
	}
	// The session survives a forgery.
	if _, err := c.Status(ctx); err != nil {
		t.Errorf("after the forgery: %v", err)
	}
}
