package catalog

import (
	"strings"
	"unicode"
)

// CompareVersions orders two firmware versions of one model family:
// negative when a is older than b, zero when they are the same version,
// positive when a is newer. It is a total order on any strings and never
// panics.
//
// Versions are compared segment by segment, segments being the runs of
// letters and of digits ('.', '_', '-' and other punctuation only separate
// them): digit runs compare as numbers ("230" > "37", "037" == "37"),
// letter runs as text without regard to case, and a digit run sorts before
// a letter run. A version that runs out of segments is older unless what
// remains of the other is only zeros ("1.0" == "1"). This covers every
// family the catalog knows: Lexmark "CXTPC.230.037" (the platform prefix
// compares as text, then the numbers), HP "2409081_000123" (date code,
// then build), Brother and Ricoh "1.07".
func CompareVersions(family, a, b string) int {
	_ = family // all known families share the rule; the parameter keeps room for one that does not
	ta, tb := versionTokens(a), versionTokens(b)
	for i := 0; i < len(ta) || i < len(tb); i++ {
		switch {
		case i >= len(ta):
			return -restSign(tb[i:])
		case i >= len(tb):
			return restSign(ta[i:])
		}
		if c := compareToken(ta[i], tb[i]); c != 0 {
			return c
		}
	}
	return 0
}

// OrderVersions orders two firmware versions as CompareVersions does, but
// only when they are of one firmware line: ok is false when they are not,
// and then nothing says which is newer. A line is named by the letters a
// version starts with, Lexmark's platform prefix: "MSNGM.230.037" (an
// MS821's) and "CXTPC.240.001" are of different lines, and comparing their
// prefixes as text would call one newer for no reason. Versions that start
// with digits (HP date codes, Brother's and Ricoh's "1.07") are of one
// line.
func OrderVersions(family, a, b string) (c int, ok bool) {
	if !strings.EqualFold(versionLine(a), versionLine(b)) {
		return 0, false
	}
	return CompareVersions(family, a, b), true
}

// versionLine is the run of letters a version starts with, "" when it
// starts with a digit.
func versionLine(v string) string {
	t := versionTokens(v)
	if len(t) == 0 || isDigits(t[0]) {
		return ""
	}
	return t[0]
}

// versionTokens splits v into letter and digit runs; digit runs lose their
// leading zeros.
func versionTokens(v string) []string {
	var out []string
	cur := strings.Builder{}
	kind := 0 // 0 none, 1 digits, 2 letters
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		t := cur.String()
		if kind == 1 {
			t = strings.TrimLeft(t, "0")
			if t == "" {
				t = "0"
			}
		}
		out = append(out, t)
		cur.Reset()
		kind = 0
	}
	for _, r := range v {
		k := 0
		switch {
		case r >= '0' && r <= '9':
			k = 1
		case unicode.IsLetter(r):
			k = 2
		}
		if k != kind {
			flush()
		}
		if k != 0 {
			cur.WriteRune(unicode.ToLower(r))
			kind = k
		}
	}
	flush()
	return out
}

func isDigits(t string) bool { return t != "" && t[0] >= '0' && t[0] <= '9' }

func compareToken(a, b string) int {
	da, db := isDigits(a), isDigits(b)
	switch {
	case da && db:
		// Leading zeros are gone, so a longer number is larger; no
		// overflow however long the run.
		if len(a) != len(b) {
			return sign(len(a) - len(b))
		}
		return strings.Compare(a, b)
	case da:
		return -1
	case db:
		return 1
	}
	return strings.Compare(a, b)
}

// restSign is 0 when the remaining tokens are all zeros, else 1.
func restSign(rest []string) int {
	for _, t := range rest {
		if t != "0" {
			return 1
		}
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
