package irr

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/synth"
	"github.com/bgpfilter/bgpfilter/routing"
)

func TestASNOfMatchesParseASN(t *testing.T) {
	for _, s := range []string{"AS0", "AS1", "as64496", "aS65536", "As4294967295", "AS4294967296", "AS00", "AS01",
		"AS", "A", "", "AS-FOO", "AS64496:AS-X", "AS 1", "AS1 ", "AS+1", "AS1.5", "BS1", "AT1", "ÅS1", "AS\x001",
		"AS99999999999", "AS42949672950", "ſS1", "AS１"} {
		checkASNOf(t, s)
	}
}

func FuzzASNOf(f *testing.F) {
	for _, s := range []string{"AS64496", "as0", "AS01", "AS4294967296", "AS-X"} {
		f.Add(s)
	}
	f.Fuzz(checkASNOf)
}

// checkASNOf compares asnOf, on the string and on its bytes, with routing.ParseASN.
func checkASNOf(t *testing.T, s string) {
	want, err := routing.ParseASN(s)
	a, ok := asnOf(s)
	b, okb := asnOf([]byte(s))
	if ok != (err == nil) || okb != ok || ok && (a != want || b != want) {
		t.Errorf("asnOf(%q) = %v %v / bytes %v %v, ParseASN = %v %v", s, a, ok, b, okb, want, err)
	}
}

// referenceASNs expands an as-set the way bgpq4 does it on the client (-L): one
// non-recursive Members query per set, ASNs parsed with routing.ParseASN, nested
// as-sets followed once, other members dropped; sorted and distinct. It shares only
// directMembers (the "!i<set>" answer) with expandASNs.
func referenceASNs(t *testing.T, ix *Index, sources []string, name string) ([]routing.ASN, bool) {
	ctx := context.Background()
	set, _ := findSet(ix.selected(sources), name)
	if set == nil || set.class != "as-set" {
		return nil, false
	}
	var out []routing.ASN
	seen := map[string]bool{strings.ToUpper(name): true}
	queue := []string{name}
	for len(queue) > 0 {
		mem, _, err := ix.Members(ctx, sources, queue[0], false)
		if err != nil {
			t.Fatal(err)
		}
		queue = queue[1:]
		for _, m := range mem {
			if a, err := routing.ParseASN(m); err == nil {
				out = append(out, a)
				continue
			}
			if !IsSetName(m) || strings.Contains(m, "^") || seen[strings.ToUpper(m)] {
				continue
			}
			seen[strings.ToUpper(m)] = true
			if sub, _ := findSet(ix.selected(sources), m); sub != nil && sub.class == "as-set" {
				queue = append(queue, m)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

// checkSetASNs compares SetASNs with the client-side reference and with the strings of
// Members(name, true) for every name, for the default sources and each source alone.
func checkSetASNs(t *testing.T, what string, ix *Index, names []string) (asSets int) {
	ctx := context.Background()
	selections := [][]string{nil}
	for _, s := range ix.AllSources() {
		selections = append(selections, []string{s})
	}
	for _, srcs := range selections {
		for _, name := range names {
			got, ok, err := ix.SetASNs(ctx, srcs, name)
			if err != nil {
				t.Fatalf("%s: SetASNs(%v, %s): %v", what, srcs, name, err)
			}
			want, isAS := referenceASNs(t, ix, srcs, name)
			if ok != isAS || !slices.Equal(got, want) {
				t.Errorf("%s: SetASNs(%v, %s) = %v %v, want %v %v", what, srcs, name, got, ok, want, isAS)
				continue
			}
			if !ok {
				continue
			}
			asSets++
			mem, _, _ := ix.Members(ctx, srcs, name, true)
			strs := make([]string, len(got))
			for i, a := range got {
				strs[i] = a.String()
			}
			slices.Sort(strs)
			if !slices.Equal(strs, mem) {
				t.Errorf("%s: SetASNs(%v, %s) = %v, Members(,1) = %v", what, srcs, name, strs, mem)
			}
		}
	}
	return asSets
}

// TestSetASNsMatchesClientRecursion: on the edge-case fixture (loops, unknown and
// mistyped members, hierarchical names, duplicates, two sources, mbrs-by-ref with ANY
// and with a maintainer, route-sets, a name that does not exist) and on a synthetic
// registry, read from RPSL and from a snapshot, SetASNs equals the expansion by
// non-recursive queries and the ASNs of Members(name, true); route-sets and unknown
// names are not answered (ok false).
func TestSetASNsMatchesClientRecursion(t *testing.T) {
	data, err := os.ReadFile("testdata/edge.db")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && (k == "as-set" || k == "route-set") {
			names = append(names, strings.TrimSpace(v))
		}
	}
	names = append(names, "AS-NOT-THERE", "as-loopa", "RS-NOT-THERE")
	ix := loadText(t, string(data))
	snap, err := ReadSnapshot(snapshotOf(t, ix))
	if err != nil {
		t.Fatal(err)
	}
	if n := checkSetASNs(t, "rpsl", ix, names); n < 10 {
		t.Errorf("only %d as-set answers compared", n)
	}
	checkSetASNs(t, "snapshot", snap, names)
	if _, ok, _ := ix.SetASNs(context.Background(), nil, "RS-BYREF"); ok {
		t.Error("a route-set answered as ASNs")
	}

	p := synth.Params{ASNs: 2000, Routes: 10000, V6Routes: 1000, SubSets: 20}
	sx := synthIndex(t, p)
	sn, err := ReadSnapshot(snapshotOf(t, sx))
	if err != nil {
		t.Fatal(err)
	}
	sets := []string{synth.Root, synth.SubSetName(0), synth.SubSetName(19)}
	checkSetASNs(t, "synthetic", sx, sets)
	checkSetASNs(t, "synthetic snapshot", sn, sets)
	if got, _, _ := sn.SetASNs(context.Background(), nil, synth.Root); len(got) != 2000 {
		t.Errorf("%s has %d ASNs, want 2000", synth.Root, len(got))
	}
}

// TestSeekOrigin compares the galloping search of an origin table with a linear scan
// for every start row and every ASN around the table's.
func TestSeekOrigin(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 7, 64, 300} {
		var asns []routing.ASN
		for len(asns) < n {
			asns = append(asns, routing.ASN(rng.IntN(4*n+4)))
			slices.Sort(asns)
			asns = slices.Compact(asns)
		}
		tab := make([]byte, n*originRow)
		for i, a := range asns {
			binary.LittleEndian.PutUint32(tab[i*originRow:], uint32(a))
		}
		for from := 0; from <= n; from++ {
			for a := routing.ASN(0); a <= routing.ASN(4*n+5); a++ {
				want := from
				for want < n && asns[want] < a {
					want++
				}
				if got := seekOrigin(tab, from, a); got != want {
					t.Fatalf("n %d: seekOrigin(from %d, %d) = %d, want %d", n, from, a, got, want)
				}
			}
		}
	}
}

// TestRouteKeysMatchesRoutes: RouteKeys is the union of the Routes answers, and has[i]
// says whether answer i is not empty, for random batches (ascending, as the engine
// asks, and shuffled; with unknown ASNs) of both families, on the edge and
// multi-origin fixtures and a synthetic registry, each from RPSL and from a snapshot.
func TestRouteKeysMatchesRoutes(t *testing.T) {
	ctx := context.Background()
	var fixtures []*Index
	for _, f := range []string{"testdata/edge.db", "testdata/multiorigin.db"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fixtures = append(fixtures, loadText(t, string(data)))
	}
	fixtures = append(fixtures, synthIndex(t, synth.Params{ASNs: 300, Routes: 3000, V6Routes: 600, SubSets: 3}))
	for _, ix := range fixtures[:3] {
		snap, err := ReadSnapshot(snapshotOf(t, ix))
		if err != nil {
			t.Fatal(err)
		}
		fixtures = append(fixtures, snap)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	nonEmpty := 0
	for fi, ix := range fixtures {
		var origins []routing.ASN
		ix.materialize()
		for _, s := range ix.srcs {
			for f := 0; f < 2; f++ {
				for a := range s.origin[f] {
					origins = append(origins, a)
				}
			}
		}
		if len(origins) == 0 {
			t.Fatalf("fixture %d has no routes", fi)
		}
		for round := 0; round < 40; round++ {
			var asns []routing.ASN
			for k := rng.IntN(12); k >= 0; k-- {
				if rng.IntN(4) == 0 {
					asns = append(asns, routing.ASN(64496+rng.IntN(16)))
				} else {
					asns = append(asns, origins[rng.IntN(len(origins))])
				}
			}
			if round%2 == 0 {
				slices.Sort(asns)
				asns = slices.Compact(asns)
			}
			for _, srcs := range [][]string{nil, ix.AllSources()[:1]} {
				for _, v6 := range []bool{false, true} {
					res, err := ix.Routes(ctx, srcs, asns, v6)
					keys, has, kerr := ix.RouteKeys(ctx, srcs, asns, v6)
					if err != nil || kerr != nil || len(has) != len(asns) {
						t.Fatalf("fixture %d: %v %v, %d answers for %d ASNs", fi, err, kerr, len(has), len(asns))
					}
					var want []netip.Prefix
					for i, ps := range res {
						want = append(want, ps...)
						if has[i] != (len(ps) > 0) {
							t.Errorf("fixture %d %v v6 %v: has[%d] (%s) = %v, Routes has %d", fi, srcs, v6, i, asns[i], has[i], len(ps))
						}
					}
					slices.SortFunc(want, routing.ComparePrefix)
					want = slices.Compact(want)
					nonEmpty += min(len(want), 1)
					if got := keys.Prefixes(); !slices.Equal(got, want) || keys.V6 != v6 {
						t.Errorf("fixture %d %v v6 %v %v: RouteKeys = %v, Routes union = %v", fi, srcs, v6, asns, got, want)
					}
				}
			}
		}
	}
	if nonEmpty < 100 {
		t.Errorf("only %d non-empty batches compared", nonEmpty)
	}
}

// BenchmarkSnapshotLargeSet: the answers of the small-output lists of a large set
// from the mapped snapshot of the 1M-route registry (opened once): "!i AS-BIG,1" as
// numbers (SetASNs, the -f/-G path) and as strings (Members, the path before it and
// that of a remote server), and "!a6 AS-BIG" as keys (the -6 path: 50k ASNs walked
// through the IPv6 origin table).
func BenchmarkSnapshotLargeSet(b *testing.B) {
	ctx := context.Background()
	ix, _, err := Load(ctx, []string{writeSynthSnapshot(b)}, LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("SetASNs", func(b *testing.B) {
		for b.Loop() {
			if a, ok, err := ix.SetASNs(ctx, nil, synth.Root); err != nil || !ok || len(a) != 50000 {
				b.Fatal(len(a), ok, err)
			}
		}
	})
	b.Run("Members", func(b *testing.B) {
		for b.Loop() {
			if m, ok, err := ix.Members(ctx, nil, synth.Root, true); err != nil || !ok || len(m) != 50000 {
				b.Fatal(len(m), ok, err)
			}
		}
	})
	b.Run("SetPrefixKeys6", func(b *testing.B) {
		for b.Loop() {
			if k, ok, err := ix.SetPrefixKeys(ctx, nil, synth.Root, true); err != nil || !ok || k.Len() != 20000 {
				b.Fatal(k.Len(), ok, err)
			}
		}
	})
}

// TestSortASNsRanges compares the radix sort with slices.Sort and Compact on random lists of
// every size around the radix threshold, narrow and full-range values.
func TestSortASNsRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 255, 256, 257, 1000, 5000} {
		for _, span := range []uint32{10, 300, 70000, 1<<32 - 1} {
			in := make([]routing.ASN, n)
			for i := range in {
				in[i] = routing.ASN(rng.Uint32() % span)
				if span == 1<<32-1 && i%7 == 0 {
					in[i] = routing.ASN(1<<32 - 1 - uint32(i%3))
				}
			}
			want := slices.Clone(in)
			slices.Sort(want)
			want = slices.Compact(want)
			if got := sortASNs(slices.Clone(in)); !slices.Equal(got, want) {
				t.Fatalf("n %d span %d: sortASNs differs from slices.Sort", n, span)
			}
		}
	}
}
