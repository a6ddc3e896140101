package render

import (
	"net/netip"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// fixture4 mirrors bgpq4's AS-SMALL example aggregated (reference B.1 -A) plus a
// ge-range entry, with documentation prefixes.
func fixture4() *policy.PrefixFilter {
	return &policy.PrefixFilter{Name: "AS-EXAMPLE", Family: 4, Objects: []string{"AS-EXAMPLE"},
		Entries: []policy.Entry{
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Min: 24, Max: 25}, Origins: []routing.ASN{64496}, Sources: []string{"TEST"}, Paths: [][]string{{"AS-EXAMPLE", "AS64496"}}},
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("198.18.0.0/15"), Min: 16, Max: 16}, Origins: []routing.ASN{64497}},
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Min: 24, Max: 24}, Origins: []routing.ASN{64497, 64498}},
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Min: 25, Max: 26}, Origins: []routing.ASN{64499}},
		}}
}

func fixture6() *policy.PrefixFilter {
	return &policy.PrefixFilter{Name: "AS-EXAMPLE", Family: 6, Objects: []string{"AS-EXAMPLE"},
		Entries: []policy.Entry{
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("2001:db8:1000::/47"), Min: 48, Max: 48}, Origins: []routing.ASN{64496}},
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("2001:db8:2000::/40"), Min: 40, Max: 40}, Origins: []routing.ASN{64497}},
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("2001:db8:3000::/36"), Min: 36, Max: 48}, Origins: []routing.ASN{64498}},
		}}
}

func fixtureAS(peer routing.ASN) *policy.ASPathFilter {
	f := &policy.ASPathFilter{Name: "AS-EXAMPLE", PeerAS: peer, Objects: []string{"AS-EXAMPLE"},
		Origins: []routing.ASN{64496, 64497, 64498, 64499, 64500, 64501, 64502, 64503, 64504, 65536}}
	for _, a := range f.Origins {
		if a == peer {
			f.PeerIsMember = true
		}
	}
	return f
}

func fixture4Exact() *policy.PrefixFilter {
	return &policy.PrefixFilter{Name: "AS-EXAMPLE", Family: 4, Objects: []string{"AS-EXAMPLE"},
		Entries: []policy.Entry{
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Min: 24, Max: 24}, Origins: []routing.ASN{64496}},
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("192.0.2.0/25"), Min: 25, Max: 25}, Origins: []routing.ASN{64496}},
			{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Min: 24, Max: 24}, Origins: []routing.ASN{64497}},
		}}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
