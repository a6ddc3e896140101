package irr

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
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
