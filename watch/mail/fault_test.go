package mail_test

// Fault shapes Mailpit cannot make, against in-process servers: go-smtp
// (a complete SMTP server whose session the test scripts) and, where the
// fault is in the protocol itself, a few raw lines on a socket.

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/inkform/inkform/alerts"
	"github.com/inkform/inkform/watch"
	"github.com/inkform/inkform/watch/mail"
)

// session is a go-smtp session whose replies the test chooses.
type session struct {
	rcpt func(to string) error
	data func(r io.Reader) error
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error {
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.rcpt != nil {
		return s.rcpt(to)
	}
	return nil
}
func (s *session) Data(r io.Reader) error {
	if s.data != nil {
		return s.data(r)
	}
	_, err := io.Copy(io.Discard, r)
	return err
}

// startGoSMTP serves s on a loopback port and returns an smtp block for it.
func startGoSMTP(t *testing.T, s *session) alerts.SMTP {
	t.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return s, nil }))
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return alerts.SMTP{
		Host:       "127.0.0.1",
		Port:       l.Addr().(*net.TCPAddr).Port,
		Encryption: alerts.EncryptionNone,
		From:       "inkform@example.test",
		Timeout:    5 * time.Second,
	}
}

// TestSilentAfterData: a server that takes the message and never answers
// the end of DATA is given up after the timeout, as a temporary error.
func TestSilentAfterData(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	got := make(chan struct{}, 1)
	cfg := startGoSMTP(t, &session{data: func(r io.Reader) error {
		io.Copy(io.Discard, r)
		got <- struct{}{}
		<-release
		return nil
	}})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	cfg.Timeout = 300 * time.Millisecond
	n := newNotifier(t, cfg)
	start := time.Now()
	err := n.Send(ctxFor(t), alertMessage("silent-after-data"))
	elapsed := time.Since(start)
	assertTemporary(t, err, "no answer within 300ms")
	select {
	case <-got:
	default:
		t.Error("the server never got the message: the fault was not the one meant")
	}
	if elapsed > 5*time.Second {
		t.Errorf("Send took %s with a timeout of 300ms", elapsed)
	}
}

// TestContextEndsWait: the caller's context ends a wait long before the
// timeout would.
func TestContextEndsWait(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	cfg := startGoSMTP(t, &session{data: func(r io.Reader) error {
		io.Copy(io.Discard, r)
		<-release
		return nil
	}})
	t.Cleanup(func() { close(release) })
	cfg.Timeout = time.Minute
	n := newNotifier(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := n.Send(ctx, alertMessage("ctx-ends"))
	assertTemporary(t, err, "deadline exceeded")
	if strings.Contains(err.Error(), "no answer within") {
		t.Errorf("error blames the server's timeout, not the caller's deadline: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Send took %s after its context ended at 300ms", elapsed)
	}
}

// TestCancelEndsWait: cancelling the caller's context interrupts a wait
// in progress (the timeout is a minute).
func TestCancelEndsWait(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	got := make(chan struct{}, 1)
	cfg := startGoSMTP(t, &session{data: func(r io.Reader) error {
		io.Copy(io.Discard, r)
		got <- struct{}{}
		<-release
		return nil
	}})
	t.Cleanup(func() { close(release) })
	cfg.Timeout = time.Minute
	n := newNotifier(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-got // the client now waits for the reply to its data
		cancel()
	}()
	start := time.Now()
	assertTemporary(t, n.Send(ctx, alertMessage("cancelled")), "context canceled")
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Send took %s after its context was cancelled", elapsed)
	}
}

// TestRefusals: 5xx replies to the message are permanent, 4xx temporary.
func TestRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		s         *session
		permanent bool
		text      []string
	}{
		{"data 554", &session{data: func(r io.Reader) error {
			io.Copy(io.Discard, r)
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}
		}}, true, []string{"554", "content rejected"}},
		{"data 452", &session{data: func(r io.Reader) error {
			io.Copy(io.Discard, r)
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "mailbox full"}
		}}, false, []string{"452"}},
		{"rcpt 550", &session{rcpt: func(to string) error {
			if to == "lab@example.test" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		}}, true, []string{"550", "lab@example.test"}},
		{"rcpt 450", &session{rcpt: func(string) error {
			return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "greylisted"}
		}}, false, []string{"450", "greylisted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNotifier(t, startGoSMTP(t, tc.s))
			err := n.Send(ctxFor(t), alertMessage("refusal"))
			if tc.permanent {
				assertPermanent(t, err, tc.text...)
			} else {
				assertTemporary(t, err, tc.text...)
			}
		})
	}
}

// scripted is a raw SMTP server that answers one session with the lines
// reply returns; a reply of "" closes the connection without answering.
func scripted(t *testing.T, reply func(cmd string) string) alerts.SMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		r := bufio.NewReader(c)
		fmt.Fprintf(c, "220 localhost ESMTP\r\n")
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if inData {
				if line != "." {
					continue
				}
				inData = false
				line = "<end of data>"
			}
			out := reply(line)
			if out == "" {
				return
			}
			if _, err := io.WriteString(c, out+"\r\n"); err != nil {
				return
			}
			if strings.HasPrefix(out, "354") {
				inData = true
			}
		}
	}()
	return alerts.SMTP{
		Host:       "127.0.0.1",
		Port:       l.Addr().(*net.TCPAddr).Port,
		Encryption: alerts.EncryptionNone,
		From:       "inkform@example.test",
		Timeout:    5 * time.Second,
	}
}

func standardReply(cmd string) string {
	switch verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0]); verb {
	case "EHLO":
		return "250-localhost\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME"
	case "MAIL", "RCPT", "<END":
		return "250 2.0.0 ok"
	case "DATA":
		return "354 go ahead"
	case "QUIT":
		return "221 bye"
	}
	return "502 5.5.2 not implemented"
}

// TestAcceptedThenDropped: once the server accepted the message, a
// connection lost at QUIT is no failure: a retry would send it twice.
func TestAcceptedThenDropped(t *testing.T) {
	t.Parallel()
	accepted := make(chan struct{}, 1)
	cfg := scripted(t, func(cmd string) string {
		switch {
		case cmd == "<end of data>":
			accepted <- struct{}{}
			return "250 2.0.0 queued as 1"
		case strings.HasPrefix(cmd, "QUIT"):
			return "" // hang up without a word
		}
		return standardReply(cmd)
	})
	if err := newNotifier(t, cfg).Send(ctxFor(t), alertMessage("accepted-then-dropped")); err != nil {
		t.Fatalf("Send = %v, want nil: the server accepted the message", err)
	}
	select {
	case <-accepted:
	default:
		t.Fatal("the server never accepted the message: the fault was not the one meant")
	}
}

// TestDroppedBeforeReply: a connection lost after the data but before the
// server's reply is temporary (the message may or may not have been
// taken; the Message-ID lets a reader tell a resend).
func TestDroppedBeforeReply(t *testing.T) {
	t.Parallel()
	cfg := scripted(t, func(cmd string) string {
		if cmd == "<end of data>" {
			return ""
		}
		return standardReply(cmd)
	})
	assertTemporary(t, newNotifier(t, cfg).Send(ctxFor(t), alertMessage("dropped")), "EOF")
}

// TestSilentGreeting: a server that accepts the connection and never
// greets is given up after the timeout.
func TestSilentGreeting(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		<-done
		c.Close()
	}()
	n := newNotifier(t, alerts.SMTP{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port,
		Encryption: alerts.EncryptionNone, From: "inkform@example.test", Timeout: 200 * time.Millisecond})
	start := time.Now()
	assertTemporary(t, n.Check(ctxFor(t)), "no answer within 200ms")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Check took %s with a timeout of 200ms", elapsed)
	}
}

// TestPasswordEchoRedacted: a server that echoes the credentials in its
// refusal does not get them into the error.
func TestPasswordEchoRedacted(t *testing.T) {
	t.Parallel()
	cfg := scripted(t, func(cmd string) string {
		if strings.HasPrefix(cmd, "AUTH PLAIN ") {
			b64 := strings.TrimPrefix(cmd, "AUTH PLAIN ")
			raw, _ := base64.StdEncoding.DecodeString(b64)
			return "535 5.7.8 refused " + b64 + " " + strings.ReplaceAll(string(raw), "\x00", " ")
		}
		return standardReply(cmd)
	})
	cfg.Username, cfg.Password = testUser, testPassword
	err := newNotifier(t, cfg).Send(ctxFor(t), alertMessage("echo"))
	assertTemporary(t, err, "535", "(redacted)")
	if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte("\x00"+testUser+"\x00"+testPassword))) {
		t.Errorf("the encoded credentials are in the error: %v", err)
	}
}

// TestAuthLogin: a server that offers only LOGIN gets LOGIN, with the
// username and password it asks for.
func TestAuthLogin(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	var mu sync.Mutex
	var got []string
	step := 0
	cfg := scripted(t, func(cmd string) string {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			return "250-localhost\r\n250-AUTH LOGIN\r\n250 8BITMIME"
		case cmd == "AUTH LOGIN" || strings.HasPrefix(cmd, "AUTH LOGIN "):
			step = 1
			got = append(got, cmd)
			return "334 " + b64("Username:")
		case step == 1:
			step = 2
			got = append(got, cmd)
			return "334 " + b64("Password:")
		case step == 2:
			step = 0
			got = append(got, cmd)
			return "235 2.7.0 authenticated"
		}
		return standardReply(cmd)
	})
	cfg.Username, cfg.Password = testUser, testPassword
	if err := newNotifier(t, cfg).Send(ctxFor(t), alertMessage("login")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[1] != b64(testUser) || got[2] != b64(testPassword) {
		t.Errorf("AUTH LOGIN exchange %q", got)
	}
}

// TestNoAuthOffered: a username is configured and the server offers no
// AUTH: sending unauthenticated instead would hide the mistake.
func TestNoAuthOffered(t *testing.T) {
	t.Parallel()
	cfg := scripted(t, func(cmd string) string {
		if strings.HasPrefix(cmd, "EHLO") {
			return "250-localhost\r\n250 8BITMIME"
		}
		if strings.HasPrefix(cmd, "MAIL") {
			t.Error("MAIL FROM without the configured AUTH")
		}
		return standardReply(cmd)
	})
	cfg.Username, cfg.Password = testUser, testPassword
	assertTemporary(t, newNotifier(t, cfg).Send(ctxFor(t), alertMessage("no-auth")), "AUTH")
}

// TestNew checks the smtp block before anything is sent.
func TestNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := dir + "/not.pem"
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := alerts.SMTP{Host: "mail.example.test", Encryption: alerts.EncryptionSTARTTLS, From: "inkform@example.test"}
	for _, tc := range []struct {
		name     string
		edit     func(*alerts.SMTP)
		wantAddr string
		wantErr  string
	}{
		{"starttls default port", func(*alerts.SMTP) {}, "mail.example.test:587", ""},
		{"ssl default port", func(c *alerts.SMTP) { c.Encryption = alerts.EncryptionSSL }, "mail.example.test:465", ""},
		{"none default port", func(c *alerts.SMTP) { c.Encryption = alerts.EncryptionNone }, "mail.example.test:25", ""},
		{"explicit port", func(c *alerts.SMTP) { c.Port = 2525 }, "mail.example.test:2525", ""},
		{"no host", func(c *alerts.SMTP) { c.Host = " " }, "", "host is empty"},
		{"unknown encryption", func(c *alerts.SMTP) { c.Encryption = "tls" }, "", `encryption "tls"`},
		{"empty encryption", func(c *alerts.SMTP) { c.Encryption = "" }, "", `encryption ""`},
		{"port out of range", func(c *alerts.SMTP) { c.Port = 70000 }, "", "port 70000"},
		{"negative timeout", func(c *alerts.SMTP) { c.Timeout = -time.Second }, "", "negative"},
		{"bad from", func(c *alerts.SMTP) { c.From = "not an address" }, "", "from"},
		{"password without user", func(c *alerts.SMTP) { c.Password = "x" }, "", "without a username"},
		{"clear password over the network", func(c *alerts.SMTP) {
			c.Encryption, c.Username, c.Password = alerts.EncryptionNone, "u", "secret-pw"
		}, "", "in clear"},
		{"clear password to a loopback relay", func(c *alerts.SMTP) {
			c.Host, c.Encryption, c.Username, c.Password = "127.0.0.1", alerts.EncryptionNone, "u", "p"
		}, "127.0.0.1:25", ""},
		{"clear password to localhost", func(c *alerts.SMTP) {
			c.Host, c.Encryption, c.Username, c.Password = "localhost", alerts.EncryptionNone, "u", "p"
		}, "localhost:25", ""},
		{"missing ca_cert", func(c *alerts.SMTP) { c.CACertFile = dir + "/missing.pem" }, "", "ca_cert"},
		{"ca_cert without PEM", func(c *alerts.SMTP) { c.CACertFile = notPEM }, "", "no PEM certificate"},
		{"ca_cert without TLS", func(c *alerts.SMTP) {
			c.Encryption, c.CACertFile = alerts.EncryptionNone, notPEM
		}, "", "uses no TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			n, err := mail.New(cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New = %v, want an error saying %q", err, tc.wantErr)
				}
				if cfg.Password != "" && strings.Contains(err.Error(), cfg.Password) {
					t.Errorf("the password is in the error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if n.Addr() != tc.wantAddr {
				t.Errorf("Addr = %s, want %s", n.Addr(), tc.wantAddr)
			}
		})
	}
}

// TestBadMessage: a message that cannot be built is permanent, and nothing
// is dialled for it.
func TestBadMessage(t *testing.T) {
	t.Parallel()
	dialled := make(chan struct{}, 10)
	cfg := scripted(t, func(cmd string) string {
		dialled <- struct{}{}
		return standardReply(cmd)
	})
	n := newNotifier(t, cfg)
	for _, tc := range []struct {
		name string
		edit func(m *watch.Message)
		want string
	}{
		{"no recipients", func(m *watch.Message) { m.To, m.Cc = nil, nil }, "no recipients"},
		{"bad recipient", func(m *watch.Message) { m.To = []string{"helpdesk at example"} }, "to"},
		{"no ID", func(m *watch.Message) { m.ID = "" }, "no ID"},
		{"ID with a space", func(m *watch.Message) { m.ID = "a b" }, "message ID"},
		{"unnamed attachment", func(m *watch.Message) { m.Attachments[0].Name = "" }, "no name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := alertMessage("bad-" + strconv.Itoa(len(tc.name)))
			tc.edit(&m)
			assertPermanent(t, n.Send(ctxFor(t), m), tc.want)
		})
	}
	select {
	case <-dialled:
		t.Error("a bad message reached the server")
	default:
	}
}
