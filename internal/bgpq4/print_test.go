package bgpq4

import (
	"net/netip"
	"testing"
)

// Expected strings are glibc inet_ntop's (checked with Python's socket.inet_ntop, which
// calls it), which bgpq4 uses to print addresses.
func TestAppendAddr(t *testing.T) {
	tests := map[string]string{
		"::":                     "::",
		"::1":                    "::1",
		"::ffff:1.2.3.4":         "::ffff:1.2.3.4",
		"::1.2.3.4":              "::1.2.3.4",
		"1::":                    "1::",
		"1:0:0:1::":              "1:0:0:1::",
		"1:0:0:2:0:0:3:4":        "1::2:0:0:3:4",
		"1:0:2:3:4:5:6:7":        "1:0:2:3:4:5:6:7",
		"::ffff:0:1.2.3.4":       "::ffff:0:102:304",
		"0:0:0:0:0:1:0:0":        "::1:0:0",
		"::2:3:4:5:6:7":          "::2:3:4:5:6:7",
		"2001:db8::1:0:0:1":      "2001:db8::1:0:0:1",
		"::2":                    "::2",
		"fe80::":                 "fe80::",
		"::ffff:0.0.0.0":         "::ffff:0.0.0.0",
		"0:0:0:0:0:fffe:1.2.3.4": "::fffe:102:304",
		"192.0.2.1":              "192.0.2.1",
		"0.0.0.0":                "0.0.0.0",
	}
	for in, want := range tests {
		a := netip.MustParseAddr(in)
		if got := string(appendAddr(nil, a)); got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}

func TestParsePrefixC(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when refused
	}{
		{"10.0.0.1/24", "10.0.0.0/24"},
		{"010.000.000.000/24", "8.0.0.0/24"},
		{"0x0a.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3", "10.1.2.3/32"},
		{"10.0.0.0/33", "10.0.0.0/32"},
		{"10.0.0.0/-1", "10.0.0.0/32"},
		{"10.0.0.0/", "0.0.0.0/0"},
		{"10.0.0.0/24x", ""},
		{"2001:db8::1/32", "2001:db8::/32"},
		{"2001:db8::/129", "2001:db8::/128"},
		{"fe80::1%eth0/64", ""},
		{"fltr-foo", ""},
		{"AS3000", ""},
		{"256.0.0.0/8", ""},
	}
	for _, tc := range tests {
		r := &runner{c: &config{}, errw: discard{}}
		p, ok := r.parsePrefix(tc.in)
		got := ""
		if ok {
			got = p.String()
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
