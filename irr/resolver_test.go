package irr

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func ranges(t testing.TB, ss ...string) []routing.PrefixRange {
	t.Helper()
	var out []routing.PrefixRange
	for _, s := range ss {
		pr, err := ParsePrefixRange(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pr)
	}
	return out
}

func TestResolverExpand(t *testing.T) {
	ix := loadEdge(t)
	tests := []struct {
		name     string
		sources  []string
		args     []string
		asns     []routing.ASN
		prefixes []string
		paths    map[routing.ASN][]string
		missing  []Missing
		loops    [][]string
		asnOps   map[routing.ASN]string
	}{
		{name: "loop reported, not an error", args: []string{"AS-LOOPA"},
			asns:  []routing.ASN{64496, 64497},
			paths: map[routing.ASN][]string{64496: {"AS-LOOPA"}, 64497: {"AS-LOOPA", "AS-LOOPB"}},
			loops: [][]string{{"AS-LOOPA", "AS-LOOPB", "AS-LOOPA"}}},
		{name: "missing members with their path", args: []string{"AS-UNKNOWNS"},
			asns: []routing.ASN{64498},
			missing: []Missing{{Name: "AS-DOES-NOT-EXIST", Path: []string{"AS-UNKNOWNS"}},
				{Name: "AS64496:AS-NOPE", Path: []string{"AS-UNKNOWNS"}}}},
		{name: "four levels, paths", args: []string{"AS-L1"},
			asns:  []routing.ASN{64502, 64503, 64504, 65552},
			paths: map[routing.ASN][]string{64502: {"AS-L1"}, 64504: {"AS-L1", "AS-L2", "AS-L3"}, 65552: {"AS-L1", "AS-L2", "AS-L3", "AS-L4"}}},
		{name: "SOURCE:: root only", args: []string{"ALT::AS-DUP"}, asns: []routing.ASN{64510}},
		{name: "SOURCE:: members from the default list", args: []string{"EDGE::AS-VIA-ALT"}, asns: []routing.ASN{64500, 64501}},
		{name: "source list limits members", sources: []string{"EDGE"}, args: []string{"AS-VIA-ALT"},
			asns: []routing.ASN{64500}, missing: []Missing{{Name: "AS-ONLY-ALT", Path: []string{"AS-VIA-ALT"}}}},
		{name: "as-set skips prefixes and route-sets", args: []string{"AS-WRONGTYPE"}, asns: []routing.ASN{64496}},
		{name: "route-set with every range operator", args: []string{"RS-RANGES"},
			prefixes: []string{"192.0.2.0/24^-", "192.0.2.0/25^+", "198.51.100.0/24^26", "198.51.100.0/24^27-28",
				"203.0.113.0/24", "2001:db8::/32^48-56", "2001:db8:1::/48^+", "2001:db8:2::/48^-", "2001:db8:3::/48^64"}},
		{name: "operators on set and AS members", args: []string{"RS-OPS"},
			asns:     []routing.ASN{64496, 64497},
			prefixes: []string{"198.51.100.128/25^27", "203.0.113.0/24^27", "2001:db8:4::/48"},
			asnOps:   map[routing.ASN]string{64496: "^-", 64497: "^+"},
			loops:    [][]string{{"RS-OPS", "AS-LOOPB", "AS-LOOPA", "AS-LOOPB"}}},
		{name: "hierarchical route-set", args: []string{"AS64496:RS-HIER"},
			asns: []routing.ASN{64499, 65536}, prefixes: []string{"192.0.2.64/26"}},
		{name: "mbrs-by-ref", args: []string{"AS-BYREF-MNT", "RS-BYREF"},
			asns: []routing.ASN{64506}, prefixes: []string{"192.0.2.0/26", "198.51.100.0/24"}},
		{name: "plain ASNs and prefixes", args: []string{"AS64496", "as65536", "192.0.2.0/24^+", "AS-EMPTY"},
			asns: []routing.ASN{64496, 65536}, prefixes: []string{"192.0.2.0/24^+"},
			paths: map[routing.ASN][]string{64496: {}, 65536: {}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Resolver{Q: ix, Sources: tc.sources}
			e, err := r.Expand(context.Background(), tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			opt := cmpopts.EquateEmpty()
			if diff := cmp.Diff(tc.asns, e.ASNs, opt); diff != "" {
				t.Errorf("ASNs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(ranges(t, tc.prefixes...), e.Prefixes, opt, cmp.Comparer(func(a, b routing.PrefixRange) bool { return a == b })); diff != "" {
				t.Errorf("Prefixes (-want +got):\n%s", diff)
			}
			for a, p := range tc.paths {
				if diff := cmp.Diff(p, e.Paths[a], opt); diff != "" {
					t.Errorf("path of %v (-want +got):\n%s", a, diff)
				}
			}
			if diff := cmp.Diff(tc.missing, e.Missing, opt); diff != "" {
				t.Errorf("Missing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.loops, e.Loops, opt); diff != "" {
				t.Errorf("Loops (-want +got):\n%s", diff)
			}
			gotOps := make(map[routing.ASN]string)
			for a, op := range e.ASNRanges {
				gotOps[a] = op.String()
			}
			if diff := cmp.Diff(tc.asnOps, gotOps, opt); diff != "" {
				t.Errorf("ASNRanges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolverErrors(t *testing.T) {
	ix := loadEdge(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		r       Resolver
		args    []string
		wantErr error
		wantMsg string
	}{
		{"unknown root", Resolver{}, []string{"AS-NOPE"}, ErrNotFound, "AS-NOPE"},
		{"unknown root in SOURCE::", Resolver{}, []string{"ALT::AS-LOOPA"}, ErrNotFound, "in ALT"},
		{"depth limit", Resolver{MaxDepth: 3}, []string{"AS-L1"}, ErrLimit, "AS-L1 > AS-L2 > AS-L3 > AS-L4"},
		{"size cap", Resolver{MaxSize: 3}, []string{"AS-L1"}, ErrLimit, "more than 3"},
		{"not an object", Resolver{}, []string{"fltr-foo"}, nil, "not an AS-SET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			r.Q = ix
			_, err := r.Expand(ctx, tc.args...)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Expand(%v) error = %v, want %v containing %q", tc.args, err, tc.wantErr, tc.wantMsg)
			}
		})
	}
	// Exactly at the limits is fine.
	r := &Resolver{Q: ix, MaxDepth: 4, MaxSize: 4}
	if _, err := r.Expand(ctx, "AS-L1"); err != nil {
		t.Errorf("Expand at the limits: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (&Resolver{Q: ix}).Expand(cctx, "AS-L1"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Expand = %v", err)
	}
}

// TestResolverMatchesIndex is a differential test: the client-side resolver (only
// non-recursive "!i") and the server-side "!i,1" must agree on the ASNs of every
// as-set of edge.db, for both source orders.
func TestResolverMatchesIndex(t *testing.T) {
	ix := loadEdge(t)
	compareAllSets(t, ix, []string{"EDGE", "ALT"}, 1)
	compareAllSets(t, ix, []string{"ALT", "EDGE"}, 1)
}

// compareAllSets compares every stride-th as-set (sorted by name).
func compareAllSets(t *testing.T, ix *Index, sources []string, stride int) int {
	t.Helper()
	ctx := context.Background()
	ix.mu.RLock()
	var names []string
	for _, s := range ix.srcs {
		for _, set := range s.sets {
			if set.class == "as-set" {
				names = append(names, set.name)
			}
		}
	}
	ix.mu.RUnlock()
	slices.Sort(names)
	if stride > 1 {
		var some []string
		for i := 0; i < len(names); i += stride {
			some = append(some, names[i])
		}
		names = some
	}
	r := &Resolver{Q: ix, Sources: sources, MaxDepth: 1000}
	n := 0
	for _, name := range names {
		want, found, err := ix.Members(ctx, sources, name, true)
		if err != nil {
			t.Fatal(err)
		}
		e, err := r.Expand(ctx, name)
		if !found {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: Members not found, Expand err = %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := make([]string, 0, len(e.ASNs))
		for _, a := range e.ASNs {
			got = append(got, a.String())
		}
		slices.Sort(got)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (%v): !i,1 vs resolver (-index +resolver):\n%s", name, sources, diff)
		}
		n++
	}
	return n
}

func TestExampleRegistry(t *testing.T) {
	ctx := context.Background()
	ix, rep, err := Load(ctx, []string{"../examples/irr"}, LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 1 || rep.Objects["route"] != 9 || rep.Objects["route6"] != 5 {
		t.Fatalf("example registry: %+v", rep)
	}
	e, err := (&Resolver{Q: ix}).Expand(ctx, "AS-EXAMPLE")
	if err != nil {
		t.Fatal(err)
	}
	want := []routing.ASN{64496, 64497, 64498, 64499, 64500, 64501, 65536, 65537, 65538}
	if diff := cmp.Diff(want, e.ASNs); diff != "" {
		t.Errorf("AS-EXAMPLE (-want +got):\n%s", diff)
	}
	// AS64500 joined AS-EXAMPLE-DOWNSTREAM by member-of/mbrs-by-ref.
	if diff := cmp.Diff([]string{"AS-EXAMPLE", "AS64496:AS-CUSTOMERS", "AS-EXAMPLE-DOWNSTREAM"}, e.Paths[64500]); diff != "" {
		t.Errorf("path of AS64500: %s", diff)
	}
	all, err := e.AllPrefixes(ctx, ix, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 9 {
		t.Errorf("AS-EXAMPLE IPv4 prefixes = %v, want the 9 routes", all)
	}
	rs, err := (&Resolver{Q: ix}).Expand(ctx, "RS-EXAMPLE")
	if err != nil {
		t.Fatal(err)
	}
	v4, _ := rs.AllPrefixes(ctx, ix, nil, false)
	var got []string
	for _, p := range v4 {
		got = append(got, p.String())
	}
	if diff := cmp.Diff([]string{"192.0.2.0/24^25-26", "198.51.100.0/24", "198.51.100.0/24^+"}, got); diff != "" {
		t.Errorf("RS-EXAMPLE IPv4 (-want +got):\n%s", diff)
	}
}
