package rpki

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// oracle is an independent RFC 6811 implementation over the VRP list: for every
// length 0..bits it looks the route's covering prefix up in a map.
type oracle map[netip.Prefix][]VRP

func newOracle(vrps []VRP) oracle {
	o := oracle{}
	for _, v := range vrps {
		o[v.Prefix] = append(o[v.Prefix], v)
	}
	return o
}

func (o oracle) rov(p netip.Prefix, origin routing.ASN) (routing.ROVState, []VRP) {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	var covering, matching []VRP
	for l := 0; l <= p.Bits(); l++ {
		c, _ := p.Addr().Prefix(l)
		for _, v := range o[c] {
			covering = append(covering, v)
			if v.ASN == origin && origin != 0 && p.Bits() <= int(v.MaxLength) {
				matching = append(matching, v)
			}
		}
	}
	sortVRPs(covering)
	sortVRPs(matching)
	switch {
	case len(matching) > 0:
		return routing.Valid, matching
	case len(covering) > 0:
		return routing.Invalid, covering
	}
	return routing.NotFound, nil
}

// checkAgainstOracle compares State, ROV, ValidateSorted (in the given order and
// sorted) and Covering with the oracle.
func checkAgainstOracle(t *testing.T, tb *Table, o oracle, rs []Route) {
	t.Helper()
	got := tb.ValidateSorted(rs, nil)
	want := make([]routing.ROVState, len(rs))
	bad := 0
	for i, r := range rs {
		ws, wv := o.rov(r.Prefix, r.Origin)
		want[i] = ws
		st, vrps := tb.ROV(r.Prefix, r.Origin)
		if st != ws || !slices.Equal(vrps, wv) || tb.State(r.Prefix, r.Origin) != ws {
			if bad++; bad <= 10 {
				t.Errorf("ROV(%s, AS%d) = %s %v, oracle %s %v", r.Prefix, r.Origin, st, vrps, ws, wv)
			}
		}
		if got[i] != ws {
			if bad++; bad <= 10 {
				t.Errorf("ValidateSorted[%d] (%s AS%d) = %s, oracle %s", i, r.Prefix, r.Origin, got[i], ws)
			}
		}
	}
	// The batch in sorted order, appended to a non-empty out.
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return rs[a].Prefix.Compare(rs[b].Prefix) })
	sorted := make([]Route, len(rs))
	for i, j := range idx {
		sorted[i] = rs[j]
	}
	out := tb.ValidateSorted(sorted, []routing.ROVState{routing.Invalid})
	if len(out) != len(rs)+1 || out[0] != routing.Invalid {
		t.Fatalf("ValidateSorted did not append: len %d", len(out))
	}
	for i, j := range idx {
		if out[i+1] != want[j] {
			if bad++; bad <= 10 {
				t.Errorf("sorted ValidateSorted (%s AS%d) = %s, oracle %s", sorted[i].Prefix, sorted[i].Origin, out[i+1], want[j])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d mismatches in %d routes", bad, len(rs))
	}
}

// The fixture's RFC 6811 edge cases through every entry point, including batches
// with repeated, host-bit, IPv4-mapped and invalid prefixes.
func TestROVIndexFixture(t *testing.T) {
	tb := loadFixture(t, Options{})
	o := newOracle(tb.VRPs())
	var rs []Route
	for _, p := range []string{"192.0.2.0/24", "192.0.2.0/25", "192.0.2.1/24", "192.0.2.64/26", "192.0.2.0/27",
		"198.51.100.0/22", "198.51.102.0/23", "198.51.100.0/24", "198.51.96.0/20", "203.0.113.0/24",
		"203.0.113.128/25", "203.0.113.255/32", "::ffff:192.0.2.0/120", "::ffff:192.0.2.0/90", "0.0.0.0/0",
		"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::/49", "2001:db8:ff00::/40", "2001:db9::/32", "::/0"} {
		for _, origin := range []routing.ASN{0, 64496, 64497, 64498, 64499, 64500} {
			rs = append(rs, Route{netip.MustParsePrefix(p), origin})
		}
	}
	rs = append(rs, Route{}, Route{netip.Prefix{}, 64496})
	checkAgainstOracle(t, tb, o, rs)
	if got := tb.ValidateSorted(nil, nil); len(got) != 0 {
		t.Errorf("empty batch = %v", got)
	}
	// A /16 fast-path miss, a shard miss and a short-trie hit.
	for _, c := range []struct {
		p    string
		want routing.ROVState
	}{{"10.0.0.0/8", routing.NotFound}, {"192.0.3.0/24", routing.NotFound}, {"192.0.2.0/23", routing.NotFound}, {"2001:db8::/31", routing.NotFound}} {
		if st := tb.State(netip.MustParsePrefix(c.p), 64496); st != c.want {
			t.Errorf("State(%s) = %s, want %s", c.p, st, c.want)
		}
	}
}

// VRPs shorter than the shard length (/16 IPv4, /24 IPv6), a prefix with more VRPs
// than one group holds, and random routes around them, against the oracle.
func TestROVIndexShortAndLarge(t *testing.T) {
	b := NewBuilder(Options{})
	add := func(p string, maxLen uint8, asn routing.ASN) {
		t.Helper()
		if err := b.AddVRP(VRP{Prefix: netip.MustParsePrefix(p), MaxLength: maxLen, ASN: asn, TA: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	// 198.18.0.0/15 (RFC 2544) and 3fff::/20 (RFC 9637) are shorter than a shard.
	add("198.18.0.0/15", 15, 64496)
	add("198.18.0.0/15", 24, 64497)
	add("198.19.0.0/16", 16, 64501) // exactly the shard length
	add("198.19.2.0/24", 24, 64498)
	add("192.0.2.0/24", 32, 0)
	add("3fff::/20", 48, 64496)
	add("3fff:100::/24", 24, 64501)
	add("3fff::/32", 32, 64499)
	add("3fff:0:8000::/33", 64, 64500)
	for i := range maxGroup + 10 { // one prefix, 65545 origins: two groups on one node
		add("203.0.113.0/24", uint8(24+i%9), 65536+routing.ASN(i))
	}
	tb, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if n4, n6 := tb.Len(); n4 != 5+maxGroup+10 || n6 != 4 {
		t.Fatalf("Len = %d, %d", n4, n6)
	}
	vrps := tb.VRPs()
	if len(vrps) != 9+maxGroup+10 {
		t.Fatalf("VRPs: %d", len(vrps))
	}
	o := newOracle(vrps)
	rng := rand.New(rand.NewPCG(1, 2))
	bases := []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("3fff::/20")}
	origins := []routing.ASN{0, 64496, 64497, 64498, 64499, 64500, 64501, 65536, 65536 + maxGroup + 9, 65536 + 70000}
	var rs []Route
	// Every VRP prefix itself (the shard-length boundaries included) and one bit
	// shorter and longer.
	for _, v := range vrps {
		if v.Prefix.Bits() < 24 || v.Prefix.Addr().Is6() {
			for _, d := range []int{-1, 0, 1} {
				p, _ := v.Prefix.Addr().Prefix(v.Prefix.Bits() + d)
				for _, origin := range origins {
					rs = append(rs, Route{p, origin})
				}
			}
		}
	}
	for range 3000 {
		base := bases[rng.IntN(len(bases))]
		// Keep the base's bits, randomise the rest, pick a length from 0 to the full.
		full := base.Addr().AsSlice()
		for i := range full {
			r := byte(rng.Uint32())
			switch left := base.Bits() - 8*i; {
			case left >= 8:
			case left > 0:
				m := byte(0xff << (8 - left))
				full[i] = full[i]&m | r&^m
			default:
				full[i] = r
			}
		}
		addr, _ := netip.AddrFromSlice(full)
		q, _ := addr.Prefix(rng.IntN(addr.BitLen() + 1))
		rs = append(rs, Route{q, origins[rng.IntN(len(origins))]})
	}
	var n [3]int
	for _, r := range rs {
		st, _ := o.rov(r.Prefix, r.Origin)
		n[st]++
	}
	if n[routing.Valid] < 50 || n[routing.Invalid] < 50 || n[routing.NotFound] < 50 {
		t.Fatalf("random routes: %d valid, %d invalid, %d not found; want every state", n[routing.Valid], n[routing.Invalid], n[routing.NotFound])
	}
	// The large prefix: a few routes (each ROV returns up to 65545 VRPs).
	for _, p := range []string{"203.0.113.0/24", "203.0.113.128/25", "203.0.113.7/32", "203.0.112.0/23"} {
		for _, origin := range origins {
			rs = append(rs, Route{netip.MustParsePrefix(p), origin})
		}
	}
	checkAgainstOracle(t, tb, o, rs)
	// The large prefix decides by the second group too.
	if st := tb.State(netip.MustParsePrefix("203.0.113.0/24"), 65536+maxGroup+9); st != routing.Valid {
		t.Errorf("VRP in the second group: %s", st)
	}
}

// The real 723k-VRP set against the oracle: a random sample of real announcements
// (valid, invalid and not found) and of the VRPs' own prefixes.
func TestROVIndexRealOracle(t *testing.T) {
	tb := loadReal(t)
	vrps := tb.VRPs()
	o := newOracle(vrps)
	rng := rand.New(rand.NewPCG(3, 4))
	var rs []Route
	ann := announcedRoutes(t)
	for range 20000 {
		rs = append(rs, ann[rng.IntN(len(ann))])
	}
	own := vrpRoutes(tb)
	for range 5000 {
		rs = append(rs, own[rng.IntN(len(own))])
	}
	checkAgainstOracle(t, tb, o, rs)
	var n [3]int
	for _, st := range tb.ValidateSorted(ann, nil) {
		n[st]++
	}
	// Every state occurs in real data; 2020 routes against 2025 ROAs are mostly
	// covered.
	if n[routing.Valid] == 0 || n[routing.Invalid] == 0 || n[routing.NotFound] == 0 {
		t.Errorf("states of %d announcements: %d valid, %d invalid, %d not found", len(ann), n[routing.Valid], n[routing.Invalid], n[routing.NotFound])
	}
	t.Logf("announcements: %d valid, %d invalid, %d not found", n[routing.Valid], n[routing.Invalid], n[routing.NotFound])
}

// FuzzROV checks State, ROV and ValidateSorted against the oracle for arbitrary
// routes on the fixture and on a table with VRPs shorter than a shard.
func FuzzROV(f *testing.F) {
	f.Add([]byte{192, 0, 2, 0}, 24, uint32(64496))
	f.Add([]byte{198, 18, 7, 0}, 24, uint32(64497))
	f.Add([]byte{0x3f, 0xff, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 48, uint32(64500))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 0}, 120, uint32(64496))
	b := NewBuilder(Options{})
	for _, v := range []string{"192.0.2.0/24 24 64496", "192.0.2.0/24 26 64497", "198.18.0.0/15 24 64497",
		"198.19.2.0/24 32 0", "3fff::/20 48 64500", "3fff:0:8000::/33 64 64496", "2001:db8::/32 48 64496"} {
		var p string
		var ml uint8
		var asn uint32
		if _, err := fmt.Sscan(v, &p, &ml, &asn); err != nil {
			f.Fatal(err)
		}
		if err := b.AddVRP(VRP{Prefix: netip.MustParsePrefix(p), MaxLength: ml, ASN: routing.ASN(asn), TA: "t"}); err != nil {
			f.Fatal(err)
		}
	}
	tb, err := b.Build()
	if err != nil {
		f.Fatal(err)
	}
	o := newOracle(tb.VRPs())
	f.Fuzz(func(t *testing.T, addr []byte, bits int, asn uint32) {
		origin := routing.ASN(asn)
		a, ok := netip.AddrFromSlice(addr)
		if !ok {
			return
		}
		p, err := a.Prefix(max(0, bits) % (a.BitLen() + 1))
		if err != nil {
			return
		}
		// Keep the host bits sometimes: lookups must mask them.
		if bits < 0 {
			p = netip.PrefixFrom(a, p.Bits())
		}
		ws, wv := o.rov(p, origin)
		st, vrps := tb.ROV(p, origin)
		if st != ws || !slices.Equal(vrps, wv) || tb.State(p, origin) != ws {
			t.Fatalf("ROV(%s, AS%d) = %s %v, oracle %s %v", p, origin, st, vrps, ws, wv)
		}
		if got := tb.ValidateSorted([]Route{{p, origin}, {p, origin + 1}}, nil); got[0] != ws {
			t.Fatalf("ValidateSorted(%s, AS%d) = %s, oracle %s", p, origin, got[0], ws)
		}
	})
}
