package ftp_test

import (
	"bytes"
	"maps"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	server "goftp.io/server/v2"
	filedriver "goftp.io/server/v2/driver/file"

	"github.com/inkform/inkform/providers/ftp"
)

// recorder keeps the commands a server received, in order.
type recorder struct {
	server.DiscardLogger
	mu   sync.Mutex
	cmds []string
}

func (r *recorder) PrintCommand(_ string, cmd, _ string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, cmd)
}

func (r *recorder) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.cmds...)
}

// A server without SIZE still gets its upload checked, by LIST.
func TestSizeFallsBackToList(t *testing.T) {
	dir := t.TempDir()
	drv, err := filedriver.NewDriver(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmds := maps.Clone(server.DefaultCommands())
	delete(cmds, "SIZE")
	rec := &recorder{}
	srv, err := server.NewServer(&server.Options{
		Driver: drv, Auth: &server.SimpleAuth{Name: "admin", Password: "pw"},
		Perm: server.NewSimplePerm("root", "root"), Logger: rec, Commands: cmds,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { ln.Close(); <-done })

	ctx := ctxT(t)
	conn, err := ftp.New(ftp.Options{}).DialFiles(ctx, printerAt(t, ln.Addr().String(), "admin", "pw"))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	f, data := randomFile(t, 50_000)
	if err := conn.Upload(ctx, f, bytes.NewReader(data), nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "bundle.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("uploaded file: %d bytes, %v", len(got), err)
	}
	var seq []string
	for _, c := range rec.commands() {
		switch c {
		case "STOR", "SIZE", "LIST":
			seq = append(seq, c)
		}
	}
	if want := []string{"STOR", "SIZE", "LIST"}; !equal(seq, want) {
		t.Fatalf("commands %v, want %v (all: %v)", seq, want, rec.commands())
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
