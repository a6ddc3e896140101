package irr

import (
	"net/netip"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// TestRPSLNormalisation: the spellings IRRd normalises are read, the rest stays an error.
func TestRPSLNormalisation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want routing.ASN
		ok   bool
	}{
		{"as065537", 65537, true}, {"AS00", 0, true}, {"AS0064496", 64496, true}, {"AS64496", 64496, true},
		{"AS04294967296", 0, false}, {"AS0x1", 0, false}, {"AS-064496", 0, false}, {"64496", 0, false},
	} {
		got, err := parseRPSLASN(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseRPSLASN(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"192.0.02.0/24", "192.0.2.0/24"}, {"010.000.000.000/8", "10.0.0.0/8"}, {"192.0.2.0/24", "192.0.2.0/24"},
		{"2001:0db8::/32", "2001:db8::/32"},
		{"192.0.2.0256/24", ""}, {"192.0.0002.0/24", ""}, {"192.0.2/24", ""}, {"192.0.2.0/024x", ""}, {"192.0.2.0", ""},
	} {
		got, err := parseRPSLPrefix(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("parseRPSLPrefix(%q) = %s, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != netip.MustParsePrefix(tc.want) {
			t.Errorf("parseRPSLPrefix(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}
