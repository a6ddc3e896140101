package irr

import (
	"net/netip"
	"testing"
)

func TestParsePrefixRange(t *testing.T) {
	tests := []struct {
		in       string
		min, max int
		str      string
		wantErr  bool
	}{
		{in: "192.0.2.0/24", min: 24, max: 24, str: "192.0.2.0/24"},
		{in: "198.51.100.0/24^25-26", min: 25, max: 26, str: "198.51.100.0/24^25-26"},
		{in: "198.51.100.0/24^-", min: 25, max: 32, str: "198.51.100.0/24^-"},
		{in: "198.51.100.0/24^+", min: 24, max: 32, str: "198.51.100.0/24^+"},
		{in: "198.51.100.0/24^24-32", min: 24, max: 32, str: "198.51.100.0/24^+"},
		{in: "198.51.100.0/24^28", min: 28, max: 28, str: "198.51.100.0/24^28"},
		{in: "198.51.100.0/24^24", min: 24, max: 24, str: "198.51.100.0/24"},
		{in: "2001:db8::/32^48-56", min: 48, max: 56, str: "2001:db8::/32^48-56"},
		{in: "2001:db8::/32^-", min: 33, max: 128, str: "2001:db8::/32^-"},
		{in: "0.0.0.0/0^+", min: 0, max: 32, str: "0.0.0.0/0^+"},
		{in: "192.0.2.1/32^+", min: 32, max: 32, str: "192.0.2.1/32"},
		{in: "192.0.2.1/32^-", wantErr: true},           // nothing longer than /32
		{in: "198.51.100.0/24^23", wantErr: true},       // n < len
		{in: "198.51.100.0/24^26-25", wantErr: true},    // m < n
		{in: "198.51.100.0/24^25-33", wantErr: true},    // beyond /32
		{in: "2001:db8::/32^129", wantErr: true},        // beyond /128
		{in: "198.51.100.1/24", wantErr: true},          // host bits
		{in: "198.51.100.0/24^", wantErr: true},         // empty operator
		{in: "198.51.100.0/24^x", wantErr: true},        // bad operator
		{in: "198.51.100.0/24^-5", wantErr: true},       // bad operator
		{in: "198.51.100.0/24^25-", wantErr: true},      // bad operator
		{in: "198.51.100.0/24^0025", wantErr: true},     // too long a number
		{in: "198.51.100.0/24^+^-", wantErr: true},      // two operators
		{in: "AS64496", wantErr: true},                  // not a prefix
		{in: "192.0.02.0/24", wantErr: true},            // leading zero
		{in: "198.51.100.0/24^25-26^27", wantErr: true}, // two operators
		{in: "2001:db8::/32^4294967297", wantErr: true}, // overflow
		{in: "2001:db8::/32^+4", wantErr: true},         // junk
		{in: "10.0.0.0/8^9-10", min: 9, max: 10, str: "10.0.0.0/8^9-10"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePrefixRange(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParsePrefixRange(%q) = %v, want error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrefixRange(%q): %v", tc.in, err)
			}
			if got.Min != tc.min || got.Max != tc.max || got.String() != tc.str {
				t.Errorf("ParsePrefixRange(%q) = %v [%d,%d], want %s [%d,%d]", tc.in, got, got.Min, got.Max, tc.str, tc.min, tc.max)
			}
		})
	}
}

// TestApplyComposition covers RFC 2622 §5.2: an operator on a set or AS member of a
// route-set applies to every prefix the member brings, including ones with a range.
func TestApplyComposition(t *testing.T) {
	tests := []struct {
		base, op string
		want     string // "" = empty result
	}{
		{"192.0.2.0/24", "^+", "192.0.2.0/24^+"},
		{"192.0.2.0/24", "^-", "192.0.2.0/24^-"},
		{"192.0.2.0/24", "^26", "192.0.2.0/24^26"},
		{"192.0.2.0/24", "^25-27", "192.0.2.0/24^25-27"},
		{"192.0.2.0/24^+", "^-", "192.0.2.0/24^-"},         // {p^+}^- = lengths 25..32
		{"192.0.2.0/24^-", "^+", "192.0.2.0/24^-"},         // {p^-}^+ = lengths 25..32
		{"192.0.2.0/24^25-26", "^-", "192.0.2.0/24^26-32"}, // each /25../26 made exclusive
		{"192.0.2.0/24^25-26", "^28", "192.0.2.0/24^28"},
		{"192.0.2.0/24^26", "^25", ""}, // /25 is shorter than every member
		{"192.0.2.1/32", "^-", ""},
		{"2001:db8::/48", "^+", "2001:db8::/48^+"},
	}
	for _, tc := range tests {
		pr, err := ParsePrefixRange(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		op, err := ParseRangeOp(tc.op)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := op.Apply(pr)
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s applied %s = %v, want empty", tc.base, tc.op, got)
		case tc.want != "" && (!ok || got.String() != tc.want):
			t.Errorf("%s applied %s = %v (ok=%v), want %s", tc.base, tc.op, got, ok, tc.want)
		}
	}
}

func TestPrefixRangeContains(t *testing.T) {
	pr, _ := ParsePrefixRange("198.51.100.0/24^25-26")
	for p, want := range map[string]bool{
		"198.51.100.0/24":   false,
		"198.51.100.128/25": true,
		"198.51.100.192/26": true,
		"198.51.100.0/27":   false,
		"198.51.101.0/25":   false,
		"2001:db8::/25":     false,
	} {
		if got := pr.Contains(netip.MustParsePrefix(p)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", p, got, want)
		}
	}
}

func FuzzParsePrefixRange(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "198.51.100.0/24^25-26", "2001:db8::/32^+", "0.0.0.0/0^-", "1.2.3.4/32^32", "::/0^128-128"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pr, err := ParsePrefixRange(s)
		if err != nil {
			return
		}
		maxLen := pr.Prefix.Addr().BitLen()
		if pr.Min < pr.Prefix.Bits() || pr.Min > pr.Max || pr.Max > maxLen || pr.Prefix.Masked() != pr.Prefix {
			t.Fatalf("%q parsed to invalid range %+v", s, pr)
		}
		// The canonical string parses back to the same range.
		back, err := ParsePrefixRange(pr.String())
		if err != nil || back != pr {
			t.Fatalf("%q -> %q -> %+v, %v", s, pr.String(), back, err)
		}
		for _, op := range []RangeOp{{Kind: OpMinus}, {Kind: OpPlus}, {Kind: OpN, N: pr.Max, M: pr.Max}} {
			if r, ok := op.Apply(pr); ok && (r.Min > r.Max || r.Max > maxLen || r.Min < pr.Prefix.Bits()) {
				t.Fatalf("%v applied %v = invalid %+v", pr, op, r)
			}
		}
	})
}
