package testservers

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestKDCKinit(t *testing.T) {
	k := StartKDC(t, KDCOptions{Users: []string{"alice"}})
	env := k.Kinit(t, "alice")
	klist := lookPath(t, "klist")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, klist)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("klist: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "alice@"+KDCRealm) {
		t.Errorf("klist:\n%s", out)
	}
}
