package fleet

import (
	"path/filepath"
	"testing"
)

func TestFileRemoteName(t *testing.T) {
	for _, tc := range []struct {
		f    File
		want string
	}{
		{File{Source: filepath.Join("certs", "ca.pem")}, "ca.pem"},
		{File{Source: filepath.Join("certs", "ca.pem"), Dest: "ssl/ca.pem"}, "ssl/ca.pem"},
		{File{}, ""},
	} {
		if got := tc.f.RemoteName(); got != tc.want {
			t.Errorf("RemoteName(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}
