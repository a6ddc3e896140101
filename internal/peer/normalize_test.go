package peer

import (
	"flag"
	"fmt"
	"testing"
)

// TestNormalizeBGPQ4From19: each rule rewrites its 1.9 form into the 1.16 form and
// leaves 1.16 output unchanged; text no rule names passes untouched.
func TestNormalizeBGPQ4From19(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"eos", "ip prefix-list NN\n    seq 1 permit 192.0.2.0/24\n", "ip prefix-list NN\n   seq 1 permit 192.0.2.0/24\n"},
		{"eos 1.16", "ip prefix-list NN\n   seq 1 permit 192.0.2.0/24\n", "ip prefix-list NN\n   seq 1 permit 192.0.2.0/24\n"},
		{"routeros7 range", `add chain=NN rule="if (dst in 192.0.2.0/24 && dst-len in 24-25) { accept }"  rule=x`, `add chain=NN rule="if (dst in 192.0.2.0/24 && dst-len in 24-25) { accept }" rule=x`},
		{"routeros7 exact", `rule="if (dst=192.0.2.0/24) { accept }"`, `rule="if (dst==192.0.2.0/24) { accept }"`},
		{"routeros7 exact 1.16", `rule="if (dst==192.0.2.0/24) { accept }"`, `rule="if (dst==192.0.2.0/24) { accept }"`},
		{"iosxr comma", "no as-path-set NN\nas-path-set NN,\n ios-regex '_64496$'\nend-set\n", "no as-path-set NN\nas-path-set NN\n ios-regex '_64496$'\nend-set\n"},
		{"checking", "Checking RS-TEST\nno ip prefix-list NN\n", "no ip prefix-list NN\n"},
		{"version", "bgpq4 - a versatile utility to generate BGP filters\nversion: 1.9\nwebsite: https://github.com/bgp/bgpq4\n",
			"bgpq4 - a versatile utility to generate BGP filters\nversion: 1.16\nwebsite: https://github.com/bgp/bgpq4\n"},
		{"usage lines", "\nUsage: bgpq4 [-h host[:port]]\n -n        : Nokia SR OS (MD-CLI)\n -B        : OpenBSD OpenBGPD\n" +
			" -w        : 'validate' AS numbers: accept only ones with registered routes\n" +
			" -A        : try to aggregate prefix-lists/route-filters\n -R len    : allow more specific routes up to specified masklen\n" +
			"\nbgpq4 version: 1.9 (https://github.com/bgp/bgpq4)\n",
			"\nUsage: bgpq4 [-h host[:port]]\n -n        : Nokia SR OS (MD-CLI)\n -n2       : Nokia SR Linux\n -B        : OpenBSD OpenBGPD\n" +
				" -w        : 'validate' AS numbers: only accept ones with registered routes\n" +
				" -3        : assume that your device is asn32-safe (default)\n -A        : try to aggregate prefix-lists/route-filters\n" +
				" -p        : allow special ASNs like 23456 or in the private range\n -R len    : allow more specific routes up to specified masklen\n" +
				"\nbgpq4 version: 1.16 (https://github.com/bgp/bgpq4)\n"},
		{"untouched", "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\n", "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\n"},
	} {
		if got := NormalizeBGPQ4From19(tc.in); got != tc.want {
			t.Errorf("%s: got\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

// recTB records what SkipShort does instead of ending the test.
type recTB struct {
	testing.TB
	fatal, skip string
}

func (r *recTB) Helper()                   {}
func (r *recTB) Fatalf(f string, a ...any) { r.fatal = fmt.Sprintf(f, a...) }
func (r *recTB) Skipf(f string, a ...any)  { r.skip = fmt.Sprintf(f, a...) }

// TestSkipShort: under -short a live test is skipped outside CI and fails under
// CI=true; without -short it runs.
func TestSkipShort(t *testing.T) {
	short := flag.Lookup("test.short")
	old := short.Value.String()
	t.Cleanup(func() { short.Value.Set(old) })
	for _, tc := range []struct {
		short, ci           string
		wantFatal, wantSkip bool
	}{
		{"true", "true", true, false},
		{"true", "", false, true},
		{"false", "true", false, false},
		{"false", "", false, false},
	} {
		short.Value.Set(tc.short)
		t.Setenv("CI", tc.ci)
		r := &recTB{TB: t}
		SkipShort(r, "loads the RIPE dumps")
		if (r.fatal != "") != tc.wantFatal || (r.skip != "") != tc.wantSkip {
			t.Errorf("-short=%s CI=%q: fatal %q, skip %q; want fatal %v, skip %v", tc.short, tc.ci, r.fatal, r.skip, tc.wantFatal, tc.wantSkip)
		}
	}
}
