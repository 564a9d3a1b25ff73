package pjl_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inkform/inkform/catalog"
	"github.com/inkform/inkform/fleet"
	"github.com/inkform/inkform/internal/testservers"
	"github.com/inkform/inkform/providers"
	"github.com/inkform/inkform/providers/pjl"
	"github.com/inkform/inkform/simulator"
)

// testCatalog binds settings to the standard PJL variables the simulator
// answers, whatever the built-in catalog binds.
func testCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse([]byte(`{
	  "version": 1,
	  "families": [{"name": "lexmark", "models": ["Lexmark *"]}],
	  "settings": [
	    {"name": "t.copies", "type": "integer", "min": 1, "max": 999, "pjl": {"variable": "COPIES"}},
	    {"name": "t.paper", "type": "enum", "enum": ["a4", "letter", "legal"],
	     "pjl": {"variable": "PAPER", "values": {"a4": "A4", "letter": "LETTER", "legal": "LEGAL"}}},
	    {"name": "t.orientation", "type": "enum", "enum": ["portrait", "landscape"], "pjl": {"variable": "ORIENTATION"}},
	    {"name": "t.nosuch", "type": "string", "pjl": {"variable": "NOSUCHVAR"}},
	    {"name": "t.snmp_only", "type": "string", "snmp": {"oid": "1.3.6.1.2.1.1.4.0", "type": "octetstring"}},
	    {"name": "t.other_family", "type": "integer", "families": ["hp"], "pjl": {"variable": "DENSITY"}}
	  ]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startSim(t *testing.T) *simulator.Printer {
	t.Helper()
	s, err := simulator.Start(t.Context(), simulator.Options{Printers: 1, Services: []string{"pjl"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Printers()[0]
}

func printerAt(port int) fleet.Printer {
	return fleet.Printer{Name: "sim-001", Host: "127.0.0.1", Ports: map[string]int{"pjl": port}}
}

func dial(t *testing.T, tr *pjl.Transport, port int) *pjl.Conn {
	t.Helper()
	c, err := tr.Dial(t.Context(), printerAt(port))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSettingsRoundTripWithSimulator(t *testing.T) {
	p := startSim(t)
	tr := pjl.New(testCatalog(t), pjl.Options{Timeout: 5 * time.Second})
	sc, err := tr.DialSettings(t.Context(), printerAt(p.Port("pjl")))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ctx := t.Context()
	names := []string{"t.copies", "t.paper", "t.orientation", "t.nosuch", "t.snmp_only", "t.other_family", "t.undefined"}

	values, unsupported, err := sc.ReadSettings(ctx, "lexmark", names)
	if err != nil {
		t.Fatal(err)
	}
	wantValues := map[string]string{"t.copies": "1", "t.paper": "a4", "t.orientation": "portrait"}
	if diff := cmp.Diff(wantValues, values); diff != "" {
		t.Errorf("factory values (-want +got):\n%s", diff)
	}
	wantUnsupported := []string{"t.nosuch", "t.other_family", "t.snmp_only", "t.undefined"}
	slices.Sort(unsupported)
	if diff := cmp.Diff(wantUnsupported, unsupported); diff != "" {
		t.Errorf("unsupported (-want +got):\n%s", diff)
	}

	err = sc.WriteSettings(ctx, "lexmark", []fleet.Desired{
		{Name: "t.copies", Value: "7"}, {Name: "t.paper", Value: "legal"}, {Name: "t.orientation", Value: "landscape"},
	})
	if err != nil {
		t.Fatal(err)
	}
	values, _, err = sc.ReadSettings(ctx, "lexmark", names[:3])
	if err != nil {
		t.Fatal(err)
	}
	wantValues = map[string]string{"t.copies": "7", "t.paper": "legal", "t.orientation": "landscape"}
	if diff := cmp.Diff(wantValues, values); diff != "" {
		t.Errorf("values after write (-want +got):\n%s", diff)
	}

	if err := sc.WriteSettings(ctx, "lexmark", []fleet.Desired{{Name: "t.snmp_only", Value: "x"}}); !errors.Is(err, providers.ErrUnsupported) {
		t.Errorf("writing a setting without a PJL binding: %v, want ErrUnsupported", err)
	}
	err = sc.WriteSettings(ctx, "lexmark", []fleet.Desired{{Name: "t.copies", Value: "123456", Sensitive: true}})
	if err == nil || strings.Contains(err.Error(), "123456") {
		t.Errorf("invalid sensitive value: %v (must fail without repeating it)", err)
	}
}

func TestIdentifyAndVariables(t *testing.T) {
	p := startSim(t)
	c := dial(t, pjl.New(nil, pjl.Options{}), p.Port("pjl"))
	model, err := c.Identify(t.Context())
	if err != nil || model != p.Model() {
		t.Fatalf("Identify = %q, %v; want %q", model, err, p.Model())
	}
	vars, err := c.Variables(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(vars, func(e pjl.Entry) bool { return e.Name == "COPIES" })
	if i < 0 || vars[i].Kind != "RANGE" || !slices.Equal(vars[i].Options, []string{"1", "999"}) {
		t.Fatalf("COPIES in INFO VARIABLES: %+v", vars)
	}
	cfg, err := c.Config(t.Context())
	if err != nil || !slices.ContainsFunc(cfg, func(e pjl.Entry) bool { return e.Name == "IN TRAYS" && len(e.Options) > 0 }) {
		t.Fatalf("Config = %+v, %v", cfg, err)
	}
}

func TestClosedPortIsReportedQuickly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	tr := pjl.New(nil, pjl.Options{Timeout: 10 * time.Second, Retries: 3})
	start := time.Now()
	_, err = tr.DialSettings(t.Context(), printerAt(port))
	if !errors.Is(err, providers.ErrPortClosed) {
		t.Fatalf("err = %v, want ErrPortClosed", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a refused connection took %s", d)
	}
	if !strings.Contains(err.Error(), "sim-001") {
		t.Errorf("error does not name the printer: %v", err)
	}
}

func TestUploadArrivesByteIdentical(t *testing.T) {
	p := startSim(t)
	data := make([]byte, 200<<10+123)
	rand.Read(data)
	for i := range data {
		if data[i] == 0x1b { // no UEL inside the stream by chance
			data[i] = 0
		}
	}
	data[0] = 'F'
	s := sha256.Sum256(data)
	f := fleet.File{Source: "fw/CXTPC.230.040.fls", Size: int64(len(data)), SHA256: hex.EncodeToString(s[:])}

	tr := pjl.New(nil, pjl.Options{})
	fc, err := tr.DialFiles(t.Context(), printerAt(p.Port("pjl")))
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	var progress []int64
	if err := fc.Upload(t.Context(), f, bytes.NewReader(data), func(n int64) { progress = append(progress, n) }); err != nil {
		t.Fatal(err)
	}
	files := p.Files()
	if len(files) != 1 || files[0].SHA256 != f.SHA256 || files[0].Size != f.Size || files[0].Via != "pjl" {
		t.Fatalf("printer received %+v, want sha256 %s size %d", files, f.SHA256, f.Size)
	}
	if len(progress) < 2 || progress[len(progress)-1] != f.Size || !slices.IsSorted(progress) {
		t.Fatalf("progress = %v", progress)
	}

	// The same connection still answers settings after a stream.
	c := fc.(*pjl.Conn)
	if model, err := c.Identify(t.Context()); err != nil || model != p.Model() {
		t.Fatalf("Identify after upload = %q, %v", model, err)
	}

	// A source that does not match its recorded hash is an error.
	f.SHA256 = strings.Repeat("0", 64)
	if err := fc.Upload(t.Context(), f, bytes.NewReader(data), nil); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("hash mismatch: %v", err)
	}
}

// fake is a PJL peer on 127.0.0.1:0 that records every job it receives and
// answers each with reply(job).
type fake struct {
	port int
	mu   sync.Mutex
	jobs []string
}

func startFake(t *testing.T, reply func(job string) string) *fake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{port: ln.Addr().(*net.TCPAddr).Port}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				var buf []byte
				chunk := make([]byte, 4096)
				for {
					n, err := c.Read(chunk)
					buf = append(buf, chunk[:n]...)
					// A job is complete at its closing UEL.
					for {
						// Raw data before a job (a streamed file) is
						// recorded as it is, unanswered.
						if i := bytes.Index(buf, []byte(pjl.UEL)); i > 0 {
							f.mu.Lock()
							f.jobs = append(f.jobs, "DATA "+string(buf[:i]))
							f.mu.Unlock()
							buf = buf[i:]
						}
						body, ok := bytes.CutPrefix(buf, []byte(pjl.UEL))
						if !ok {
							break
						}
						end := bytes.Index(body, []byte(pjl.UEL))
						if end < 0 {
							break
						}
						job := string(body[:end])
						buf = body[end+len(pjl.UEL):]
						f.mu.Lock()
						f.jobs = append(f.jobs, job)
						f.mu.Unlock()
						if _, err := io.WriteString(c, reply(job)); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return f
}

func (f *fake) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.jobs)
}

// echoOf returns the ECHO line of a job, as a printer would answer it.
func echoOf(job string) string {
	for _, l := range strings.Split(job, "\r\n") {
		if strings.HasPrefix(l, "@PJL ECHO ") {
			return l + "\r\n\f"
		}
	}
	return ""
}

func TestGarbageWithoutEchoTimesOut(t *testing.T) {
	f := startFake(t, func(string) string { return "\x00\xff garbage\f@PJL\f@PJL ECHO WRONG\r\n\f\r\n" })
	tr := pjl.New(testCatalog(t), pjl.Options{Timeout: 200 * time.Millisecond, Retries: 1})
	c := dial(t, tr, f.port)
	start := time.Now()
	_, _, err := c.ReadSettings(t.Context(), "lexmark", []string{"t.copies"})
	if !errors.Is(err, providers.ErrUnreachable) || !strings.Contains(err.Error(), "sim-001") {
		t.Fatalf("err = %v, want ErrUnreachable naming the printer", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("two 200ms attempts took %s", d)
	}
	if jobs := f.received(); len(jobs) != 2 {
		t.Fatalf("jobs sent = %d, want 1 + 1 retry", len(jobs))
	}
}

func TestMalformedRepliesAroundTheEcho(t *testing.T) {
	f := startFake(t, func(job string) string {
		return "noise\r\n\f" +
			"@PJL DINQUIRE COPIES\n\n 4 \n\f" + // LF only, blank line, padding
			"@PJL USTATUS TIMED\r\nCODE=10001\r\n\f" + // unsolicited, ignored
			"@PJL DINQUIRE PAPER\r\n\"?\"\r\n\f" +
			strings.TrimSuffix(echoOf(job), "\f") // no form feed after the echo
	})
	c := dial(t, pjl.New(testCatalog(t), pjl.Options{Timeout: 2 * time.Second}), f.port)
	values, unsupported, err := c.ReadSettings(t.Context(), "lexmark", []string{"t.copies", "t.paper", "t.orientation"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"t.copies": "4"}, values); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	// PAPER answered "?"; ORIENTATION not at all.
	if diff := cmp.Diff([]string{"t.paper", "t.orientation"}, unsupported); diff != "" {
		t.Errorf("unsupported (-want +got):\n%s", diff)
	}
	want := []string{"@PJL\r\n@PJL DINQUIRE COPIES\r\n@PJL DINQUIRE PAPER\r\n@PJL DINQUIRE ORIENTATION\r\n@PJL ECHO "}
	if jobs := f.received(); len(jobs) != 1 || !strings.HasPrefix(jobs[0], want[0]) {
		t.Fatalf("jobs = %q, want one starting %q", jobs, want[0])
	}
}

func TestWriteSendsOneJobOfDefaults(t *testing.T) {
	f := startFake(t, echoOf)
	c := dial(t, pjl.New(testCatalog(t), pjl.Options{}), f.port)
	err := c.WriteSettings(t.Context(), "lexmark", []fleet.Desired{
		{Name: "t.paper", Value: "letter"}, {Name: "t.copies", Value: "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	jobs := f.received()
	if len(jobs) != 1 {
		t.Fatalf("jobs = %q", jobs)
	}
	lines := strings.Split(jobs[0], "\r\n")
	if diff := cmp.Diff([]string{"@PJL", "@PJL DEFAULT PAPER=LETTER", "@PJL DEFAULT COPIES=2"}, lines[:3]); diff != "" || !strings.HasPrefix(lines[3], "@PJL ECHO INKFORM-") {
		t.Fatalf("job lines %q (-want +got):\n%s", lines, diff)
	}
}

func TestUploadReportsPrinterStatus(t *testing.T) {
	f := startFake(t, func(job string) string {
		return "@PJL USTATUS DEVICE\r\nCODE=40000\r\nDISPLAY=\"BAD\x07 IMAGE\"\r\n\f" + echoOf(job)
	})
	c := dial(t, pjl.New(nil, pjl.Options{}), f.port)
	err := c.Upload(t.Context(), fleet.File{Source: "x.fls"}, strings.NewReader("IMAGE"), nil)
	if err == nil || !strings.Contains(err.Error(), `40000 "BAD IMAGE"`) {
		t.Fatalf("err = %v", err)
	}
	if jobs := f.received(); len(jobs) != 2 || jobs[0] != "DATA IMAGE" || !strings.HasPrefix(jobs[1], "@PJL\r\n@PJL ECHO ") {
		t.Fatalf("the printer received %q; want the raw stream, then an ECHO job", jobs)
	}
}

func TestCancelledContextStopsWaiting(t *testing.T) {
	arrived := make(chan struct{}, 1)
	f := startFake(t, func(string) string {
		select {
		case arrived <- struct{}{}:
		default:
		}
		return "" // never echoes
	})
	c := dial(t, pjl.New(testCatalog(t), pjl.Options{Timeout: time.Minute}), f.port)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, _, err := c.ReadSettings(ctx, "lexmark", []string{"t.copies"})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}

func TestFirmwareStreamInstallsOrIsRejected(t *testing.T) {
	s, err := simulator.Start(t.Context(), simulator.Options{
		Printers: 2, FirmwareFail: 1, RebootDelay: time.Hour, Services: []string{"pjl"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	bad, good := s.Printers()[0], s.Printers()[1]
	tr := pjl.New(nil, pjl.Options{Timeout: 5 * time.Second})
	upload := func(p *simulator.Printer) error {
		img := simulator.MakeFirmwareImage(p.Model(), "NEW.999.001", bytes.Repeat([]byte{0xA5}, 64<<10))
		fc, err := tr.DialFiles(t.Context(), printerAt(p.Port("pjl")))
		if err != nil {
			return err
		}
		defer fc.Close()
		return fc.Upload(t.Context(), fleet.File{Source: "NEW.999.001.fls", Size: int64(len(img))}, bytes.NewReader(img), nil)
	}

	// The printer installs, restarts and drops the connection: done.
	if err := upload(good); err != nil {
		t.Fatalf("upload to an accepting printer: %v", err)
	}
	if good.Firmware() != "NEW.999.001" || !good.Offline() {
		t.Fatalf("after upload: firmware %q, offline %v; want the new version, restarting", good.Firmware(), good.Offline())
	}
	if f := good.Files(); len(f) != 1 || !strings.HasSuffix(f[0].Name, ".fls") {
		t.Fatalf("files = %+v", f)
	}

	err = upload(bad)
	if err == nil || !strings.Contains(err.Error(), "rejected") || !strings.Contains(err.Error(), "sim-001") {
		t.Fatalf("upload to a rejecting printer: %v", err)
	}
	if bad.Firmware() == "NEW.999.001" {
		t.Fatal("a rejected image was installed")
	}
}

// cancellingReader cancels a context once at read offset at, as a Ctrl-C
// between two chunks of an upload would.
type cancellingReader struct {
	r      io.Reader
	off    int64
	at     int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(b []byte) (int, error) {
	if c.off >= c.at && c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	n, err := c.r.Read(b)
	c.off += int64(n)
	return n, err
}

// Cancelling between two chunks of an upload stops it before the next
// chunk: the per-chunk deadline must not undo the cancellation.
func TestCancelledUploadSendsNoMore(t *testing.T) {
	// Repeated: the cancellation races the next chunk's write.
	for range 20 {
		f := startFake(t, func(string) string { return "" }) // never echoes
		c := dial(t, pjl.New(nil, pjl.Options{Timeout: time.Minute}), f.port)
		ctx, cancel := context.WithCancel(t.Context())
		const at = 64 << 10
		src := &cancellingReader{r: bytes.NewReader(make([]byte, 1<<20)), at: at, cancel: cancel}
		var sent int64
		start := time.Now()
		err := c.Upload(ctx, fleet.File{Source: "big.bin"}, src, func(n int64) { sent = n })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if sent > at {
			t.Fatalf("%d bytes sent after the cancellation at %d", sent-at, at)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Fatalf("the cancelled upload returned after %s", d)
		}
	}
}

// A peer that keeps sending status lines but never the echo cannot hold a
// job past its timeout: the deadline is the job's, not each read's.
func TestTricklingPeerTimesOut(t *testing.T) {
	tr := testservers.StartTrickler(t, testservers.TrickleOptions{Send: "@PJL USTATUS TIMED\r\nCODE=10001\r\n\f"})
	c := dial(t, pjl.New(testCatalog(t), pjl.Options{Timeout: 300 * time.Millisecond, Retries: -1}), tr.Port)
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.ReadSettings(context.Background(), "lexmark", []string{"t.copies"})
		errc <- err
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, providers.ErrUnreachable) || !strings.Contains(err.Error(), "sim-001") || !strings.Contains(err.Error(), "pjl") {
			t.Fatalf("err = %v, want ErrUnreachable naming the printer and pjl", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still waiting for the echo after 30s: each status line extends the deadline")
	}
}
