package providers

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestUploadReader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		src     string
		size    int64
		wantErr error
	}{
		{"exact", "hello world", 11, nil},
		{"short", "hello", 11, io.ErrUnexpectedEOF},
		{"long", "hello world!", 11, ErrSourceLonger},
		{"empty", "", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last int64
			fails := 0
			u := NewUploadReader(strings.NewReader(tc.src), tc.size, func(n int64) { last = n }, func() { fails++ })
			got, err := io.ReadAll(u)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadAll error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && string(got) != tc.src {
				t.Fatalf("read %q, want %q", got, tc.src)
			}
			if last != u.Sent() || u.Sent() != int64(len(got)) {
				t.Fatalf("progress %d, Sent %d, read %d", last, u.Sent(), len(got))
			}
			if want := map[bool]int{true: 0, false: 1}[tc.wantErr == nil]; fails != want {
				t.Fatalf("onFail called %d times, want %d", fails, want)
			}
		})
	}
}
