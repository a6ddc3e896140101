package pipeline

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestCoverPrefixes: duplicates, unmasked and covered prefixes go; families stay apart.
func TestCoverPrefixes(t *testing.T) {
	var in []netip.Prefix
	for _, s := range []string{"2001:db8::/32", "192.0.2.128/25", "192.0.2.1/24", "198.51.100.0/24",
		"192.0.2.0/24", "2001:db8:1::/48", "203.0.113.0/25"} {
		in = append(in, netip.MustParsePrefix(s))
	}
	got := fmt.Sprint(CoverPrefixes(in))
	if want := "[192.0.2.0/24 198.51.100.0/24 203.0.113.0/25 2001:db8::/32]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
