package simulator

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

func startFTPSim(t *testing.T) (*Sim, *Printer) {
	t.Helper()
	s := startSim(t, Options{Printers: 2, Services: []string{"ftp"}, AdminPassword: "s3cret-ftp"})
	return s, s.Printers()[1]
}

func dialFTP(t *testing.T, p *Printer) *ftp.ServerConn {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port("ftp")))
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(5*time.Second), ftp.DialWithContext(t.Context()))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Quit() })
	return c
}

func TestFTPStorReachesReceiveFile(t *testing.T) {
	s, p := startFTPSim(t)
	c := dialFTP(t, p)
	if err := c.Login("admin", "s3cret-ftp"); err != nil {
		t.Fatalf("login: %v", err)
	}
	data := bytes.Repeat([]byte("inkform\x00\xff"), 40_000)
	if err := c.Stor("bundles/settings.ucf", bytes.NewReader(data)); err != nil {
		t.Fatalf("stor: %v", err)
	}
	n, err := c.FileSize("bundles/settings.ucf")
	if err != nil || n != int64(len(data)) {
		t.Fatalf("SIZE = %d, %v; want %d", n, err, len(data))
	}
	files := p.Files()
	if len(files) != 1 || files[0].Name != "bundles/settings.ucf" || files[0].Via != "ftp" || files[0].Size != int64(len(data)) {
		t.Fatalf("received %+v", files)
	}
	// The file reads back byte for byte and is listed in its folder.
	r, err := c.Retr("bundles/settings.ucf")
	if err != nil {
		t.Fatalf("retr: %v", err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("retr: %d bytes, %v", len(got), err)
	}
	entries, err := c.List("bundles")
	if err != nil || len(entries) != 1 || entries[0].Name != "settings.ucf" || entries[0].Size != uint64(len(data)) {
		t.Fatalf("LIST bundles = %+v, %v", entries, err)
	}
	// The other printer's file system is its own.
	other := dialFTP(t, s.Printers()[0])
	if err := other.Login("admin", "s3cret-ftp"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.FileSize("bundles/settings.ucf"); err == nil {
		t.Fatal("file visible on another printer")
	}
}

func TestFTPWrongPasswordRefused(t *testing.T) {
	_, p := startFTPSim(t)
	c := dialFTP(t, p)
	err := c.Login("admin", "wrong")
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 530 {
		t.Fatalf("login with a wrong password: %v, want 530", err)
	}
	if len(p.Files()) != 0 {
		t.Fatal("files received without login")
	}
}

func TestFTPRejectedFileAnswers5xx(t *testing.T) {
	_, p := startFTPSim(t)
	p.svcMu.Lock()
	p.onFile = func(_ *Printer, f ReceivedFile, _ []byte) error {
		return errors.New("firmware image rejected:\r\nbad signature")
	}
	p.svcMu.Unlock()
	c := dialFTP(t, p)
	if err := c.Login("admin", "s3cret-ftp"); err != nil {
		t.Fatal(err)
	}
	err := c.Stor("bad.fls", bytes.NewReader([]byte("not firmware")))
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code < 500 || te.Code > 599 {
		t.Fatalf("stor of a rejected file: %v, want a 5xx reply", err)
	}
	if _, err := c.FileSize("bad.fls"); err == nil {
		t.Fatal("a rejected file was kept")
	}
	// The session goes on after the refusal.
	if err := c.NoOp(); err != nil {
		t.Fatalf("noop after refusal: %v", err)
	}
}

func TestFTPStopsWithSimulator(t *testing.T) {
	s, err := Start(t.Context(), Options{Printers: 1, Services: []string{"ftp"}})
	if err != nil {
		t.Fatal(err)
	}
	p := s.Printers()[0]
	c := dialFTP(t, p)
	if err := c.Login("admin", "inkform-sim"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with an FTP session open")
	}
	// The open session was ended, not left to idle.
	if err := c.NoOp(); err == nil {
		t.Fatal("session still answers after Close")
	}
}
