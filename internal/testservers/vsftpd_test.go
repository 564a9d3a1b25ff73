package testservers

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestStartVsftpdLogsIn(t *testing.T) {
	v := StartVsftpd(t)
	c, err := net.DialTimeout("tcp", v.Addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	expect := func(code string) {
		t.Helper()
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read reply: %v", err)
		}
		if !strings.HasPrefix(line, code) {
			t.Fatalf("reply %q, want %s", strings.TrimSpace(line), code)
		}
	}
	expect("220")
	fmt.Fprintf(c, "USER %s\r\n", v.User)
	expect("331")
	fmt.Fprintf(c, "PASS %s\r\n", v.Password)
	expect("230")
	fmt.Fprintf(c, "PWD\r\n")
	line, err := r.ReadString('\n')
	if err != nil || !strings.Contains(line, v.Dir) {
		t.Fatalf("PWD = %q (%v), want the home %s", line, err, v.Dir)
	}
}
