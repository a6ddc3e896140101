package routing

import (
	"net/netip"
	"testing"
)

func TestParseASN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ASN
		ok   bool
	}{
		{"AS64496", 64496, true},
		{"as65536", 65536, true},
		{"aS0", 0, true},
		{"AS4294967295", 4294967295, true},
		{"AS4294967296", 0, false},
		{"AS99999999999999999999999", 0, false},
		{"AS064496", 0, false},
		{"AS", 0, false},
		{"AS-FOO", 0, false},
		{"AS6449x", 0, false},
		{"AS+1", 0, false},
		{"64496", 0, false},
		{"AS1.5", 0, false},
	} {
		got, err := ParseASN(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseASN(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseASNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ASN
		ok   bool
	}{
		{"AS64496", 64496, true},
		{"64496", 64496, true},
		{"as4294967295", 4294967295, true},
		{"4294967296", 0, false},
		{"064496", 0, false},
		{"", 0, false},
		{"AS", 0, false},
		{"-1", 0, false},
		{"AS64496 ", 0, false},
	} {
		got, err := ParseASNumber(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseASNumber(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestROVStateText(t *testing.T) {
	for _, s := range []ROVState{NotFound, Valid, Invalid} {
		b, _ := s.MarshalText()
		var back ROVState = 7
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%v -> %q -> %v, %v", s, b, back, err)
		}
	}
	var s ROVState
	if err := s.UnmarshalText([]byte("unknown")); err == nil {
		t.Error("UnmarshalText accepted \"unknown\"")
	}
}

func TestPrefixRange(t *testing.T) {
	r := PrefixRange{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Min: 24, Max: 26}
	for p, want := range map[string]bool{
		"192.0.2.0/24": true, "192.0.2.64/26": true, "192.0.2.128/27": false, "192.0.0.0/22": false,
		"198.51.100.0/24": false, "::/0": false,
	} {
		if got := r.Contains(netip.MustParsePrefix(p)); got != want {
			t.Errorf("%s contains %s = %v, want %v", r, p, got, want)
		}
	}
	for _, tc := range []struct {
		r    PrefixRange
		want string
	}{
		{Exact(netip.MustParsePrefix("192.0.2.1/24")), "192.0.2.0/24"},
		{r, "192.0.2.0/24^24-26"},
		{PrefixRange{netip.MustParsePrefix("2001:db8::/32"), 33, 128}, "2001:db8::/32^-"},
		{PrefixRange{netip.MustParsePrefix("2001:db8::/32"), 32, 128}, "2001:db8::/32^+"},
		{PrefixRange{netip.MustParsePrefix("2001:db8::/32"), 48, 48}, "2001:db8::/32^48"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	a, b := Exact(netip.MustParsePrefix("192.0.2.0/24")), Exact(netip.MustParsePrefix("2001:db8::/32"))
	if Compare(a, b) >= 0 || Compare(b, a) <= 0 || Compare(a, a) != 0 || Compare(a, r) >= 0 {
		t.Error("Compare does not order IPv4 before IPv6, then by Min")
	}
}
