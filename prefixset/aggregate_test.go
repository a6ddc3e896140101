package prefixset

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// treeAggregated builds the set on the radix tree (bgpq4's structure, tree.go) and
// aggregates it there: the implementation the linear pass replaced for plain sets,
// checked against the real bgpq4 by TestDifferentialBGPQ4 (with -R/-r it still runs).
func treeAggregated(v6 bool, in []netip.Prefix) []Entry {
	s := New(v6)
	for _, p := range in {
		s.Add(p)
	}
	t := s.ensureTree()
	if t.root != 0 {
		t.aggregate(t.root, nil)
	}
	return s.Entries()
}

func linearAggregated(v6 bool, in []netip.Prefix) (*Set, []Entry) {
	s := New(v6)
	for _, p := range in {
		s.Add(p)
	}
	s.Aggregate()
	if s.ag == nil {
		panic("linear aggregation not used")
	}
	return s, s.Entries()
}

// randomDense returns n prefixes inside one random block (a /14../20 for IPv4, a
// /46../52 for IPv6) with a random subset of the lengths over the next 6 bits, so that siblings, aggregates
// of aggregates and sons occur often; one in 50 lies anywhere in 10.0.0.0/8 or
// 2001:db8::/32.
func randomDense(r *rand.Rand, v6 bool, n int) []netip.Prefix {
	out := make([]netip.Prefix, 0, n)
	base := 14 + r.IntN(7)
	if v6 {
		base += 32
	}
	blockHi := r.Uint64()
	// a random subset of the 7 lengths: gaps between levels make sons
	var lens []int
	for len(lens) == 0 {
		for l := base; l < base+7; l++ {
			if r.IntN(2) == 0 {
				lens = append(lens, l)
			}
		}
	}
	for i := 0; i < n; i++ {
		l := lens[r.IntN(len(lens))]
		hi := blockHi
		if r.IntN(50) != 0 {
			hi = blockHi&^(^uint64(0)>>base) | r.Uint64()&(^uint64(0)>>base)
		} else {
			hi = r.Uint64()
		}
		if v6 {
			hi = uint64(0x20010db8)<<32 | hi&0xffffffff
			var a [16]byte
			for j := 0; j < 8; j++ {
				a[j] = byte(hi >> (56 - 8*j))
			}
			out = append(out, netip.PrefixFrom(netip.AddrFrom16(a), l).Masked())
			continue
		}
		v := uint32(10)<<24 | uint32(hi>>32)&0xffffff
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), l).Masked())
	}
	return out
}

func TestAggregateLinearMatchesTree(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	sons, merged := 0, 0
	for c := 0; c < 4000; c++ {
		v6 := c%4 == 3
		in := randomDense(r, v6, 1+r.IntN(300))
		if c%7 == 0 {
			// whole blocks: every /k under a prefix, as dense registries have
			l := 22 + r.IntN(3)
			base := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(8)) << 2, 0}), l).Masked()
			for i := 0; i < 1<<(26-l); i++ {
				if r.IntN(8) != 0 {
					a := base.Addr().As4()
					v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) + uint32(i)<<6
					in = append(in, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), 26))
				}
			}
			v6 = false
			kept := in[:0]
			for _, p := range in {
				if p.Addr().Is4() {
					kept = append(kept, p)
				}
			}
			in = kept
		}
		want := treeAggregated(v6, in)
		s, got := linearAggregated(v6, in)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d (%d prefixes): linear aggregation differs from the tree\nin:     %v\nlinear: %v\ntree:   %v", c, len(in), in, got, want)
		}
		if s.Len() != len(want) {
			t.Fatalf("case %d: Len %d, %d entries", c, s.Len(), len(want))
		}
		for i := 1; i < len(got); i++ {
			if got[i].Prefix == got[i-1].Prefix {
				sons++
			}
		}
		if len(got) < len(in) {
			merged++
		}
	}
	t.Logf("4000 random sets identical; %d son entries, %d sets merged", sons, merged)
	if sons < 100 || merged < 1000 {
		t.Errorf("the random sets exercised too little: %d sons, %d merged sets", sons, merged)
	}
}

// TestAggregateThenTree checks that operations after a linear -A see what they would
// see after the tree's -A (the set switches to the tree, aggregated the same way).
func TestAggregateThenTree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for c := 0; c < 300; c++ {
		in := randomDense(r, false, 1+r.IntN(100))
		extra := randomDense(r, false, 1+r.IntN(5))
		a, b := New(false), New(false)
		for _, p := range in {
			a.Add(p)
			b.Add(p)
		}
		a.Aggregate() // linear
		bt := b.ensureTree()
		bt.aggregate(bt.root, nil)
		for _, p := range extra {
			a.Add(p)
			b.Add(p)
		}
		a.Aggregate()
		b.Aggregate()
		if ga, gb := a.Entries(), b.Entries(); !slices.Equal(ga, gb) {
			t.Fatalf("case %d: after Add and a second -A: %v, tree %v", c, ga, gb)
		}
	}
}

// FuzzAggregateLinear compares the linear -A with the tree's on arbitrary sets.
func FuzzAggregateLinear(f *testing.F) {
	f.Add([]byte{0, 0, 24, 0, 1, 24, 0, 2, 24}, false)
	f.Add([]byte{0, 0, 22, 0, 0, 24, 0, 1, 24, 0, 2, 24, 0, 3, 24}, false)
	f.Add([]byte{0, 0, 23, 0, 0, 24, 0, 1, 24, 0, 2, 23, 0, 2, 24, 0, 3, 24}, false)
	f.Add([]byte{0x20, 0x01, 48, 0x20, 0x00, 47}, true)
	f.Fuzz(func(t *testing.T, data []byte, v6 bool) {
		var in []netip.Prefix
		for i := 0; i+2 < len(data) && i < 3*256; i += 3 {
			if v6 {
				a := [16]byte{0x20, 0x01, 0x0d, 0xb8, data[i], data[i+1]}
				in = append(in, netip.PrefixFrom(netip.AddrFrom16(a), 32+int(data[i+2])%17).Masked())
			} else {
				in = append(in, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, data[i], data[i+1]}), 16+int(data[i+2])%17).Masked())
			}
		}
		want := treeAggregated(v6, in)
		_, got := linearAggregated(v6, in)
		if !slices.Equal(got, want) {
			t.Fatalf("linear %v\ntree   %v", got, want)
		}
	})
}
