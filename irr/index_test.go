package irr

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/routing"
)

func loadEdge(t testing.TB) *Index {
	t.Helper()
	ix, rep, err := Load(context.Background(), []string{"testdata/edge.db"}, LoadOptions{Strict: true})
	if err != nil {
		t.Fatalf("Load edge.db: %v", err)
	}
	want := map[string]int{"as-set": 18, "aut-num": 6, "mntner": 2, "route": 21, "route-set": 7, "route6": 5}
	if diff := cmp.Diff(want, rep.Objects); diff != "" {
		t.Fatalf("edge.db object counts (-want +got):\n%s", diff)
	}
	return ix
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// TestIRRdSemantics pins the IRRd 4 meaning of "!i", "!i,1", "!a4" and "!a6" on the
// edge cases of edge.db (bgpq4.md §4.3, §5).
func TestIRRdSemantics(t *testing.T) {
	ix := loadEdge(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		sources   []string
		set       string
		found     bool
		direct    []string
		recursive []string
		a4, a6    []netip.Prefix
	}{
		{name: "loop", set: "AS-LOOPA", found: true,
			direct: []string{"AS-LOOPB", "AS64496"}, recursive: []string{"AS64496", "AS64497"},
			a4: prefixes("192.0.2.0/24", "192.0.2.0/25", "198.51.100.0/24"), a6: prefixes("2001:db8:100::/48", "2001:db8:200::/48")},
		{name: "unknown members dropped", set: "AS-UNKNOWNS", found: true,
			direct:    []string{"AS-DOES-NOT-EXIST", "AS64496:AS-NOPE", "AS64498"},
			recursive: []string{"AS64498"}, a4: prefixes("198.51.100.0/25")},
		{name: "hierarchical, case-insensitive", set: "as64496:as-hier", found: true,
			direct: []string{"AS64496:AS-HIER-SUB", "AS64499"}, recursive: []string{"AS64499", "AS65536"},
			a4: prefixes("198.51.100.128/25", "203.0.113.0/24"), a6: prefixes("2001:db8:300::/48")},
		{name: "empty set is found", set: "AS-EMPTY", found: true},
		{name: "unknown set", set: "AS-NOPE", found: false},
		{name: "first source wins", set: "AS-DUP", found: true,
			direct: []string{"AS64496", "AS64497"}, recursive: []string{"AS64496", "AS64497"},
			a4: prefixes("192.0.2.0/24", "192.0.2.0/25", "198.51.100.0/24"), a6: prefixes("2001:db8:100::/48", "2001:db8:200::/48")},
		{name: "source order given", sources: []string{"alt", "EDGE"}, set: "AS-DUP", found: true,
			direct: []string{"AS64510"}, recursive: []string{"AS64510"}, a4: prefixes("198.51.100.0/26", "198.51.100.64/26")},
		{name: "member only in another source", set: "AS-VIA-ALT", found: true,
			direct: []string{"AS-ONLY-ALT", "AS64500"}, recursive: []string{"AS64500", "AS64501"},
			a4: prefixes("203.0.113.0/25", "203.0.113.32/27")},
		{name: "member source not selected", sources: []string{"EDGE"}, set: "AS-VIA-ALT", found: true,
			direct: []string{"AS-ONLY-ALT", "AS64500"}, recursive: []string{"AS64500"}, a4: prefixes("203.0.113.0/25")},
		{name: "set not in selected source", sources: []string{"ALT"}, set: "AS-LOOPA", found: false},
		{name: "four levels", set: "AS-L1", found: true,
			direct: []string{"AS-L2", "AS64502"}, recursive: []string{"AS64502", "AS64503", "AS64504", "AS65552"},
			a4: prefixes("192.0.2.128/26", "192.0.2.192/26", "203.0.113.128/26", "203.0.113.192/26"), a6: prefixes("2001:db8:552::/48")},
		{name: "as-set ignores prefixes and route-sets", set: "AS-WRONGTYPE", found: true,
			direct: []string{"192.0.2.0/24", "ANY", "AS64496", "RS-RANGES"}, recursive: []string{"AS64496"},
			a4: prefixes("192.0.2.0/24", "192.0.2.0/25"), a6: prefixes("2001:db8:100::/48")},
		{name: "private and reserved ASNs kept", set: "AS-MIXED", found: true,
			direct:    []string{"AS-DUP", "AS4200000001", "AS64496", "AS65552", "AS65560"},
			recursive: []string{"AS4200000001", "AS64496", "AS64497", "AS65552", "AS65560"},
			a4:        prefixes("192.0.2.0/24", "192.0.2.0/25", "192.0.2.64/26", "192.0.2.192/26", "198.51.100.0/24", "198.51.100.192/26"),
			a6:        prefixes("2001:db8:100::/48", "2001:db8:200::/48", "2001:db8:552::/48")},
		{name: "mbrs-by-ref ANY, member-of from every selected source", set: "AS-BYREF", found: true,
			direct: []string{"AS64505", "AS64508"}, recursive: []string{"AS64505", "AS64508"}, a4: prefixes("203.0.113.64/26")},
		{name: "mbrs-by-ref, member-of source not selected", sources: []string{"EDGE"}, set: "AS-BYREF", found: true,
			direct: []string{"AS64505"}, recursive: []string{"AS64505"}, a4: prefixes("203.0.113.64/26")},
		{name: "mbrs-by-ref maintainer must match", set: "AS-BYREF-MNT", found: true,
			direct: []string{"AS64506"}, recursive: []string{"AS64506"},
			a4: prefixes("198.51.100.0/24"), a6: prefixes("2001:db8:506::/48")},
		{name: "route-set ranges as written", set: "RS-RANGES", found: true,
			direct: []string{"192.0.2.0/24^-", "192.0.2.0/25^+", "198.51.100.0/24^26", "198.51.100.0/24^27-28",
				"2001:db8:1::/48^+", "2001:db8:2::/48^-", "2001:db8:3::/48^64", "2001:db8::/32^48-56", "203.0.113.0/24"},
			recursive: []string{"192.0.2.0/24^-", "192.0.2.0/25^+", "198.51.100.0/24^26", "198.51.100.0/24^27-28",
				"2001:db8:1::/48^+", "2001:db8:2::/48^-", "2001:db8:3::/48^64", "2001:db8::/32^48-56", "203.0.113.0/24"},
		},
		// IRRd does not apply operators to set and AS members: they name no object.
		{name: "route-set operators on members dropped", set: "RS-OPS", found: true,
			direct:    []string{"2001:db8:4::/48", "AS-LOOPB^-", "AS64497^+", "RS-INNER^27"},
			recursive: []string{"2001:db8:4::/48"}},
		{name: "route-set wrong-family members", set: "RS-WRONGFAM", found: true,
			direct:    []string{"192.0.2.128/26", "198.51.100.0/26", "2001:db8:5::/48"},
			recursive: []string{"192.0.2.128/26", "198.51.100.0/26", "2001:db8:5::/48"}},
		{name: "route-set mbrs-by-ref and AS member", set: "RS-BYREF", found: true,
			direct:    []string{"192.0.2.0/26", "198.51.100.0/24", "AS64506"},
			recursive: []string{"192.0.2.0/26", "198.51.100.0/24", "2001:db8:506::/48"}},
		{name: "hierarchical route-set with as-set member", set: "AS64496:RS-HIER", found: true,
			direct:    []string{"192.0.2.64/26", "AS64496:AS-HIER"},
			recursive: []string{"192.0.2.64/26", "198.51.100.128/25", "2001:db8:300::/48", "203.0.113.0/24"}},
		{name: "empty route-set", set: "RS-EMPTY", found: true},
	}
	opt := cmpopts.EquateEmpty()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			direct, found, err := ix.Members(ctx, tc.sources, tc.set, false)
			if err != nil || found != tc.found {
				t.Fatalf("!i%s: found=%v err=%v, want found=%v", tc.set, found, err, tc.found)
			}
			if diff := cmp.Diff(tc.direct, direct, opt); diff != "" {
				t.Errorf("!i%s (-want +got):\n%s", tc.set, diff)
			}
			rec, found, _ := ix.Members(ctx, tc.sources, tc.set, true)
			if found != tc.found {
				t.Errorf("!i%s,1 found=%v", tc.set, found)
			}
			if diff := cmp.Diff(tc.recursive, rec, opt); diff != "" {
				t.Errorf("!i%s,1 (-want +got):\n%s", tc.set, diff)
			}
			// "!a" looks up as-sets only (IRRd forces the as-set class).
			a4, found4, _ := ix.SetPrefixes(ctx, tc.sources, tc.set, false)
			a6, found6, _ := ix.SetPrefixes(ctx, tc.sources, tc.set, true)
			wantA := tc.found && !IsRouteSetName(tc.set)
			if found4 != wantA || found6 != wantA {
				t.Errorf("!a%s found=%v/%v", tc.set, found4, found6)
			}
			if diff := cmp.Diff(tc.a4, a4, opt, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("!a4%s (-want +got):\n%s", tc.set, diff)
			}
			if diff := cmp.Diff(tc.a6, a6, opt, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("!a6%s (-want +got):\n%s", tc.set, diff)
			}
		})
	}
}

func TestRoutesAndSources(t *testing.T) {
	ix := loadEdge(t)
	ctx := context.Background()
	srcs, _ := ix.Sources(ctx)
	if diff := cmp.Diff([]string{"EDGE", "ALT"}, srcs); diff != "" {
		t.Errorf("Sources: %s", diff)
	}
	if err := ix.CheckSources(ctx, []string{"edge", "ALT"}); err != nil {
		t.Errorf("CheckSources: %v", err)
	}
	if err := ix.CheckSources(ctx, []string{"EDGE", "NOPE"}); !errors.Is(err, ErrUnknownSource) {
		t.Errorf("CheckSources(NOPE) = %v, want ErrUnknownSource", err)
	}
	eq := cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
	tests := []struct {
		sources []string
		asns    []routing.ASN
		v6      bool
		want    [][]netip.Prefix
	}{
		// Duplicate route objects in two sources appear once; an ASN without routes
		// gets an empty entry; the union covers every selected source.
		{nil, []routing.ASN{64496, 64510, 64509}, false, [][]netip.Prefix{
			prefixes("192.0.2.0/24", "192.0.2.0/25"), prefixes("198.51.100.0/26", "198.51.100.64/26"), nil}},
		{[]string{"ALT"}, []routing.ASN{64496, 64510}, false, [][]netip.Prefix{prefixes("192.0.2.0/24"), prefixes("198.51.100.0/26")}},
		{nil, []routing.ASN{64496, 65552}, true, [][]netip.Prefix{prefixes("2001:db8:100::/48"), prefixes("2001:db8:552::/48")}},
	}
	for i, tc := range tests {
		got, err := ix.Routes(ctx, tc.sources, tc.asns, tc.v6)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty(), eq); diff != "" {
			t.Errorf("case %d Routes (-want +got):\n%s", i, diff)
		}
	}
	if got := ix.RouteSources(netip.MustParsePrefix("192.0.2.0/24"), 64496); !cmp.Equal(got, []string{"EDGE", "ALT"}) {
		t.Errorf("RouteSources = %v", got)
	}
}

func TestFindRoutes(t *testing.T) {
	ix := loadEdge(t)
	p := netip.MustParsePrefix("192.0.2.0/25")
	r := func(pfx string, asn routing.ASN, src string) Route {
		return Route{Prefix: netip.MustParsePrefix(pfx), Origin: asn, Source: src}
	}
	tests := []struct {
		m    RouteMatch
		srcs []string
		want []Route
	}{
		{Exact, nil, []Route{r("192.0.2.0/25", 64496, "EDGE")}},
		{OneLessSpecific, nil, []Route{r("192.0.2.0/24", 64496, "EDGE"), r("192.0.2.0/24", 64496, "ALT")}},
		{OneLessSpecific, []string{"ALT", "EDGE"}, []Route{r("192.0.2.0/24", 64496, "ALT"), r("192.0.2.0/24", 64496, "EDGE")}},
		{AllLessSpecific, nil, []Route{r("192.0.2.0/24", 64496, "EDGE"), r("192.0.2.0/24", 64496, "ALT"), r("192.0.2.0/25", 64496, "EDGE")}},
		{AllMoreSpecific, nil, []Route{r("192.0.2.0/26", 64507, "EDGE"), r("192.0.2.64/26", 4200000001, "EDGE")}},
		{AllMoreSpecific, []string{"ALT"}, nil},
	}
	eq := cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
	for _, tc := range tests {
		got := ix.FindRoutes(tc.srcs, p, tc.m)
		if diff := cmp.Diff(tc.want, got, eq, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("FindRoutes(%v, %v) (-want +got):\n%s", tc.m, tc.srcs, diff)
		}
	}
	if got := ix.FindRoutes(nil, netip.MustParsePrefix("2001:db8::/32"), AllMoreSpecific); len(got) != 5 {
		t.Errorf("v6 more specifics = %v, want 5", got)
	}
}

func TestLookup(t *testing.T) {
	ix := loadEdge(t)
	var got []string
	for _, o := range ix.Lookup(nil, "as-dup") {
		got = append(got, o.Source()+" "+o.Get("members"))
	}
	if diff := cmp.Diff([]string{"EDGE AS64496, AS64497", "ALT AS64510"}, got); diff != "" {
		t.Errorf("Lookup(as-dup): %s", diff)
	}
	objs := ix.Lookup([]string{"ALT"}, "192.0.2.0/24")
	if len(objs) != 1 || objs[0].Class != "route" || objs[0].Source() != "ALT" {
		t.Errorf("Lookup route in ALT = %v", objs)
	}
	if objs := ix.Lookup(nil, "as64496"); len(objs) != 1 || objs[0].Class != "aut-num" {
		t.Errorf("Lookup aut-num = %v", objs)
	}
	if objs := ix.Lookup(nil, "EDGE-MNT"); len(objs) != 1 || !strings.HasPrefix(objs[0].Text(), "mntner:         EDGE-MNT\n") {
		t.Errorf("Lookup mntner = %v", objs)
	}
	if objs := ix.Lookup(nil, "NOTHING"); len(objs) != 0 {
		t.Errorf("Lookup unknown = %v", objs)
	}
}

func parseObjects(t testing.TB, text string) []*rpsl.Object {
	t.Helper()
	sc := rpsl.NewScanner(strings.NewReader(text), "inline")
	var out []*rpsl.Object
	for {
		o, err := sc.Next()
		if err != nil {
			return out
		}
		out = append(out, o)
	}
}

func TestAddDeleteApply(t *testing.T) {
	ix := loadEdge(t)
	ctx := context.Background()
	members := func(set string) []string {
		m, _, _ := ix.Members(ctx, nil, set, true)
		return m
	}
	// Replace an as-set: the new members win.
	objs := parseObjects(t, "as-set: AS-LOOPB\nmembers: AS64509\nsource: EDGE\n")
	if err := ix.Add(objs[0]); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"AS64496", "AS64509"}, members("AS-LOOPA")); diff != "" {
		t.Errorf("after replace: %s", diff)
	}
	// An aut-num losing its member-of leaves the mbrs-by-ref set.
	if err := ix.Add(parseObjects(t, "aut-num: AS64506\nmnt-by: EDGE-MNT\nsource: EDGE\n")[0]); err != nil {
		t.Fatal(err)
	}
	if got := members("AS-BYREF-MNT"); len(got) != 0 {
		t.Errorf("AS-BYREF-MNT after member-of removal = %v", got)
	}
	// A route with a member-of deleted leaves the route-set and the origin.
	del := parseObjects(t, "route: 192.0.2.0/26\norigin: AS64507\nsource: EDGE\n")
	if err := ix.Delete(del[0]); err != nil {
		t.Fatal(err)
	}
	m, _, _ := ix.Members(ctx, nil, "RS-BYREF", false)
	if diff := cmp.Diff([]string{"198.51.100.0/24", "AS64506"}, m); diff != "" {
		t.Errorf("RS-BYREF after delete: %s", diff)
	}
	if r, _ := ix.Routes(ctx, nil, []routing.ASN{64507}, false); len(r[0]) != 1 {
		t.Errorf("AS64507 routes after delete = %v", r[0])
	}
	if err := ix.Delete(del[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if err := ix.Add(parseObjects(t, "as-set: AS-NOSOURCE\n")[0]); err == nil {
		t.Error("Add without source succeeded")
	}
	// Apply: a malformed add rejects the whole batch.
	batch := parseObjects(t, "route: 203.0.113.0/24\norigin: AS64509\nsource: NEW\n\nroute: 203.0.113.0/33\norigin: AS1\nsource: NEW\n")
	if err := ix.Apply(batch, nil); err == nil {
		t.Fatal("Apply with a bad prefix succeeded")
	}
	if r, _ := ix.Routes(ctx, nil, []routing.ASN{64509}, false); len(r[0]) != 0 {
		t.Errorf("half-applied batch: %v", r[0])
	}
	// A good batch creates a new source (appended to the default order).
	if err := ix.Apply(batch[:1], parseObjects(t, "as-set: AS-EMPTY\nsource: EDGE\n")); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := ix.Members(ctx, nil, "AS-EMPTY", false); found {
		t.Error("AS-EMPTY still present after Apply delete")
	}
	if srcs, _ := ix.Sources(ctx); !cmp.Equal(srcs, []string{"EDGE", "ALT", "NEW"}) {
		t.Errorf("sources after Apply = %v", srcs)
	}
	if got := ix.FindRoutes(nil, netip.MustParsePrefix("203.0.113.0/24"), Exact); len(got) != 2 {
		t.Errorf("FindRoutes after Apply = %v (table not rebuilt?)", got)
	}
}

// TestConcurrentApply runs queries while batches are applied (go test -race) and
// checks that a query never sees half a batch: every batch adds two routes for one
// ASN at once.
func TestConcurrentApply(t *testing.T) {
	ix := loadEdge(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			r, err := ix.Routes(ctx, nil, []routing.ASN{64511}, false)
			if err == nil && len(r[0])%2 != 0 {
				select {
				case errc <- fmt.Errorf("saw %d routes: half a batch", len(r[0])):
				default:
				}
				return
			}
			ix.Members(ctx, nil, "AS-LOOPA", true)
			ix.FindRoutes(nil, netip.MustParsePrefix("192.0.2.0/24"), AllMoreSpecific)
		}
	}()
	for i := 0; i < 200; i++ {
		text := fmt.Sprintf("route: 10.%d.0.0/16\norigin: AS64511\nsource: EDGE\n\nroute: 10.%d.1.0/24\norigin: AS64511\nsource: EDGE\n", i, i)
		if err := ix.Apply(parseObjects(t, text), nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
}

func TestLoadMalformed(t *testing.T) {
	dir := filepath.Dir(peer.SharedData(t, "irr/irrd-rpsl-samples/sample_as_set.rpsl"))
	ctx := context.Background()
	ix, rep, err := Load(ctx, []string{dir}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 30 {
		t.Errorf("Files = %d", rep.Files)
	}
	got := make(map[string]int)
	for _, m := range rep.Malformed {
		got[filepath.Base(m.File)] = m.Line
	}
	want := map[string]int{
		"sample_line_neither_continuation_nor_attr.rpsl": 4, // syntax
		"sample_malformed_attribute_name.rpsl":           3, // syntax
		"sample_legacy_irrd_artifact.rpsl":               1, // syntax
		"sample_malformed_empty_line.rpsl":               1, // first half has no source
		"sample_missing_source.rpsl":                     1,
		"sample_malformed_pk.rpsl":                       1, // route: not-a-prefix
		"sample_malformed_source.rpsl":                   1, // source: +TEST$$$
		"sample_invalid_multiple_attribute.rpsl":         1, // two sources
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("malformed file:line (-want +got):\n%s", diff)
	}
	if rep.Skipped != len(want) {
		t.Errorf("Skipped = %d, want %d", rep.Skipped, len(want))
	}
	if m, found, _ := ix.Members(ctx, nil, "AS65537:AS-SETTEST", false); !found ||
		!cmp.Equal(m, []string{"AS-OTHERSET", "AS65537", "AS65538", "AS65539"}) {
		t.Errorf("sample as-set members = %v (found %v)", m, found)
	}

	// IRRd normalises leading zeros (its samples say so: sample_route.rpsl's route
	// "192.0.02.0/24" is stored as 192.0.2.0/24, sample_aut_num.rpsl's "as065537" as
	// AS65537); the loader keeps these objects under the normalised keys.
	if r, err := ix.Routes(ctx, []string{"TEST"}, []routing.ASN{65537}, false); err != nil ||
		!slices.Contains(r[0], netip.MustParsePrefix("192.0.2.0/24")) {
		t.Errorf("route 192.0.02.0/24 AS65537 not stored normalised: %v, %v", r, err)
	}
	if objs := ix.Lookup([]string{"TEST"}, "AS65537"); len(objs) == 0 {
		t.Error("aut-num as065537 not stored as AS65537")
	}

	// Strict: the first malformed object is the error, with its file:line.
	_, _, err = Load(ctx, []string{dir}, LoadOptions{Strict: true})
	var oe *ObjectError
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "sample_invalid_multiple_attribute.rpsl:1: route 192.0.2.0/24: multiple source attributes") {
		t.Errorf("strict Load error = %v", err)
	}

	// Progress ends with everything read.
	var last, lastTotal int64
	_, rep, err = Load(ctx, []string{dir}, LoadOptions{Progress: func(n, total int64) { last, lastTotal = n, total }})
	if err != nil || last != rep.Bytes || lastTotal != rep.Bytes || rep.Bytes < 30000 {
		t.Errorf("Progress: last %d of %d, report %d bytes (%v)", last, lastTotal, rep.Bytes, err)
	}

	// DefaultSource adopts objects without a source.
	_, rep, err = Load(ctx, []string{filepath.Join(dir, "sample_missing_source.rpsl")}, LoadOptions{DefaultSource: "local"})
	if err != nil || rep.Objects["route"] != 1 || rep.Skipped != 0 {
		t.Errorf("DefaultSource: %v %+v", err, rep)
	}

	// Unreadable files are errors even when not strict.
	if _, _, err := Load(ctx, []string{filepath.Join(dir, "nope.db")}, LoadOptions{}); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

// FuzzIndex adds arbitrary objects, queries them, and deletes them again: no panic,
// and after the deletes the index holds nothing.
func FuzzIndex(f *testing.F) {
	f.Add("as-set: AS-A\nmembers: AS1, AS-B, RS-X^+\nmbrs-by-ref: ANY\nsource: T\n\nas-set: AS-B\nmembers: AS-A\nsource: T\n\n" +
		"aut-num: AS2\nmember-of: AS-A\nsource: T\n\nroute: 192.0.2.0/24\norigin: AS1\nmember-of: RS-X\nsource: T\n\n" +
		"route-set: RS-X\nmembers: 192.0.2.0/24^25-26, AS1^-, AS-A\nmbrs-by-ref: ANY\nsource: T\n")
	f.Add("route6: 2001:db8::/32\norigin: AS1\nsource: T\n\nroute6: 2001:db8::/32\norigin: AS1\nsource: U\n")
	f.Fuzz(func(t *testing.T, input string) {
		ix := NewIndex()
		ctx := context.Background()
		var added []*rpsl.Object
		for _, o := range parseObjects(t, input) {
			if ix.Add(o) == nil {
				added = append(added, o)
			}
		}
		for _, o := range added {
			for _, rec := range []bool{false, true} {
				ix.Members(ctx, nil, o.Key, rec)
			}
			ix.SetPrefixes(ctx, nil, o.Key, false)
			ix.SetPrefixes(ctx, nil, o.Key, true)
			ix.Lookup(nil, o.Key)
			if p, err := netip.ParsePrefix(o.Key); err == nil {
				ix.FindRoutes(nil, p, AllMoreSpecific)
				ix.FindRoutes(nil, p, OneLessSpecific)
			}
			if _, err := (&Resolver{Q: ix, MaxSize: 10000}).Expand(ctx, o.Key); err != nil && errors.Is(err, ErrNotFound) && IsSetName(o.Key) && (o.Class == "as-set" || o.Class == "route-set") {
				t.Fatalf("added set %q not found by the resolver", o.Key)
			}
		}
		// Delete in reverse; a replaced duplicate is already gone (ErrNotFound is fine).
		for i := len(added) - 1; i >= 0; i-- {
			if err := ix.Delete(added[i]); err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatalf("Delete: %v", err)
			}
		}
		if st := ix.Stats(); len(st) != 0 {
			t.Fatalf("objects left after deleting everything: %v", st)
		}
		for _, s := range ix.srcs {
			if len(s.sets)+len(s.byKey)+len(s.origin[0])+len(s.origin[1])+len(s.asMemberOf)+len(s.routeMemberOf) != 0 {
				t.Fatalf("index of %s not empty after deletes", s.name)
			}
		}
	})
}
