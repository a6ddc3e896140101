package policy

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// The issue (7 item 1) names the reserved ASNs; the embedded list must say exactly that.
func TestDefaultBogonASNs(t *testing.T) {
	want := [][2]uint32{{0, 0}, {23456, 23456}, {64496, 64511}, {64512, 65534}, {65535, 65535},
		{65536, 65551}, {65552, 131071}, {4200000000, 4294967294}, {4294967295, 4294967295}}
	got := DefaultBogonASNs()
	if len(got) != len(want) {
		t.Fatalf("got %d ranges %v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if uint32(got[i].From) != w[0] || uint32(got[i].To) != w[1] || !strings.HasPrefix(got[i].Reason, "RFC ") {
			t.Errorf("range %d = %+v, want %d-%d with an RFC", i, got[i], w[0], w[1])
		}
	}
	set := ASNRangeSet{Ranges: got}
	for a, bogon := range map[routing.ASN]bool{0: true, 1: false, 23456: true, 64495: false, 64496: true,
		65535: true, 131071: true, 131072: false, 4199999999: false, 4200000000: true, 4294967295: true, 3356: false} {
		if _, ok := set.Match(a); ok != bogon {
			t.Errorf("Match(%s) = %v, want %v", a, ok, bogon)
		}
	}
}

func TestDefaultBogonPrefixes(t *testing.T) {
	v4 := BogonPrefixSet{Entries: DefaultBogonPrefixes(4)}
	v6 := BogonPrefixSet{Entries: DefaultBogonPrefixes(6)}
	for p, bogon := range map[string]bool{
		"0.0.0.0/0": true, "0.0.0.0/1": false, "10.1.0.0/16": true, "100.64.0.0/10": true, "100.128.0.0/10": false,
		"192.0.2.0/24": true, "192.0.2.128/25": true, "198.51.100.0/24": true, "203.0.113.0/24": true,
		"172.16.0.0/12": true, "172.32.0.0/12": false, "224.0.0.0/24": true, "8.8.8.0/24": false,
		"255.255.255.255/32": true,
	} {
		if _, ok := v4.Match(netip.MustParsePrefix(p)); ok != bogon {
			t.Errorf("v4 Match(%s) = %v, want %v", p, ok, bogon)
		}
	}
	for p, bogon := range map[string]bool{
		"::/0": true, "::/1": false, "2001:db8::/32": true, "2001:db8:1::/48": true, "fc00::/7": true,
		"fd00::/8": true, "2a00::/12": false, "ff02::/16": true, "2001:4860::/32": false, "::1/128": true,
	} {
		if _, ok := v6.Match(netip.MustParsePrefix(p)); ok != bogon {
			t.Errorf("v6 Match(%s) = %v, want %v", p, ok, bogon)
		}
	}
	for _, e := range append(v4.Entries, v6.Entries...) {
		if !strings.Contains(e.Reason, "RFC") && !strings.Contains(e.Reason, "default route") {
			t.Errorf("%s: reason %q names no RFC", e.PrefixRange, e.Reason)
		}
	}
}

func TestDefaultPeerlock(t *testing.T) {
	got := DefaultPeerlock()
	set := ASNRangeSet{Ranges: got}
	for _, a := range []routing.ASN{174, 1299, 2914, 3356, 7018} {
		if _, ok := set.Match(a); !ok {
			t.Errorf("tier-1 %s missing from the default peerlock list", a)
		}
	}
	for _, r := range got {
		if r.Reason == "" {
			t.Errorf("%s has no name", r)
		}
	}
}

func TestParseListErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"64496-64400 x\n", "line 1: range"},
		{"# c\n\n10 a\n5-12 b\n", "line 3: AS10 overlaps AS5-AS12 (line 4)"},
		{"AS-FOO x\n", "line 1: invalid AS number"},
		{"4294967296\n", "out of range"},
	} {
		_, err := ParseASNRanges(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseASNRanges(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1/24 x\n", "line 1: irr: invalid prefix \"192.0.2.1/24\": host bits set"},
		{"192.0.2.0/24^8 x\n", "lengths out of range"},
		{"10.0.0.0/8^+ a\n10.0.0.0/8^+ b\n", "duplicate entry 10.0.0.0/8^+"},
		{strings.Repeat("x", maxListLine+1), "reading list"},
	} {
		_, err := ParseBogonPrefixes(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseBogonPrefixes(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestRemoveASNs(t *testing.T) {
	got := RemoveASNs(DefaultBogonASNs(), []ASNRange{{From: 64496, To: 64511}, {From: 65536, To: 65540}, {From: 64600, To: 64600}})
	set := ASNRangeSet{Ranges: got}
	for a, bogon := range map[routing.ASN]bool{64496: false, 64511: false, 64512: true, 64599: true, 64600: false,
		64601: true, 65536: false, 65540: false, 65541: true, 0: true} {
		if _, ok := set.Match(a); ok != bogon {
			t.Errorf("after exceptions Match(%s) = %v, want %v (%v)", a, ok, bogon, got)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i].From <= got[i-1].To {
			t.Fatalf("ranges overlap or unsorted: %v", got)
		}
	}
}

func TestRemovePrefixes(t *testing.T) {
	got, err := RemovePrefixes(DefaultBogonPrefixes(4), []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8::/32")})
	if err != nil {
		t.Fatal(err)
	}
	set := BogonPrefixSet{Entries: got}
	for p, bogon := range map[string]bool{"192.0.2.0/24": false, "198.51.100.0/25": false, "203.0.113.0/24": true, "10.0.0.0/8": true} {
		if _, ok := set.Match(netip.MustParsePrefix(p)); ok != bogon {
			t.Errorf("Match(%s) = %v, want %v", p, ok, bogon)
		}
	}
	if len(got) != len(DefaultBogonPrefixes(4))-2 {
		t.Errorf("removed %d entries, want 2", len(DefaultBogonPrefixes(4))-len(got))
	}
	_, err = RemovePrefixes(DefaultBogonPrefixes(4), []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")})
	if err == nil || !strings.Contains(err.Error(), "except 10.0.0.0/8") {
		t.Errorf("partial exception: %v", err)
	}
}

func FuzzParseLists(f *testing.F) {
	f.Add(bogonASNsText)
	f.Add(bogonPrefixesText)
	f.Add(peerlockText)
	f.Add([]byte("1-2 a\n2-3 b\n"))
	f.Add([]byte("::/0^+\t x\n0.0.0.0/0^0-32"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if rs, err := ParseASNRanges(bytes.NewReader(b)); err == nil {
			for i, r := range rs {
				if r.From > r.To || i > 0 && r.From <= rs[i-1].To {
					t.Fatalf("invalid result %v", rs)
				}
			}
			_ = RemoveASNs(rs, rs[:len(rs)/2])
		}
		if ps, err := ParseBogonPrefixes(bytes.NewReader(b)); err == nil {
			for _, p := range ps {
				if !p.Prefix.IsValid() || p.Prefix.Masked() != p.Prefix || p.Min < p.Prefix.Bits() || p.Max < p.Min || p.Max > p.Prefix.Addr().BitLen() {
					t.Fatalf("invalid entry %+v", p)
				}
			}
		}
	})
}
