package simulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	server "goftp.io/server/v2"
)

// The FTP service: a goftp.io server per printer on the listener the
// services framework gives it, with an in-memory file system. Printers take
// firmware, certificates and settings bundles by a plain STOR; every
// completed STOR goes through receiveFile, whose error (a rejected firmware
// image) answers the STOR with 550. Wire details: docs/protocols/ftp.md.

func init() {
	registerService(service{name: "ftp", serve: serveFTP})
}

const (
	// ftpMaxFile bounds one upload; firmware images are the largest files
	// printers take.
	ftpMaxFile = 256 << 20
	// ftpIdleTimeout ends a control connection that sends no command.
	ftpIdleTimeout = 2 * time.Minute
)

// adminLogin returns the administrator login of the printer's FTP server
// and embedded web server.
func (p *Printer) adminLogin() (user, password string) {
	if p.sim == nil {
		return "admin", "inkform-sim"
	}
	return p.sim.opts.AdminUser, p.sim.opts.AdminPassword
}

func serveFTP(ctx context.Context, p *Printer, ln net.Listener) error {
	user, password := p.adminLogin()
	gate := newFileGate()
	// Runs before serve returns, while the simulator still counts it.
	defer gate.close()
	mem := &ftpMemFS{p: p, gate: gate, files: map[string]*ftpMemFile{}, dirs: map[string]time.Time{}}
	cmds := maps.Clone(server.DefaultCommands())
	cmds["STOR"] = ftpStor{mem}
	cmds["SIZE"] = ftpSize{mem}
	// Appending and resuming are not what printers offer; a firmware image
	// arrives whole or not at all.
	delete(cmds, "APPE")
	delete(cmds, "REST")
	srv, err := server.NewServer(&server.Options{
		Driver:         mem,
		Auth:           &server.SimpleAuth{Name: user, Password: password},
		Perm:           server.NewSimplePerm("root", "root"),
		Name:           "inkform-sim",
		WelcomeMessage: p.Model() + " FTP server ready",
		// The default logger prints every command, passwords included.
		Logger:   &server.DiscardLogger{},
		Commands: cmds,
	})
	if err != nil {
		return fmt.Errorf("ftp server: %w", err)
	}
	tl := &ftpListener{Listener: onlineListener{ln, p}, conns: map[net.Conn]struct{}{}}
	// The library's Shutdown races with Serve's start; closing the listener
	// (and the open sessions) ends Serve just as well.
	stop := context.AfterFunc(ctx, tl.closeAll)
	defer stop()
	err = srv.Serve(tl)
	tl.closeAll()
	if ctx.Err() != nil || errors.Is(err, net.ErrClosed) || errors.Is(err, server.ErrServerClosed) {
		return nil
	}
	return err
}

// onlineListener drops connections while the printer is offline (set so,
// or rebooting after a firmware install): a printer that is off answers
// nothing.
type onlineListener struct {
	net.Listener
	p *Printer
}

func (l onlineListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.p.Offline() {
			return c, nil
		}
		c.Close()
	}
}

// ftpListener tracks the control connections it accepts, so shutting the
// service down ends their sessions too, and bounds how long each may idle.
type ftpListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (l *ftpListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ic := &ftpIdleConn{Conn: c, l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	l.conns[ic] = struct{}{}
	return ic, nil
}

func (l *ftpListener) closeAll() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[net.Conn]struct{}{}
	l.mu.Unlock()
	l.Listener.Close()
	for c := range conns {
		c.Close()
	}
}

func (l *ftpListener) forget(c net.Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// ftpIdleConn gives each read of a command its own deadline.
type ftpIdleConn struct {
	net.Conn
	l    *ftpListener
	once sync.Once
}

func (c *ftpIdleConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(ftpIdleTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *ftpIdleConn) Close() error {
	c.once.Do(func() { c.l.forget(c) })
	return c.Conn.Close()
}

// fileGate lets connection goroutines, which the simulator's WaitGroup does
// not count (the FTP and HTTP libraries start them), hand files to
// receiveFile only while their service runs: a firmware install starts a
// reboot timer in that WaitGroup, which must not happen after Close waited.
// close waits for files being handed over and refuses later ones.
type fileGate struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   *sync.Cond
}

func newFileGate() *fileGate {
	g := &fileGate{}
	g.idle = sync.NewCond(&g.mu)
	return g
}

func (g *fileGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

func (g *fileGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 {
		g.idle.Broadcast()
	}
}

func (g *fileGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.n > 0 {
		g.idle.Wait()
	}
}

// ftpStor receives a file whole, then hands it to receiveFile; unlike the
// library's STOR it answers a rejected file with a permanent 5xx error.
type ftpStor struct{ mem *ftpMemFS }

func (ftpStor) IsExtend() bool     { return false }
func (ftpStor) RequireParam() bool { return true }
func (ftpStor) RequireAuth() bool  { return true }

func (c ftpStor) Execute(sess *server.Session, param string) {
	if c.mem.p.Offline() {
		sess.WriteMessage(421, "Service not available")
		return
	}
	dc := sess.DataConn()
	if dc == nil {
		sess.WriteMessage(425, "Use PASV or EPSV first")
		return
	}
	sess.WriteMessage(150, "Ready to receive")
	data, err := io.ReadAll(io.LimitReader(dc, ftpMaxFile+1))
	dc.Close()
	switch {
	case err != nil:
		sess.WriteMessage(426, "Transfer aborted")
		return
	case len(data) > ftpMaxFile:
		sess.WriteMessage(552, fmt.Sprintf("File larger than %d bytes", ftpMaxFile))
		return
	}
	if err := c.mem.store(sess.BuildPath(param), data); err != nil {
		sess.WriteMessage(550, oneLine(err.Error()))
		return
	}
	sess.WriteMessage(226, fmt.Sprintf("Transfer complete, %d bytes", len(data)))
}

// ftpSize answers SIZE from the in-memory file system.
type ftpSize struct{ mem *ftpMemFS }

func (ftpSize) IsExtend() bool     { return true }
func (ftpSize) RequireParam() bool { return true }
func (ftpSize) RequireAuth() bool  { return true }

func (c ftpSize) Execute(sess *server.Session, param string) {
	n, ok := c.mem.size(sess.BuildPath(param))
	if !ok {
		sess.WriteMessage(550, "No such file")
		return
	}
	sess.WriteMessage(213, strconv.Itoa(n))
}

// oneLine keeps a reply on one line: a CR or LF would end it early.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// ftpMemFS is a printer's FTP file system, kept in memory for as long as
// the service runs. Paths are absolute and clean (the library builds them).
type ftpMemFS struct {
	p     *Printer
	gate  *fileGate
	mu    sync.Mutex
	files map[string]*ftpMemFile
	dirs  map[string]time.Time
}

type ftpMemFile struct {
	data []byte
	mod  time.Time
}

var _ server.Driver = (*ftpMemFS)(nil)

// store keeps data as name once the printer has accepted it.
func (m *ftpMemFS) store(name string, data []byte) error {
	if name == "/" || name == "" {
		return errors.New("not a file name")
	}
	if !m.gate.enter() {
		return errors.New("shutting down")
	}
	err := m.p.receiveFile(strings.TrimPrefix(name, "/"), "ftp", data)
	m.gate.leave()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = &ftpMemFile{data: data, mod: time.Now()}
	return nil
}

func (m *ftpMemFS) size(name string) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[name]
	if !ok {
		return 0, false
	}
	return len(f.data), true
}

// isDirLocked reports whether name is the root, a made folder or a folder
// some file lies in.
func (m *ftpMemFS) isDirLocked(name string) bool {
	if name == "/" {
		return true
	}
	if _, ok := m.dirs[name]; ok {
		return true
	}
	prefix := name + "/"
	for f := range m.files {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

func (m *ftpMemFS) Stat(_ *server.Context, name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.files[name]; ok {
		return ftpFileInfo{name: path.Base(name), size: int64(len(f.data)), mod: f.mod}, nil
	}
	if m.isDirLocked(name) {
		return ftpFileInfo{name: path.Base(name), dir: true, mod: m.dirs[name]}, nil
	}
	return nil, fs.ErrNotExist
}

func (m *ftpMemFS) ListDir(_ *server.Context, dir string, cb func(os.FileInfo) error) error {
	m.mu.Lock()
	if !m.isDirLocked(dir) {
		m.mu.Unlock()
		return fs.ErrNotExist
	}
	prefix := strings.TrimSuffix(dir, "/") + "/"
	seen := map[string]os.FileInfo{}
	for name, f := range m.files {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		if first, _, nested := strings.Cut(rest, "/"); nested {
			seen[first] = ftpFileInfo{name: first, dir: true}
		} else {
			seen[rest] = ftpFileInfo{name: rest, size: int64(len(f.data)), mod: f.mod}
		}
	}
	for name, mod := range m.dirs {
		if rest, ok := strings.CutPrefix(name, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
			seen[rest] = ftpFileInfo{name: rest, dir: true, mod: mod}
		}
	}
	m.mu.Unlock()
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := cb(seen[n]); err != nil {
			return err
		}
	}
	return nil
}

func (m *ftpMemFS) DeleteDir(_ *server.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix := name + "/"
	for f := range m.files {
		if strings.HasPrefix(f, prefix) {
			return errors.New("folder not empty")
		}
	}
	if _, ok := m.dirs[name]; !ok {
		return fs.ErrNotExist
	}
	delete(m.dirs, name)
	return nil
}

func (m *ftpMemFS) DeleteFile(_ *server.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return fs.ErrNotExist
	}
	delete(m.files, name)
	return nil
}

func (m *ftpMemFS) Rename(_ *server.Context, from, to string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[from]
	if !ok {
		return fs.ErrNotExist
	}
	delete(m.files, from)
	m.files[to] = f
	return nil
}

func (m *ftpMemFS) MakeDir(_ *server.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.isDirLocked(name) {
		return fs.ErrExist
	}
	m.dirs[name] = time.Now()
	return nil
}

func (m *ftpMemFS) GetFile(_ *server.Context, name string, offset int64) (int64, io.ReadCloser, error) {
	m.mu.Lock()
	f, ok := m.files[name]
	m.mu.Unlock()
	if !ok {
		return 0, nil, fs.ErrNotExist
	}
	if offset < 0 || offset > int64(len(f.data)) {
		return 0, nil, errors.New("offset out of range")
	}
	return int64(len(f.data)) - offset, io.NopCloser(bytes.NewReader(f.data[offset:])), nil
}

// PutFile is reached only by commands this server does not route to
// ftpStor; it stores the file whole all the same.
func (m *ftpMemFS) PutFile(_ *server.Context, name string, r io.Reader, _ int64) (int64, error) {
	data, err := io.ReadAll(io.LimitReader(r, ftpMaxFile+1))
	if err != nil {
		return 0, err
	}
	if len(data) > ftpMaxFile {
		return 0, fmt.Errorf("file larger than %d bytes", ftpMaxFile)
	}
	if err := m.store(name, data); err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}

type ftpFileInfo struct {
	name string
	size int64
	dir  bool
	mod  time.Time
}

func (i ftpFileInfo) Name() string       { return i.name }
func (i ftpFileInfo) Size() int64        { return i.size }
func (i ftpFileInfo) ModTime() time.Time { return i.mod }
func (i ftpFileInfo) IsDir() bool        { return i.dir }
func (i ftpFileInfo) Sys() any           { return nil }
func (i ftpFileInfo) Mode() os.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
