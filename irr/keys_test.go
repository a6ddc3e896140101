package irr

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/routing"
)

// plainQuerier hides every optional interface of a Querier.
type plainQuerier struct{ Querier }

// TestSetPrefixKeys: the keys of "!a4"/"!a6" equal the union of the "!g"/"!6" answers
// of the as-set's recursive members (a second path through the index: Members and
// Routes, not setPrefixKeys), masked, sorted and distinct, for every set of edge.db,
// from the parsed index, its snapshot, a Failover and a Querier without KeyQuerier.
func TestSetPrefixKeys(t *testing.T) {
	ctx := context.Background()
	ix := loadEdge(t)
	snap, err := ReadSnapshot(snapshotOf(t, ix))
	if err != nil {
		t.Fatal(err)
	}
	queriers := map[string]Querier{
		"index": ix, "snapshot": snap, "failover": NewFailover(nil, Server{Name: "edge", Q: snap}),
		"plain": plainQuerier{ix},
	}
	ix.mu.RLock()
	var names []string
	for _, s := range ix.srcs {
		for k := range s.byKey {
			names = append(names, k)
		}
	}
	ix.mu.RUnlock()
	names = append(names, "AS-NOSUCHSET", "RS-NOSUCH")
	compared := 0
	for qn, q := range queriers {
		for _, name := range names {
			for _, v6 := range []bool{false, true} {
				keys, found, err := SetPrefixKeys(ctx, q, nil, name, v6)
				if err != nil {
					t.Fatalf("%s: SetPrefixKeys(%s, v6=%v): %v", qn, name, v6, err)
				}
				_, wantFound, _ := ix.SetPrefixes(ctx, nil, name, v6)
				if found != wantFound || keys.V6 != v6 {
					t.Fatalf("%s: %s v6=%v: found %v (v6 %v), want %v", qn, name, v6, found, keys.V6, wantFound)
				}
				if !found {
					if keys.Len() != 0 {
						t.Fatalf("%s: %s: %d keys for a set not found", qn, name, keys.Len())
					}
					continue
				}
				members, _, err := ix.Members(ctx, nil, name, true)
				if err != nil {
					t.Fatal(err)
				}
				var asns []routing.ASN
				for _, m := range members {
					if a, err := routing.ParseASN(m); err == nil {
						asns = append(asns, a)
					}
				}
				routes, err := ix.Routes(ctx, nil, asns, v6)
				if err != nil {
					t.Fatal(err)
				}
				var want []netip.Prefix
				for _, r := range routes {
					for _, p := range r {
						want = append(want, p.Masked())
					}
				}
				slices.SortFunc(want, func(a, b netip.Prefix) int {
					return pfxkey.Compare(pfxkey.FromPrefix(a), pfxkey.FromPrefix(b))
				})
				want = slices.Compact(want)
				if got := keys.Prefixes(); !slices.Equal(got, want) {
					t.Fatalf("%s: %s v6=%v: keys %v, want %v", qn, name, v6, got, want)
				}
				compared += len(want)
			}
		}
	}
	if compared < 50 {
		t.Fatalf("compared only %d prefixes", compared)
	}
}
