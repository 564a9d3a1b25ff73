package simulator

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pjlJob frames commands as a PJL job followed by an ECHO of token.
func pjlJob(token string, commands ...string) string {
	var b strings.Builder
	b.WriteString(pjlUEL + "@PJL\r\n")
	for _, c := range commands {
		b.WriteString(c + "\r\n")
	}
	b.WriteString("@PJL ECHO " + token + "\r\n" + pjlUEL)
	return b.String()
}

func pjlDial(t *testing.T, p *Printer) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port("pjl"))), 5*time.Second)
	if err != nil {
		t.Fatalf("dial pjl: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pjlSend writes data then a job of commands with an ECHO, and returns
// what the printer answered before the echo.
func pjlSend(t *testing.T, c net.Conn, data string, commands ...string) string {
	t.Helper()
	token := fmt.Sprintf("T%d", time.Now().UnixNano())
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, data+pjlJob(token, commands...)); err != nil {
		t.Fatalf("write: %v", err)
	}
	echo := "@PJL ECHO " + token + "\r\n\f"
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.HasSuffix(got, []byte(echo)) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("read before the echo: %v (got %q)", err, got)
		}
	}
	return string(got[:len(got)-len(echo)])
}

func startPJLSim(t *testing.T, printers int) *Sim {
	t.Helper()
	return startSim(t, Options{Printers: printers, Services: []string{"pjl"}})
}

func TestPJLInfo(t *testing.T) {
	s := startPJLSim(t, 5)
	for _, p := range s.Printers() {
		c := pjlDial(t, p)
		got := pjlSend(t, c, "", "@PJL INFO ID", "@PJL info  id", "@PJL INFO NOSUCH")
		id := "@PJL INFO ID\r\n\"" + p.Model() + "\"\r\n\f"
		if want := id + id + "@PJL INFO NOSUCH\r\n?\r\n\f"; got != want {
			t.Errorf("%s: INFO replies = %q, want %q", p.Name(), got, want)
		}
	}
	c := pjlDial(t, s.Printers()[0])
	cfg := pjlSend(t, c, "", "@PJL INFO CONFIG")
	for _, want := range []string{"IN TRAYS [2 ENUMERATED]\r\n\tINTRAY1\r\n\tMPTRAY\r\n", "MEMORY=", "LANGUAGES [2 ENUMERATED]"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("INFO CONFIG lacks %q:\n%s", want, cfg)
		}
	}
	vars := pjlSend(t, c, "", "@PJL INFO VARIABLES")
	for _, want := range []string{"COPIES=1 [2 RANGE]\r\n\t1\r\n\t999\r\n", "PAPER=A4 [", "\tLETTER\r\n"} {
		if !strings.Contains(vars, want) {
			t.Errorf("INFO VARIABLES lacks %q:\n%s", want, vars)
		}
	}
}

func TestPJLDefaultAndDinquire(t *testing.T) {
	s := startPJLSim(t, 1)
	c := pjlDial(t, s.Printers()[0])
	got := pjlSend(t, c, "",
		"@PJL DEFAULT RESOLUTION=1200",
		"@PJL DEFAULT COPIES = 3",
		"@PJL DEFAULT COPIES=0", // out of range: ignored
		"@PJL DEFAULT NOSUCH=1", // unknown: ignored
		"@PJL DINQUIRE COPIES",
		"@PJL DINQUIRE  resolution",
		"@PJL DINQUIRE NOSUCH",
		"@PJL ECHO stray words",
	)
	want := "@PJL DINQUIRE COPIES\r\n3\r\n\f" +
		"@PJL DINQUIRE RESOLUTION\r\n1200\r\n\f" +
		"@PJL DINQUIRE NOSUCH\r\n?\r\n\f" +
		"@PJL ECHO stray words\r\n\f"
	if got != want {
		t.Fatalf("replies = %q, want %q", got, want)
	}
	// The environment belongs to the printer, not the connection.
	c2 := pjlDial(t, s.Printers()[0])
	if got := pjlSend(t, c2, "", "@PJL DINQUIRE COPIES"); got != "@PJL DINQUIRE COPIES\r\n3\r\n\f" {
		t.Fatalf("second connection reads %q", got)
	}
}

// A catalog setting bound to a PJL variable is the same value whichever
// side writes it: the printer's settings store.
func TestPJLSharesTheSettingsStore(t *testing.T) {
	s := startPJLSim(t, 5)
	tested := 0
	for _, p := range s.Printers() {
		st := newPJLState(p)
		for _, name := range sortedKeys(st.vars) {
			v := st.vars[name]
			if v.setting == nil || v.kind != "ENUMERATED" || len(v.options) < 2 {
				continue
			}
			catalogValues := catalogValuesOf(v)
			if len(catalogValues) < 2 {
				continue
			}
			c := pjlDial(t, p)
			// Front panel → PJL.
			if err := p.SetSetting(v.setting.Name, catalogValues[0]); err != nil {
				t.Fatalf("%s: SetSetting %s: %v", p.Name(), v.setting.Name, err)
			}
			want := "@PJL DINQUIRE " + name + "\r\n" + toDevice(v.pjl, catalogValues[0]) + "\r\n\f"
			if got := pjlSend(t, c, "", "@PJL DINQUIRE "+name); got != want {
				t.Errorf("%s: %s after a front-panel change: %q, want %q", p.Name(), name, got, want)
			}
			// PJL → store, device value in lower case as some drivers send.
			pjlSend(t, c, "", "@PJL DEFAULT "+name+"="+strings.ToLower(toDevice(v.pjl, catalogValues[1])))
			if got, _ := p.Setting(v.setting.Name); got != catalogValues[1] {
				t.Errorf("%s: %s = %q after PJL DEFAULT, want %q", p.Name(), v.setting.Name, got, catalogValues[1])
			}
			// A value the setting does not allow leaves it unchanged.
			pjlSend(t, c, "", "@PJL DEFAULT "+name+"=NOT-A-VALUE")
			if got, _ := p.Setting(v.setting.Name); got != catalogValues[1] {
				t.Errorf("%s: %s = %q after an invalid DEFAULT, want %q kept", p.Name(), v.setting.Name, got, catalogValues[1])
			}
			tested++
			break
		}
	}
	if tested == 0 {
		t.Skip("the catalog binds no enumerated setting to a PJL variable")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// catalogValuesOf lists values the setting accepts, in catalog form.
func catalogValuesOf(v *pjlVar) []string {
	if len(v.setting.Enum) > 0 {
		return v.setting.Enum
	}
	var out []string
	for _, k := range sortedKeys(v.pjl.Values) {
		if _, err := v.setting.Validate(k); err == nil {
			out = append(out, k)
		}
	}
	return out
}

func randomData(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	// Keep the stream free of ESC so no UEL can occur by chance, and
	// start it with data, not PJL.
	for i := range b {
		if b[i] == 0x1b {
			b[i] = 'E'
		}
	}
	b[0] = 'D'
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPJLDataStreamsBecomeFiles(t *testing.T) {
	s := startPJLSim(t, 1)
	p := s.Printers()[0]
	c := pjlDial(t, p)
	raw := randomData(t, 300<<10)
	pcl := "\x1bE hello \x1b&l0O page\f"
	if got := pjlSend(t, c, string(raw)); got != "" {
		t.Fatalf("unexpected replies %q", got)
	}
	pjlSend(t, c, pjlUEL+"@PJL\r\n@PJL JOB NAME=\"../report 1.pdf\"\r\n@PJL ENTER LANGUAGE=PCL\r\n"+pcl+pjlUEL+"@PJL EOJ\r\n")
	pjlSend(t, c, "  \r\n"+pcl) // blanks that lead into data are data
	want := []ReceivedFile{
		{Name: "job-1.prn", Via: "pjl", Size: int64(len(raw)), SHA256: sum(raw)},
		{Name: "report1.pdf", Via: "pjl", Size: int64(len(pcl)), SHA256: sum([]byte(pcl))},
		{Name: "job-2.prn", Via: "pjl", Size: int64(len(pcl) + 4), SHA256: sum([]byte("  \r\n" + pcl))},
	}
	if got := p.Files(); !slices.Equal(got, want) {
		t.Fatalf("files = %+v\nwant %+v", got, want)
	}
}

func TestPJLRejectedAndOversizedStreams(t *testing.T) {
	s := startPJLSim(t, 1)
	p := s.Printers()[0]
	p.svcMu.Lock()
	p.onFile = func(_ *Printer, f ReceivedFile, _ []byte) error {
		if strings.HasSuffix(f.Name, ".fls") {
			return errors.New("firmware \"signature\" invalid")
		}
		return nil
	}
	p.svcMu.Unlock()
	c := pjlDial(t, p)
	got := pjlSend(t, c, pjlUEL+"@PJL JOB NAME=\"x.fls\"\r\n@PJL ENTER LANGUAGE=FW\r\nIMAGE")
	want := "@PJL USTATUS DEVICE\r\nCODE=40000\r\nDISPLAY=\"firmware signature invalid\"\r\nONLINE=TRUE\r\n\f"
	if got != want {
		t.Fatalf("rejected image: %q, want %q", got, want)
	}

	old := pjlMaxJob
	pjlMaxJob = 1000
	t.Cleanup(func() { pjlMaxJob = old })
	got = pjlSend(t, c, string(randomData(t, 5000)))
	if !strings.Contains(got, "CODE=40000") || !strings.Contains(got, "JOB TOO LARGE") {
		t.Fatalf("oversized stream: %q", got)
	}
	if files := p.Files(); len(files) != 1 {
		t.Fatalf("files = %+v; the oversized stream must not be recorded", files)
	}
}

func TestPJLOfflinePrinterIsSilent(t *testing.T) {
	s := startPJLSim(t, 1)
	p := s.Printers()[0]
	p.SetOffline(true)
	c := pjlDial(t, p)
	io.WriteString(c, pjlJob("T", "@PJL INFO ID"))
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	n, err := c.Read(make([]byte, 64))
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("offline printer answered: n=%d err=%v", n, err)
	}
}

func TestPJLCloseEndsOpenConnections(t *testing.T) {
	s, err := Start(t.Context(), Options{Printers: 1, Services: []string{"pjl"}})
	if err != nil {
		t.Fatal(err)
	}
	c := pjlDial(t, s.Printers()[0])
	pjlSend(t, c, "", "@PJL INFO ID") // the connection is being served
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after Close: %v, want EOF", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
}

// runPJL interprets data as one connection's stream of printer p.
func runPJL(st *pjlState, data []byte) (string, error) {
	var out bytes.Buffer
	s := &pjlStream{st: st, r: bufio.NewReaderSize(bytes.NewReader(data), 64<<10), w: &out}
	err := s.run()
	return out.String(), err
}

func TestPJLLongLinesAndBrokenUEL(t *testing.T) {
	st := newPJLState(newPrinter(0, 3, time.Now(), nil))
	in := "@PJL ECHO " + strings.Repeat("x", pjlMaxLine) + "\r\n" + // skipped whole
		"@PJL ECHO a\x1b%-12345X@PJL ECHO b\r\n" + // a UEL ends a line
		"@PJL DINQUIRE COPIES" // EOF ends the last line
	out, err := runPJL(st, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := "@PJL ECHO a\r\n\f@PJL ECHO b\r\n\f@PJL DINQUIRE COPIES\r\n1\r\n\f"; out != want {
		t.Fatalf("out = %q, want %q", out, want)
	}
	// Data ending in a partial UEL keeps those bytes.
	st.p.files = nil
	if _, err := runPJL(st, []byte("DATA\x1b%-123")); err != nil {
		t.Fatal(err)
	}
	if f := st.p.Files(); len(f) != 1 || f[0].SHA256 != sum([]byte("DATA\x1b%-123")) {
		t.Fatalf("files = %+v", f)
	}
}

// FuzzPJLStream feeds any byte stream to the interpreter: it must not
// panic, and everything it answers is whole PJL reply blocks.
func FuzzPJLStream(f *testing.F) {
	for _, s := range []string{
		pjlJob("T1", "@PJL INFO ID", "@PJL INFO VARIABLES", "@PJL DINQUIRE COPIES"),
		pjlJob("T2", "@PJL DEFAULT COPIES=5", "@PJL DEFAULT PAPER=\"LETTER\"", "@PJL DINQUIRE PAPER"),
		pjlUEL + "@PJL JOB NAME=\"a.fls\"\r\n@PJL ENTER LANGUAGE=X\r\n\x1bE\x1b%-1234" + pjlUEL + "@PJL EOJ\n",
		"plain text job\f" + pjlUEL + "@PJL INFO CONFIG\n",
		"\r\n \t@PJL\r\n@PJLX\r\n@PJL DEFAULT =\r\n@PJL DEFAULT LANG\r\n",
		"@PJL JOB \xff\xfename=x\r\n", // offsets must survive invalid UTF-8
		"@PJL ECHO a\fb\r\n@PJL DINQUIRE \fCOPIES\f\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st := newPJLState(newPrinter(0, 3, time.Now(), nil))
		out, err := runPJL(st, data)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		for _, block := range strings.SplitAfter(out, "\f") {
			if block == "" {
				continue
			}
			if !strings.HasPrefix(block, "@PJL ") || !strings.HasSuffix(block, "\r\n\f") {
				t.Fatalf("reply block %q", block)
			}
		}
	})
}
