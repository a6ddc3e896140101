package irr

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/routing"
)

// randomKeys returns n keys of one family with many duplicates and shared high bytes,
// so that both the skipped and the counted radix passes run.
func randomKeys(r *rand.Rand, n int, v6 bool) []pkey {
	keys := make([]pkey, n)
	for i := range keys {
		var p netip.Prefix
		if !v6 {
			a := netip.AddrFrom4([4]byte{198, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))})
			p, _ = a.Prefix(16 + r.IntN(17))
		} else {
			var b [16]byte
			b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
			for j := 4; j < 16; j++ {
				if r.IntN(3) == 0 {
					b[j] = byte(r.IntN(256))
				}
			}
			p, _ = netip.AddrFrom16(b).Prefix(32 + r.IntN(97))
		}
		keys[i] = toKey(p)
	}
	return keys
}

func TestSortPrefixesMatchesComparator(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		n    int
		v6   bool
	}{
		{"v4 empty", 0, false},
		{"v4 small", 50, false},
		{"v4 large", 20000, false},
		{"v6 small", 70, true},
		{"v6 large", 20000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := randomKeys(r, tc.n, tc.v6)
			if tc.n > 0 {
				keys = append(keys, keys[:tc.n/3]...) // duplicates
			}
			want := sortKeys(slices.Clone(keys))
			got := sortPrefixes(keys, tc.v6)
			if got == nil {
				t.Fatal("nil result; want an empty, non-nil slice")
			}
			if !slices.Equal(got, want) {
				t.Fatalf("radix order differs from comparePKey order (%d vs %d prefixes)", len(got), len(want))
			}
			for i := 1; i < len(got); i++ {
				if routing.ComparePrefix(got[i-1], got[i]) >= 0 {
					t.Fatalf("not strictly ascending at %d: %s, %s", i, got[i-1], got[i])
				}
			}
		})
	}
}

func TestRadixSortUint64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 255, 256, 5000} {
		a := make([]uint64, n)
		for i := range a {
			a[i] = r.Uint64() >> 24 // below 2^40
			if i%7 == 0 {
				a[i] &^= 0xff00 // a byte shared by many values
			}
		}
		want := slices.Clone(a)
		slices.Sort(want)
		pfxkey.SortPacked(a)
		if !slices.Equal(a, want) {
			t.Fatalf("n=%d: radix sort differs from slices.Sort", n)
		}
	}
}

// TestSortASNs: the radix path sorts and deduplicates as slices.Sort + Compact do.
func TestSortASNs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 255, 256, 5000} {
		in := make([]routing.ASN, n)
		for i := range in {
			in[i] = routing.ASN(r.Uint32() >> uint(r.IntN(32)))
		}
		want := slices.Clone(in)
		slices.Sort(want)
		want = slices.Compact(want)
		if got := sortASNs(slices.Clone(in)); !slices.Equal(got, want) {
			t.Fatalf("n=%d: sortASNs differs from slices.Sort", n)
		}
	}
}
