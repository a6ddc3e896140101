package prefixset

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
)

// TestAddListMatchesAdd: a set filled with AddList has the entries of the same set
// filled prefix by prefix with Add, plain, aggregated and refined, with and without
// MaxLen, whether the list is the first insertion (adopted as the set's storage) or
// comes after other prefixes or after the set switched to its tree.
func TestAddListMatchesAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2))
	for iter := 0; iter < 300; iter++ {
		v6 := iter%2 == 1
		list := randomDense(r, v6, 1+r.IntN(300))
		before := randomDense(r, v6, r.IntN(3)*r.IntN(40))
		maxLen := 0
		if r.IntN(3) == 0 {
			maxLen = 16 + r.IntN(10)
			if v6 {
				maxLen += 32
			}
		}
		mode := r.IntN(4) // 0 plain, 1 aggregate, 2 refine before, 3 aggregate before
		fill := func(useList bool) []Entry {
			s := New(v6)
			if maxLen != 0 {
				s.MaxLen(maxLen)
			}
			for _, p := range before {
				s.Add(p)
			}
			switch mode {
			case 2:
				s.Refine(s.afMax - 2)
			case 3:
				s.Aggregate()
			}
			if useList {
				s.AddList(pfxkey.ListOf(slices.Clone(list), v6))
				s.AddList(pfxkey.ListOf(list[:0], !v6)) // the other family: ignored
			} else {
				for _, p := range list {
					s.Add(p)
				}
			}
			if mode == 1 {
				s.Aggregate()
			}
			return s.Entries()
		}
		want, got := fill(false), fill(true)
		if !slices.Equal(got, want) {
			t.Fatalf("iteration %d (v6 %v, mode %d, maxlen %d, %d before): AddList gives %d entries, Add %d",
				iter, v6, mode, maxLen, len(before), len(got), len(want))
		}
	}
}

// TestAddListAdopts: the first list of an empty plain set is its storage, not a copy.
func TestAddListAdopts(t *testing.T) {
	l := pfxkey.ListOf([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24")}, false)
	s := New(false)
	s.AddList(l)
	if &s.items4[0] != &l.P4[0] || !s.sorted || s.Len() != 2 {
		t.Fatal("the list was copied or marked unsorted")
	}
}
