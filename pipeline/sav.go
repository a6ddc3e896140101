package pipeline

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
)

// PermittedSources returns the source addresses customer cu may send (issue 10): its
// prefix filter (policy.BuildPrefixFilter over its AS-SETs, or its ASN, both families,
// without length limits: a source inside a /25 route object is legitimate even if the
// BGP filter refuses the /25), its extra_prefixes and its sav.extra_prefixes. A source
// address is not a route, so every more-specific of a prefix is permitted: the result
// is the minimal cover, masked, sorted, IPv4 first, no prefix inside another. It is the
// one computation behind both generate's SAV configs and flow-audit.
func PermittedSources(ctx context.Context, q irr.Querier, res *irr.Resolver, cu *config.Customer) ([]netip.Prefix, error) {
	objects := cu.ASSets
	if len(objects) == 0 {
		objects = []string{cu.ASN.String()}
	}
	var out []netip.Prefix
	for _, fam := range []int{4, 6} {
		f, err := policy.BuildPrefixFilter(ctx, q, res, objects, policy.Options{
			Name: cu.Name, Family: fam, Exclude: cu.ExcludePrefixes})
		if err != nil {
			return nil, fmt.Errorf("customer %s: permitted sources: %w", cu.Name, err)
		}
		for _, e := range f.Entries {
			out = append(out, e.Prefix)
		}
	}
	for _, p := range cu.ExtraPrefixes {
		out = append(out, p.Prefix)
	}
	if cu.SAV != nil {
		out = append(out, cu.SAV.ExtraPrefixes...)
	}
	return CoverPrefixes(out), nil
}

// CoverPrefixes returns the minimal set of prefixes covering the same addresses as ps
// when each prefix stands for all its addresses: masked, deduplicated, every prefix
// inside another dropped, sorted (IPv4 first, then by address and length). Interval
// sets (nftables) refuse overlapping elements, and a covered prefix adds nothing to a
// source check.
func CoverPrefixes(ps []netip.Prefix) []netip.Prefix {
	m := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if p.IsValid() {
			m = append(m, p.Masked())
		}
	}
	slices.SortFunc(m, func(a, b netip.Prefix) int {
		if a.Addr().Is4() != b.Addr().Is4() {
			if a.Addr().Is4() {
				return -1
			}
			return 1
		}
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	out := m[:0]
	for _, p := range m {
		// Sorted by address then length, a covering prefix comes before every prefix
		// it covers, and the last kept one is the only candidate.
		if n := len(out); n > 0 && out[n-1].Addr().Is4() == p.Addr().Is4() && out[n-1].Overlaps(p) {
			continue
		}
		out = append(out, p)
	}
	return slices.Clip(out)
}
