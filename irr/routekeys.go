package irr

import (
	"context"
	"slices"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/routing"
)

// RouteKeyQuerier is implemented by Queriers that can answer a batch of "!g"/"!6"
// queries as one list of keys: the bgpq4 engine's client-side recursion (-L, EXCEPT,
// SOURCE::) asks for the routes of every ASN of a set and puts them all into one
// prefix set, so a netip.Prefix per route and a sort per ASN are wasted work. The
// local Index (and snapshots) implement it.
type RouteKeyQuerier interface {
	// RouteKeys is Routes for asns as one list: the union of their routes of family
	// v6, sorted and distinct; has[i] reports whether asns[i] has any route (Routes'
	// answer i is not empty). The caller owns the slices.
	RouteKeys(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) (keys pfxkey.List, has []bool, err error)
}

var _ RouteKeyQuerier = (*Index)(nil)

// RouteKeys implements RouteKeyQuerier.
func (ix *Index) RouteKeys(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) (pfxkey.List, []bool, error) {
	if err := ctx.Err(); err != nil {
		return pfxkey.List{V6: v6}, nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	srcs := ix.selected(sources)
	f := 0
	if v6 {
		f = 1
	}
	has := make([]bool, len(asns))
	// A snapshot's origin table is walked once when the ASNs come in order (the
	// engine asks in ascending order), else searched per ASN.
	ordered := slices.IsSorted(asns)
	var p4 []uint64
	var k6 []pkey
	for _, s := range srcs {
		var cur *originCursor
		if s.lz != nil && ordered {
			cur = s.lz.cursor(f)
		}
		for i, a := range asns {
			n4, n6 := len(p4), len(k6)
			switch {
			case cur != nil && f == 0:
				p4 = s.lz.decodePacked4(p4, cur.routes(a), a)
			case cur != nil:
				k6 = s.lz.decodeKeys(k6, cur.routes(a), 1, a)
			case f == 0:
				p4 = s.appendPacked4(p4, a)
			default:
				k6 = s.appendKeys(k6, 1, a)
			}
			if len(p4) > n4 || len(k6) > n6 {
				has[i] = true
			}
		}
	}
	if err := ix.snapErr(); err != nil {
		return pfxkey.List{V6: v6}, nil, err
	}
	return pfxkey.List{V6: v6, P4: p4, K6: k6}.Normalize(), has, nil
}
