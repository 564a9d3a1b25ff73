package simulator

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inkform/inkform/catalog"
)

// The RAW 9100 service: a PJL interpreter per printer, as described in
// docs/protocols/pjl.md. Catalog settings bound to a PJL variable for the
// printer's family read and write the printer's one settings store
// (p.Setting / p.SetSetting), so a PJL DEFAULT and an SNMP SET of the same
// setting change the same value. Other well-known PJL variables live in the
// service's own table, as on a real printer whose PJL environment holds
// more than inkform manages. Data that is not PJL (a print job, a firmware
// image) is taken up to the next UEL and recorded with p.receiveFile.

func init() { registerService(service{name: "pjl", serve: servePJL}) }

const pjlUEL = "\x1b%-12345X"

// Limits per connection. Variables so tests can shrink them.
var (
	// pjlMaxJob caps one data stream; a larger one is read to its end and
	// dropped with an error status.
	pjlMaxJob = 256 << 20
	// pjlIdle is how long a connection may send nothing.
	pjlIdle = 30 * time.Second
	// pjlLifetime bounds a whole connection.
	pjlLifetime = 30 * time.Minute
)

// pjlMaxLine caps a command line; longer lines are skipped.
const pjlMaxLine = 4096

// pjlVar is a PJL variable the interpreter knows.
type pjlVar struct {
	name string
	// kind is "ENUMERATED", "RANGE" or "" (a free string).
	kind    string
	options []string // enum values, or [min, max] for a range
	def     string
	// setting and pjl are set for variables a catalog setting binds.
	setting *catalog.Setting
	pjl     *catalog.PJL
}

// pjlNative are standard PJL variables (names and values from the PJL
// reference) answered when no catalog setting binds them.
var pjlNative = []pjlVar{
	{name: "AUTOCONT", kind: "ENUMERATED", options: []string{"OFF", "ON"}, def: "OFF"},
	{name: "BINDING", kind: "ENUMERATED", options: []string{"LONGEDGE", "SHORTEDGE"}, def: "LONGEDGE"},
	{name: "COPIES", kind: "RANGE", options: []string{"1", "999"}, def: "1"},
	{name: "DENSITY", kind: "RANGE", options: []string{"1", "5"}, def: "3"},
	{name: "DUPLEX", kind: "ENUMERATED", options: []string{"OFF", "ON"}, def: "OFF"},
	{name: "ECONOMODE", kind: "ENUMERATED", options: []string{"OFF", "ON"}, def: "OFF"},
	{name: "FORMLINES", kind: "RANGE", options: []string{"5", "128"}, def: "60"},
	{name: "LANG", kind: "ENUMERATED", options: []string{"ENGLISH", "FRENCH", "GERMAN", "ITALIAN", "SPANISH", "DUTCH", "JAPANESE"}, def: "ENGLISH"},
	{name: "MANUALFEED", kind: "ENUMERATED", options: []string{"OFF", "ON"}, def: "OFF"},
	{name: "MEDIATYPE", kind: "ENUMERATED", options: []string{"PLAIN", "BOND", "RECYCLED", "LABELS", "TRANSPARENCY", "CARDSTOCK"}, def: "PLAIN"},
	{name: "ORIENTATION", kind: "ENUMERATED", options: []string{"PORTRAIT", "LANDSCAPE"}, def: "PORTRAIT"},
	{name: "PAPER", kind: "ENUMERATED", options: []string{"LETTER", "LEGAL", "A4", "A5", "A3", "EXECUTIVE"}, def: "A4"},
	{name: "PERSONALITY", kind: "ENUMERATED", options: []string{"AUTO", "PCL", "POSTSCRIPT"}, def: "AUTO"},
	{name: "POWERSAVE", kind: "ENUMERATED", options: []string{"OFF", "ON"}, def: "ON"},
	{name: "POWERSAVETIME", kind: "ENUMERATED", options: []string{"1", "15", "30", "60", "120", "180", "240"}, def: "30"},
	{name: "RESOLUTION", kind: "ENUMERATED", options: []string{"300", "600", "1200"}, def: "600"},
	{name: "RET", kind: "ENUMERATED", options: []string{"OFF", "LIGHT", "MEDIUM", "DARK"}, def: "MEDIUM"},
	{name: "TIMEOUT", kind: "RANGE", options: []string{"5", "300"}, def: "15"},
}

// pjlState is one printer's PJL environment, shared by its connections.
type pjlState struct {
	p    *Printer
	vars map[string]*pjlVar // by normalised name

	mu     sync.Mutex // guards native and jobs
	native map[string]string
	jobs   int
}

func newPJLState(p *Printer) *pjlState {
	st := &pjlState{p: p, vars: map[string]*pjlVar{}, native: map[string]string{}}
	for i := range pjlNative {
		v := pjlNative[i]
		if p.Vendor() == "hp" && v.name == "PAPER" {
			v.def = "LETTER"
		}
		st.vars[v.name] = &v
		st.native[v.name] = v.def
	}
	cat := catalog.Default()
	family := p.Family()
	for i := range cat.Settings {
		s := &cat.Settings[i]
		b := s.Bindings(family).PJL
		if b == nil || b.Variable == "" {
			continue
		}
		v := &pjlVar{name: pjlName(b.Variable), setting: s, pjl: b}
		switch {
		case s.Type == catalog.TypeInteger && s.Min != nil && s.Max != nil:
			v.kind = "RANGE"
			v.options = []string{strconv.FormatInt(*s.Min, 10), strconv.FormatInt(*s.Max, 10)}
		case len(s.Enum) > 0:
			v.kind = "ENUMERATED"
			for _, e := range s.Enum {
				v.options = append(v.options, toDevice(b, e))
			}
		case len(b.Values) > 0:
			v.kind = "ENUMERATED"
			keys := make([]string, 0, len(b.Values))
			for k := range b.Values {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				v.options = append(v.options, b.Values[k])
			}
		}
		st.vars[v.name] = v // a catalog binding wins over the native table
	}
	return st
}

// pjlName normalises a variable name: upper case, single spaces.
func pjlName(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }

func toDevice(b *catalog.PJL, v string) string {
	if d, ok := b.Values[v]; ok {
		return d
	}
	return v
}

// fromDevice maps a PJL value to the catalog form: through the value map
// (exact, then ignoring case), then to an enum value ignoring case.
func fromDevice(s *catalog.Setting, b *catalog.PJL, v string) string {
	keys := make([]string, 0, len(b.Values))
	for k := range b.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if b.Values[k] == v {
			return k
		}
	}
	for _, k := range keys {
		if strings.EqualFold(b.Values[k], v) {
			return k
		}
	}
	for _, e := range s.Enum {
		if strings.EqualFold(e, v) {
			return e
		}
	}
	return v
}

// value returns a variable's current default in PJL form.
func (st *pjlState) value(name string) (string, bool) {
	v, ok := st.vars[name]
	if !ok {
		return "", false
	}
	if v.setting != nil {
		cur, ok := st.p.Setting(v.setting.Name)
		if !ok {
			return "", false
		}
		return toDevice(v.pjl, cur), true
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.native[name], true
}

// setDefault applies `DEFAULT name=value`. A value the printer does not
// accept is ignored, as printers do; the error only goes to the log.
func (st *pjlState) setDefault(name, value string) error {
	v, ok := st.vars[name]
	if !ok {
		return fmt.Errorf("unknown variable %q", name)
	}
	if v.setting != nil {
		return st.p.SetSetting(v.setting.Name, fromDevice(v.setting, v.pjl, value))
	}
	canon, ok := v.accept(value)
	if !ok {
		return fmt.Errorf("%s: %q is not allowed", name, value)
	}
	st.mu.Lock()
	st.native[name] = canon
	st.mu.Unlock()
	return nil
}

func (v *pjlVar) accept(value string) (string, bool) {
	switch v.kind {
	case "ENUMERATED":
		for _, o := range v.options {
			if strings.EqualFold(o, value) {
				return o, true
			}
		}
		return "", false
	case "RANGE":
		n, err := strconv.ParseInt(value, 10, 64)
		lo, _ := strconv.ParseInt(v.options[0], 10, 64)
		hi, _ := strconv.ParseInt(v.options[1], 10, 64)
		if err != nil || n < lo || n > hi {
			return "", false
		}
		return strconv.FormatInt(n, 10), true
	}
	return value, len(value) <= 255
}

func (st *pjlState) nextJob() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.jobs++
	return st.jobs
}

// servePJL accepts connections until ln is closed or ctx is done; then it
// closes every open connection and waits for their handlers.
func servePJL(ctx context.Context, p *Printer, ln net.Listener) error {
	st := newPJLState(p)
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	closeAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range conns {
			c.Close()
		}
	}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		closeAll()
	})
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				// Out of descriptors or an aborted handshake: the
				// listener is still good, so wait a little and go on.
				p.logf("pjl: accept: %v", err)
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			closeAll()
			wg.Wait()
			return err
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			pc := pjlConn{c: c, end: time.Now().Add(pjlLifetime)}
			s := &pjlStream{st: st, r: bufio.NewReaderSize(pc, 64<<10), w: pc}
			if err := s.run(); err != nil && !errors.Is(err, errPJLRestart) && ctx.Err() == nil {
				p.logf("pjl: %v", err)
			}
		})
	}
}

// pjlConn refreshes the deadline before each read and write, so a silent
// client is dropped after pjlIdle, and never past the connection's end.
type pjlConn struct {
	c   net.Conn
	end time.Time
}

func (c pjlConn) Read(b []byte) (int, error) {
	c.c.SetReadDeadline(minTime(time.Now().Add(pjlIdle), c.end))
	return c.c.Read(b)
}

func (c pjlConn) Write(b []byte) (int, error) {
	c.c.SetWriteDeadline(minTime(time.Now().Add(pjlIdle), c.end))
	return c.c.Write(b)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// pjlStream interprets one connection's byte stream. It reads from r and
// answers on w; it never panics on any input.
type pjlStream struct {
	st      *pjlState
	r       *bufio.Reader
	w       io.Writer
	jobName string
}

// run interprets the stream until EOF. The stream starts in PJL when it
// starts with a UEL or "@PJL", otherwise with print data.
func (s *pjlStream) run() error {
	for {
		b, err := s.r.Peek(1)
		if err != nil {
			return ignoreEOF(err)
		}
		switch {
		case b[0] == 0x1b:
			head, _ := s.r.Peek(len(pjlUEL))
			if string(head) == pjlUEL {
				s.r.Discard(len(pjlUEL))
				continue
			}
			if err := s.data(); err != nil {
				return err
			}
		case isBlank(b[0]):
			// Blank lines between commands are skipped; blanks that lead
			// into data belong to the data.
			n, err := s.blanks()
			if err != nil {
				return ignoreEOF(err)
			}
			if n < 0 {
				if err := s.data(); err != nil {
					return err
				}
				continue
			}
			s.r.Discard(n)
		default:
			head, _ := s.r.Peek(4)
			if string(head) != "@PJL" {
				if err := s.data(); err != nil {
					return err
				}
				continue
			}
			line, err := s.line()
			if line != "" {
				if werr := s.command(line); werr != nil {
					return werr
				}
			}
			if err != nil {
				return ignoreEOF(err)
			}
		}
	}
}

// errPJLRestart ends a connection because the printer restarts.
var errPJLRestart = errors.New("printer restarting")

func isBlank(c byte) bool { return c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '\f' }

// blanks counts the blanks ahead when a UEL or "@PJL" follows them, and
// returns -1 when data follows. At EOF after blanks it returns io.EOF.
func (s *pjlStream) blanks() (int, error) {
	n := 0
	for {
		buf, err := s.r.Peek(n + 1)
		for n < len(buf) && isBlank(buf[n]) {
			n++
		}
		if n < len(buf) {
			rest, _ := s.r.Peek(n + len(pjlUEL))
			next := string(rest[n:])
			if strings.HasPrefix(next, "@PJL") || strings.HasPrefix(next, pjlUEL) {
				return n, nil
			}
			return -1, nil
		}
		if err == bufio.ErrBufferFull {
			return -1, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func ignoreEOF(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// line reads a command line up to LF (consumed) or ESC (left for run).
// A line longer than pjlMaxLine comes back empty: it is skipped whole.
func (s *pjlStream) line() (string, error) {
	var line []byte
	over := false
	for {
		if s.r.Buffered() == 0 {
			if _, err := s.r.Peek(1); err != nil {
				if over {
					line = nil
				}
				return strings.TrimRight(string(line), "\r"), err
			}
		}
		buf, _ := s.r.Peek(s.r.Buffered())
		i := bytes.IndexAny(buf, "\n\x1b")
		end := i
		if i < 0 {
			end = len(buf)
		}
		if len(line)+end > pjlMaxLine {
			over = true
		} else {
			line = append(line, buf[:end]...)
		}
		switch {
		case i < 0:
			s.r.Discard(len(buf))
			continue
		case buf[i] == '\n':
			s.r.Discard(i + 1)
		default:
			s.r.Discard(i)
		}
		if over {
			return "", nil
		}
		return strings.TrimRight(string(line), "\r"), nil
	}
}

// data reads print data up to the next UEL (consumed) or EOF and records
// it as a received file.
func (s *pjlStream) data() error {
	var buf []byte
	var size int
	over := false
	take := func(b []byte) {
		size += len(b)
		if size > pjlMaxJob {
			over, buf = true, nil
			return
		}
		buf = append(buf, b...)
	}
	var end error
	for {
		if s.r.Buffered() == 0 {
			if _, err := s.r.Peek(1); err != nil {
				end = err
				break
			}
		}
		chunk, _ := s.r.Peek(s.r.Buffered())
		i := bytes.IndexByte(chunk, 0x1b)
		if i < 0 {
			take(chunk)
			s.r.Discard(len(chunk))
			continue
		}
		take(chunk[:i])
		s.r.Discard(i)
		head, err := s.r.Peek(len(pjlUEL))
		if string(head) == pjlUEL {
			s.r.Discard(len(pjlUEL))
			break
		}
		if err != nil && len(head) < len(pjlUEL) && !bytes.HasPrefix([]byte(pjlUEL), head) {
			err = nil // not a UEL prefix: plain data
		}
		if err != nil {
			take(head)
			s.r.Discard(len(head))
			end = err
			break
		}
		take(head[:1])
		s.r.Discard(1)
	}
	if end != nil && end != io.EOF {
		return end // a broken connection: the stream is incomplete
	}
	// At EOF the stream ended the data; run then sees EOF itself.
	name := s.jobName
	s.jobName = ""
	if name == "" {
		// A raw stream has no name; like a printer, tell a firmware image
		// by its content.
		ext := ".prn"
		if bytes.HasPrefix(buf, []byte(FirmwareMagic)) {
			ext = ".fls"
		}
		name = fmt.Sprintf("job-%d%s", s.st.nextJob(), ext)
	}
	p := s.st.p
	switch {
	case p.Offline():
	case over:
		p.logf("pjl: %s: %d bytes exceed the %d byte limit; dropped", name, size, pjlMaxJob)
		if err := s.status(40000, "JOB TOO LARGE"); err != nil {
			return err
		}
	case size > 0:
		if err := p.receiveFile(name, "pjl", buf); err != nil {
			p.logf("pjl: %s: %v", name, err)
			if werr := s.status(40000, err.Error()); werr != nil {
				return werr
			}
		}
		if p.Offline() {
			// An installed image restarts the printer: the connection
			// drops, as on a device.
			return errPJLRestart
		}
	}
	return nil
}

// status sends an unsolicited device status: how the printer tells a
// client that a job or image was rejected.
func (s *pjlStream) status(code int, display string) error {
	return s.reply(fmt.Sprintf("@PJL USTATUS DEVICE\r\nCODE=%d\r\nDISPLAY=%s\r\nONLINE=TRUE", code, pjlQuote(display, true)))
}

// reply writes one answer block, ended by a form feed. An offline printer
// stays silent.
func (s *pjlStream) reply(text string) error {
	if s.st.p.Offline() {
		return nil
	}
	_, err := io.WriteString(s.w, text+"\r\n\f")
	return err
}

// pjlQuote puts a value in double quotes when it is not a plain word (or
// always): quotes and control characters are dropped, as a PJL string
// cannot hold them.
func pjlQuote(v string, always bool) string {
	plain := v != ""
	var b strings.Builder
	for _, r := range v {
		if r < ' ' || r == '"' || r == 0x7f {
			continue
		}
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_+:", r)) {
			plain = false
		}
		b.WriteRune(r)
	}
	if plain && !always {
		return b.String()
	}
	return `"` + b.String() + `"`
}

func pjlUnquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// command runs one "@PJL ..." line.
func (s *pjlStream) command(line string) error {
	rest := line[len("@PJL"):]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return nil // "@PJLX": not a PJL command
	}
	word, args, _ := strings.Cut(strings.TrimSpace(rest), " ")
	args = strings.TrimSpace(args)
	st := s.st
	if st.p.Offline() {
		return nil
	}
	switch strings.ToUpper(word) {
	case "ECHO":
		if args == "" {
			return s.reply("@PJL ECHO")
		}
		// Verbatim, less control characters: a form feed would end the
		// reply block early.
		return s.reply("@PJL ECHO " + strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return ' '
			}
			return r
		}, args))
	case "INFO":
		return s.info(pjlName(args))
	case "DINQUIRE", "INQUIRE":
		name := pjlName(args)
		v, ok := st.value(name)
		if !ok {
			return s.reply("@PJL " + strings.ToUpper(word) + " " + name + "\r\n?")
		}
		return s.reply("@PJL " + strings.ToUpper(word) + " " + name + "\r\n" + pjlQuote(v, false))
	case "DEFAULT":
		name, value, ok := strings.Cut(args, "=")
		if !ok {
			return nil
		}
		if err := st.setDefault(pjlName(name), pjlUnquote(value)); err != nil {
			st.p.logf("pjl: DEFAULT ignored: %v", err)
		}
	case "JOB":
		s.jobName = jobName(args)
	case "EOJ":
		s.jobName = ""
	case "ENTER":
		// "ENTER LANGUAGE=x": what follows is print data.
		if strings.HasPrefix(strings.ToUpper(args), "LANGUAGE") {
			return s.data()
		}
	}
	// SET (job scope only), USTATUS, RESET and the rest change nothing
	// here; unknown commands are ignored, as printers do.
	return nil
}

// jobName takes NAME="…" from a JOB command, reduced to a safe file name.
func jobName(args string) string {
	i := strings.Index(pjlUpper(args), "NAME")
	if i < 0 {
		return ""
	}
	v := strings.TrimSpace(args[i+4:])
	v, ok := strings.CutPrefix(v, "=")
	if !ok {
		return ""
	}
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, `"`) {
		if j := strings.IndexByte(v[1:], '"'); j >= 0 {
			v = v[1 : j+1]
		} else {
			v = v[1:]
		}
	} else if f := strings.Fields(v); len(f) > 0 {
		v = f[0]
	}
	var b strings.Builder
	for _, r := range v {
		if b.Len() >= 64 {
			break
		}
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	return strings.TrimLeft(b.String(), ".")
}

// pjlUpper upper-cases ASCII letters only, so byte offsets into the
// result are offsets into s (strings.ToUpper may change the length of
// text that is not valid UTF-8).
func pjlUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func (s *pjlStream) info(category string) error {
	st := s.st
	var b strings.Builder
	b.WriteString("@PJL INFO " + category + "\r\n")
	switch category {
	case "ID":
		b.WriteString(pjlQuote(st.p.Model(), true))
	case "STATUS":
		b.WriteString("CODE=10001\r\nDISPLAY=\"READY\"\r\nONLINE=TRUE")
	case "CONFIG":
		f := st.p.id.fam
		trays := []string{"INTRAY1"}
		if f.mpTray > 0 {
			trays = append(trays, "MPTRAY")
		}
		writeEntry(&b, "IN TRAYS", "", false, "ENUMERATED", trays)
		writeEntry(&b, "OUT TRAYS", "", false, "ENUMERATED", []string{"UPPER"})
		writeEntry(&b, "LANGUAGES", "", false, "ENUMERATED", []string{"PCL", "POSTSCRIPT"})
		writeEntry(&b, "USTATUS", "", false, "ENUMERATED", []string{"DEVICE", "JOB", "PAGE", "TIMED"})
		b.WriteString("DUPLEX\r\nMEMORY=1073741824\r\nDISPLAY LINES=4\r\nDISPLAY CHARACTER SIZE=32")
	case "VARIABLES":
		names := make([]string, 0, len(st.vars))
		for n := range st.vars {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			v, ok := st.value(n)
			if !ok {
				continue // the family does not support the bound setting
			}
			d := st.vars[n]
			writeEntry(&b, n, pjlQuote(v, d.kind == ""), true, d.kind, d.options)
		}
	default:
		b.WriteString("?")
	}
	return s.reply(strings.TrimRight(b.String(), "\r\n"))
}

func writeEntry(b *strings.Builder, name, value string, hasValue bool, kind string, options []string) {
	b.WriteString(name)
	if hasValue {
		b.WriteString("=" + value)
	}
	if kind != "" && len(options) > 0 {
		fmt.Fprintf(b, " [%d %s]", len(options), kind)
	}
	b.WriteString("\r\n")
	if kind == "" {
		return
	}
	for _, o := range options {
		b.WriteString("\t" + o + "\r\n")
	}
}
