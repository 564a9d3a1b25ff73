package pjl

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJobFraming(t *testing.T) {
	echo, err := Echo("T1")
	if err != nil {
		t.Fatal(err)
	}
	got := string(Job("@PJL DINQUIRE COPIES", echo))
	want := "\x1b%-12345X@PJL\r\n@PJL DINQUIRE COPIES\r\n@PJL ECHO T1\r\n\x1b%-12345X"
	if got != want {
		t.Fatalf("Job = %q, want %q", got, want)
	}
}

func TestCommandsRefuseWhatPJLCannotCarry(t *testing.T) {
	for _, tok := range []string{"", "a b", "x\r\n@PJL RESET", "\x1b%-12345X"} {
		if _, err := Echo(tok); !errors.Is(err, ErrBadValue) {
			t.Errorf("Echo(%q) error = %v, want ErrBadValue", tok, err)
		}
	}
	for _, v := range []string{"", " COPIES", "A=B", "X\r\nY", `"Q"`} {
		if _, err := DInquire(v); !errors.Is(err, ErrBadValue) {
			t.Errorf("DInquire(%q) error = %v, want ErrBadValue", v, err)
		}
	}
	for _, v := range []string{`say "hi"`, "a\nb", "a\fb", strings.Repeat("x ", 200)} {
		_, err := Default("PAPER", v)
		if !errors.Is(err, ErrBadValue) {
			t.Errorf("Default(PAPER, %q) error = %v, want ErrBadValue", v, err)
		}
		if err != nil && strings.Contains(err.Error(), v) {
			t.Errorf("error repeats the value: %v", err)
		}
	}
}

func TestDefaultQuotesWhenNeeded(t *testing.T) {
	cases := map[string]string{
		"A4":             "@PJL DEFAULT PAPER=A4",
		"ON":             "@PJL DEFAULT PAPER=ON",
		"pool.ntp.org":   "@PJL DEFAULT PAPER=pool.ntp.org",
		"IT Service x40": `@PJL DEFAULT PAPER="IT Service x40"`,
		"":               `@PJL DEFAULT PAPER=""`,
		"it's":           `@PJL DEFAULT PAPER="it's"`,
	}
	for v, want := range cases {
		got, err := Default("PAPER", v)
		if err != nil || got != want {
			t.Errorf("Default(PAPER, %q) = %q, %v; want %q", v, got, err, want)
		}
	}
	if got, _ := Default("LPARM:PCL FONTNUMBER", "0"); got != "@PJL DEFAULT LPARM:PCL FONTNUMBER=0" {
		t.Errorf("personality variable: %q", got)
	}
}

func TestParseReplyLineEndings(t *testing.T) {
	want := []Reply{
		{Command: "DINQUIRE COPIES", Lines: []string{"1"}, Complete: true},
		{Command: "DINQUIRE PAPER", Lines: []string{"?"}, Complete: true},
		{Command: "ECHO T1", Complete: true},
	}
	for name, in := range map[string]string{
		"crlf": "@PJL DINQUIRE COPIES\r\n1\r\n\f@PJL DINQUIRE PAPER\r\n?\r\n\f@PJL ECHO T1\r\n\f",
		"lf":   "@PJL DINQUIRE COPIES\n1\n\f@PJL DINQUIRE PAPER\n?\n\f@PJL ECHO T1\n\f",
		"cr":   "@PJL DINQUIRE COPIES\r1\r\f@PJL DINQUIRE PAPER\r?\r\f@PJL ECHO T1\r\f",
		"noise": "\x1b%-12345X\r\n\f@PJL  DINQUIRE   COPIES\r\n\r\n1\r\n\f\r\n@PJL DINQUIRE PAPER\r\n?\r\n\f" +
			"junk\r\n\f@PJL ECHO T1\f",
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(want, ParseReply([]byte(in))); diff != "" {
				t.Errorf("ParseReply (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplyValue(t *testing.T) {
	cases := []struct {
		lines []string
		want  string
		ok    bool
	}{
		{[]string{"LETTER"}, "LETTER", true},
		{[]string{`"IT Service Desk"`}, "IT Service Desk", true},
		{[]string{" 15 "}, "15", true},
		{[]string{"?"}, "", false},
		{[]string{`"?"`}, "", false},
		{nil, "", false},
	}
	for _, c := range cases {
		v, ok := Reply{Lines: c.lines}.Value()
		if v != c.want || ok != c.ok {
			t.Errorf("Value(%q) = %q, %v; want %q, %v", c.lines, v, ok, c.want, c.ok)
		}
	}
}

func TestParseEntries(t *testing.T) {
	body := "COPIES=1 [2 RANGE]\r\n\t1\r\n\t999\r\n" +
		"PAPER=LETTER [3 ENUMERATED]\r\n\tLETTER\r\n\tA4\r\n\tLEGAL\r\n" +
		"LPARM:PCL FONTSOURCE=I [1 ENUMERATED READONLY]\r\n\tI\r\n" +
		"CONTACT=\"IT Desk [x4000]\"\r\n" +
		"IN TRAYS [2 ENUMERATED]\r\n\tINTRAY1\r\n\tMPTRAY\r\n" +
		"MEMORY=8388608\r\nDUPLEX\r\n"
	got := ParseEntries(ParseReply([]byte("@PJL INFO VARIABLES\r\n" + body + "\f"))[0].Lines)
	want := []Entry{
		{Name: "COPIES", Value: "1", HasValue: true, Kind: "RANGE", Options: []string{"1", "999"}},
		{Name: "PAPER", Value: "LETTER", HasValue: true, Kind: "ENUMERATED", Options: []string{"LETTER", "A4", "LEGAL"}},
		{Name: "LPARM:PCL FONTSOURCE", Value: "I", HasValue: true, Kind: "ENUMERATED", ReadOnly: true, Options: []string{"I"}},
		{Name: "CONTACT", Value: "IT Desk [x4000]", HasValue: true},
		{Name: "IN TRAYS", Kind: "ENUMERATED", Options: []string{"INTRAY1", "MPTRAY"}},
		{Name: "MEMORY", Value: "8388608", HasValue: true},
		{Name: "DUPLEX"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseEntries (-want +got):\n%s", diff)
	}
}

func TestParseEntriesDistrustsCounts(t *testing.T) {
	lines := []string{"\torphan", "A=1 [99999999 ENUMERATED]", "\tx", "B=2 [1 RANGE]", "\t1", "\t2", "\t3"}
	got := ParseEntries(lines)
	if len(got) != 2 || len(got[0].Options) != 1 || len(got[1].Options) != 3 {
		t.Fatalf("ParseEntries = %+v", got)
	}
	many := []string{"A=1 [1 ENUMERATED]"}
	for range maxOptions + 10 {
		many = append(many, "\tv")
	}
	if got := ParseEntries(many); len(got[0].Options) != maxOptions {
		t.Fatalf("options kept = %d, want cap %d", len(got[0].Options), maxOptions)
	}
}

func TestEchoedSkipsForeignEchoes(t *testing.T) {
	stale := "@PJL DINQUIRE COPIES\r\n7\r\n\f@PJL ECHO OLD\r\n\f"
	fresh := "@PJL DINQUIRE COPIES\r\n2\r\n\f"
	if _, ok := echoed([]byte(stale+fresh), "NEW"); ok {
		t.Fatal("echo found before it arrived")
	}
	if _, ok := echoed([]byte(stale+fresh+"@PJL ECHO NEW"), "NEW"); ok {
		t.Fatal("an unended echo line counted: NEW could still become NEWER")
	}
	replies, ok := echoed([]byte(stale+fresh+"@PJL ECHO NEW\r\n"), "NEW")
	if !ok {
		t.Fatal("echo with an ended line but no form feed not accepted")
	}
	if v, _ := answer(replies, "DINQUIRE", "COPIES"); len(replies) != 1 || v != "2" {
		t.Fatalf("replies = %+v; want only this job's answer 2", replies)
	}
}

// FuzzParseReply: any bytes parse without panic, and every block has a
// header and only non-blank lines.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		"@PJL INFO ID\r\n\"Lexmark CX725\"\r\n\f@PJL ECHO T1\r\n\f",
		"@PJL DINQUIRE COPIES\n?\n\f",
		"@PJL INFO VARIABLES\r\nCOPIES=1 [2 RANGE]\r\n\t1\r\n\t999\r\n\f",
		"\x1b%-12345X@PJL USTATUS DEVICE\r\nCODE=40000\r\nDISPLAY=\"X\"\r\n\f",
		"\f\f\f@PJL\f@PJLX\r\n\f@PJL ECHO",
		"\x00\xff\r\r\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range ParseReply(data) {
			if strings.ContainsAny(r.Command, "\r\n\f") {
				t.Fatalf("command %q spans lines", r.Command)
			}
			for _, l := range r.Lines {
				if strings.TrimSpace(l) == "" || strings.ContainsAny(l, "\r\n\f") {
					t.Fatalf("bad line %q", l)
				}
			}
			r.Value()
			ParseEntries(r.Lines)
		}
		echoed(data, "T1")
		statusError(ParseReply(data))
	})
}

// FuzzParseVariables: any lines parse without panic; names are non-empty
// and trimmed, and no entry holds more than maxOptions options.
func FuzzParseVariables(f *testing.F) {
	for _, s := range []string{
		"COPIES=1 [2 RANGE]\n\t1\n\t999",
		"PAPER=LETTER [3 ENUMERATED]\n\tLETTER\n\tA4\n\tLEGAL",
		"LPARM:PCL FONTSOURCE=I [1 ENUMERATED READONLY]\n\tI",
		"IN TRAYS [1 ENUMERATED]\n\tINTRAY1\nMEMORY=8388608",
		"X=\"a [1 b]\" [",
		"[]\n=\n\t\n ]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, e := range ParseEntries(strings.Split(body, "\n")) {
			if e.Name == "" || strings.TrimSpace(e.Name) != e.Name {
				t.Fatalf("entry name %q", e.Name)
			}
			if len(e.Options) > maxOptions {
				t.Fatalf("%d options", len(e.Options))
			}
		}
	})
}
