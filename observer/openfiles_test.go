package observer

import "testing"

func TestInFlightLimit(t *testing.T) {
	for _, tc := range []struct {
		soft uint64
		want int
	}{
		{0, DefaultMaxInFlight}, // unknown
		{1 << 20, DefaultMaxInFlight},
		{filesReserved + filesPerPrinter*DefaultMaxInFlight, DefaultMaxInFlight},
		{1024, (1024 - filesReserved) / filesPerPrinter},
		{100, 9},
		{filesReserved + filesPerPrinter, 1},
		{10, 1},
	} {
		if got := inFlightLimit(tc.soft); got != tc.want {
			t.Errorf("inFlightLimit(%d) = %d, want %d", tc.soft, got, tc.want)
		}
	}
}
