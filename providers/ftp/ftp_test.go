package ftp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/ftp"
	"github.com/inkform/inkform/simulator"
)

func printerAt(t *testing.T, addr, user, password string) fleet.Printer {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return fleet.Printer{
		Name:        "test-printer",
		Host:        host,
		Ports:       map[string]int{"ftp": n},
		Credentials: fleet.Credentials{Admin: fleet.Admin{Username: user, Password: password}},
	}
}

func randomFile(t *testing.T, size int) (fleet.File, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	src := filepath.Join(t.TempDir(), "bundle.bin")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return fleet.File{Source: src, Size: int64(size), SHA256: hex.EncodeToString(sum[:])}, data
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestUploadToVsftpdArrivesIdentical(t *testing.T) {
	v := testservers.StartVsftpd(t)
	ctx := ctxT(t)
	p := printerAt(t, v.Addr, v.User, v.Password)
	conn, err := ftp.New(ftp.Options{Timeout: 5 * time.Second}).DialFiles(ctx, p)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()

	for _, tc := range []struct {
		dest string
		size int
	}{{"", 300_000}, {"firmware.fls", 1 << 20}, {"empty.cfg", 0}} {
		f, data := randomFile(t, tc.size)
		f.Dest = tc.dest
		var last int64
		if err := conn.Upload(ctx, f, bytes.NewReader(data), func(sent int64) {
			if sent < last {
				t.Errorf("progress went back from %d to %d", last, sent)
			}
			last = sent
		}); err != nil {
			t.Fatalf("upload %q: %v", tc.dest, err)
		}
		if last != int64(tc.size) {
			t.Errorf("last progress %d, want %d", last, tc.size)
		}
		name := tc.dest
		if name == "" {
			name = "bundle.bin"
		}
		got, err := os.ReadFile(filepath.Join(v.Dir, name))
		if err != nil {
			t.Fatalf("read uploaded file: %v", err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes arrived differ from the %d sent", name, len(got), len(data))
		}
	}
}

func TestVsftpdTornUploadRemoved(t *testing.T) {
	v := testservers.StartVsftpd(t)
	ctx := ctxT(t)
	conn, err := ftp.New(ftp.Options{Timeout: 5 * time.Second}).DialFiles(ctx, printerAt(t, v.Addr, v.User, v.Password))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	f, data := randomFile(t, 500_000)
	f.Size += 1000
	if err := conn.Upload(ctx, f, bytes.NewReader(data), nil); err == nil {
		t.Fatal("a short source uploaded without error")
	}
	if _, err := os.Stat(filepath.Join(v.Dir, "bundle.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the torn file stayed on the server: %v", err)
	}
}

func TestVsftpdWrongPasswordIsErrAuth(t *testing.T) {
	v := testservers.StartVsftpd(t)
	const wrong = "not-the-password-7f3e"
	p := printerAt(t, v.Addr, v.User, wrong)
	_, err := ftp.New(ftp.Options{Timeout: 5 * time.Second}).DialFiles(ctxT(t), p)
	if !errors.Is(err, providers.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	msg := err.Error()
	if strings.Contains(msg, wrong) {
		t.Errorf("error shows the password: %s", msg)
	}
	for _, want := range []string{"test-printer", v.User, "login refused"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

func TestClosedPortIsErrPortClosed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = ftp.New(ftp.Options{Timeout: 2 * time.Second}).DialFiles(ctxT(t), printerAt(t, addr, "admin", "x"))
	if !errors.Is(err, providers.ErrPortClosed) {
		t.Fatalf("err = %v, want ErrPortClosed", err)
	}
	if !strings.Contains(err.Error(), "test-printer") {
		t.Errorf("error %q does not name the printer", err)
	}
}

func startSim(t *testing.T) *simulator.Sim {
	t.Helper()
	s, err := simulator.Start(t.Context(), simulator.Options{Printers: 1, Services: []string{"ftp"}, AdminPassword: "sim-pass"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUploadToSimulator(t *testing.T) {
	s := startSim(t)
	sp := s.Printers()[0]
	p := printerAt(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(sp.Port("ftp"))), "admin", "sim-pass")
	ctx := ctxT(t)
	conn, err := ftp.New(ftp.Options{}).DialFiles(ctx, p)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	f, data := randomFile(t, 200_000)
	f.Dest = "certs/ca.pem"
	if err := conn.Upload(ctx, f, bytes.NewReader(data), nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	got := sp.Files()
	sum := sha256.Sum256(data)
	if len(got) != 1 || got[0].Name != "certs/ca.pem" || got[0].Size != int64(len(data)) || got[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("printer received %+v", got)
	}

	// A source shorter or longer than declared fails the upload, and the
	// printer never takes the torn file.
	for _, delta := range []int64{1, -1} {
		g := f
		g.Size += delta
		g.Dest = "torn.bin"
		err = conn.Upload(ctx, g, bytes.NewReader(data), nil)
		if err == nil || !strings.Contains(err.Error(), "aborted") {
			t.Fatalf("size off by %d: %v", delta, err)
		}
		if n := len(sp.Files()); n != 1 {
			t.Fatalf("size off by %d: printer received %+v", delta, sp.Files())
		}
	}
	// The session is still usable after an aborted upload.
	f.Dest = "after.bin"
	if err := conn.Upload(ctx, f, bytes.NewReader(data), nil); err != nil {
		t.Fatalf("upload after an aborted one: %v", err)
	}

	_, err = ftp.New(ftp.Options{}).DialFiles(ctx, printerAt(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(sp.Port("ftp"))), "admin", "wrong"))
	if !errors.Is(err, providers.ErrAuth) {
		t.Fatalf("wrong password: %v, want ErrAuth", err)
	}
}

// A server that accepts the connection and then says nothing must not
// hang the client past its timeout.
func TestSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			held <- c
		}
	}()
	t.Cleanup(func() {
		select {
		case c := <-held:
			c.Close()
		default:
		}
	})
	start := time.Now()
	_, err = ftp.New(ftp.Options{Timeout: 300 * time.Millisecond}).DialFiles(ctxT(t), printerAt(t, l.Addr().String(), "admin", "x"))
	if !errors.Is(err, providers.ErrUnreachable) || errors.Is(err, providers.ErrPortClosed) {
		t.Fatalf("dial to a silent server: %v, want ErrUnreachable (the port is open)", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %s, want about the 300ms timeout", d)
	}
}

// A server that trickles its greeting, or the reply to a command, one
// continuation line at a time never finishes it: each line must not buy
// the client another timeout, or the upload hangs forever.
func TestTricklingReplyTimesOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    testservers.TrickleOptions
		op   string
	}{
		{"greeting", testservers.TrickleOptions{Send: "220-still starting\r\n"}, "greeting"},
		{"reply to USER", testservers.TrickleOptions{Greet: "220 ready\r\n", Send: "331-almost\r\n"}, "login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := testservers.StartTrickler(t, tc.o)
			const timeout = 300 * time.Millisecond
			p := printerAt(t, tr.Addr, "admin", "x")
			errc := make(chan error, 1)
			go func() {
				// No deadline of its own: only the reply deadline may end it.
				c, err := ftp.New(ftp.Options{Timeout: timeout}).DialFiles(context.Background(), p)
				if err == nil {
					c.Close()
				}
				errc <- err
			}()
			var err error
			select {
			case err = <-errc:
			case <-time.After(30 * time.Second):
				t.Fatalf("still waiting for the %s after 30s: each trickled line extends the deadline", tc.op)
			}
			if !errors.Is(err, providers.ErrUnreachable) {
				t.Fatalf("err = %v, want ErrUnreachable", err)
			}
			for _, want := range []string{"test-printer", "ftp", tc.op, "no answer within 300ms"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// slowReader yields its data a piece at a time, pausing between pieces:
// a transfer that takes longer than the reply timeout while every write
// goes through at once.
type slowReader struct {
	data  []byte
	piece int
	pause time.Duration
}

func (r *slowReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause) // the pace of the source, not synchronisation
	n := copy(b[:min(len(b), r.piece)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// The reply that ends a transfer is a new wait: a transfer longer than the
// timeout must not leave the client too little time for it.
func TestSlowTransferOutlastsTheReplyTimeout(t *testing.T) {
	s := startSim(t)
	sp := s.Printers()[0]
	p := printerAt(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(sp.Port("ftp"))), "admin", "sim-pass")
	ctx := ctxT(t)
	const timeout = 300 * time.Millisecond
	conn, err := ftp.New(ftp.Options{Timeout: timeout}).DialFiles(ctx, p)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	f, data := randomFile(t, 64<<10)
	start := time.Now()
	if err := conn.Upload(ctx, f, &slowReader{data: data, piece: 4 << 10, pause: 50 * time.Millisecond}, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if d := time.Since(start); d < timeout {
		t.Fatalf("the transfer took %s, less than the %s timeout: the test proves nothing", d, timeout)
	}
	if got := sp.Files(); len(got) != 1 || got[0].Size != int64(len(data)) {
		t.Fatalf("printer received %+v", got)
	}
}

// A context that ends while the greeting trickles in says so: the
// connection was made, the greeting did not finish.
func TestDeadlineDuringGreetingNamesIt(t *testing.T) {
	tr := testservers.StartTrickler(t, testservers.TrickleOptions{Send: "220-still starting\r\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := ftp.New(ftp.Options{Timeout: time.Minute}).DialFiles(ctx, printerAt(t, tr.Addr, "admin", "x"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "test-printer") || !strings.Contains(err.Error(), "ftp: greeting") {
		t.Fatalf("err = %v, want the deadline, naming the printer and the greeting", err)
	}
}
