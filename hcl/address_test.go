package hcl

import "testing"

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"10.20.1.21", "10.20.1.21", 161, true},
		{"10.20.1.21:1161", "10.20.1.21", 1161, true},
		{" printer.example.com ", "printer.example.com", 161, true},
		{"Printer.Example.COM.:162", "printer.example.com", 162, true},
		{"fd00::1", "fd00::1", 161, true},
		{"fd00:0:0::1", "fd00::1", 161, true},
		{"[fd00::1]:1161", "fd00::1", 1161, true},
		{"[fd00::1]", "fd00::1", 161, true},
		{"::ffff:10.0.0.1", "10.0.0.1", 161, true},
		{"printer_1", "printer_1", 161, true},
		{"", "", 0, false},
		{"10.0.0.1:0", "", 0, false},
		{"10.0.0.1:65536", "", 0, false},
		{"10.0.0.1:http", "", 0, false},
		{"10.0.0.256", "", 0, false},
		{"[fd00::1]:x", "", 0, false},
		{"[printer]:161", "", 0, false},
		{"fe80::1%eth0", "", 0, false},
		{"-bad.example.com", "", 0, false},
		{"bad..example", "", 0, false},
		{"a b", "", 0, false},
		{"fd00::1:161:x", "", 0, false},
	}
	for _, tt := range tests {
		host, port, err := parseAddress(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseAddress(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (host != tt.host || port != tt.port) {
			t.Errorf("parseAddress(%q) = %q, %d; want %q, %d", tt.in, host, port, tt.host, tt.port)
		}
	}
}
