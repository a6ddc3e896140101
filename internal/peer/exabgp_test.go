package peer

import (
	"strings"
	"testing"
)

// TestExaRoutePathHex: the AS_PATH attribute value ExaBGP sends, checked against
// RFC 4271 §4.3 by hand: segment type, ASN count, four-octet ASNs; a sequence of more
// than 255 ASNs is split into segments of at most 255.
func TestExaRoutePathHex(t *testing.T) {
	for _, c := range []struct {
		path []ExaSegment
		want string
	}{
		{nil, ""},
		{[]ExaSegment{{ASNs: []uint32{64500, 64501}}}, "02020000fbf40000fbf5"},
		{[]ExaSegment{{ASNs: []uint32{64500}}, {Set: true, ASNs: []uint32{64501, 64502}}, {ASNs: []uint32{4200000000}}},
			"02010000fbf401020000fbf50000fbf60201fa56ea00"},
	} {
		if got := (ExaRoute{Path: c.path}).PathHex(); got != c.want {
			t.Errorf("%v: got %s, want %s", c.path, got, c.want)
		}
	}
	long := make([]uint32, 300)
	got := (ExaRoute{Path: []ExaSegment{{ASNs: long}}}).PathHex()
	want := "02ff" + strings.Repeat("00000000", 255) + "022d" + strings.Repeat("00000000", 45)
	if got != want {
		t.Errorf("300 ASNs: got %d hex digits, want %d (%q...)", len(got), len(want), got[:8])
	}
}
