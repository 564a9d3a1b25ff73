package testservers

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestSlapdMemberOf(t *testing.T) {
	s := StartSlapd(t, SlapdOptions{})
	bin := lookPath(t, "ldapsearch")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-x", "-LLL", "-H", s.URL, "-D", s.UserDN("erin"), "-w", s.Passwords["erin"],
		"-b", s.UserDN("erin"), "-s", "base", "memberOf").CombinedOutput()
	if err != nil {
		t.Fatalf("ldapsearch: %v: %s", err, out)
	}
	for _, g := range []string{SlapdAdmins, SlapdViewers} {
		if !strings.Contains(string(out), "memberOf: "+g) {
			t.Errorf("erin lacks memberOf %s:\n%s", g, out)
		}
	}
}
