package catalog

import "testing"

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		family, a, b string
		want         int
	}{
		{"lexmark", "CXTPC.221.010", "CXTPC.230.037", -1},
		{"lexmark", "CXTPC.230.037", "CXTPC.230.037", 0},
		{"lexmark", "CXTPC.230.100", "CXTPC.230.037", 1},
		{"lexmark", "CXTPC.230.37", "CXTPC.230.037", 0},
		{"lexmark", "cxtpc.230.037", "CXTPC.230.037", 0},
		{"lexmark", "CXTPC.9.0", "CXTPC.10.0", -1}, // numeric, not textual
		{"hp", "2409081_000123", "2409081_000124", -1},
		{"hp", "2409048_052457", "2409081_000001", -1},
		{"hp", "2510001_000001", "2409081_999999", 1},
		{"brother", "1.07", "1.7", 0},
		{"brother", "1.07", "1.10", -1},
		{"ricoh", "1.0", "1", 0},
		{"ricoh", "1.0.1", "1", 1},
		{"", "1.0a", "1.0", 1},
		{"", "1.0", "1.0a", -1},
		{"", "", "", 0},
		{"", "", "1", -1},
		{"", "99999999999999999999999", "100000000000000000000000", -1}, // no overflow
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.family, tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q, %q) = %d, want %d", tt.family, tt.a, tt.b, got, tt.want)
		}
		if got := CompareVersions(tt.family, tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q, %q) = %d, want %d", tt.family, tt.b, tt.a, got, -tt.want)
		}
	}
}

// FuzzCompareVersions checks that the ordering is total: reflexive,
// antisymmetric and transitive, with results in {-1, 0, 1}, on any input.
func FuzzCompareVersions(f *testing.F) {
	seeds := [][3]string{
		{"CXTPC.221.010", "CXTPC.230.037", "CXTPC.230.37"},
		{"2409081_000123", "2409048_052457", "2409081_123"},
		{"1.07", "1.7", "1.10"},
		{"1", "1.0", "1.0a"},
		{"", "0", "a"},
		{"\xff\xfe", "1.\u00e9", "01.A"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, ba := CompareVersions("", a, b), CompareVersions("", b, a)
		if ab < -1 || ab > 1 {
			t.Fatalf("CompareVersions(%q, %q) = %d, not in -1..1", a, b, ab)
		}
		if ab != -ba {
			t.Fatalf("not antisymmetric: (%q, %q) = %d, reversed %d", a, b, ab, ba)
		}
		if CompareVersions("", a, a) != 0 {
			t.Fatalf("%q is not equal to itself", a)
		}
		bc, ac := CompareVersions("", b, c), CompareVersions("", a, c)
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
		if ab == 0 && bc == 0 && ac != 0 {
			t.Fatalf("equality not transitive: %q == %q == %q but (%q, %q) = %d", a, b, c, a, c, ac)
		}
	})
}

func TestOrderVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
		ok   bool
	}{
		{"CXTPC.221.010", "CXTPC.230.037", -1, true},
		{"cxtpc.230.037", "CXTPC.230.37", 0, true},
		{"MSNGM.230.037", "LXTEST.240.001", 0, false}, // an MS821's line is not the test line
		{"MSNGM.230.037", "CXTPC.230.037", 0, false},
		{"2409081_000123", "2510001_000001", -1, true},
		{"1.07", "1.10", -1, true},
		{"1.07", "CXTPC.230.037", 0, false},
		{"Q", "Z", 0, false}, // letters only: no numbers to order by
		{"", "", 0, true},
	}
	for _, tt := range tests {
		got, ok := OrderVersions("", tt.a, tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("OrderVersions(%q, %q) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
		if back, okBack := OrderVersions("", tt.b, tt.a); back != -tt.want || okBack != tt.ok {
			t.Errorf("OrderVersions(%q, %q) = %d, %v; want %d, %v", tt.b, tt.a, back, okBack, -tt.want, tt.ok)
		}
	}
}
